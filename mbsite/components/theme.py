"""Package `styles/tokens.json` files → CSS custom properties, plus the base styles of `mb-*` classes.

Every palette variable the style compiler emits (``var(--mb-text-secondary)``…) gets a default on
``:root``; each package's tokens are scoped to ``[data-mb-package="<id>"]`` (the wrapper the renderer
puts around a package's components), so packages with different colours can share a page. Token
values are opaque CSS (FORMAT §9) and pass the same safety check as `sx` values.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterable

from .registry import PALETTE_COLORS
from .styles import css_value_ok, kebab

if TYPE_CHECKING:
    from ..packages import Package

# MUI light-theme defaults, so output is styled even when no package defines tokens.
DEFAULT_VARS: dict[str, str] = {
    "primary-main": "#1976d2", "primary-light": "#42a5f5", "primary-dark": "#1565c0", "primary-contrast-text": "#fff",
    "secondary-main": "#9c27b0", "secondary-light": "#ba68c8", "secondary-dark": "#7b1fa2",
    "secondary-contrast-text": "#fff",
    "error-main": "#d32f2f", "warning-main": "#ed6c02", "info-main": "#0288d1", "success-main": "#2e7d32",
    "error-contrast-text": "#fff", "warning-contrast-text": "#fff", "info-contrast-text": "#fff",
    "success-contrast-text": "#fff",
    "error-light": "#ef5350", "warning-light": "#ff9800", "info-light": "#03a9f4", "success-light": "#4caf50",
    "text-primary": "rgba(0,0,0,.87)", "text-secondary": "rgba(0,0,0,.6)", "text-disabled": "rgba(0,0,0,.38)",
    "background-default": "#fff", "background-paper": "#fff", "divider": "rgba(0,0,0,.12)",
    "action-hover": "rgba(0,0,0,.04)", "action-selected": "rgba(0,0,0,.08)", "action-disabled": "rgba(0,0,0,.26)",
    "common-white": "#fff", "common-black": "#000",
    "grey-50": "#fafafa", "grey-100": "#f5f5f5", "grey-200": "#eee", "grey-300": "#e0e0e0", "grey-400": "#bdbdbd",
    "grey-500": "#9e9e9e", "grey-600": "#757575", "grey-700": "#616161", "grey-800": "#424242", "grey-900": "#212121",
    "shadow-1": "0 1px 3px rgba(0,0,0,.2)", "shadow-2": "0 2px 6px rgba(0,0,0,.2)",
    "shadow-3": "0 4px 10px rgba(0,0,0,.2)", "shadow-4": "0 6px 14px rgba(0,0,0,.2)",
    "radius": "4px", "font-family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
}
# tokens.json colour names that mean a palette slot
_PALETTE_ALIASES = {
    "primary": "primary-main", "secondary": "secondary-main", "error": "error-main", "warning": "warning-main",
    "info": "info-main", "success": "success-main", "background": "background-default",
    "foreground": "text-primary", "text": "text-primary", "textPrimary": "text-primary",
    "mutedForeground": "text-secondary", "textSecondary": "text-secondary", "border": "divider",
    "divider": "divider", "surface": "background-paper", "paper": "background-paper", "card": "background-paper",
}
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def _flatten(prefix: str, value: Any, depth: int = 0) -> Iterable[tuple[str, str]]:
    if isinstance(value, dict) and depth < 3:
        for key, sub in value.items():
            if isinstance(key, str) and _NAME.match(key):
                yield from _flatten(f"{prefix}-{kebab(key)}", sub, depth + 1)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = str(value).strip()
        if text and css_value_ok(text):
            yield prefix, text


def package_vars(tokens: dict[str, Any]) -> dict[str, str]:
    """One tokens.json → {css variable name (without --): value}."""
    out: dict[str, str] = {}
    for group, values in tokens.items():
        if not isinstance(group, str) or group.startswith("$") or not isinstance(values, dict):
            continue
        prefix = "color" if group == "colors" else kebab(group)
        for name, value in _flatten(f"mb-{prefix}", values):
            out[name] = value
    colors = tokens.get("colors")
    if isinstance(colors, dict):
        for key, value in colors.items():
            if not isinstance(key, str) or not _NAME.match(key) or not isinstance(value, str) or not css_value_ok(value):
                continue
            out[f"color-{kebab(key)}"] = value  # upstream sx refers to var(--color-primary)
            if key in _PALETTE_ALIASES:
                out[f"mb-{_PALETTE_ALIASES[key]}"] = value
    return out


def _block(selector: str, variables: dict[str, str]) -> str:
    body = ";".join(f"--{k}:{v}" for k, v in variables.items())
    return f"{selector}{{{body}}}"


def tokens_css(packages: Iterable[Package]) -> str:
    """Packages (dependency order) → CSS: palette defaults, per-package token scopes, base styles."""
    chunks = [_block(":root", {f"mb-{k}": v for k, v in DEFAULT_VARS.items()})]
    ordered = packages.ordered() if hasattr(packages, "ordered") else list(packages)
    for pkg in ordered:
        if pkg.tokens and _NAME.match(pkg.id):
            variables = package_vars(pkg.tokens)
            if variables:
                chunks.append(_block(f'[data-mb-package="{pkg.id}"]', variables))
    chunks.append(BASE_CSS)
    chunks.append(COLOR_CSS)
    return "\n".join(chunks) + "\n"


BASE_CSS = """\
.mb-component{display:contents}
.mb-unknown{display:contents}
.mb-missing{border:1px dashed var(--mb-warning-main);color:var(--mb-warning-main);padding:4px 8px;font-size:.875rem}
.mb-paper,.mb-card{background:var(--mb-background-paper);border-radius:var(--mb-radius);box-shadow:var(--mb-shadow-1)}
.mb-card--outlined,.mb-paper--outlined{box-shadow:none;border:1px solid var(--mb-divider)}
.mb-card{display:block;overflow:hidden}
.mb-cardcontent,.mb-card-content{padding:16px}
.mb-card-actions{display:flex;gap:8px;padding:8px;align-items:center}
.mb-toolbar{display:flex;align-items:center;gap:8px;min-height:56px;padding:0 16px}
.mb-app-bar{background:var(--mb-primary-main);color:var(--mb-primary-contrast-text)}
.mb-text{margin:0}
.mb-nav-link{color:inherit;text-decoration:none}
.mb-card-header{display:flex;align-items:center;gap:16px;padding:16px}
.mb-card-header__content{flex:1 1 auto;min-width:0}
.mb-card-header__title{margin:0;font-size:1.25rem;font-weight:500;line-height:1.4}
.mb-card-header__subheader{margin:0;color:var(--mb-text-secondary);font-size:.875rem}
.mb-text--h1{font-size:2.5rem}.mb-text--h2{font-size:2rem}.mb-text--h3{font-size:1.75rem}
.mb-text--h4{font-size:1.5rem}.mb-text--h5{font-size:1.25rem}.mb-text--h6{font-size:1.1rem}
.mb-text--caption,.mb-text--overline{font-size:.75rem}.mb-text--body2{font-size:.875rem}
.mb-button{display:inline-flex;align-items:center;gap:6px;padding:6px 16px;border-radius:var(--mb-radius);border:0;
background:transparent;color:var(--mb-primary-main);font:inherit;font-weight:500;text-decoration:none;cursor:pointer}
.mb-button--contained{background:var(--mb-primary-main);color:var(--mb-primary-contrast-text)}
.mb-button--outlined{border:1px solid currentColor}
.mb-button[disabled]{opacity:.5;cursor:default}
.mb-full-width{width:100%}
.mb-icon-button{display:inline-flex;border:0;background:transparent;padding:8px;border-radius:50%;color:inherit;cursor:pointer}
.mb-icon{display:inline-block;vertical-align:middle;flex-shrink:0}
.mb-chip{display:inline-flex;align-items:center;gap:4px;padding:2px 10px;border-radius:16px;
background:var(--mb-action-selected);font-size:.8125rem}
.mb-chip--outlined{background:transparent;border:1px solid var(--mb-divider)}
.mb-badge{position:relative;display:inline-flex}
.mb-badge__content{position:absolute;top:-6px;right:-6px;min-width:18px;padding:0 5px;border-radius:9px;
background:var(--mb-primary-main);color:#fff;font-size:.7rem;text-align:center}
.mb-avatar{display:inline-flex;width:40px;height:40px;border-radius:50%;align-items:center;justify-content:center;
background:var(--mb-grey-400);color:#fff;object-fit:cover}
.mb-list{list-style:none;margin:0;padding:8px 0}
.mb-list-item,.mb-menu-item{display:flex;align-items:center;gap:16px;padding:8px 16px}
.mb-list-item__action,.mb-menu-item__action{all:unset;display:flex;flex:1;gap:16px;align-items:center;cursor:pointer}
.mb-list-item-text{display:flex;flex-direction:column;flex:1}
.mb-list-item-text__secondary{color:var(--mb-text-secondary);font-size:.875rem}
.mb-table{width:100%;border-collapse:collapse}
.mb-table-cell{padding:12px 16px;border-bottom:1px solid var(--mb-divider);text-align:left}
.mb-table-container{overflow-x:auto}
.mb-divider{border:0;border-top:1px solid var(--mb-divider);margin:8px 0}
.mb-field{display:flex;flex-direction:column;gap:4px;margin:8px 0}
.mb-field--bare{display:inline-flex;margin:0}
.mb-field__label{font-size:.875rem;color:var(--mb-text-secondary)}
.mb-field__help{margin:0;font-size:.75rem;color:var(--mb-text-secondary)}
.mb-input,.mb-select,.mb-textarea{font:inherit;padding:8px 12px;border:1px solid var(--mb-divider);border-radius:var(--mb-radius)}
.mb-check{display:inline-flex;align-items:center;gap:8px}
.mb-alert{display:flex;flex-direction:column;gap:4px;padding:8px 16px;border-radius:var(--mb-radius);
border-left:4px solid var(--mb-info-main);background:var(--mb-action-hover)}
.mb-alert--error{border-color:var(--mb-error-main)}.mb-alert--warning{border-color:var(--mb-warning-main)}
.mb-alert--success{border-color:var(--mb-success-main)}
.mb-tabs{display:flex;gap:4px;border-bottom:1px solid var(--mb-divider)}
.mb-tab{padding:8px 16px;text-decoration:none;color:var(--mb-text-secondary)}
.mb-tab[aria-selected=true]{color:var(--mb-primary-main);border-bottom:2px solid currentColor}
.mb-tab-panel--inactive:not(:target){display:none}
.mb-accordion{border-bottom:1px solid var(--mb-divider)}
.mb-accordion-summary{cursor:pointer;padding:12px 0;display:flex;justify-content:space-between}
.mb-dialog{border:0;border-radius:var(--mb-radius);box-shadow:var(--mb-shadow-4);padding:0}
.mb-dialogtitle{margin:0;padding:16px 24px 8px}.mb-dialogcontent{padding:8px 24px}
.mb-dialog-actions{display:flex;justify-content:flex-end;gap:8px;padding:8px 16px}
.mb-breadcrumbs ol,.mb-pagination ul{display:flex;flex-wrap:wrap;gap:8px;list-style:none;margin:0;padding:0}
.mb-breadcrumbs li+li::before{content:"/";margin-right:8px;color:var(--mb-text-secondary)}
.mb-pagination a{display:inline-block;min-width:32px;padding:4px 8px;text-align:center;border-radius:16px}
.mb-pagination a[aria-current=page]{background:var(--mb-primary-main);color:#fff}
.mb-progress{width:100%}
.mb-progress--circular{display:inline-block;box-sizing:border-box;width:40px;height:40px;border-radius:50%;flex:none;
color:var(--mb-c,var(--mb-primary-main));border:4px solid var(--mb-action-selected);border-top-color:currentColor;
animation:mb-spin 1s linear infinite}
.mb-progress--circular.mb-progress--determinate{border:0;animation:none;
-webkit-mask:radial-gradient(farthest-side,transparent calc(100% - 4px),#000 calc(100% - 4px));
mask:radial-gradient(farthest-side,transparent calc(100% - 4px),#000 calc(100% - 4px))}
@keyframes mb-spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.mb-progress--circular{animation-duration:3s}}
.mb-skeleton{display:block;min-height:1em;background:var(--mb-grey-200);border-radius:var(--mb-radius)}
.mb-skeleton--circular{border-radius:50%}
.mb-menu{list-style:none;margin:0;padding:4px 0;background:var(--mb-background-paper);box-shadow:var(--mb-shadow-2)}
.mb-tree,.mb-tree ul{list-style:none;padding-left:16px}
.mb-image{max-width:100%;height:auto}
.mb-code{overflow:auto;padding:12px;background:var(--mb-grey-100);border-radius:var(--mb-radius)}
"""


def _color_css() -> str:
    """`color`/`size` prop classes (registry.variant_classes) → rules drawn from the palette tokens.

    Each palette class sets two variables, the colour and the text colour on it; the components then use
    them as MUI does: text/outlined buttons, icons and links take the colour, contained buttons, filled
    chips and badges take it as their background."""
    any_color = ",".join(f".mb-color-{c}" for c in PALETTE_COLORS)
    lines = [f".mb-color-{c}{{--mb-c:var(--mb-{c}-main);--mb-c-contrast:var(--mb-{c}-contrast-text)}}"
             for c in PALETTE_COLORS]
    lines += [
        f":is(.mb-icon,.mb-icon-button,.mb-link,.mb-button,.mb-chip--outlined):is({any_color}){{color:var(--mb-c)}}",
        f".mb-button--contained:is({any_color}),.mb-chip:not(.mb-chip--outlined):is({any_color}),"
        f".mb-badge__content:is({any_color}){{background:var(--mb-c);color:var(--mb-c-contrast)}}",
        f".mb-chip--outlined:is({any_color}){{border-color:var(--mb-c)}}",
        f".mb-progress:is({any_color}){{accent-color:var(--mb-c)}}",
        ".mb-color-inherit{color:inherit}.mb-color-action{color:var(--mb-text-secondary)}"
        ".mb-color-disabled{color:var(--mb-text-disabled)}.mb-color-default{}",
        ".mb-button.mb-size-small{padding:4px 10px;font-size:.8125rem}.mb-button.mb-size-medium{}"
        ".mb-button.mb-size-large{padding:8px 22px;font-size:.9375rem}",
        ".mb-chip.mb-size-small{padding:0 8px;font-size:.75rem}.mb-chip.mb-size-medium{}"
        ".mb-chip.mb-size-large{padding:4px 14px;font-size:.875rem}",
        ".mb-icon-button.mb-size-small{padding:5px}.mb-icon-button.mb-size-medium{}"
        ".mb-icon-button.mb-size-large{padding:12px}",
        ".mb-avatar.mb-size-small{width:24px;height:24px;font-size:.75rem}.mb-avatar.mb-size-medium{}"
        ".mb-avatar.mb-size-large{width:56px;height:56px;font-size:1.25rem}",
        ".mb-field.mb-size-small .mb-input,.mb-field.mb-size-small .mb-select,.mb-field.mb-size-small .mb-textarea"
        "{padding:4px 8px;font-size:.875rem}.mb-field.mb-size-medium{}.mb-field.mb-size-large .mb-input{padding:12px 14px}",
        ".mb-table.mb-size-small .mb-table-cell{padding:6px 16px}.mb-table.mb-size-medium{}"
        ".mb-table.mb-size-large .mb-table-cell{padding:16px}",
    ]
    return "\n".join(lines) + "\n"


COLOR_CSS = _color_css()
