#!/usr/bin/env python3
"""Published icon packages (npm) → mbsite/components/icondata/icons.json plus the packages' licence texts.

Material Design icons (`@material-design-icons/svg`, the "filled" style) are the icons MUI names refer to:
every one of them is kept, under its MUI-style name. Names Material lacks come from Phosphor
(`@phosphor-icons/core`, "regular" style) and then from Pictogrammers' Material Design Icons (`@mdi/svg`,
which also has the brand marks MUI exports), but only for the names asked for: a `--names` file (one
name a line, `#` comments; e.g. a component library's icon export list) plus the names the previous data
file covered, so the file stays small and a re-run never loses coverage.

    python scripts/update_icons.py [--names FILE] [--from DIR]

`--from DIR` reads already unpacked packages (DIR/<tarball name without .tgz>/package/...); without it the
script runs `npm pack` into a temporary folder. The output is deterministic (sorted keys).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "mbsite" / "components" / "icondata"
PACKAGES = {
    "material": ("@material-design-icons/svg", "filled", "0 0 24 24"),
    "phosphor": ("@phosphor-icons/core", "assets/regular", "0 0 256 256"),
    "mdi": ("@mdi/svg", "svg", "0 0 24 24"),
}
# Brand marks MUI exports that Material itself does not draw (taken from @mdi/svg).
MUI_BRANDS = {"github": "github", "linkedin": "linkedin", "twitter": "twitter", "instagram": "instagram",
              "youtube": "youtube", "pinterest": "pinterest", "reddit": "reddit", "google": "google",
              "apple": "apple", "microsoft": "microsoft", "whatsapp": "whatsapp", "telegram": "send-circle",
              "x": "alpha-x-box"}
# Names in common use (other icon sets, upstream JSON) that are not file names in any of the sets, mapped to
# a drawing of the same meaning. Targets are normalised keys of icons kept in the data.
ALIASES = {
    "plus": "add", "minus": "remove", "trash": "delete", "pencil": "edit", "gear": "settings", "cog": "settings",
    "user": "person", "users": "people", "account": "person", "bell": "notifications", "eye": "visibility",
    "eyeoff": "visibilityoff", "envelope": "email", "mail": "email", "document": "description",
    "note": "description", "question": "help", "alerttriangle": "warning", "alertcircle": "error",
    "spinner": "autorenew", "loader": "autorenew", "loading": "autorenew", "hourglass": "hourglassempty",
    "time": "schedule", "clock": "schedule", "chevrondown": "expandmore", "chevronup": "expandless",
    "arrowleft": "arrowback", "arrowright": "arrowforward", "arrowup": "arrowupward", "arrowdown": "arrowdownward",
    "externallink": "openinnew", "calendar": "calendartoday", "copy": "contentcopy", "paste": "contentpaste",
    "xcircle": "cancel", "circlex": "cancel", "circlecheck": "checkcircle", "morehorizontal": "morehoriz",
    "morevertical": "morevert", "barchart": "barchart", "chart": "barchart", "trendup": "trendingup",
    "trenddown": "trendingdown", "zap": "bolt", "lightning": "bolt", "sun": "lightmode", "moon": "darkmode",
    "house": "home", "globe": "public", "grip": "draghandle", "play": "playarrow", "file": "insertdrivefile",
    "filetext": "description", "folderopenoutlined": "folderopen", "signin": "login", "signout": "logout",
    "layout": "dashboard", "panel": "viewsidebar", "sidebar": "viewsidebar", "tenant": "domain",
    "tenants": "apartment", "supergod": "workspacepremium", "metrics": "insights", "stats": "querystats",
    "level": "stairs", "gate": "doorfront", "validate": "factcheck", "register": "howtoreg",
    "profile": "accountbox", "navigate": "navigation", "transfer": "swaphoriz", "denied": "block",
    "robot": "smarttoy", "script": "code", "screen": "monitor", "system": "settingsapplications",
    "tree": "accounttree", "workflow": "accounttree", "rowselect": "checkbox", "columnresize": "viewcolumn",
    "form": "listalt", "icon": "category", "json": "dataobject", "csv": "tableview", "crown": "workspacepremium",
    "pagination": "moreHoriz", "toolbar": "webasset", "tabs": "tab", "queue": "queue", "pending": "pending",
    "smile": "sentimentsatisfied", "ban": "block", "colorpicker": "colorize", "filterclear": "filteraltoff",
    "redirect": "shortcut", "tablecells": "gridon", "usershield": "adminpanelsettings", "userx": "personremove",
    "volume": "volumeup", "broom": "cleaningservices", "collapse": "unfoldless", "expand": "unfoldmore",
}
_NUMBER_WORDS = {0: "zero", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                 9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen", 15: "fifteen",
                 16: "sixteen", 17: "seventeen", 18: "eighteen", 19: "nineteen", 20: "twenty", 30: "thirty",
                 60: "sixty"}
_SHAPE = re.compile(r"<(path|circle|rect|ellipse|polygon|polyline|line|g)\b[^<>]*?/?>|</g>")
_ATTR = re.compile(r'\s([a-z-]+)="([^"<>]*)"')
_KEEP_ATTRS = frozenset({"d", "cx", "cy", "r", "rx", "ry", "x", "y", "width", "height", "points", "x1", "y1",
                         "x2", "y2", "fill-rule", "clip-rule", "opacity", "fill-opacity", "transform"})


def key(name: str) -> str:
    """Any spelling (CheckCircle, check_circle, check-circle) → the lookup key mbsite uses (checkcircle)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _words(number: int) -> str | None:
    if number in _NUMBER_WORDS:
        return _NUMBER_WORDS[number]
    if 20 < number < 100 and number // 10 * 10 in _NUMBER_WORDS:
        return _NUMBER_WORDS[number // 10 * 10] + _NUMBER_WORDS[number % 10]
    return None


def mui_keys(file_stem: str) -> set[str]:
    """A Material file name → the keys MUI-style names for it normalise to (`3d_rotation` → threedrotation…)."""
    keys = {key(file_stem)}
    m = re.match(r"^(\d+)(.*)$", file_stem)
    if m:
        digits, rest = m.group(1), key(m.group(2))
        spelled = _words(int(digits))
        if spelled:
            keys.add(spelled + rest)
        keys.add("".join(_NUMBER_WORDS[int(d)] for d in digits) + rest)  # 123 → onetwothree, 360 → threesixty
    return keys


def body(svg: str) -> str:
    """An SVG file → its shapes only, with drawing attributes only (no ids, classes, styles or scripts)."""
    out = []
    for m in _SHAPE.finditer(svg):
        if m.group(0) == "</g>":
            out.append("</g>")
            continue
        attrs = "".join(f' {n}="{v}"' for n, v in _ATTR.findall(m.group(0)) if n in _KEEP_ATTRS)
        closed = m.group(0).endswith("/>") or m.group(1) != "g"
        out.append(f"<{m.group(1)}{attrs}{'/' if closed else ''}>")
    return "".join(out)


def _fetch(workdir: Path) -> dict[str, Path]:
    roots = {}
    for set_name, (package, _, _) in PACKAGES.items():
        done = subprocess.run(["npm", "pack", package, "--silent"], cwd=workdir, check=True, capture_output=True,
                              text=True)
        tarball = workdir / done.stdout.strip().splitlines()[-1]
        target = workdir / tarball.name.removesuffix(".tgz")
        with tarfile.open(tarball) as tar:
            tar.extractall(target, filter="data")
        roots[set_name] = target / "package"
    return roots


def _find(source: Path) -> dict[str, Path]:
    roots = {}
    for set_name, (package, _, _) in PACKAGES.items():
        stem = package.lstrip("@").replace("/", "-")
        found = sorted(source.glob(f"{stem}-[0-9]*/package"))
        if not found:
            sys.exit(f"no unpacked {package} under {source}")
        roots[set_name] = found[-1]
    return roots


def _names_file(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def build(roots: dict[str, Path], wanted: list[str]) -> dict[str, object]:
    icons: dict[str, list[str]] = {}
    aliases: dict[str, str] = {}
    sets = {}
    for set_name, (package, _folder, view_box) in PACKAGES.items():
        meta = json.loads((roots[set_name] / "package.json").read_text(encoding="utf-8"))
        sets[set_name] = {"package": package, "version": meta["version"], "license": meta.get("license", ""),
                          "viewBox": view_box, "license_file": f"LICENSE-{set_name}.txt"}
    material = roots["material"] / PACKAGES["material"][1]
    for svg in sorted(material.glob("*.svg")):
        keys = sorted(mui_keys(svg.stem))
        icons[key(svg.stem)] = ["material", body(svg.read_text(encoding="utf-8"))]
        for extra in keys:
            if extra != key(svg.stem):
                aliases.setdefault(extra, key(svg.stem))
    mdi = roots["mdi"] / PACKAGES["mdi"][1]
    for mui_name, mdi_name in MUI_BRANDS.items():
        if mui_name not in icons:
            icons[mui_name] = ["mdi", body((mdi / f"{mdi_name}.svg").read_text(encoding="utf-8"))]
    for name, target in ALIASES.items():
        if key(target) not in icons:
            print(f"alias {name} → {target}: no such icon", file=sys.stderr)
        elif key(name) not in icons:
            aliases[key(name)] = key(target)
    phosphor = roots["phosphor"] / PACKAGES["phosphor"][1]
    by_key = {"phosphor": {key(p.stem): p for p in phosphor.glob("*.svg")},
              "mdi": {key(p.stem): p for p in mdi.glob("*.svg")}}
    missing = []
    for name in wanted:
        k = key(name)
        if k in icons or k in aliases:
            continue
        for set_name in ("phosphor", "mdi"):
            path = by_key[set_name].get(k)
            if path is not None:
                icons[k] = [set_name, body(path.read_text(encoding="utf-8"))]
                break
        else:
            missing.append(name)
    if missing:
        print("no drawing found (the renderer strips Outlined/Rounded/…/Icon suffixes itself):",
              ", ".join(missing), file=sys.stderr)
    return {"sets": sets, "names": sorted(set(wanted)), "aliases": dict(sorted(aliases.items())),
            "icons": dict(sorted(icons.items()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=Path, action="append", default=[], help="extra icon names to cover")
    parser.add_argument("--from", dest="source", type=Path, help="folder of unpacked npm packages")
    args = parser.parse_args()
    wanted: list[str] = []
    previous = OUT / "icons.json"
    if previous.is_file():
        wanted.extend(json.loads(previous.read_text(encoding="utf-8")).get("names", []))
    for path in args.names:
        wanted.extend(_names_file(path))
    with tempfile.TemporaryDirectory() as tmp:
        roots = _find(args.source) if args.source else _fetch(Path(tmp))
        data = build(roots, wanted)
        OUT.mkdir(parents=True, exist_ok=True)
        for set_name, spec in data["sets"].items():  # type: ignore[attr-defined]
            licence = (roots[set_name] / "LICENSE").read_text(encoding="utf-8")
            (OUT / spec["license_file"]).write_text(licence, encoding="utf-8")
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    (OUT / "icons.json").write_text(text + "\n", encoding="utf-8")
    print(f"{len(data['icons'])} icons, {len(data['aliases'])} aliases, {len(text) // 1024} KiB → {OUT}")


if __name__ == "__main__":
    main()
