"""Package folders → a PackageSet (metadata, components, pages, tokens, file digests, problems).

Loading is tolerant: a broken file is reported with its location and only what it held is lost;
schema validation only warns. Lookups are per package because component ids repeat across packages.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from . import jsonload
from .components.defs import ComponentDef
from .errors import DataError, Location, PackageError, Problem
from .levels import clamp_level
from .paths import link_problem

# Files that describe a folder rather than hold records (FORMAT §2.2): never loaded as rows.
_MANIFEST = "metadata.json"


@dataclass(frozen=True)
class PackagePage:
    """One route row contributed by a package."""

    package: str
    id: str
    path: str
    title: str
    description: str | None
    component: str | None
    tree: dict | None
    level: int
    requires_auth: bool
    published: bool
    sort_order: int
    icon: str | None
    params: dict
    meta: dict
    revalidate: int | None
    tags: tuple[str, ...]
    source: str


@dataclass(eq=False)
class Package:
    """A loaded package: metadata plus everything the renderer and the route table need."""

    id: str
    name: str
    version: str
    description: str
    min_level: int
    dependencies: tuple[str, ...]
    root: Path
    metadata: dict[str, Any]
    components: list[ComponentDef] = field(default_factory=list)
    pages: tuple[PackagePage, ...] = ()
    tokens: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    source: str = ""  # file key of the metadata file (package.json or seed/metadata.json)
    _by_id: dict[str, ComponentDef] = field(default_factory=dict, repr=False)
    _by_name: dict[str, ComponentDef] = field(default_factory=dict, repr=False)

    def add_component(self, comp: ComponentDef) -> None:
        if comp.id in self._by_id:
            self.problems.append(Problem("warning", f"duplicate component id {comp.id!r}; the first one is used",
                                         Location(file=comp.source, pointer=comp.pointer, package=self.id)))
            return
        self.components.append(comp)
        self._by_id[comp.id] = comp
        self._by_name.setdefault(comp.name, comp)

    def find_component(self, ref: str) -> ComponentDef | None:
        """Resolve a reference within this package: by id, then by name."""
        return self._by_id.get(ref) or self._by_name.get(ref)

    def home_component(self) -> ComponentDef | None:
        """The package's landing component: id home_page > name HomePage > name Home > the first."""
        return (self._by_id.get("home_page") or self._by_name.get("HomePage") or self._by_name.get("Home")
                or (self.components[0] if self.components else None))


class PackageSet:
    """All loaded packages by id, in load (priority) order, plus every problem found loading them."""

    def __init__(self, packages: Sequence[Package] = (), problems: Sequence[Problem] = ()) -> None:
        self._packages: dict[str, Package] = {p.id: p for p in packages}
        self.problems: list[Problem] = list(problems)
        self._order: list[Package] | None = None

    def get(self, package_id: str) -> Package | None:
        return self._packages.get(package_id)

    def __iter__(self) -> Iterator[Package]:
        return iter(self._packages.values())

    def __len__(self) -> int:
        return len(self._packages)

    def __contains__(self, package_id: object) -> bool:
        return package_id in self._packages

    def ordered(self) -> list[Package]:
        """Dependency order (dependencies first); ties keep load order; cycles broken in load order."""
        if self._order is None:
            self._order, problems = _toposort(self._packages)
            self.problems.extend(problems)
        return list(self._order)


def _toposort(packages: dict[str, Package]) -> tuple[list[Package], list[Problem]]:
    order: list[Package] = []
    problems: list[Problem] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(pkg: Package, trail: list[str]) -> None:
        mark = state.get(pkg.id)
        if mark == 2:
            return
        if mark == 1:
            cycle = " → ".join(trail[trail.index(pkg.id):] + [pkg.id])
            problems.append(Problem("error", f"dependency cycle: {cycle}", Location(package=pkg.id), "package"))
            return
        state[pkg.id] = 1
        for dep in pkg.dependencies:
            if dep in packages:
                visit(packages[dep], trail + [pkg.id])
        state[pkg.id] = 2
        order.append(pkg)

    for pkg in packages.values():
        visit(pkg, [])
    return order, problems


# --------------------------------------------------------------------------- loading

def load_packages(dirs: Sequence[Path], *, strict: bool = False, root: Path | None = None,
                  links: tuple[str, ...] | None = None, schemas: jsonload.SchemaResults | None = None) -> PackageSet:
    """Package directories (priority order) → PackageSet; the first dir holding a package id wins.
    `links`: the folders symbolic links may lead into (paths.link_roots; default: the site and the built-ins);
    `schemas`: the validation results to reuse and add to (default: new ones, kept for this load only)."""
    from .config import builtin_root

    loaded: list[Package] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    schemas = schemas if schemas is not None else jsonload.SchemaResults()
    if links is None:
        links = tuple(os.path.realpath(r) for r in ([root] if root else list(dirs)) + [builtin_root()])
    for base in dirs:
        base = Path(base)
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            refused = link_problem(folder, links)
            if refused is not None:
                problems.append(Problem("error", refused, Location(file=_source_prefix(folder, base, root)),
                                        "symlink"))
                continue
            loader = _Loader(folder, _source_prefix(folder, base, root), strict, schemas, links)
            pkg = loader.load(seen)
            problems.extend(loader.problems)
            if pkg is not None:
                seen.add(pkg.id)
                loaded.append(pkg)
    for pkg in loaded:
        for dep in pkg.dependencies:
            if dep not in seen:
                problem = Problem("warning", f"depends on {dep!r}, which is not installed",
                                  Location(file=pkg.source or None, pointer="/dependencies", package=pkg.id),
                                  "package")
                pkg.problems.append(problem)
                problems.append(problem)
    pset = PackageSet(loaded, problems)
    pset.ordered()  # reports cycles up front, so `problems` is complete after loading
    if strict:
        errors = [p for p in pset.problems if p.severity == "error"]
        if errors:
            raise PackageError(errors[0].message, errors[0].location)
    return pset


def _source_prefix(folder: Path, base: Path, root: Path | None) -> str:
    """Stable text for file keys: relative to root when under it, else '<packages dir name>/<pkg>'."""
    if root is not None:
        try:
            return folder.resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return f"{base.resolve().name}/{folder.name}"


class _Loader:
    """Loads one package folder; collects problems instead of raising unless strict."""

    def __init__(self, folder: Path, prefix: str, strict: bool, schemas: jsonload.SchemaResults,
                 links: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self.schemas = schemas
        self.links = links
        self.prefix = prefix
        self.strict = strict
        self.problems: list[Problem] = []
        self.files: dict[str, str] = {}
        self.pkg_id: str | None = None

    def key(self, path: Path) -> str:
        return f"{self.prefix}/{path.relative_to(self.folder).as_posix()}"

    def read(self, path: Path, schema: str | None = None) -> Any:
        """Read one JSON file; record its digest; report (or raise) on bad JSON; None when unreadable."""
        source = self.key(path)
        refused = link_problem(path, self.links) if self.links else None
        if refused is not None:
            self.problems.append(Problem("error", refused, Location(file=source, package=self.pkg_id), "symlink"))
            return None
        try:
            value, digest = jsonload.read_json(path, source=source)
        except DataError as err:
            self.files[source] = jsonload.file_digest(path)
            loc = Location(err.location.file, err.location.line, err.location.column, package=self.pkg_id)
            if self.strict:
                raise PackageError(err.message, loc) from None
            self.problems.append(Problem("error", err.message + " (its contents are skipped)", loc, "package"))
            return None
        self.files[source] = digest
        if schema is not None:
            self.problems.extend(self.schemas.validate(value, schema, source=source, package=self.pkg_id))
        return value

    def load(self, seen: set[str]) -> Package | None:
        meta_path = self.folder / "package.json"
        meta = self.read(meta_path) if meta_path.is_file() else None
        from_package_json = True
        if not (isinstance(meta, dict) and isinstance(meta.get("packageId"), str)):
            # An npm app or an examples folder: not a package. Fall back to seed/metadata.json.
            seed_meta = self.folder / "seed" / _MANIFEST
            fallback = self.read(seed_meta) if seed_meta.is_file() else None
            if not (isinstance(fallback, dict) and isinstance(fallback.get("packageId"), str)):
                return None
            meta, from_package_json = fallback, False
        self.pkg_id = pkg_id = meta["packageId"]
        if pkg_id in seen:
            return None  # an earlier (higher-priority) directory already provides it
        meta_source = self.key(meta_path) if from_package_json else self.key(self.folder / "seed" / _MANIFEST)
        if from_package_json:
            self.problems.extend(self.schemas.validate(meta, "package.schema.json", source=meta_source, package=pkg_id))
        pkg = Package(
            id=pkg_id, name=str(meta.get("name") or pkg_id), version=str(meta.get("version") or "0.0.0"),
            description=str(meta.get("description") or ""), min_level=_min_level(meta),
            dependencies=_dependencies(meta.get("dependencies")), root=self.folder, metadata=meta,
            source=meta_source,
        )
        from .components.defs import components_from_file
        for name in ("stories.json", "config.json"):  # what the gallery shows as props: an input of its pages
            story = self.folder / "storybook" / name
            if story.is_file() and link_problem(story, self.links or ()) is None:
                self.files[self.key(story)] = jsonload.file_digest(story)
        pages: list[PackagePage] = []
        for path in self._json_files("page-config"):
            pages.extend(self._page_rows(pkg_id, path, self.read(path, "page-config.schema.json")))
        for index, route in enumerate(meta.get("routes") or () if isinstance(meta.get("routes"), list) else ()):
            if isinstance(route, dict):
                pages.append(page_from_row(pkg_id, route, f"{meta_source}#/routes/{index}", "route"))
        for folder in ("components", "component"):
            for path in self._json_files(folder):
                data = self.read(path, "components.schema.json" if folder == "components" else None)
                if data is None:
                    continue
                for comp in components_from_file(pkg_id, data, self.key(path), self.problems):
                    pkg.add_component(comp)
                if isinstance(data, dict) and isinstance(data.get("pages"), list):
                    for index, row in enumerate(data["pages"]):
                        if isinstance(row, dict):
                            pages.append(page_from_row(pkg_id, row, f"{self.key(path)}#/pages/{index}", "ui"))
        seed = self.folder / "seed"
        if (seed / "component.json").is_file():
            data = self.read(seed / "component.json")
            for comp in components_from_file(pkg_id, data, self.key(seed / "component.json"), self.problems):
                pkg.add_component(comp)
        if (seed / "page-config.json").is_file():
            pages.extend(self._page_rows(pkg_id, seed / "page-config.json", self.read(seed / "page-config.json")))
        tokens_path = self.folder / "styles" / "tokens.json"
        if tokens_path.is_file():
            tokens = self.read(tokens_path)
            pkg.tokens = tokens if isinstance(tokens, dict) else {}
        pkg.pages = tuple(pages)
        pkg.problems = self.problems + pkg.problems  # load problems first, then duplicate-id warnings
        self.problems = pkg.problems
        pkg.files = dict(self.files)
        return pkg

    def _json_files(self, sub: str) -> list[Path]:
        folder = self.folder / sub
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.glob("*.json") if p.name != _MANIFEST and p.is_file())

    def _page_rows(self, pkg_id: str, path: Path, data: Any) -> list[PackagePage]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.problems.append(Problem("warning", "page-config file is not a JSON array; ignored",
                                         Location(file=self.key(path), package=pkg_id), "package"))
            return []
        return [page_from_row(pkg_id, row, f"{self.key(path)}#/{i}", "row")
                for i, row in enumerate(data) if isinstance(row, dict)]


def _min_level(meta: dict[str, Any]) -> int:
    for value in (meta.get("minLevel"), meta.get("level"),
                  (meta.get("permissions") or {}).get("minLevel") if isinstance(meta.get("permissions"), dict) else None):
        if value is not None:
            return clamp_level(value)
    return 0


def _dependencies(value: Any) -> tuple[str, ...]:
    """`{id: semver}` (package.json) or `[id, …]` / `[{id}]` (seed/metadata.json) → ids."""
    if isinstance(value, dict):
        return tuple(str(k) for k in value)
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("id") or item.get("packageId"), str):
                out.append(item.get("id") or item["packageId"])
        return tuple(out)
    return ()


def _json_field(value: Any) -> dict:
    """JSON columns arrive as objects in files and as JSON strings from the database."""
    if isinstance(value, str) and value.strip():
        try:
            value = jsonload.loads(value)
        except DataError:
            return {}
    return value if isinstance(value, dict) else {}


def page_from_row(pkg_id: str, row: dict[str, Any], source: str, kind: str) -> PackagePage:
    """One page-config row, package.json route or ui.json page → PackagePage (levels clamped)."""
    path = str(row.get("path") or "/")
    level = clamp_level(row.get("minLevel") if kind == "route" else row.get("level", row.get("minLevel")))
    auth = row.get("requiresAuth", row.get("requireAuth"))
    tree = _json_field(row.get("componentTree")) or (row.get("layout") if kind == "ui" else None)
    meta = _json_field(row.get("meta"))
    for extra in ("breadcrumbs", "layout", "requiredRole", "parentPath"):
        if extra in row and not (extra == "layout" and kind == "ui"):
            meta = {**meta, extra: row[extra]}
    revalidate = row.get("revalidate")
    tags = row.get("tags")
    default_id = "page_" + pkg_id + (path.replace("/", "_") if path != "/" else "_root")
    return PackagePage(
        package=pkg_id, id=str(row.get("id") or default_id), path=path,
        title=str(row.get("title") or ""), description=row.get("description"),
        component=row.get("component") if isinstance(row.get("component"), str) else None,
        tree=tree if isinstance(tree, dict) and tree else None, level=level,
        requires_auth=bool(auth) if auth is not None else level > 0,
        published=row.get("isPublished", row.get("isActive", True)) is not False,
        sort_order=row.get("sortOrder") if isinstance(row.get("sortOrder"), int) else 0,
        icon=row.get("icon") if isinstance(row.get("icon"), str) else None,
        params=_json_field(row.get("params")), meta=meta,
        revalidate=revalidate if isinstance(revalidate, int) and not isinstance(revalidate, bool) else None,
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (), source=source,
    )
