"""Where each real-time service sits on the aiohttp application (``setup.py`` puts them
there; routes and sessions take what they use)."""

from __future__ import annotations

from aiohttp import web

from mediad.realtime.chat import ChatCommands
from mediad.realtime.encoder_watch import EncoderWatch
from mediad.realtime.hub import Hub
from mediad.realtime.identity import Identities
from mediad.realtime.recorder import Recorder
from mediad.realtime.relay import Relay
from mediad.realtime.snapshot import Snapshots
from mediad.realtime.stream_health import StreamHealth
from mediad.realtime.stream_status import StreamStatus
from mediad.realtime.tip_webhook import TipWebhook
from mediad.realtime.viewer_counts import ViewerCounts

HUB = web.AppKey("realtime_hub", Hub)
RELAY = web.AppKey("realtime_relay", Relay)
RECORDER = web.AppKey("realtime_recorder", Recorder)
IDENTITIES = web.AppKey("realtime_identities", Identities)
VIEWERS = web.AppKey("realtime_viewers", ViewerCounts)
STREAM_HEALTH = web.AppKey("realtime_stream_health", StreamHealth)
ENCODER_WATCH = web.AppKey("realtime_encoder_watch", EncoderWatch)
STREAM_STATUS = web.AppKey("realtime_stream_status", StreamStatus)
CHAT = web.AppKey("realtime_chat", ChatCommands)
SNAPSHOTS = web.AppKey("realtime_snapshots", Snapshots)
TIPS = web.AppKey("realtime_tips", TipWebhook)
