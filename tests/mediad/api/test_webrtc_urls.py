"""The WHIP and WHEP addresses the API hands out: built from the public host and HTTP port
like the LL-HLS one, and absent where the daemon serves no WebRTC."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mediad.api.views import keys_view, revealed_key, stream_detail
from mediad.config import Config, WebRtcConfig
from mediad.store.keys import StreamKey
from mediad.store.streams import Stream
from mediad.urls import Ports, whep_url, whip_url

PORTS = Ports(8443, 1935, 9000)
STREAM = Stream("ab12cd34ef56", 1, "show", "live", 1, 2, 120, False, False, "")
KEY = StreamKey(STREAM.id, "primary", "live_secret_value", 3)


def _config(*, enabled: bool, public_host: str = "media.example") -> Config:
    base = Config()
    return replace(base, server=replace(base.server, public_host=public_host),
                   webrtc=WebRtcConfig(enabled=enabled))


@pytest.mark.parametrize("host, shown", [("media.example", "media.example"),
                                         ("2001:db8::1", "[2001:db8::1]")])
def test_the_urls_use_the_public_host_and_http_port(host: str, shown: str) -> None:
    config = _config(enabled=True, public_host=host)
    assert whip_url(config, PORTS, STREAM.id) == f"http://{shown}:8443/whip/{STREAM.id}"
    assert whep_url(config, PORTS, STREAM.id) == f"http://{shown}:8443/whep/{STREAM.id}"


def test_with_webrtc_on_the_detail_keys_and_revealed_key_carry_them() -> None:
    config = _config(enabled=True)
    assert stream_detail(STREAM, None, 0, False, config, PORTS)["whepUrl"] == (
        "http://media.example:8443/whep/ab12cd34ef56")
    assert keys_view(STREAM, {"primary": KEY}, config, PORTS)["whipUrl"] == (
        "http://media.example:8443/whip/ab12cd34ef56")
    revealed = revealed_key(STREAM, KEY, config, PORTS)
    assert revealed["whipUrl"] == "http://media.example:8443/whip/ab12cd34ef56"
    assert revealed["whipToken"] == KEY.secret


def test_with_webrtc_off_no_url_points_at_a_route_that_is_not_served() -> None:
    config = _config(enabled=False)
    detail = stream_detail(STREAM, None, 0, False, config, PORTS)
    assert "whepUrl" not in detail and detail["hlsUrl"].endswith("/index.m3u8")
    assert "whipUrl" not in keys_view(STREAM, {"primary": KEY}, config, PORTS)
    revealed = revealed_key(STREAM, KEY, config, PORTS)
    assert not {"whipUrl", "whipToken"} & set(revealed) and revealed["key"] == KEY.secret
