"""The codec layer every ingest shares (and readers that need codec knowledge): one module
per codec (``h264``, ``hevc``, ``av1``, ``vp9``, ``aac``, ``opus``) with its parameter-set
parsing, RFC 6381 string and configuration record; ``normaliser`` with the one
normalisation of video access units; ``nal`` with Annex B ↔ length-prefixed framing;
``bits`` with the bit reader they share.

Imports only ``ingest.media`` and ``ingest.errors``: protocol folders import this, never
the other way round.
"""
