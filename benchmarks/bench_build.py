"""Benchmark: full builds of generated sites, mbsite side by side with Hugo, in one run.

    python benchmarks/bench_build.py [--pages 4000] [--tenants 4] [--per-tenant 420] [--reps 3]
                                     [--engines markdown-it,pyromark] [--work DIR] [--no-hugo] [--json FILE]
                                     [--skip markdown,components,rebuilds] [--clean] [--layouts hugo,default]

Cases:
  * N Markdown pages (benchmarks/gensite.py), built by `mbsite build --full --json` and by `hugo --quiet`,
    with fenced-code highlighting on (Pygments / Hugo's Chroma) and off, for each Markdown engine given
    (an engine whose package is not installed is skipped) and each layout given: `hugo` renders the Hugo site's
    own layout as an mbsite theme (the same markup per page: equal work), `default` mbsite's default theme (what
    `mbsite init` gives: head links, navigation, table of contents, reading time, tags, post navigation — more work
    per page than the Hugo layout does); the tools' timed runs alternate;
  * T tenants x P component pages, every page rendered for levels 0..5 (about 10,000 outputs): the first
    build (creates and seeds the SQLite database) and full rebuilds;
  * last, builds of the Markdown site without --full into one output folder, for each engine (highlighting
    off): no-op builds (nothing changed), and builds after an edit of the site's copy of base.html (every page
    renders again, no Markdown file changed). `--skip rebuilds` leaves them out.

Every timed run is one process started from the shell's point of view: the wall time includes interpreter
start, imports, loading, rendering, writing and publishing. Every run writes into a new, empty output folder,
so every run builds from scratch for both tools, and nothing is deleted while runs are timed: on ext4 without
a journal (this machine's disk) a file or folder created soon after a large deletion makes the kernel
step over every recently deleted inode of its block group (`recently_deleted` in the inode allocator), which
turned "rm -rf the output, then build" into a measure of that scan (0.2 s to 4 s of system time for the same
8,000 creations). The outputs are kept (`--clean` deletes them at the end). One untimed warm-up run precedes the timed repetitions
of each case; the Markdown cases run the tools in rounds (each tool once per round), so that a machine whose
speed drifts (a virtual machine's neighbours; the stolen CPU time is printed) affects every tool alike. The
table shows the median wall time, and the median CPU time (user + system) of the process tree. Memory: the
peak of the whole process tree (the builder and its forked workers), sampled every 50 ms from /proc as the sum
of PSS (shared pages counted once) and as the sum of RSS (shared pages counted in every process: an upper
bound), in one more run after the timed ones (reading smaps_rollup that often slows the sampled processes
down, so timed runs are not sampled).
A file or folder deleted up to six minutes before (the window grows while the inode table block stays dirty)
still counts as recently deleted: run this after a quiet spell, with --work on a folder of its own.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gensite  # noqa: E402

ENGINE_PACKAGES = {"markdown-it": "markdown_it", "pyromark": "pyromark"}
LAYOUT_THEMES = {"hugo": gensite.HUGO_LAYOUT_THEME, "default": "default"}
LAYOUT_NAMES = {"hugo": "Hugo's layout", "default": "default theme"}


# -- measuring one process tree ------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return out


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(_children(p))
    return seen


def _mem_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in KiB, (0, 0) when it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


@dataclass
class Run:
    seconds: float
    cpu: float
    pss_mb: float
    rss_mb: float
    stdout: str


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None, sample: bool = True) -> Run:
    peak = {"pss": 0, "rss": 0}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    done = threading.Event()

    def sample_memory() -> None:
        while not done.wait(0.05):
            pss = rss = 0
            for p in _tree(proc.pid):
                a, b = _mem_kb(p)
                pss += a
                rss += b
            peak["pss"] = max(peak["pss"], pss)
            peak["rss"] = max(peak["rss"], rss)

    sampler = threading.Thread(target=sample_memory, daemon=True)
    if sample:
        sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    if sample:
        sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the tree's CPU: the process and the workers it reaped
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Run(seconds, cpu, peak["pss"] / 1024, peak["rss"] / 1024, out.decode())


@dataclass
class Case:
    name: str
    tool: str
    runs: list[Run] = field(default_factory=list)
    memory: Run | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    def row(self) -> dict[str, object]:
        return {"case": self.name, "tool": self.tool, "median_s": round(self.median, 2),
                "cpu_s": round(statistics.median(r.cpu for r in self.runs), 2),
                "runs_s": [round(r.seconds, 2) for r in self.runs],
                "peak_pss_mb": round(self.memory.pss_mb) if self.memory else None,
                "peak_rss_sum_mb": round(self.memory.rss_mb) if self.memory else None,
                "note": self.note}


_fresh_counter = 0


def fresh_dir(work: Path) -> Path:
    """A new output folder under work/outputs (never used before, so nothing there was deleted recently)."""
    global _fresh_counter
    _fresh_counter += 1
    return work / "outputs" / f"run-{os.getpid()}-{_fresh_counter}"


def repeat(case: Case, cmd_for: "callable[[Path], list[str]]", reps: int, work: Path,
           before: "callable[[], None] | None" = None, *, warmup: bool = True) -> Case:
    if warmup:
        if before:
            before()
        run_measured(cmd_for(fresh_dir(work)))
    for _ in range(reps):
        if before:
            before()
        case.runs.append(run_measured(cmd_for(fresh_dir(work)), sample=False))
    # Memory in one more run: reading /proc/PID/smaps_rollup every 50 ms costs both tools time, so the timed
    # runs are not sampled.
    if before:
        before()
    case.memory = run_measured(cmd_for(fresh_dir(work)))
    return case


def interleaved(tools: list[tuple[Case, "callable[[Path], list[str]]"]], reps: int, work: Path) -> None:
    """Each tool's warm-up, then the timed runs in rounds (tool A, tool B, …, then again), so that a machine
    that speeds up or slows down during the benchmark does so for every tool alike; then one memory run each."""
    for _case, cmd_for in tools:
        run_measured(cmd_for(fresh_dir(work)), sample=False)
    for _ in range(reps):
        for case, cmd_for in tools:
            case.runs.append(run_measured(cmd_for(fresh_dir(work)), sample=False))
    for case, cmd_for in tools:
        case.memory = run_measured(cmd_for(fresh_dir(work)))


def _steal_seconds() -> float:
    """CPU time the hypervisor gave to others (the 'steal' column of /proc/stat), in seconds."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


# -- site configuration ---------------------------------------------------------------------------------------

def mbsite_config(site: Path, *, highlight: bool, engine: str, theme: str = "default") -> None:
    (site / "mbsite.toml").write_text(f'[site]\ntheme = "{theme}"\n\n[build]\nhighlight = {str(highlight).lower()}\n'
                                      f'markdown_engine = "{engine}"\n')


def hugo_config(hugo: Path, *, highlight: bool) -> None:
    cfg = hugo / "hugo.toml"
    text = re.sub(r"\n\[markup\.highlight\][^\[]*", "", cfg.read_text())
    if not highlight:
        text = text.rstrip("\n") + "\n\n[markup.highlight]\ncodeFences = false\n"
    cfg.write_text(text)


def mbsite_incremental_cmd(site: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "mbsite.cli", "build", "--json", "--site", str(site), "--out", str(out)]


def rebuilds(site: Path, engine: str, reps: int, work: Path, label: str) -> list[Case]:
    """Builds without --full into one output folder after a full build: nothing changed (no-op), then an edit of
    the site's copy of base.html before each run (every page renders again, no Markdown file changed)."""
    from mbsite.config import builtin_root

    out = fresh_dir(work)
    run_measured(mbsite_cmd(site)(out), sample=False)
    noop = Case(f"{label}, no-op build", f"mbsite ({engine})")
    for _ in range(reps + 1):
        noop.runs.append(run_measured(mbsite_incremental_cmd(site, out), sample=False))
    noop.runs = noop.runs[1:]  # (the first one after a full build is the warm-up)
    folder = site / "themes" / "default" / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    template = folder / "base.html"
    shutil.copy(builtin_root() / "themes" / "default" / "templates" / "base.html", template)
    run_measured(mbsite_incremental_cmd(site, out), sample=False)
    edit = Case(f"{label}, template edit (every page again)", f"mbsite ({engine})")
    for i in range(reps):
        template.write_text(template.read_text() + f"\n{{# edit {i} #}}\n")
        edit.runs.append(run_measured(mbsite_incremental_cmd(site, out), sample=False))
    shutil.rmtree(site / "themes")  # (small) the site as generated again
    for case in (noop, edit):
        s = summary_of(case.runs[-1])
        case.note = f"{s['rendered']} pages rendered"
    return [noop, edit]


def mbsite_cmd(site: Path) -> "callable[[Path], list[str]]":
    # The interpreter running this script, so PYTHONPATH can point at another checkout to compare.
    return lambda out: [sys.executable, "-m", "mbsite.cli", "build", "--full", "--json", "--site", str(site),
                        "--out", str(out)]


def summary_of(run: Run) -> dict[str, object]:
    return json.loads(run.stdout.strip().splitlines()[-1])


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# -- main -----------------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=4000)
    ap.add_argument("--tenants", type=int, default=4)
    ap.add_argument("--per-tenant", type=int, default=420)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--engines", default="markdown-it,pyromark")
    ap.add_argument("--work", type=Path, default=None, help="folder for the generated sites (default: a temp dir)")
    ap.add_argument("--no-hugo", action="store_true")
    ap.add_argument("--skip", default="", help="comma-separated: markdown,components,rebuilds")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    ap.add_argument("--clean", action="store_true", help="delete the outputs (and a temporary --work) at the end")
    ap.add_argument("--layouts", default="hugo,default",
                    help="comma-separated, for the Markdown pages: hugo (mbsite renders the Hugo site's layout: equal "
                         "work), default (mbsite's default theme: what `mbsite init` gives)")
    args = ap.parse_args()
    layouts = [name for name in args.layouts.split(",") if name]
    unknown = [name for name in layouts if name not in LAYOUT_THEMES]
    if unknown or not layouts:
        ap.error(f"--layouts: expected hugo and/or default, got {args.layouts!r}")

    work = args.work or Path(tempfile.mkdtemp(prefix="mbsite-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    hugo = None if args.no_hugo else shutil.which("hugo")
    skip = set(filter(None, args.skip.split(",")))
    engines = []
    for name in filter(None, args.engines.split(",")):
        if importlib.util.find_spec(ENGINE_PACKAGES.get(name, name.replace("-", "_"))) is None:
            print(f"skipping engine {name}: its package is not installed (pip install -e '.[fast]')", file=sys.stderr)
        else:
            engines.append(name)
    # pip compiles a package's modules to bytecode when it installs it; an editable install does not, and with
    # PYTHONDONTWRITEBYTECODE set (as on this machine) every run would compile mbsite's modules again.
    import mbsite

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(mbsite.__file__).parent)], check=True)
    load_before = _loadavg()
    steal_before = _steal_seconds()
    cases: list[Case] = []
    info: list[str] = [f"cpus: {os.cpu_count()}", f"python: {sys.version.split()[0]}"]
    if hugo:
        info.append("hugo: " + subprocess.run([hugo, "version"], capture_output=True, text=True).stdout.strip())

    if "markdown" not in skip:
        md = work / "md"
        print(f"generating {args.pages} Markdown pages in {md} ...", file=sys.stderr)
        gensite.markdown_site(md, args.pages, hugo=bool(hugo))
        # One site folder per engine and layout (own config and state), the same pages in each.
        sites: dict[tuple[str, str], Path] = {}
        for engine in engines:
            for layout in layouts:
                site = md if not sites else work / f"md-{engine}-{layout}"
                if sites:
                    shutil.rmtree(site, ignore_errors=True)
                    shutil.copytree(md, site, ignore=shutil.ignore_patterns("hugo", ".mbsite", "build"))
                sites[(engine, layout)] = site
        for highlight in (True, False):
            label = f"{args.pages} Markdown pages, highlighting {'on' if highlight else 'off'}"
            tools: list[tuple[Case, "callable[[Path], list[str]]"]] = []
            for (engine, layout), site in sites.items():
                mbsite_config(site, highlight=highlight, engine=engine, theme=LAYOUT_THEMES[layout])
                tools.append((Case(label, f"mbsite ({engine}, {LAYOUT_NAMES[layout]})"), mbsite_cmd(site)))
            outs: list[Path] = []
            if hugo:
                hugo_config(md / "hugo", highlight=highlight)

                def hugo_cmd(out: Path, outs: list[Path] = outs) -> list[str]:
                    outs.append(out)
                    return [hugo, "--quiet", "-s", str(md / "hugo"), "-d", str(out)]
                tools.append((Case(label, "hugo"), hugo_cmd))
            interleaved(tools, args.reps, work)
            for case, _cmd in tools:
                if case.tool == "hugo":
                    case.note = f"{sum(1 for _ in outs[-1].rglob('*.html'))} html files"
                else:
                    s = summary_of(case.runs[-1])
                    case.note = f"{s['variants_written']} files written, {s['variants_shared']} shared"
                cases.append(case)
                print(json.dumps(case.row()), file=sys.stderr)

    if "components" not in skip:
        comp = work / "comp"
        print(f"generating {args.tenants} x {args.per_tenant} component pages in {comp} ...", file=sys.stderr)
        gensite.component_site(comp, args.tenants, args.per_tenant)
        label = f"{args.tenants} tenants x {args.per_tenant} component pages x 6 levels"

        def fresh() -> None:  # a new database (small: deleting it does not slow the next run down)
            shutil.rmtree(comp / ".mbsite", ignore_errors=True)

        first = repeat(Case(label + ", first build (creates + seeds the database)", "mbsite"), mbsite_cmd(comp),
                       args.reps, work, fresh, warmup=False)
        s = summary_of(first.runs[-1])
        first.note = f"{s['variants_written']} files written"
        cases.append(first)
        print(json.dumps(first.row()), file=sys.stderr)
        full = repeat(Case(label + ", full rebuild", "mbsite"), mbsite_cmd(comp), args.reps, work)
        s = summary_of(full.runs[-1])
        full.note = f"{s['variants_written']} files written"
        cases.append(full)
        print(json.dumps(full.row()), file=sys.stderr)

    if "markdown" not in skip and "rebuilds" not in skip:
        # Last: these runs replace published files, and deleting files slows later creations on some disks.
        label = f"{args.pages} Markdown pages, highlighting off"
        for (engine, layout), site in sites.items():
            if layout != layouts[0]:
                continue
            mbsite_config(site, highlight=False, engine=engine, theme=LAYOUT_THEMES[layout])
            for case in rebuilds(site, f"{engine}, {LAYOUT_NAMES[layout]}", args.reps, work, label):
                cases.append(case)
                print(json.dumps(case.row()), file=sys.stderr)

    info.append("load average before/after: " + load_before + " / " + _loadavg())
    info.append(f"CPU time stolen by the hypervisor during the benchmark: {_steal_seconds() - steal_before:.1f} s")
    print("; ".join(info))
    print()
    print("| case | tool | median s | runs s | CPU s (median) | peak PSS MB | peak RSS sum MB | note |")
    print("|---|---|---|---|---|---|---|---|")
    for c in cases:
        r = c.row()
        print(f"| {r['case']} | {r['tool']} | {r['median_s']:.2f} | {', '.join(f'{x:.2f}' for x in r['runs_s'])} | "
              f"{r['cpu_s']:.2f} | {r['peak_pss_mb'] or '–'} | {r['peak_rss_sum_mb'] or '–'} | {r['note']} |")
    if args.json:
        args.json.write_text(json.dumps({"info": info, "rows": [c.row() for c in cases]}, indent=2))
    if args.clean:
        shutil.rmtree(work / "outputs", ignore_errors=True)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"\nThe outputs are kept in {work / 'outputs'} (deleting that many files slows file creation on "
              "this disk for minutes: wait a while before the next benchmark, or pass --clean).", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
