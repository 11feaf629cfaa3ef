"""The CMCD parser: the spec's forms whole and split over its four headers, the query
form, refusals, and random input (only ``CmcdError``, never a hang)."""

from __future__ import annotations

from urllib.parse import parse_qs, quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediad.metrics.cmcd import (
    HEADERS,
    MAX_LENGTH,
    Cmcd,
    CmcdError,
    Token,
    _fast_dictionary,
    _Reader,
    parse_cmcd,
    parse_dictionary,
    request_cmcd,
)

# What hls.js 1.7 sends in header mode, one dictionary per header.
HLSJS_HEADERS = {
    "CMCD-Request": "bl=21300,dl=18500,mtp=48100,su",
    "CMCD-Object": "br=3200,d=4004,ot=v,tb=6000",
    "CMCD-Status": "bs,rtp=15000",
    "CMCD-Session": 'cid="ab12",pr=1.25,sf=h,sid="6e2fb550-c457-11e9-bb97-0800200c9a66",st=l,v=1',
}
HLSJS = Cmcd(session_id="6e2fb550-c457-11e9-bb97-0800200c9a66", content_id="ab12",
             buffer_ms=21300, throughput_kbps=48100, bitrate_kbps=3200, top_bitrate_kbps=6000,
             duration_ms=4004, deadline_ms=18500, requested_throughput_kbps=15000,
             object_type="v", stream_type="l", streaming_format="h", playback_rate=1.25,
             version=1, startup=True, starved=True)


def test_the_four_headers_whole() -> None:
    assert parse_cmcd(HLSJS_HEADERS.values()) == HLSJS
    assert request_cmcd(HLSJS_HEADERS, {}) == HLSJS


def test_one_dictionary_with_every_key_is_the_same_as_the_headers() -> None:
    together = ",".join(HLSJS_HEADERS.values())
    assert parse_cmcd([together]) == HLSJS


def test_the_query_form_is_the_same_as_the_headers() -> None:
    together = ",".join(HLSJS_HEADERS.values())
    query = {key: values[0] for key, values in parse_qs(f"CMCD={quote(together)}").items()}
    assert request_cmcd({}, query) == HLSJS


def test_headers_win_over_the_query_and_nothing_is_none() -> None:
    assert request_cmcd({"CMCD-Object": "ot=m"}, {"CMCD": "ot=v"}) == Cmcd(object_type="m")
    assert request_cmcd({"Accept": "*/*"}, {"_HLS_msn": "3"}) is None


@given(st.lists(st.integers(0, 3), min_size=16, max_size=16))
def test_any_split_of_the_keys_over_the_headers_gives_the_same(placement: list[int]) -> None:
    members = ",".join(HLSJS_HEADERS.values()).split(",")
    headers: dict[str, list[str]] = {}
    for member, where in zip(members, placement, strict=True):
        headers.setdefault(HEADERS[where], []).append(member)
    assert request_cmcd({name: ", ".join(m) for name, m in headers.items()}, {}) == HLSJS


def test_structured_field_details() -> None:
    assert parse_dictionary("") == {}
    assert parse_dictionary('a=1, b="x\\"y\\\\", c=?0, d=-2.5, e=tok/1:2, f=:aGk=:') == {
        "a": 1, "b": 'x"y\\', "c": False, "d": -2.5, "e": Token("tok/1:2"),
        "f": b"hi"}
    assert isinstance(parse_dictionary("ot=av")["ot"], Token)
    assert not isinstance(parse_dictionary('ot="av"')["ot"], Token)
    # Parameters are grammar, ignored; inner lists (CMCD v2) parse; a repeated key: the last.
    assert parse_dictionary("br=(3200 1500);x=1, su;y, bl=1, bl=2") == {
        "br": (3200, 1500), "su": True, "bl": 2}


def test_a_v2_inner_list_of_numbers_counts_as_its_first() -> None:
    assert parse_cmcd(["br=(3200;ot=v 128;ot=a),mtp=(48000),bl=()"]) == Cmcd(
        bitrate_kbps=3200, throughput_kbps=48000)
    with pytest.raises(CmcdError):
        parse_cmcd(['br=("fast")'])


def test_unknown_and_custom_keys_are_skipped() -> None:
    assert parse_cmcd(['com.example-myid="x",nor="../seg2.m4s",sid="s"']) == Cmcd(session_id="s")


@pytest.mark.parametrize("text", [
    "BL=1",             # keys are lower case
    "bl=1,",            # trailing comma
    "bl=1 br=2",        # no comma
    "bl=",              # no value
    'sid="open',        # unterminated string
    'sid="a\\x"',       # bad escape
    "bl=1234567890123456",  # 16 digits
    "pr=1.2345",        # four decimals
    "c=?2",
    "f=:not base64!:",
    "br=(1 2",
    "=1",
])
def test_malformed_dictionaries_are_refused(text: str) -> None:
    with pytest.raises(CmcdError):
        parse_cmcd([text])


@pytest.mark.parametrize("text", [
    "bl=-100", "bl=1.5", 'bl="1"', "su=1", "ot=\"v\"", "sid=abc",
    f'sid="{"x" * 65}"', "pr=?1", "bs=2",
])
def test_a_known_key_of_the_wrong_type_is_refused(text: str) -> None:
    with pytest.raises(CmcdError):
        parse_cmcd([text])


def test_false_booleans_and_true_explicitly() -> None:
    assert parse_cmcd(["su=?0,bs=?1"]) == Cmcd(startup=False, starved=True)


def test_overlong_input_is_refused_unread() -> None:
    with pytest.raises(CmcdError, match="longer than"):
        parse_cmcd(["bl=1," * (MAX_LENGTH // 5 + 1)])


@given(st.text(max_size=300))
def test_random_text_parses_or_raises_cmcd_error_only(text: str) -> None:
    try:
        parse_cmcd([text])
    except CmcdError:
        pass


@given(st.text(alphabet='abcdlmoprstuv=,;"?:()-.0123456789 \\*', max_size=200))
def test_near_miss_text_parses_or_raises_cmcd_error_only(text: str) -> None:
    try:
        parse_cmcd([text])
    except CmcdError:
        pass


_KEY = st.from_regex(r"[a-z][a-z0-9_.-]{0,8}", fullmatch=True)
_ITEM = st.one_of(
    st.integers(-10**15 + 1, 10**15 - 1),
    st.booleans(),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=20),
    st.from_regex(r"[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]{0,10}", fullmatch=True).map(Token),
)


def _serialize(item: int | bool | str) -> str:
    if isinstance(item, bool):
        return "?1" if item else "?0"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, Token):
        return str(item)
    return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'


@given(st.dictionaries(_KEY, _ITEM, max_size=10))
def test_a_serialized_dictionary_parses_back(members: dict[str, int | bool | str]) -> None:
    text = ",".join(key if value is True else f"{key}={_serialize(value)}"
                    for key, value in members.items())
    parsed = parse_dictionary(text)
    assert parsed == members
    assert all(isinstance(parsed[k], Token) == isinstance(v, Token) for k, v in members.items())


@given(st.text(alphabet='abcdlmoprstuv=,;"?:()-.0123456789 \\*\tXY/+', max_size=120))
def test_the_fast_path_agrees_with_the_full_reader(text: str) -> None:
    text = text.strip(" ")
    fast = _fast_dictionary(text)
    if fast is None:
        return
    assert _Reader(text).dictionary() == fast
    assert all(isinstance(value, Token) == isinstance(_Reader(text).dictionary()[key], Token)
               for key, value in fast.items())


@given(st.dictionaries(_KEY, _ITEM, max_size=10))
def test_what_players_send_takes_the_fast_path(members: dict[str, int | bool | str]) -> None:
    text = ", ".join(key if value is True else f"{key}={_serialize(value)}"
                     for key, value in members.items())
    assert _fast_dictionary(text) == members


def test_the_headers_of_hls_js_take_the_fast_path() -> None:
    for text in HLSJS_HEADERS.values():
        assert _fast_dictionary(text) is not None
