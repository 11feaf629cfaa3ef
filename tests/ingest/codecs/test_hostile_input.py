"""Whatever a publisher sends, the codec layer raises nothing but ``ProtocolError`` (parsers)
or nothing at all (the normalisers, which count what does not parse, and the lenient
probes)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.codecs import aac, av1, h264, hevc, opus, vp9
from ingest.codecs.nal import split_annex_b
from ingest.codecs.normaliser import NalNormaliser
from ingest.errors import ProtocolError
from tests.ingest.codecs.codecs_testing import unprefixed

PARSERS: list[Callable[[bytes], object]] = [
    h264.parse_sps, h264.pps_id, h264.read_config_record, h264.H264Normaliser(0, 1).configure,
    hevc.parse_sps, hevc.pps_id, hevc.vps_id, hevc.read_config_record, hevc.codec_string,
    hevc.HevcNormaliser(0, 1).configure,
    av1.find_sequence_header, av1.sequence_header_size, av1.codec_string,
    av1.check_config_record, av1.Av1Normaliser(0, 1).configure,
    vp9.read_config_record, vp9.codec_string, vp9.Vp9Normaliser(0, 1).configure,
    aac.read_audio_specific_config,
]
PROBES: list[Callable[[bytes], object]] = [
    h264.codec_string, av1.obus_size, vp9.keyframe_size, opus.head_channels, split_annex_b]
# NAL unit headers that reach the parameter-set parsers, and plain bytes.
HEADERS = [b"", b"\x67", b"\x68", b"\x42\x01", b"\x40\x01", b"\x44\x01", b"\x81"]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(HEADERS), st.binary(max_size=80))
def test_parsers_raise_only_protocol_errors(header: bytes, data: bytes) -> None:
    for parse in PARSERS:
        try:
            parse(header + data)
        except ProtocolError:
            pass
    for probe in PROBES:
        probe(header + data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([h264.H264Normaliser, hevc.HevcNormaliser]),
       st.lists(st.tuples(st.sampled_from(HEADERS), st.binary(max_size=40)), max_size=8))
def test_access_units_never_raise(kind: type[NalNormaliser],
                                  nals: list[tuple[bytes, bytes]]) -> None:
    normaliser = kind(0, 90000)
    unit = normaliser.access_unit([header + body for header, body in nals])
    assert unprefixed(unit.sample()) == [bytes(n) for n in unit.nals]
    assert unit.parameter_set_errors <= len(nals)
