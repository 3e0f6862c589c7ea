"""Sign-in, sign-out and the current user (/api/auth/login|logout|me).

Run alone: `MBSITE_SITE=path/to/site uvicorn functions.auth:app` (the site's mbsite.toml and MBSITE_* variables apply).
"""
from mbsite.web.app import function_app

app = function_app("auth")
