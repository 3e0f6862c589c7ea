"""Media upload, listing, reading and deletion (/api/media/{tenant}[/{id}]).

Run alone: `MBSITE_SITE=path/to/site uvicorn functions.media:app` (the site's mbsite.toml and MBSITE_* variables apply).
"""
from mbsite.web.app import function_app

app = function_app("media")
