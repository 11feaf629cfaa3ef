"""The pieces under the codecs: the bit reader, NAL framing both ways (round trips over any
NAL units, hostile lengths) and the parameter-set store."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.codecs.bits import BitReader, BitstreamError, leb128, unescape_rbsp
from ingest.codecs.nal import annex_b, length_prefixed, split_annex_b, split_length_prefixed
from ingest.codecs.normaliser import ParameterSets
from tests.ingest.codecs.codecs_testing import prefixed


def test_unescape_rbsp() -> None:
    assert unescape_rbsp(b"\x00\x00\x03\x00\x00\x03\x01") == b"\x00\x00\x00\x00\x01"
    assert unescape_rbsp(b"\x00\x00\x03\x03") == b"\x00\x00\x03"
    assert unescape_rbsp(b"\x00\x03\x00\x00\x03") == b"\x00\x03\x00\x00"


def test_exp_golomb() -> None:
    r = BitReader(bytes([0b10100110, 0b01000110, 0b01000000]))
    assert [r.ue(), r.ue(), r.ue(), r.ue(), r.se(), r.se()] == [0, 1, 2, 3, -1, 2]
    with pytest.raises(BitstreamError):
        BitReader(bytes(5)).ue()


def test_leb128() -> None:
    assert leb128(b"\x05", 0) == (5, 1)
    assert leb128(b"\xff\x80\x01", 1) == (128, 3)
    with pytest.raises(BitstreamError):
        leb128(b"\x80", 0)
    with pytest.raises(BitstreamError):
        leb128(b"\x80" * 9, 0)


def test_split_annex_b() -> None:
    data = (b"junk\x00\x00\x00\x01\x09\xf0\x00\x00\x01\x67\x42\x00\x00\x00\x00\x01\x68\xce"
            b"\x00\x00\x01\x00\x00\x01\x65\x88\x00\x00\x03\x00\x01")
    assert split_annex_b(data) == [b"\x09\xf0", b"\x67\x42", b"\x68\xce",
                                   b"\x65\x88\x00\x00\x03\x00\x01"]
    assert split_annex_b(bytearray(data)) == split_annex_b(data)
    assert split_annex_b(b"no start code") == []
    assert split_annex_b(b"\x00\x00\x01") == []
    assert split_annex_b(b"\x00\x00\x01\x65" + bytes(5000)) == [b"\x65"]  # long zero run


@pytest.mark.parametrize("sample", [b"\x00\x00\x00", b"\x00\x00\x00\x05abc",
                                    b"\x00\x00\x00\x01a\x00"])
def test_lengths_that_do_not_tile_the_sample(sample: bytes) -> None:
    with pytest.raises(BitstreamError):
        split_length_prefixed(sample)


# NAL units as an encoder writes them: a header byte that is not zero, emulation prevention
# applied (no 00 00 0x with x <= 3 inside), not ending in a zero byte.
def _escaped(body: bytes) -> bytes:
    out = bytearray()
    zeros = 0
    for byte in body:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


NAL_UNITS = st.builds(lambda head, body, last: bytes([head]) + _escaped(body) + bytes([last]),
                      st.integers(1, 255), st.binary(max_size=60), st.integers(1, 255))


@settings(max_examples=300)
@given(st.lists(NAL_UNITS, max_size=10), st.sampled_from([1, 2, 3, 4]))
def test_framing_round_trips(nals: list[bytes], length_size: int) -> None:
    assert split_annex_b(annex_b(nals)) == nals
    assert split_annex_b(b"\x00\x00\x01".join([b"", *nals])) == nals  # 3-byte start codes
    assert split_length_prefixed(length_prefixed(nals)) == nals
    if all(len(n) < 1 << (8 * length_size) for n in nals):
        assert split_length_prefixed(prefixed(nals, length_size), length_size) == nals


@settings(max_examples=300)
@given(st.binary(max_size=200), st.sampled_from([1, 2, 3, 4]))
def test_random_samples_raise_only_bitstream_errors(data: bytes, length_size: int) -> None:
    split_annex_b(data)
    try:
        nals = split_length_prefixed(data, length_size)
    except BitstreamError:
        return
    assert sum(len(n) + length_size for n in nals) == len(data)


def test_parameter_sets_by_id_within_their_limit() -> None:
    sets = ParameterSets(2)
    assert sets.put(0, b"a") and not sets.put(0, memoryview(b"a"))
    assert sets.put(1, b"b") and sets.put(1, b"c")
    assert sets.values() == [b"a", b"c"]
    assert sets.put(5, b"d") and sets.values() == [b"d"]  # a third id starts afresh
    sets.clear()
    assert not sets
