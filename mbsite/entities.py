"""Entity definition files (upstream YAML dialects A/B/C, JSON entity format) → one frozen Entity model.

Sources, first wins per (package, entity name): the site's `schemas/entities/*.yaml|json`, then each
package's `entities/schema.json` and `entities/*.yaml`. Both rule spellings (`max_length`/`maxLength`,
`values`/`enum`, `foreign_key`/`foreignKey`/`relationship`, ...) normalize to the same field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Iterator

from . import jsonload
from .config import Config
from .errors import DataError, Location, relpath
from .levels import ROLE_LEVELS, SUPERGOD, clamp_level
from .yamlload import load_all, read_text

DEFAULT_PACKAGE = "core"
OPS = ("read", "create", "update", "delete")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Upstream type spellings (case-insensitive) → the handful of kinds validation understands.
_TYPES: dict[str, str] = {
    "string": "string", "text": "string", "cuid": "string", "uuid": "string", "char": "string",
    "varchar": "string", "email": "email", "url": "url", "uri": "url", "enum": "enum",
    "int": "integer", "integer": "integer", "bigint": "integer", "smallint": "integer",
    "number": "number", "float": "number", "double": "number", "decimal": "number", "numeric": "number",
    "boolean": "boolean", "bool": "boolean", "json": "json", "jsonb": "json", "blob": "json",
    "object": "object", "array": "array", "list": "array",
    "date": "datetime", "datetime": "datetime", "timestamp": "datetime", "relationship": "string",
}
# Fields the server fills in: callers may not set them.
SERVER_FIELDS = frozenset({"tenantId", "tenant_id", "createdAt", "updatedAt", "created_at", "updated_at"})


@dataclass(frozen=True)
class ForeignKey:
    entity: str
    field: str = "id"


@dataclass(frozen=True)
class Field:
    """One field of an entity after normalization."""

    name: str
    kind: str = "json"
    required: bool = False
    nullable: bool = True
    default: Any = None
    has_default: bool = False
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    enum: tuple[Any, ...] | None = None
    unique: bool = False
    generated: bool = False
    primary: bool = False
    sensitive: bool = False
    foreign_key: ForeignKey | None = None
    fields: tuple["Field", ...] = ()          # nested object fields
    items: "Field | None" = None             # array item definition
    description: str = ""


@dataclass(frozen=True)
class Condition:
    """One alternative of a rule written as a list of conditions: every part must hold for it to grant."""

    level: int = 0                                  # `authenticated: true` is 1, `role: admin` 3
    owner_field: str | None = None                  # `uploaderId: "{{ currentUserId }}"`: the caller's rows
    equals: tuple[tuple[str, Any], ...] = ()        # `published: true`: rows whose field holds the value

    @property
    def limits_rows(self) -> bool:
        return self.owner_field is not None or bool(self.equals)

    def matches(self, data: dict[str, Any], owner: Any, user_id: str | None) -> bool:
        """Whether a row (its data, and its owner value when owner_field is set) satisfies this condition."""
        if self.owner_field is not None and (user_id is None or owner != user_id):
            return False
        return all(name in data and data[name] == value for name, value in self.equals)


@dataclass(frozen=True)
class Acl:
    """Who may perform one operation: everyone at `level` or above, or the row's owner when `owner_field` is set,
    or (rules written as a list of conditions) whoever one of `conditions` admits, for the rows it admits."""

    level: int | None = None          # None: no role grants it
    owner_field: str | None = None    # "self": rows whose field equals the user's id
    system_only: bool = False         # no API caller may do it
    conditions: tuple[Condition, ...] = ()   # the row-limited alternatives (full grants fold into `level`)
    unread: tuple[str, ...] = ()      # parts of the rule mbsite could not read (they grant nothing)

    @property
    def denies_all(self) -> bool:
        return self.level is None and self.owner_field is None and not self.conditions


@dataclass(frozen=True)
class Entity:
    """One entity: fields, ACL per operation and exposure rules."""

    name: str
    package: str
    fields: tuple[Field, ...]
    acl: dict[str, Acl]
    never_expose: frozenset[str] = frozenset()
    cross_tenant: bool = False         # god/supergod of another tenant may read and write it
    description: str = ""
    source: str = ""
    indexed: tuple[str, ...] = ()      # fields the schema asks to index (index/indexed/unique, `indexes` lists)
    unique_together: tuple[tuple[str, ...], ...] = ()   # `indexes` entries with `unique: true`: one key per tuple
    acl_notes: tuple[str, ...] = ()    # parts of the acl that were not read (they grant nothing); check reports them

    @property
    def slug(self) -> str:
        return snake_case(self.name)

    def field(self, name: str) -> Field | None:
        return self.field_map.get(name)

    @property
    def field_map(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def hidden(self) -> frozenset[str]:
        """Fields never returned by the API."""
        return self.never_expose | {f.name for f in self.fields if f.sensitive}

    @property
    def generates_id(self) -> bool:
        """Whether the server picks every id (`id: {generated: true}`): a client's `id` is then ignored."""
        f = self.field("id")
        return f is not None and f.generated

    @property
    def writable(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not (f.generated or f.primary or f.name in SERVER_FIELDS))


def snake_case(name: str) -> str:
    """`ForumThread` → `forum_thread` (also for names that are already snake_case)."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s).lower().replace("-", "_")


def _pick(spec: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in spec:
            return spec[key]
    return None


def _as_number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def parse_field(name: str, spec: Any) -> Field:
    """Normalize one field definition written in any dialect."""
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict):
        spec = {}
    raw_type = str(spec.get("type") or "json").strip().lower()
    kind = _TYPES.get(raw_type, "json")
    enum = _pick(spec, "values", "enum")
    if isinstance(enum, list):
        kind = "enum" if kind in ("string", "json", "enum") else kind
    elif kind == "enum":
        enum = None
        kind = "string"
    fk_spec = _pick(spec, "foreign_key", "foreignKey", "relationship")
    fk = None
    if isinstance(fk_spec, dict) and fk_spec.get("entity"):
        fk = ForeignKey(str(fk_spec["entity"]), str(fk_spec.get("field") or "id"))
    elif isinstance(fk_spec, str):
        fk = ForeignKey(*fk_spec.split(".", 1)) if "." in fk_spec else ForeignKey(fk_spec)
    required = bool(spec.get("required")) and not spec.get("optional")
    nullable = not required if "nullable" not in spec else bool(spec["nullable"])
    has_default = "default" in spec or "defaultValue" in spec
    nested = spec.get("fields") if isinstance(spec.get("fields"), dict) else {}
    items = spec.get("items")
    if nested and kind == "json":
        kind = "object"
    return Field(
        name=name, kind=kind, required=required, nullable=nullable,
        default=_pick(spec, "default", "defaultValue"), has_default=has_default,
        minimum=_as_number(_pick(spec, "min", "minimum")), maximum=_as_number(_pick(spec, "max", "maximum")),
        min_length=_pick(spec, "min_length", "minLength"), max_length=_pick(spec, "max_length", "maxLength"),
        pattern=spec.get("pattern") if isinstance(spec.get("pattern"), str) else None,
        enum=tuple(enum) if isinstance(enum, list) else None,
        unique=bool(spec.get("unique")), generated=bool(spec.get("generated") or spec.get("autoValue")),
        primary=bool(_pick(spec, "primary", "primaryKey")), sensitive=bool(spec.get("sensitive")),
        foreign_key=fk, fields=tuple(parse_field(k, v) for k, v in nested.items()),
        items=parse_field("items", items) if isinstance(items, (dict, str)) else None,
        description=str(spec.get("description") or ""),
    )


_ROW_LEVEL = re.compile(r"^\s*(\w+)\s*=\s*\$user\.id\s*$")
# Tenant isolation is the API's own first rule, so a row-level rule may restate it.
_SAME_TENANT = re.compile(r"\s+AND\s+tenant_?[iI]d\s*=\s*\$context\.tenant_?[iI]d\s*$")
# How a condition names the caller's id: `{{ currentUserId }}`, `{{ user.id }}`, `$user.id`.
_CALLER = re.compile(r"^\s*(\{\{\s*(currentUserId|currentUser\.id|user\.id|userId)\s*\}\}|\$user\.id)\s*$")
_RULE_KEYS = frozenset({*ROLE_LEVELS, "role", "roles", "minLevel", "level", "self", "row_level", "rowLevel",
                        "system", "authenticated"})


def _owner_of_row_level(expr: Any) -> str | None:
    """`authorId = $user.id` (optionally `AND tenantId = $context.tenantId`) → authorId; anything else → None."""
    if not isinstance(expr, str):
        return None
    m = _ROW_LEVEL.match(_SAME_TENANT.sub("", expr))
    return m.group(1) if m else None


def _role_levels(roles: Any, unread: list[str]) -> list[int]:
    names = [roles] if isinstance(roles, str) else roles if isinstance(roles, list) else None
    if names is None:
        unread.append(f"role {roles!r}")
        return []
    levels = []
    for name in map(str, names):
        if name in ROLE_LEVELS:
            levels.append(ROLE_LEVELS[name])
        elif name != "system":
            unread.append(f"unknown role {name!r}")
    return levels


def _condition(spec: Any, unread: list[str]) -> Condition | None:
    """One entry of a condition list; None (and a note in `unread`) when any part of it is not understood."""
    if isinstance(spec, str):
        levels = _role_levels(spec, unread)
        return Condition(level=levels[0]) if levels else None
    if not isinstance(spec, dict):
        unread.append(f"condition {spec!r}")
        return None
    level, owner, equals, ok = 0, None, [], True
    for key, value in spec.items():
        key = str(key)
        if key == "authenticated":
            level = max(level, 1 if value is True else 0)
        elif key in ("role", "roles"):
            before = len(unread)
            levels = _role_levels(value, unread)
            ok = ok and len(unread) == before and bool(levels)
            level = max(level, min(levels, default=0))
        elif key in ("level", "minLevel"):
            level = max(level, clamp_level(value))
        elif isinstance(value, str) and _CALLER.match(value):
            owner = key
        elif value is None or isinstance(value, (str, int, float, bool)):
            equals.append((key, value))
        else:
            unread.append(f"condition on {key}: {value!r}")
            ok = False
    return Condition(level=level, owner_field=owner, equals=tuple(equals)) if ok else None


def _condition_rule(rule: list[Any]) -> Acl:
    """A list of conditions, any of which grants: those that limit no rows become the rule's level."""
    unread: list[str] = []
    conds = [c for c in (_condition(spec, unread) for spec in rule) if c is not None]
    full = [c.level for c in conds if not c.limits_rows]
    level = min(full) if full else None
    # A row-limited alternative adds nothing for callers the full grant already admits.
    limited = tuple(dict.fromkeys(c for c in conds if c.limits_rows and (level is None or c.level < level)))
    return Acl(level=level, conditions=limited, unread=tuple(unread),
               system_only=not conds and "system" in rule)


def parse_acl_rule(rule: Any) -> Acl:
    """One operation's rule: a role list (JSON format), a flag mapping (YAML format), a list of conditions
    (each a mapping whose keys must all hold), true/false. What it cannot read grants nothing and is listed in
    `unread` (check reports it)."""
    if rule is True:
        return Acl(level=0)
    if rule is None or rule is False:
        return Acl()
    if isinstance(rule, str):
        rule = [rule]
    if isinstance(rule, list):
        if any(isinstance(r, dict) for r in rule):
            return _condition_rule(rule)
        # Levels are hierarchical, so a role list grants the lowest listed role and everyone above it.
        unread: list[str] = []
        levels = _role_levels(rule, unread)
        system = "system" in rule
        return Acl(level=min(levels) if levels else None, system_only=system and not levels, unread=tuple(unread))
    if not isinstance(rule, dict):
        return Acl(unread=(f"rule {rule!r}",))
    notes = [f"ignored key {k!r}" for k in rule if str(k) not in _RULE_KEYS]
    levels = [lvl for role, lvl in ROLE_LEVELS.items() if rule.get(role) is True]
    if rule.get("authenticated") is True:
        levels.append(1)
    roles = rule.get("role") or rule.get("roles")
    if roles is not None:
        levels += _role_levels(roles, notes)
    if "minLevel" in rule or "level" in rule:
        levels.append(clamp_level(_pick(rule, "minLevel", "level")))
    owner = None
    if rule.get("self"):
        row_level = rule.get("row_level") or rule.get("rowLevel")
        if row_level is None:
            owner = "createdBy"
        else:
            owner = _owner_of_row_level(row_level)
            if owner is None:
                # Any other row-level expression (sub-selects) is not understood: grant nothing rather than guess.
                notes.append(f"row_level {row_level!r} (only `field = $user.id` is understood)")
    return Acl(level=min(levels) if levels else None, owner_field=owner,
               system_only=bool(rule.get("system")) and not levels and owner is None, unread=tuple(notes))


# Without an `acl`: tenant members read, users create, the owner or an admin changes.
DEFAULT_ACL = {
    "read": Acl(level=1), "create": Acl(level=1),
    "update": Acl(level=3, owner_field="createdBy"), "delete": Acl(level=3, owner_field="createdBy"),
}


def parse_acl(spec: Any) -> dict[str, Acl]:
    if not isinstance(spec, dict):
        return dict(DEFAULT_ACL)
    acl: dict[str, Acl] = {}
    row_level = spec.get("rowLevel")
    for op in OPS:
        if op in spec:
            acl[op] = parse_acl_rule(spec[op])
        elif "default" in spec or "permissions" in spec:
            acl[op] = DEFAULT_ACL[op]
        else:
            acl[op] = Acl(level=SUPERGOD)  # an acl that omits an operation keeps it for supergod
        if (owner := _owner_of_row_level(row_level)) and acl[op].owner_field is None:
            acl[op] = replace(acl[op], owner_field=owner)
    return acl


def acl_problems(spec: Any) -> list[str]:
    """What of an entity's `acl` mbsite does not read, one line each (the operations' `unread`, unknown keys)."""
    if spec is None:
        return []
    if not isinstance(spec, dict):
        return [f"acl must be a mapping (got {type(spec).__name__}): the defaults apply"]
    found = [f"{key}: not read (role → operations lists are not supported; the defaults apply)"
             if key == "permissions" else f"{key}: unknown acl key, ignored"
             for key in spec if key not in (*OPS, "default", "rowLevel", "crossTenant", "cross_tenant")]
    if isinstance(spec.get("rowLevel"), str) and _owner_of_row_level(spec["rowLevel"]) is None:
        found.append(f"rowLevel {spec['rowLevel']!r}: not understood (only `field = $user.id`)")
    for op, acl in parse_acl(spec).items():
        found.extend(f"{op}: {note}" for note in acl.unread)
    return found


def parse_entity(doc: dict[str, Any], package: str | None, source: str) -> Entity:
    """Normalize one entity document (any dialect) into an Entity."""
    where = Location(file=source)
    name = doc.get("entity") or doc.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise DataError(f"entity needs a valid 'entity' or 'name' (got {name!r})", where)
    # Core upstream entities (User, PageConfig, ...) name no package: they live under "core".
    pkg = str(doc.get("package") or package or DEFAULT_PACKAGE)
    raw_fields = doc.get("fields") or {}
    if isinstance(raw_fields, list):  # the CRUD-page variant: [{name, type, ...}]
        raw_fields = {f["name"]: f for f in raw_fields if isinstance(f, dict) and f.get("name")}
    if not isinstance(raw_fields, dict):
        raise DataError(f"entity {name}: 'fields' must be a mapping", where)
    fields = tuple(parse_field(str(k), v) for k, v in raw_fields.items() if NAME_RE.match(str(k)))
    security = doc.get("security") if isinstance(doc.get("security"), dict) else {}
    hidden = security.get("never_expose") or security.get("neverExpose") or []
    acl_spec = doc.get("acl")
    cross = bool(doc.get("crossTenant") or doc.get("cross_tenant")
                 or (isinstance(acl_spec, dict) and (acl_spec.get("crossTenant") or acl_spec.get("cross_tenant"))))
    indexed = [str(k) for k, v in raw_fields.items() if isinstance(v, dict) and NAME_RE.match(str(k))
               and (v.get("index") or v.get("indexed") or v.get("unique"))]
    names = {fd.name for fd in fields}
    unique: list[tuple[str, ...]] = []
    for ix in doc.get("indexes") or []:
        cols = ix.get("fields") if isinstance(ix, dict) else None
        if isinstance(cols, list) and cols and isinstance(cols[0], str):
            indexed.append(cols[0])  # the leading column is the one a filter can use
            key = tuple(dict.fromkeys(str(c) for c in cols))
            # An index naming a field the entity lacks cannot be checked; `check` reports it.
            if ix.get("unique") is True and all(c in names for c in key) and key not in unique:
                unique.append(key)
    indexed_fields = tuple(dict.fromkeys(f for f in indexed if f in names and f != "id"))
    return Entity(name=name, package=pkg, fields=fields, acl=parse_acl(acl_spec),
                  never_expose=frozenset(map(str, hidden)), cross_tenant=cross,
                  description=str(doc.get("description") or ""), source=source, indexed=indexed_fields,
                  unique_together=tuple(unique), acl_notes=tuple(acl_problems(acl_spec)))


def _documents(path: Path, source: str) -> Iterator[dict[str, Any]]:
    text = read_text(path, source)
    if path.suffix == ".json":
        data = jsonload.loads(text, source=source)
        if isinstance(data, dict) and isinstance(data.get("entities"), list):
            yield from (e for e in data["entities"] if isinstance(e, dict))
        elif isinstance(data, dict):
            yield data
        return
    for doc in load_all(text, source):  # bounded: size, nesting, aliases; errors name the line
        if isinstance(doc, dict) and ("entity" in doc or "name" in doc) and "fields" in doc:
            yield doc


def load_file(path: Path, package: str | None = None, root: Path | None = None) -> list[Entity]:
    """Every entity of one file; a broken file raises DataError naming it."""
    source = relpath(path, root)
    try:
        docs = list(_documents(path, source))
    except DataError as exc:
        raise DataError(f"invalid entity file: {exc.message}", exc.location) from None
    return [parse_entity(doc, package, source) for doc in docs]


class EntityRegistry:
    """All entities of a site, looked up by package and URL name (declared name or snake_case)."""

    def __init__(self, entities: Iterable[Entity], site_declared: Iterable[tuple[str, str]] = ()) -> None:
        self._by_key: dict[tuple[str, str], Entity] = {}
        for ent in entities:
            for key in {ent.name.lower(), ent.slug}:
                self._by_key.setdefault((ent.package, key), ent)
        # (package, name) pairs declared by the site: reachable without an installed package.
        self.site_declared = frozenset(site_declared)

    def __iter__(self) -> Iterator[Entity]:
        seen: set[int] = set()
        for ent in self._by_key.values():
            if id(ent) not in seen:
                seen.add(id(ent))
                yield ent

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def get(self, package: str, name: str) -> Entity | None:
        return self._by_key.get((package, name.lower())) or self._by_key.get((package, snake_case(name)))

    def by_name(self, name: str) -> list[Entity]:
        return [e for e in self if e.name == name]

    def is_site_declared(self, entity: Entity) -> bool:
        return (entity.package, entity.name) in self.site_declared


def load_registry(config: Config, problems: list[DataError] | None = None) -> EntityRegistry:
    """Read the site's and the packages' entity files. Broken files go to `problems` (or raise)."""
    entities: list[Entity] = []
    site: list[tuple[str, str]] = []

    def take(path: Path, package: str | None, from_site: bool) -> None:
        try:
            found = load_file(path, package, config.site_dir)
        except DataError as exc:
            if problems is None:
                raise
            problems.append(exc)
            return
        entities.extend(found)
        if from_site:
            site.extend((e.package, e.name) for e in found)

    site_dir = config.site_dir / "schemas" / "entities"
    if site_dir.is_dir():
        for path in sorted(site_dir.iterdir()):
            if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
                take(path, None, True)
    for packages in config.package_dirs():
        for pkg in sorted(p for p in packages.iterdir() if p.is_dir()):
            folder = pkg / "entities"
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if path.suffix in (".yaml", ".yml") or path.name == "schema.json":
                    take(path, pkg.name, False)
    return EntityRegistry(entities, site)
