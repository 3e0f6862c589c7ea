"""Build events → the user's screen: a rich progress bar, plain lines, JSON, or a buffer for tests."""
from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from .errors import Problem


class Reporter:
    """Receives build events. The core never prints; it calls these."""

    def start(self, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def problem(self, problem: Problem) -> None: ...

    def message(self, text: str) -> None: ...

    def finish(self, summary: dict[str, Any]) -> None: ...


class BufferReporter(Reporter):
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.messages: list[str] = []
        self.summary: dict[str, Any] | None = None
        self.total = 0
        self.done = 0

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, n: int = 1) -> None:
        self.done += n

    def problem(self, problem: Problem) -> None:
        self.problems.append(problem)

    def message(self, text: str) -> None:
        self.messages.append(text)

    def finish(self, summary: dict[str, Any]) -> None:
        self.summary = summary


class ConsoleReporter(Reporter):
    """Human output on stderr: problems as `file:line: message`, a progress bar on a terminal, a summary line."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self._stream = stream
        self._console: Any = None
        self.quiet = quiet
        self._progress: Any = None
        self._task: Any = None

    @property
    def console(self) -> Any:
        """The rich console, made on first use (a quiet build with nothing to say never loads rich)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self._stream or sys.stderr, highlight=False, soft_wrap=True)
        return self._console

    def start(self, total: int) -> None:
        if not self.quiet and total > 0 and self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self._progress = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), console=self.console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task("rendering", total=total)

    def advance(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def problem(self, problem: Problem) -> None:
        from rich.markup import escape

        style = "bold red" if problem.severity == "error" else "yellow"
        # The message is data ("/admin/[entity]" is not rich markup): escape it.
        self.console.print(f"[{style}]{problem.severity}[/]: {escape(str(problem))}", markup=True, highlight=False)

    def message(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, markup=False)

    def finish(self, summary: dict[str, Any]) -> None:
        if self._progress is not None:
            self._progress.stop()
        s = summary
        made, reused = s.get("search_indexes", 0), s.get("search_indexes_reused", 0)
        search = ""
        if made:
            search = f"{made} search {'index' if made == 1 else 'indexes'}" + (f" ({reused} reused)" if reused else "") + " · "
        self.console.print(
            f"{s['pages']} pages, {s['rendered']} rendered, {s['unchanged']} unchanged, {s['removed']} removed · "
            f"{s['variants_written']} variants written, {s['variants_shared']} shared · {search}"
            f"{s['warnings']} warnings, {s['errors']} errors · {s['seconds']:.2f}s", markup=False)


class JsonReporter(ConsoleReporter):
    """Problems on stderr as usual; the summary as one JSON object on stdout."""

    def __init__(self) -> None:
        super().__init__(quiet=True)
        self.problems: list[Problem] = []

    def problem(self, problem: Problem) -> None:
        super().problem(problem)
        self.problems.append(problem)

    def finish(self, summary: dict[str, Any]) -> None:
        """One JSON object on stdout, with every problem located (a script needs the errors, not only a count)."""
        record = dict(summary)
        record["problems"] = [problem_record(p) for p in self.problems]
        sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
        sys.stdout.flush()


def problem_record(p: Problem) -> dict[str, Any]:
    """A problem as JSON: severity, code, message, and where (file, line, pointer) when known."""
    loc = p.location
    record: dict[str, Any] = {"severity": p.severity, "code": p.code, "message": p.message}
    for key in ("file", "line", "column", "pointer", "package", "node"):
        value = getattr(loc, key)
        if value is not None:
            record[key] = value
    return record
