"""MPEG-TS demuxing (sans-IO): what SRT publishers carry, to the media model."""
