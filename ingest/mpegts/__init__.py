"""MPEG-TS demuxing (sans-IO): what SRT publishers carry, to the media model.

``demux.TsDemuxer`` is the entry point; under it ``packet`` (188-byte packets, sync),
``psi`` (PAT/PMT sections), ``pes`` (PES reassembly, PTS/DTS, the 33-bit timeline),
``annexb``/``h264``/``hevc`` (access units → avcC/hvcC and length-prefixed samples) and
``aac`` (ADTS → raw frames and an AudioSpecificConfig).
"""
