"""Keyframe requests to a stream's publisher: only one that can be asked, rate-limited."""

from __future__ import annotations

from mediad.webrtc.whep_keyframes import KeyframeRequests


class Publisher:
    def __init__(self) -> None:
        self.asked = 0
        self.request_keyframe: object = self.ask

    def ask(self) -> None:
        self.asked += 1


def test_requests_are_rate_limited_and_skip_publishers_that_cannot_be_asked() -> None:
    now = [0.0]
    whip, rtmp = Publisher(), Publisher()
    rtmp.request_keyframe = None  # what an RTMP publisher's attribute holds
    requests = KeyframeRequests(lambda: [whip, rtmp, object()], clock=lambda: now[0])
    assert requests.request()
    assert not requests.request()  # moments later: not again
    now[0] = 1.5
    assert requests.request()
    assert whip.asked == 2 and requests.sent == 2


def test_nobody_to_ask_is_no_request() -> None:
    requests = KeyframeRequests(lambda: [object()], clock=lambda: 0.0)
    assert not requests.request() and requests.sent == 0
