"""MPEG-TS demuxing (sans-IO): what SRT publishers carry, to the media model.

``demux.TsDemuxer`` is the entry point; under it ``packet`` (188-byte packets, sync),
``psi`` (PAT/PMT sections), ``pes`` (PES reassembly, PTS/DTS, the 33-bit timeline) and
``aac`` (ADTS → raw frames and an AudioSpecificConfig). H.264/HEVC access units go through
the codec layer's normalisers (``ingest.codecs``), like every ingest's.
"""
