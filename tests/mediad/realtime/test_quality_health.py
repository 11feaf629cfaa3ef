"""The health message carries what the stream's players report (``quality``: sessions,
rendition mix, stalls per viewer-minute, medians) once any did, and nothing before."""

from __future__ import annotations

from mediad.metrics.cmcd import Cmcd
from mediad.metrics.quality import PlayerQuality, QualityReport
from mediad.metrics.quality_setup import quality_message
from mediad.realtime.keys import RECORDER
from mediad.realtime.stream_health import StreamHealth
from tests.mediad.realtime.conftest import Env
from tests.mediad.registry_testing import Kicks


async def test_the_health_message_carries_the_players_quality(env: Env) -> None:
    quality = PlayerQuality()
    health = StreamHealth(5.0, env.store, env.registry, env.client.app[RECORDER], env.viewers,
                          quality=lambda stream_id: quality_message(quality, stream_id))
    key = await env.store.keys.issue(env.stream.id, "primary")
    publisher = await env.registry.start_publish(protocol="rtmp", key=key.secret, peer="t",
                                                 disconnect=Kicks())
    socket = await env.connect()
    await socket.next("chat.history")
    await health.sample()  # the baseline
    await health.sample()
    assert "quality" not in await socket.next("health")  # no player told anything yet
    quality.observe_cmcd(env.stream.id, "k", Cmcd(session_id="a", buffer_ms=3000), "720p")
    quality.observe_report(env.stream.id, "k", QualityReport(session_id="a", stalls=1,
                                                             watched_ms=120_000))
    await health.sample()
    message = await socket.next("health")
    assert message["quality"]["sessions"] == 1
    assert message["quality"]["renditions"] == {"720p": 1}
    assert message["quality"]["stallsPerViewerMinute"] == 0.5
    assert 2.9 < message["quality"]["bufferSec"] < 3.1
    publisher.detach("done")
