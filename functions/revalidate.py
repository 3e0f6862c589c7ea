"""On-demand regeneration requests (POST /api/revalidate).

Run alone: `MBSITE_SITE=path/to/site uvicorn functions.revalidate:app` (the site's mbsite.toml and MBSITE_* variables apply).
"""
from mbsite.web.app import function_app

app = function_app("revalidate")
