"""Package directories → component gallery: one component's HTML, every component as JSON rows,
or a per-package gallery page body for authors.

Used by `mbsite render --component PKG:ID` and `mbsite render --all --json`, and by the build for the
admin-only gallery pages. Components render with the `args` of the package's story of the same name
(`storybook/stories.json` or `storybook/config.json`) where there is one, else with their default props.
"""
from __future__ import annotations

import json
import re
import traceback
from pathlib import Path
from typing import Any, Iterator, Sequence

from markupsafe import escape

from .components import ComponentRenderer, RenderResult
from .context import PageScope
from .errors import MbsiteError, RenderError
from .levels import clamp_level, role_name
from .packages import Package, PackageSet, load_packages


def _scope(level: int) -> PageScope:
    level = clamp_level(level)
    return PageScope(level=level, role=role_name(level), path="/_gallery")


def _load(package_dirs: Sequence[Path] | Path | PackageSet) -> PackageSet:
    if isinstance(package_dirs, PackageSet):
        return package_dirs
    dirs = [package_dirs] if isinstance(package_dirs, (str, Path)) else list(package_dirs)
    return load_packages([Path(d) for d in dirs])


def _story_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def story_props(package: Package) -> dict[str, dict[str, Any]]:
    """A package's storybook files → {normalised story name: args}; unreadable files give nothing."""
    out: dict[str, dict[str, Any]] = {}
    for name in ("stories.json", "config.json"):
        path = package.root / "storybook" / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        stories = data.get("stories") if isinstance(data, dict) else None
        for story in stories if isinstance(stories, list) else []:
            if isinstance(story, dict) and isinstance(story.get("name"), str) and isinstance(story.get("args"), dict):
                out.setdefault(_story_key(story["name"]), story["args"])
    return out


def _props_for(stories: dict[str, dict[str, Any]], comp: Any) -> dict[str, Any] | None:
    return stories.get(_story_key(comp.name)) or stories.get(_story_key(comp.id))


def render_one(package_dirs: Sequence[Path] | Path | PackageSet, ref: str, props: dict | None,
               level: int) -> RenderResult:
    """'PKG:ID' (or PKG:Name) → RenderResult; raises MbsiteError when the package or component is unknown."""
    pkg_id, sep, comp_ref = ref.partition(":")
    if not sep or not pkg_id or not comp_ref:
        raise RenderError(f"expected PACKAGE:COMPONENT, got {ref!r}")
    if props is not None and not isinstance(props, dict):
        raise RenderError("props must be a JSON object")
    packages = _load(package_dirs)
    pkg = packages.get(pkg_id)
    if pkg is None:
        known = ", ".join(sorted(p.id for p in packages)[:20])
        raise RenderError(f"package {pkg_id!r} not found (known: {known or 'none'})")
    if pkg.find_component(comp_ref) is None:
        known = ", ".join(c.id for c in pkg.components[:30])
        raise RenderError(f"component {comp_ref!r} not found in package {pkg_id} (components: {known or 'none'})")
    return ComponentRenderer(packages).render_component(pkg_id, comp_ref, props, scope=_scope(level))


def render_all(package_dirs: Sequence[Path] | Path | PackageSet, *, level: int = 5) -> Iterator[dict[str, Any]]:
    """Every component of every package (dependency order) → one JSON-ready dict each; never raises."""
    packages = _load(package_dirs)
    renderer = ComponentRenderer(packages)
    # A package that failed to load (invalid JSON, …) must not silently vanish from the listing.
    reported: set[str] = set()
    for problem in [*packages.problems, *(p for pkg in packages for p in pkg.problems)]:
        if problem.severity == "error" and str(problem) not in reported:
            reported.add(str(problem))
            yield {"package": problem.location.package, "component": None, "ok": False, "error": str(problem),
                   "warnings": [], "unknown_types": {}, "html": "", "css": ""}
    for pkg in packages.ordered():
        stories = story_props(pkg)
        for comp in pkg.components:
            row: dict[str, Any] = {"package": pkg.id, "component": comp.id, "ok": True, "error": None,
                                   "warnings": [], "unknown_types": {}, "html": "", "css": ""}
            try:
                result = renderer.render_component(pkg.id, comp.id, _props_for(stories, comp), scope=_scope(level))
            except MbsiteError as err:
                row.update(ok=False, error=str(err))
            except Exception as err:  # a renderer bug must not hide the other components
                row.update(ok=False, error=f"{type(err).__name__}: {err}",
                           warnings=[traceback.format_exc(limit=3)])
            else:
                row.update(warnings=[str(w) for w in result.warnings], unknown_types=dict(result.unknown_types),
                           html=result.html, css=result.css)
            yield row


def gallery_page_html(package: Package, renderer: ComponentRenderer, *, level: int = 3) -> str:
    """A package → body HTML listing all its components rendered with default props (for authors)."""
    return gallery_page(package, renderer, level=level)[0]


def gallery_page(package: Package, renderer: ComponentRenderer, *, level: int = 3) -> tuple[str, str]:
    """A package → (body HTML, CSS) of its gallery page."""
    sections: list[str] = []
    css: list[str] = []
    stories = story_props(package)
    for i, comp in enumerate(package.components):
        result = renderer.render_component(package.id, comp.id, _props_for(stories, comp), scope=_scope(level),
                                           id_prefix=f"mb-g{i}-")
        css.append(result.css)
        notes = "".join(f"<li>{escape(str(w))}</li>" for w in result.warnings)
        unknown = ", ".join(f"{escape(t)} ×{n}" for t, n in sorted(result.unknown_types.items()))
        sections.append(
            f'<section class="mb-gallery__item" id="{escape(comp.id)}">'
            f"<h2>{escape(comp.name)} <code>{escape(package.id)}:{escape(comp.id)}</code></h2>"
            + (f"<p>{escape(comp.description)}</p>" if comp.description else "")
            + f'<div class="mb-gallery__preview">{result.html}</div>'
            + (f'<p class="mb-gallery__unknown">Unknown types: {unknown}</p>' if unknown else "")
            + (f'<ul class="mb-gallery__warnings">{notes}</ul>' if notes else "")
            + "</section>")
    toc = "".join(f'<li><a href="#{escape(c.id)}">{escape(c.name)}</a></li>' for c in package.components)
    body = (f'<div class="mb-gallery"><h1>{escape(package.name)} <small>{escape(package.version)}</small></h1>'
            f"<p>{escape(package.description)}</p><nav aria-label=\"Components\"><ul>{toc}</ul></nav>"
            + "".join(sections) + "</div>")
    return body, "\n".join(dict.fromkeys(filter(None, "\n".join(css).split("\n"))))
