"""SRT listener: packets, handshake, reliability, encryption; sans-IO."""
