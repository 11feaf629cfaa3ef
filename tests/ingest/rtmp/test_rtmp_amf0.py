"""AMF0 (and AMF3 behind the 0x11 marker): round trips, exact encodings, hostile input."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import ProtocolError
from ingest.rtmp import amf0
from ingest.rtmp.amf0 import UNDEFINED, AmfDate, EcmaArray, TypedObject, XmlDocument

KEYS = st.text(max_size=8)
SCALARS = st.one_of(
    st.floats(allow_nan=False), st.booleans(), st.text(max_size=20), st.none(),
    st.just(UNDEFINED), st.builds(XmlDocument, st.text(max_size=10)),
    st.builds(AmfDate, st.floats(allow_nan=False), st.integers(-32768, 32767)),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(KEYS, inner, max_size=4),
    st.dictionaries(KEYS, inner, max_size=4).map(EcmaArray),
    st.builds(TypedObject, st.text(max_size=8), st.dictionaries(KEYS, inner, max_size=3)),
), max_leaves=20)


def same(a: object, b: object) -> None:
    """Equal, and of the same Python types all the way down (EcmaArray is not dict)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for key in a:
            same(a[key], b[key])
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            same(x, y)
    elif isinstance(a, TypedObject):
        assert isinstance(b, TypedObject) and a.class_name == b.class_name
        same(a.properties, b.properties)
    else:
        assert a == b


@settings(max_examples=300)
@given(st.lists(VALUES, max_size=5))
def test_round_trip(values: list[object]) -> None:
    same(amf0.decode(amf0.encode(*values)), values)


def test_exact_encodings() -> None:
    assert amf0.encode(1) == b"\x00" + struct.pack(">d", 1.0)
    assert amf0.encode(True, None, UNDEFINED) == b"\x01\x01\x05\x06"
    assert amf0.encode("ab") == b"\x02\x00\x02ab"
    assert amf0.encode({"a": 1.0}) == b"\x03\x00\x01a\x00" + struct.pack(">d", 1) + b"\x00\x00\x09"
    assert amf0.encode(EcmaArray()) == b"\x08\x00\x00\x00\x00\x00\x00\x09"
    assert amf0.encode([None]) == b"\x0a\x00\x00\x00\x01\x05"
    assert amf0.encode(AmfDate(0.0)) == b"\x0b" + bytes(10)


def test_long_string() -> None:
    text = "x" * 70000
    encoded = amf0.encode(text)
    assert encoded[0] == 0x0C and amf0.decode(encoded) == [text]


def test_reference_points_at_earlier_object() -> None:
    # [{"a": 1}, ref 1]: the strict array is complex object 0, the Object is 1.
    data = (b"\x0a\x00\x00\x00\x02" + b"\x03\x00\x01a\x00" + struct.pack(">d", 1)
            + b"\x00\x00\x09" + b"\x07\x00\x01")
    [value] = amf0.decode(data)
    assert isinstance(value, list) and value[0] == {"a": 1.0} and value[1] is value[0]


def test_cyclic_reference_refused() -> None:
    with pytest.raises(ProtocolError):
        amf0.decode(b"\x03\x00\x01a\x07\x00\x00\x00\x00\x09")


def test_reference_expansion_is_capped() -> None:
    """Each array holds two references to the previous one: 2^40 leaves if walked."""
    data = b"\x0a\x00\x00\x00\x02\x05\x05"
    for i in range(40):
        data += b"\x0a\x00\x00\x00\x02" + (b"\x07" + struct.pack(">H", i)) * 2
    with pytest.raises(ProtocolError) as info:
        amf0.decode(data)
    assert info.value.code == "limit"


def test_depth_cap() -> None:
    data = b"\x03\x00\x01a" * 40 + b"\x05" + b"\x00\x00\x09" * 40
    with pytest.raises(ProtocolError) as info:
        amf0.decode(data)
    assert info.value.code == "limit"
    assert amf0.decode(data, max_depth=64)


def test_value_count_cap() -> None:
    with pytest.raises(ProtocolError):
        amf0.decode(b"\x05" * 100, max_values=99)


def test_huge_strict_array_count_fails_fast() -> None:
    with pytest.raises(ProtocolError):
        amf0.decode(b"\x0a\xff\xff\xff\xff\x05\x05")


def test_ecma_array_without_end_marker_at_end_of_body() -> None:
    """Seen from some encoders' onMetaData: the body simply ends."""
    data = b"\x02\x00\x0aonMetaData\x08\x00\x00\x00\x01\x00\x05width" + amf0.encode(320.0)
    assert amf0.decode(data) == ["onMetaData", {"width": 320.0}]


@pytest.mark.parametrize("marker", [0x04, 0x09, 0x0D, 0x0E, 0x11, 0x12, 0xFF])
def test_unsupported_markers(marker: int) -> None:
    with pytest.raises(ProtocolError):
        amf0.decode(bytes([marker]) + bytes(16))


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert amf0.decode(b"\x02\x00\x02\xff\xfe") == ["\ufffd\ufffd"]


# -- AMF3 behind the AVM+ marker ------------------------------------------------------------

def u29(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x4000:
        return bytes([0x80 | (n >> 7), n & 0x7F])
    if n < 0x200000:
        return bytes([0x80 | (n >> 14), 0x80 | ((n >> 7) & 0x7F), n & 0x7F])
    return bytes([0x80 | (n >> 22), 0x80 | ((n >> 15) & 0x7F), 0x80 | ((n >> 8) & 0x7F),
                  n & 0xFF])


def amf3(value: object) -> bytes:
    """A small AMF3 writer (no references), for the decoder's round trip."""
    if value is None:
        return b"\x01"
    if isinstance(value, bool):
        return b"\x03" if value else b"\x02"
    if isinstance(value, int):
        return b"\x04" + u29(value & 0x1FFFFFFF)
    if isinstance(value, float):
        return b"\x05" + struct.pack(">d", value)
    if isinstance(value, str):
        return b"\x06" + amf3_string(value)
    if isinstance(value, list):
        return b"\x09" + u29(len(value) << 1 | 1) + b"\x01" + b"".join(map(amf3, value))
    if isinstance(value, dict):
        body = b"".join(amf3_string(k) + amf3(v) for k, v in value.items())
        return b"\x0a\x0b\x01" + body + b"\x01"  # inline, dynamic, anonymous, 0 sealed
    raise TypeError(value)


def amf3_string(text: str) -> bytes:
    raw = text.encode()
    return u29(len(raw) << 1 | 1) + raw


def as_amf0(value: object) -> object:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [as_amf0(v) for v in value]
    if isinstance(value, dict):
        return {k: as_amf0(v) for k, v in value.items()}
    return value


AMF3_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(1 << 28), (1 << 28) - 1),
              st.floats(allow_nan=False), st.text(max_size=10)),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3),
    max_leaves=12)


@settings(max_examples=200)
@given(AMF3_VALUES)
def test_amf3_values_behind_avmplus_marker(value: object) -> None:
    assert amf0.decode(b"\x11" + amf3(value), amf3=True) == [as_amf0(value)]


def test_amf3_references() -> None:
    # [ "ab", "ab"(string ref 0), {x: 1}, obj ref 1 ] - the array itself is object 0.
    obj = b"\x0a\x0b\x01" + amf3_string("x") + b"\x04\x01" + b"\x01"
    data = b"\x11\x09" + u29(4 << 1 | 1) + b"\x01" + b"\x06" + amf3_string("ab") + b"\x06\x00"
    data += obj + b"\x0a\x02"
    [value] = amf0.decode(data, amf3=True)
    assert value == ["ab", "ab", {"x": 1.0}, {"x": 1.0}]
    assert isinstance(value, list) and value[3] is value[2]


def test_amf3_sealed_typed_object_and_traits_reference() -> None:
    traits = b"\x13" + amf3_string("Pt") + amf3_string("x")  # inline traits, 1 sealed member
    first = b"\x0a" + traits + b"\x04\x01"
    second = b"\x0a\x01" + b"\x04\x02"  # traits reference 0
    data = b"\x11\x09" + u29(2 << 1 | 1) + b"\x01" + first + second
    [value] = amf0.decode(data, amf3=True)
    assert value == [TypedObject("Pt", {"x": 1.0}), TypedObject("Pt", {"x": 2.0})]


def test_amf3_externalizable_refused() -> None:
    with pytest.raises(ProtocolError):
        amf0.decode(b"\x11\x0a\x07" + amf3_string("flex.ArrayCollection"), amf3=True)


@settings(max_examples=500, deadline=1000)
@given(st.binary(max_size=300), st.booleans())
def test_random_bytes_only_protocol_errors(data: bytes, use_amf3: bool) -> None:
    try:
        amf0.decode(data, amf3=use_amf3)
    except ProtocolError:
        pass


@settings(max_examples=300, deadline=1000)
@given(st.binary(max_size=200))
def test_random_amf3_only_protocol_errors(data: bytes) -> None:
    try:
        amf0.decode(b"\x11" + data, amf3=True)
    except ProtocolError:
        pass
