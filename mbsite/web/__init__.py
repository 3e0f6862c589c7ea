"""Functions: the dynamic half of mbsite (CRUD, auth, media, OpenAPI, revalidate, gate) as Starlette apps."""
from __future__ import annotations

from .app import PARTS, WebState, build_state, create_app

__all__ = ["PARTS", "WebState", "build_state", "create_app"]
