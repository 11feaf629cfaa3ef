"""From frames to bytes on the wire: transcode, fMP4/CMAF, LL-HLS."""
