"""The CRUD API (/api/v1/{tenant}/{package}/{entity}[/{id}]), its OpenAPI document and reference page.

Run alone: `MBSITE_SITE=path/to/site uvicorn functions.crud:app` (the site's mbsite.toml and MBSITE_* variables apply).
"""
from mbsite.web.app import function_app

app = function_app("crud")
