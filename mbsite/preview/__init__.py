"""The live preview (`mbsite serve`): the built output, the functions and the rebuild loop as one ASGI app
(app.py), and the hub that tells each open page what a published build means for it (hub.py)."""
from __future__ import annotations

from .app import Preview, create_serve_app
from .hub import LiveHub, PreviewReporter, PreviewWatcher, Published, Viewer, describe

__all__ = ["LiveHub", "Preview", "PreviewReporter", "PreviewWatcher", "Published", "Viewer", "create_serve_app",
           "describe"]
