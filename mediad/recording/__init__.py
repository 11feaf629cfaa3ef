"""Broadcasts kept: recordings and clips on disk, their replays (VOD HLS), downloads and
posters. ``model.py`` says what a recording is, ``layout.py`` where its files are,
``writer.py`` writes them off the event loop, ``library.py`` finds, recovers, lists and
deletes them, ``recorder.py`` records the live streams."""
