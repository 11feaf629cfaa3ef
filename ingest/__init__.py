"""Protocol cores (sans-IO) and the media model shared by the whole daemon."""
