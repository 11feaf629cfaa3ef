"""What the configuration makes of a peer connection and of the session caps: ICE servers
as Link headers, host candidates on the configured addresses and ports, the public address
beside them, and the limits on sessions."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection

from mediad.config import WebRtcConfig
from mediad.webrtc.ice_servers import IceServerError, parse_ice_server
from mediad.webrtc.peer import PeerFactory, PortRange
from mediad.webrtc.sdp_offer import OfferError, read_offer
from mediad.webrtc.sessions import WebRtcSessions
from mediad.webrtc.whip import check_publish_offer
from tests.mediad.webrtc.whip_app_testing import publisher_offer


def test_ice_servers_parse_and_become_rfc_9725_link_headers() -> None:
    stun = parse_ice_server("stun:stun.example.org:3478")
    assert (stun.url, stun.username) == ("stun:stun.example.org:3478", None)
    assert stun.link() == '<stun:stun.example.org:3478>; rel="ice-server"'
    turn = parse_ice_server('turn:al"ice:p@ss@[2001:db8::1]:3478?transport=tcp')
    assert turn.url == "turn:[2001:db8::1]:3478?transport=tcp"
    assert turn.link() == ('<turn:[2001:db8::1]:3478?transport=tcp>; rel="ice-server"; '
                           'username="al\\"ice"; credential="p@ss"; credential-type="password"')
    for bad in ("http://example.org", "turn:host:3478", "stun:host:99999", "stun:<x>"):
        with pytest.raises(IceServerError):
            parse_ice_server(bad)


def test_the_port_range_hands_out_each_port_once_round_robin() -> None:
    ports = PortRange(50000, 50002)
    assert list(ports.candidates()) == [50000, 50001, 50002]
    assert next(ports.candidates()) == 50000
    assert not PortRange(0, 0) and list(PortRange(0, 0).candidates()) == []


def free_udp_ports(count: int) -> int:
    """The first of ``count`` consecutive free UDP ports on 127.0.0.1."""
    for base in range(42000, 60000, count):
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free UDP ports")


async def candidates_of(factory: PeerFactory
                        ) -> tuple[list[tuple[str, int]], RTCPeerConnection]:
    client = await publisher_offer()
    pc = factory.create()
    answer = await factory.answer(pc, client.localDescription.sdp)
    found = []
    for line in answer.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split()
            found.append((parts[4], int(parts[5])))
    await client.close()
    return sorted(set(found)), pc


async def test_host_candidates_use_the_port_range_and_the_public_ip_rides_along() -> None:
    base = free_udp_ports(2)
    factory = PeerFactory(WebRtcConfig(bind_addresses=("127.0.0.1",), udp_port_min=base,
                                       udp_port_max=base + 1, public_ips=("203.0.113.7",)))
    first, pc1 = await candidates_of(factory)
    second, pc2 = await candidates_of(factory)
    assert first == [("127.0.0.1", base), ("203.0.113.7", base)]
    assert second == [("127.0.0.1", base + 1), ("203.0.113.7", base + 1)]
    # Every port taken: a third session has no candidate rather than one outside the range.
    third, pc3 = await candidates_of(factory)
    assert third == []
    for pc in (pc1, pc2, pc3):
        await pc.close()
    await asyncio.sleep(0)
    again, pc4 = await candidates_of(factory)
    assert again == [("127.0.0.1", base), ("203.0.113.7", base)]  # freed ports come back
    await pc4.close()


def test_sessions_are_capped_per_server_and_per_address() -> None:
    sessions = WebRtcSessions(WebRtcConfig(max_sessions=3, max_sessions_per_address=2))
    a1, a2 = sessions.admit("10.0.0.1"), sessions.admit("10.0.0.1")
    with pytest.raises(web.HTTPTooManyRequests):
        sessions.admit("10.0.0.1")
    b1 = sessions.admit("10.0.0.2")
    with pytest.raises(web.HTTPServiceUnavailable):
        sessions.admit("10.0.0.3")
    a1.release()
    a1.release()  # twice is once
    sessions.admit("10.0.0.1")
    b1.release()
    a2.release()
    assert sessions.admit("10.0.0.3") is not None


def test_no_session_is_admitted_into_the_descriptor_reserve() -> None:
    used = [1000]
    sessions = WebRtcSessions(WebRtcConfig(), descriptor_ceiling=1010,
                              count_descriptors=lambda: used[0])
    sessions.admit("10.0.0.1").release()
    used[0] = 1007  # four more would cross the ceiling
    with pytest.raises(web.HTTPServiceUnavailable):
        sessions.admit("10.0.0.2")


def test_an_offer_with_too_many_sections_or_tracks_is_refused() -> None:
    header = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    video = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\na=rtpmap:96 H264/90000\r\n"
    with pytest.raises(OfferError, match="more than 4 media sections"):
        read_offer(header + video * 5)
    with pytest.raises(web.HTTPBadRequest, match="more than one video"):
        check_publish_offer(read_offer(header + video * 2))
    check_publish_offer(read_offer(header + video))
