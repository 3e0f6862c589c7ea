"""What a chrome fragment's render read of the page it stands for, so that a page's own chrome for a level can be
known equal to the fragment without rendering it.

The builder checks, for every page and every level, that the gate's composition (the page's base file with the
level's chrome fragment in place of the base level's) is what a full render of that level gives. Rendering each
level's chrome blocks for every page to check this is a good part of a build. But a chrome render is a function of
the values it reads: the fragment of a (tenant, level, navigation key) is rendered once more with its template
variables and its `page` wrapped so that every read is noted, and `page.path` — which a chrome reads to mark the
current entry of the navigation — replaced by a probe that notes what it was compared to. A page whose values are
equal on every name and page key the fragment read, and whose path answers every comparison the fragment made as
the fragment's path did, makes the same render: its chrome for that level is the fragment, without rendering it.

Anything the trace cannot follow — iterating the context or the page, using the path other than in `==`/`!=`, a
probe render whose output differs from the plain render — makes the trace opaque, and the chrome is rendered and
compared as before. So a theme whose chrome does something unusual is slower, never wrong.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from markupsafe import escape

__all__ = ["ChromeTrace", "PathProbe", "ReadDict"]

MISSING = object()
# Names whose values are the same for a page and the fragment of its level by construction (the viewer of the level).
SAME_BY_LEVEL = frozenset({"viewer"})


class ReadDict(dict):  # type: ignore[type-arg]
    """A dict that notes the keys read from it; anything that walks all of it makes it `opaque`."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.read: set[str] = set()
        self.opaque = False

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        else:
            self.opaque = True
        return super().__contains__(key)

    def _walk(self) -> None:
        self.opaque = True

    def __iter__(self) -> Iterator[str]:
        self._walk()
        return super().__iter__()

    def keys(self) -> Any:
        self._walk()
        return super().keys()

    def values(self) -> Any:
        self._walk()
        return super().values()

    def items(self) -> Any:
        self._walk()
        return super().items()

    def __len__(self) -> int:
        self._walk()
        return super().__len__()

    def copy(self) -> dict[str, Any]:
        self._walk()
        return dict(super().items())

    def __eq__(self, other: object) -> bool:
        self._walk()
        return super().__eq__(other)

    __hash__ = None


class PathProbe:
    """`page.path` in a traced render: equal/unequal comparisons are noted (with what it was compared to), any
    other use marks the trace `raw` and behaves as the string as far as it can."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.compared: set[Any] = set()
        self.raw = False

    def _note(self, other: Any) -> bool:
        try:
            self.compared.add(other)
        except TypeError:  # an unhashable operand: what it compares equal to cannot be replayed
            self.raw = True
        return bool(self.value == other)

    def __eq__(self, other: object) -> bool:
        return self._note(other)

    def __ne__(self, other: object) -> bool:
        return not self._note(other)

    def __hash__(self) -> int:
        self.raw = True
        return hash(self.value)

    def __str__(self) -> str:
        self.raw = True
        return self.value

    def __html__(self) -> str:
        self.raw = True
        return str(escape(self.value))

    def __bool__(self) -> bool:
        self.raw = True
        return bool(self.value)

    def __len__(self) -> int:
        self.raw = True
        return len(self.value)

    def __iter__(self) -> Iterator[str]:
        self.raw = True
        return iter(self.value)

    def __contains__(self, item: Any) -> bool:
        self.raw = True
        return item in self.value

    def __getitem__(self, index: Any) -> Any:
        self.raw = True
        return self.value[index]

    def __add__(self, other: Any) -> Any:
        self.raw = True
        return self.value + other

    def __radd__(self, other: Any) -> Any:
        self.raw = True
        return other + self.value

    def __mod__(self, other: Any) -> Any:
        self.raw = True
        return self.value % other

    def __lt__(self, other: Any) -> bool:
        self.raw = True
        return bool(self.value < other)

    def __le__(self, other: Any) -> bool:
        self.raw = True
        return bool(self.value <= other)

    def __gt__(self, other: Any) -> bool:
        self.raw = True
        return bool(self.value > other)

    def __ge__(self, other: Any) -> bool:
        self.raw = True
        return bool(self.value >= other)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        self.raw = True
        return getattr(self.value, name)


class ChromeTrace:
    """What one traced render of a fragment's chrome blocks read: template variables by name (with the fragment's
    values), page keys (with the fragment's values), and what its path was compared to. `opaque`: the render did
    something that cannot be replayed; no page is matched against it."""

    def __init__(self) -> None:
        self.path = ""
        self.names: dict[str, Any] = {}
        self.page: dict[str, Any] = {}
        self.compared: frozenset[Any] = frozenset()
        self.opaque = True

    @staticmethod
    def traced_page(page: dict[str, Any]) -> tuple[ReadDict, PathProbe]:
        """`page` as a ReadDict whose path is a PathProbe, for a traced render."""
        probe = PathProbe(str(page.get("path") or ""))
        return ReadDict({**page, "path": probe}), probe

    @classmethod
    def of(cls, context: ReadDict, page: ReadDict, probe: PathProbe, equal: bool) -> ChromeTrace:
        """The trace of a finished render: `context` the variables it ran with (globals included), `page` its page
        and `probe` its path; `equal` whether its output was the plain render's."""
        trace = cls()
        trace.opaque = (not equal) or context.opaque or page.opaque or probe.raw
        if trace.opaque:
            return trace
        trace.path = probe.value
        trace.names = {name: dict.get(context, name, MISSING) for name in context.read if name != "page"}
        trace.page = {key: dict.get(page, key, MISSING) for key in page.read if key != "path"}
        trace.compared = frozenset(probe.compared)
        return trace

    def reads(self, name: str) -> bool:
        """Whether the render looked the template variable `name` up (an opaque trace: as if it did)."""
        return self.opaque or name in self.names

    def matches(self, values: Mapping[str, Any], globals: Mapping[str, Any]) -> bool:
        """Whether a render with `values` (the template variables, then the template's `globals`) reads the same:
        then it gives the fragment, byte for byte."""
        if self.opaque:
            return False
        for name, value in self.names.items():
            if name in SAME_BY_LEVEL:
                continue
            if (values[name] if name in values else globals.get(name, MISSING)) != value:
                return False
        page = values.get("page")
        if not isinstance(page, Mapping):
            return False
        for key, value in self.page.items():
            if page.get(key, MISSING) != value:
                return False
        path = page.get("path")
        return all((path == other) == (self.path == other) for other in self.compared)
