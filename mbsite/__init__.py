"""mbsite: data-driven, multi-tenant static sites from JSON component trees, Markdown and database rows."""
from __future__ import annotations

__version__ = "0.1.0"
