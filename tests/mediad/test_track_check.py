"""The daemon asks the packager about each announced track: a track no pipeline could
package is refused by the registry at announcement, with the packager's reason."""

from __future__ import annotations

import pytest

from ingest.media import TrackInfo
from ingest.sink import TrackRefused
from mediad.config import TranscodeConfig
from mediad.store import Store
from mediad.stream_pipelines import track_check
from mediad.streams import StreamRegistry
from tests.mediad.registry_testing import Kicks, make_stream

NO_RECORD = TrackInfo(0, "video", "h264", 1000, width=640, height=360)
SIX_CHANNEL_OPUS = TrackInfo(1, "audio", "opus", 48000, sample_rate=48000, channels=6)


def test_the_check_follows_the_transcode_setting() -> None:
    passthrough = track_check(TranscodeConfig(enabled=False))
    ladder = track_check(TranscodeConfig())
    assert passthrough(NO_RECORD) is not None and ladder(NO_RECORD) is not None
    # Six-channel Opus without its mapping table cannot be written as it is, but a ladder
    # re-encodes it to AAC.
    assert passthrough(SIX_CHANNEL_OPUS) is not None
    assert ladder(SIX_CHANNEL_OPUS) is None


async def test_the_registry_refuses_what_cannot_be_packaged(store: Store) -> None:
    _, primary, _ = await make_stream(store)
    registry = StreamRegistry(store, refuse_track=track_check(TranscodeConfig()))
    session = await registry.start_publish(protocol="rtmp", key=primary, peer="a",
                                           disconnect=Kicks())
    with pytest.raises(TrackRefused, match="configuration record"):
        session.announce_track(NO_RECORD)
    await registry.close()
