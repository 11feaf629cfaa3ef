"""Stream ids: the per-word reversed handshake string (srt.md §4.4) and the forms a caller may
send (§4.5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import ProtocolError
from ingest.srt.errors import SrtError
from ingest.srt.streamid import (
    MAX_SID_BYTES,
    StreamRequest,
    decode_sid,
    encode_sid,
    parse_stream_id,
)

# (text, wire bytes): the first is handshake.md's own example.
ENCODINGS = [
    ("STREAM", b"ERTS\0\0MA"),
    ("", b""),
    ("abcd", b"dcba"),
    ("live", b"evil"),
    ("#!::r=a", b"::!#\0a=r"),
    ("é", b"\0\0\xa9\xc3"),
]


@pytest.mark.parametrize(("text", "wire"), ENCODINGS)
def test_sid_encoding(text: str, wire: bytes) -> None:
    assert encode_sid(text) == wire
    assert decode_sid(wire) == text


def test_sid_from_srt_live_transmit() -> None:
    # Start of the SID extension srt-live-transmit 1.5.1 sent (srt.md §9).
    assert decode_sid(bytes.fromhex("3a3a2123")) == "#!::"


def test_sid_limits() -> None:
    longest = "k" * MAX_SID_BYTES
    assert decode_sid(encode_sid(longest)) == longest
    with pytest.raises(SrtError):
        encode_sid(longest + "k")
    with pytest.raises(SrtError) as caught:
        decode_sid(bytes(MAX_SID_BYTES + 4))
    assert caught.value.code == "streamid"


@pytest.mark.parametrize("wire", [
    b"abc",  # not whole words
    b"\xff\xfe\xfd\xfc",  # not UTF-8
    b"\0\0\xc3\0",  # a truncated UTF-8 sequence
    b"ba\0cdefg",  # NUL inside the string
    b"\0\0\xa9\xc3" * 129,  # 516 bytes
])
def test_bad_sid(wire: bytes) -> None:
    with pytest.raises(SrtError):
        decode_sid(wire)


def test_sid_trailing_nul_words_are_padding() -> None:
    assert decode_sid(b"dcba" + bytes(8)) == "abcd"


@given(st.text(max_size=200).filter(lambda t: "\0" not in t))
def test_sid_round_trip(text: str) -> None:
    wire = encode_sid(text)
    assert len(wire) % 4 == 0
    assert decode_sid(wire) == text


@given(st.binary(max_size=600))
def test_sid_random_bytes(data: bytes) -> None:
    try:
        decode_sid(data)
    except ProtocolError:
        pass


# text -> (key, mode, resource, app, user)
VALID = [
    ("#!::r=live/key123,m=publish", ("key123", "publish", "live/key123", "live", None)),
    ("#!::m=publish,r=live/key123", ("key123", "publish", "live/key123", "live", None)),
    ("#!::r=key123,m=publish", ("key123", "publish", "key123", "", None)),
    ("#!::u=admin,r=bluesbrothers1_hi", ("bluesbrothers1_hi", "request", "bluesbrothers1_hi", "",
                                         "admin")),
    ("#!::r=live/k,m=request", ("k", "request", "live/k", "live", None)),
    ("#!::r=live/k,m=bidirectional", ("k", "bidirectional", "live/k", "live", None)),
    ("#!::r=a/b/k,m=publish,u=bob,h=example.com,s=abc,t=stream,user_x=1",
     ("k", "publish", "a/b/k", "a/b", "bob")),
    ("#!::r=live/k,m=publish,u=", ("k", "publish", "live/k", "live", "")),
    ("live_AbC-12_x", ("live_AbC-12_x", "publish", "live_AbC-12_x", "", None)),
    ("live/KEY", ("KEY", "publish", "live/KEY", "live", None)),
    ("publish:KEY", ("KEY", "publish", "KEY", "", None)),
    ("publish:live/KEY", ("KEY", "publish", "live/KEY", "live", None)),
    ("request:live/KEY", ("KEY", "request", "live/KEY", "live", None)),
    ("read:KEY", ("KEY", "request", "KEY", "", None)),
    ("clé", ("clé", "publish", "clé", "", None)),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_stream_id_forms(text: str, expected: tuple[str, str, str, str, str | None]) -> None:
    request = parse_stream_id(text)
    assert (request.key, request.mode, request.resource, request.app,
            request.user) == expected


def test_access_control_records_every_key() -> None:
    request = parse_stream_id("#!::r=live/k,m=publish,u=bob,h=example.com,s=abc,t=file,"
                              "user_x=a=b")
    assert request.host == "example.com"
    assert request.session == "abc"
    assert request.type == "file"
    assert dict(request.params)["user_x"] == "a=b"  # split on the first '=' only
    assert [name for name, _ in request.params] == ["r", "m", "u", "h", "s", "t", "user_x"]
    assert parse_stream_id("KEY").params == ()
    assert parse_stream_id("KEY").type == "stream"


INVALID = [
    "",
    "#!::",
    "#!::r",  # missing '='
    "#!::r=live/k,m",  # missing '='
    "#!::r=live/k,",  # empty item
    "#!::=x,r=k",  # empty key
    "#!::r=a,r=b",  # duplicate key
    "#!::r=live/k,m=publish,m=publish",
    "#!::m=publish",  # no resource
    "#!::r=,m=publish",
    "#!::r=live/k,m=play",  # unknown mode
    "#!::r=live/k,m=",
    "#!:{r=live/k}",  # nested block
    "#!::r=live/k,x={a=b}",
    "#!::r=live/{k}",
    "#!r=live/k",  # unknown '#!' syntax
    "#!:r=live/k",
    "#!::r=live//k",  # empty segment
    "#!::r=/k",
    "#!::r=live/k/",
    "#!::r=live/k ey",
    "live/",
    "/KEY",
    "a//b",
    "play:KEY",  # unknown prefix
    "publish:",
    "publish:a:b",
    "KEY?x=1",
    "KEY\n",
    "KEY\x00",
    "KE Y",
    "#KEY",
    "a,b",
]


@pytest.mark.parametrize("text", INVALID)
def test_bad_stream_id(text: str) -> None:
    with pytest.raises(SrtError) as caught:
        parse_stream_id(text)
    assert caught.value.code == "streamid"


def test_errors_do_not_echo_the_key() -> None:
    with pytest.raises(SrtError) as caught:
        parse_stream_id("#!::r=live/secret_key,m=play")
    assert "secret_key" not in str(caught.value)


@given(st.text(max_size=80))
def test_stream_id_random_text(text: str) -> None:
    try:
        request = parse_stream_id(text)
    except ProtocolError:
        return
    assert request.key and request.resource.endswith(request.key)


_SEGMENT = st.text(st.characters(categories=["L", "Nd"], include_characters="_-.~"),
                   min_size=1, max_size=12)


@given(st.lists(_SEGMENT, min_size=1, max_size=3), st.sampled_from(["publish", "request"]),
       st.none() | _SEGMENT)
def test_access_control_built_then_parsed(path: list[str], mode: str, user: str | None) -> None:
    resource = "/".join(path)
    text = f"#!::r={resource},m={mode}" + (f",u={user}" if user is not None else "")
    request = parse_stream_id(decode_sid(encode_sid(text)))
    assert request == StreamRequest(path[-1], mode, resource, user=user,
                                    params=request.params)
    assert request.app == "/".join(path[:-1])


def test_stream_request_validates() -> None:
    with pytest.raises(ValueError):
        StreamRequest("k", "play", "live/k")
    with pytest.raises(ValueError):
        StreamRequest("x", "publish", "live/k")
