"""Stream keys: masked, revealed on request, rotated; both logged with who and where."""

from __future__ import annotations

import pytest

from ingest.sink import PublishRefused
from tests.mediad.api.api_testing import publish
from tests.mediad.api.conftest import ApiEnv


async def test_keys_are_masked_with_the_ingest_urls(env: ApiEnv) -> None:
    status, body = await env.call("GET", f"/api/streams/{env.stream.id}/keys", "creator")
    assert status == 200
    secrets = await env.store.keys.for_stream(env.stream.id)
    assert [k["kind"] for k in body["keys"]] == ["primary", "backup"]
    for shown in body["keys"]:
        secret = secrets[shown["kind"]].secret
        assert secret not in str(body) and shown["masked"].startswith(secret[:5])
    assert body["rtmpServer"] == "rtmp://localhost:1935/live"
    assert body["srtServer"] == "srt://localhost:9000"
    assert body["srtEncrypted"] is True and env.stream.srt_passphrase not in str(body)
    assert body["whipUrl"] == f"http://localhost:8080/whip/{env.stream.id}"


async def test_reveal_shows_the_key_and_is_logged(env: ApiEnv) -> None:
    status, body = await env.call("POST", f"/api/streams/{env.stream.id}/keys/backup/reveal",
                                  "admin")
    assert status == 200
    secret = (await env.store.keys.for_stream(env.stream.id))["backup"].secret
    assert body["key"] == secret and body["rtmpUrl"].endswith("/live/" + secret)
    assert body["srtPassphrase"] == env.stream.srt_passphrase
    assert "passphrase=" in body["srtUrl"] and "streamid=" in body["srtUrl"]
    assert body["whipUrl"] == f"http://localhost:8080/whip/{env.stream.id}"
    assert body["whipToken"] == secret  # OBS's "Bearer Token" is the key itself
    _, audit = await env.call("GET", f"/api/streams/{env.stream.id}/keys/audit", "creator")
    assert [(e["kind"], e["action"], e["actor"]) for e in audit["events"]] == [
        ("backup", "reveal", "root")]
    assert audit["events"][0]["ip"] == "127.0.0.1"


async def test_rotation_stops_the_old_key_at_once_and_drops_its_publisher(env: ApiEnv) -> None:
    old = (await env.store.keys.for_stream(env.stream.id))["primary"].secret
    _, connection = await publish(env, env.stream.id)
    status, body = await env.call("POST", f"/api/streams/{env.stream.id}/keys/primary/rotate",
                                  "creator")
    assert status == 200 and body["key"] != old and body["publisherDisconnected"] is True
    assert body["whipToken"] == body["key"]
    assert connection.dropped == ["the primary key was rotated"]
    with pytest.raises(PublishRefused):
        await env.registry.start_publish(protocol="rtmp", key=old, peer="x",
                                         disconnect=lambda reason: None)
    fresh = await env.registry.start_publish(protocol="rtmp", key=body["key"], peer="x",
                                             disconnect=lambda reason: None)
    assert fresh.stream_id == env.stream.id
    _, audit = await env.call("GET", f"/api/streams/{env.stream.id}/keys/audit", "creator")
    assert audit["events"][0]["action"] == "rotate"


async def test_rotating_the_backup_leaves_a_primary_publisher_alone(env: ApiEnv) -> None:
    _, connection = await publish(env, env.stream.id, "primary")
    status, body = await env.call("POST", f"/api/streams/{env.stream.id}/keys/backup/rotate",
                                  "creator")
    assert status == 200 and body["publisherDisconnected"] is False
    assert connection.dropped == []


async def test_an_unknown_key_kind_is_not_found(env: ApiEnv) -> None:
    status, _ = await env.call("POST", f"/api/streams/{env.stream.id}/keys/tertiary/reveal",
                               "creator")
    assert status == 404
