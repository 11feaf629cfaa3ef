"""Chat, tips, stream health and viewer counts to browsers, over WebSocket or polling."""
