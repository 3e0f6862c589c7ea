"""Component trees (JSON) → safe, semantic HTML plus the CSS for the classes they use.

Public API: :class:`ComponentRenderer` (render_component, render_tree), :class:`RenderResult`,
:func:`tokens_css` (package design tokens → CSS variables and base component styles), and the
registry (:data:`REGISTRY`, :func:`renders`) to add or override node types.
"""
from __future__ import annotations

from . import content, forms, widgets  # noqa: F401  (importing registers their entries)
from .registry import REGISTRY, Element, renders
from .renderer import ComponentRenderer, RenderResult
from .theme import tokens_css

__all__ = ["ComponentRenderer", "RenderResult", "REGISTRY", "Element", "renders", "tokens_css"]
