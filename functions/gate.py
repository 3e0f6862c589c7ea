"""The page gate: public output or the private variant for the session's level (GET of any page path).

Run alone: `MBSITE_SITE=path/to/site uvicorn functions.gate:app` (the site's mbsite.toml and MBSITE_* variables apply).
"""
from mbsite.web.app import function_app

app = function_app("gate")
