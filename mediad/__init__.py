"""The mediad daemon: config, stream registry, HTTP/WS routes, store, CLI."""

__version__ = "0.1.0"
