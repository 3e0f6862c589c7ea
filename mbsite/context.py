"""The render context: what a page render may see, and the recorder that notes every input it reads."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import keys

# Input keys are plain strings with a kind prefix (every kind is built, and documented, in keys.py); besides its
# inputs, a recorder notes whether the render looked at the viewer's level, role or user.


@dataclass
class Recorder:
    """Collects the inputs one output reads. Cheap: a set of keys plus file digests."""

    inputs: set[str] = field(default_factory=set)
    digests: dict[str, str] = field(default_factory=dict)
    level_sensitive: bool = False

    def file(self, relpath: str, digest: str) -> None:
        key = keys.file(relpath)
        self.inputs.add(key)
        self.digests[key] = digest

    def image(self, relpath: str, digest: str) -> None:
        """An image file a page shows, by content digest (`images.MISSING` when it does not exist)."""
        key = keys.image(relpath)
        self.inputs.add(key)
        self.digests[key] = digest

    def row(self, table: str, key: str) -> None:
        self.inputs.add(keys.row(table, key))

    def query(self, tenant: str, package: str, entity: str) -> None:
        self.inputs.add(keys.query(tenant, package, entity))

    def routes(self, tenant: str) -> None:
        self.inputs.add(keys.routes(tenant))

    def component(self, package: str, component_id: str) -> None:
        self.inputs.add(keys.component(package, component_id))

    def read_level(self) -> None:
        """Called whenever a render branches on the viewer's level, role or user."""
        self.level_sensitive = True

    def merge_inputs(self, other: "Recorder") -> None:
        """Take another recorder's inputs but not its level sensitivity (chrome is compared per level)."""
        self.inputs |= other.inputs
        self.digests.update(other.digests)

    def merge(self, other: "Recorder") -> None:
        self.inputs |= other.inputs
        self.digests.update(other.digests)
        self.level_sensitive = self.level_sensitive or other.level_sensitive


class NullRecorder(Recorder):
    """A recorder that drops everything (for one-off renders such as the component gallery)."""

    def file(self, relpath: str, digest: str) -> None:  # noqa: D102
        pass

    def image(self, relpath: str, digest: str) -> None:  # noqa: D102
        pass

    def row(self, table: str, key: str) -> None:  # noqa: D102
        pass

    def query(self, tenant: str, package: str, entity: str) -> None:  # noqa: D102
        pass

    def routes(self, tenant: str) -> None:  # noqa: D102
        pass

    def component(self, package: str, component_id: str) -> None:  # noqa: D102
        pass


@dataclass
class PageScope:
    """Names a page render exposes to expressions (after loop vars, props and state)."""

    tenant: dict[str, Any] = field(default_factory=dict)   # {"slug", "name"}
    path: str = "/"
    level: int = 0                                         # the viewer's level 0..5
    role: str = "public"
    user: dict[str, Any] | None = None                     # {"username", "role", "level"} or None when public
    params: dict[str, Any] = field(default_factory=dict)   # route params (:id)
    records: dict[str, Any] = field(default_factory=dict)  # named entity query results
    page: dict[str, Any] = field(default_factory=dict)     # title, description, meta of the page
    site: dict[str, Any] = field(default_factory=dict)     # routes/nav of the tenant
    # A page body's image hook (images.render_reference bound to the site's cache), None where images are left as
    # they are (the chrome, the gallery): (src, alt, recorder, warn, attrs, size) → HTML.
    images: Any = None
    timezone: str = "UTC"                                  # the tenant's time zone (dates the expressions show)
    lang: str = "en"                                       # the page's language

    LEVEL_NAMES = frozenset({"level", "role", "user", "viewer"})

    def lookup(self, name: str, recorder: Recorder | None = None) -> tuple[bool, Any]:
        """Resolve a bare name; returns (found, value). Reading level/role/user marks the render level-sensitive."""
        if name in self.LEVEL_NAMES and recorder is not None:
            recorder.read_level()
        if name == "viewer":
            return True, {"level": self.level, "role": self.role, "user": self.user}
        if name in ("tenant", "path", "level", "role", "user", "params", "records", "page", "site"):
            return True, getattr(self, name)
        if name in self.params:
            return True, self.params[name]
        if name in self.records:
            return True, self.records[name]
        return False, None
