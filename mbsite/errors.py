"""One error tree for mbsite; every error can say where it happened."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file (with line/column), a JSON pointer, a package or a node path."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    pointer: str | None = None
    package: str | None = None
    node: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.package and not self.file:
            parts.append(f"package {self.package}")
        if self.pointer:
            parts.append(f"at {self.pointer}")
        if self.node:
            parts.append(f"node {self.node}")
        return " ".join(parts)


class MbsiteError(Exception):
    """Base of every error mbsite raises on purpose; carries a location and a stable code.

    The tree maps itself to its two interfaces, each in one place: the CLI prints `location: message` with exit
    status 1 (cli.MbsiteGroup); the functions answer with a problem+json of the error's `status` (web/problems.py),
    showing the message when the status is below 500 (the caller's fault) and nothing of it otherwise."""

    code = "error"
    status = 500

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


class ConfigError(MbsiteError):
    code = "config"


class DataError(MbsiteError):
    """Bad input data: JSON, YAML, front matter, seed rows."""

    code = "data"
    status = 422


class DatabaseError(MbsiteError):
    """The database cannot be opened or refuses a write; the message names the URL without its password."""

    code = "database"
    status = 503


class PackageError(MbsiteError):
    code = "package"


class TemplateError(MbsiteError):
    code = "template"


class ExpressionError(MbsiteError):
    code = "expression"


class RenderError(MbsiteError):
    code = "render"


class RouteError(MbsiteError):
    """A route that cannot be: a page path that would leave its folder (paths.PathError), a conflict."""

    code = "route"
    status = 422


@dataclass(frozen=True)
class Problem:
    """A reported (non-raised) error or warning with its location."""

    severity: str  # "error" | "warning"
    message: str
    location: Location = field(default_factory=Location)
    code: str = "problem"

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message

    @classmethod
    def from_error(cls, err: MbsiteError, severity: str = "error") -> "Problem":
        return cls(severity, err.message, err.location, err.code)


def relpath(path: Path | str, root: Path | None = None) -> str:
    """A path as users should see it: relative to root (or the cwd) when possible."""
    p = Path(path)
    for base in (root, Path.cwd()):
        if base is None:
            continue
        try:
            return str(p.resolve().relative_to(Path(base).resolve()))
        except ValueError:
            continue
    return str(p)
