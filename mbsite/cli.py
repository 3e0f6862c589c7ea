"""The `mbsite` command line (click). Heavy imports live inside commands so `--help` stays instant."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from .errors import MbsiteError


class CliError(click.ClickException):
    """An MbsiteError shown as `location: message`, exit status 1, never a traceback."""

    exit_code = 1

    def __init__(self, err: MbsiteError | str) -> None:
        super().__init__(str(err))


def _config(site: str, out: str | None = None, db: str | None = None, strict: bool | None = None) -> Any:
    from .config import load_config

    cfg = load_config(site)
    return cfg.with_options(out_dir=Path(out).resolve() if out else None, database_url=db,
                            strict=True if strict else None)


site_option = click.option("--site", default=".", show_default=True, type=click.Path(file_okay=False),
                           help="Site folder (holds mbsite.toml, content/, packages/, themes/).")
db_option = click.option("--db", "db", default=None, metavar="URL",
                         help="Database URL (default: MBSITE_DATABASE_URL, else SITE/.mbsite/mbsite.sqlite3).")


class MbsiteGroup(click.Group):
    """The command group. The one place the CLI maps errors: an MbsiteError from any command is printed as
    `location: message` with exit status 1 (CliError), never as a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MbsiteError as exc:
            raise CliError(exc) from exc


@click.group(cls=MbsiteGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mbsite")
def main() -> None:
    """mbsite: data-driven, multi-tenant static sites, rebuilt exactly when data or files change."""


@main.command()
@site_option
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Output folder (default: SITE/build).")
@db_option
@click.option("--full", is_flag=True, help="Render everything, ignoring the stored dependency graph.")
@click.option("--strict", is_flag=True, help="Treat every error as fatal: publish nothing if anything fails.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the build summary on stdout.")
@click.option("--workers", type=int, default=None, help="Render processes (default: one per core).")
@click.option("--allow-shrink", is_flag=True,
              help="Publish even when the site loses more than [build] max_shrink of its pages, or all of them.")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Render on this Dask scheduler, e.g. tcp://HOST:8786 (default: [build] cluster, MBSITE_CLUSTER).")
def build(site: str, out: str | None, db: str | None, full: bool, strict: bool, as_json: bool,
          workers: int | None, allow_shrink: bool, cluster: str | None) -> None:
    """Build every tenant's pages into the output folder (incremental unless --full)."""
    import gc

    # A one-shot build makes little cyclic garbage, and each automatic collection would walk every object
    # loaded so far (the modules, then the whole site model): a fifth of a second of a 4,000-page build.
    collecting = gc.isenabled()
    gc.disable()
    pre = dask = None
    try:
        from .prerender import start_prerender

        try:
            cfg = _config(site, out, db, strict)
        except MbsiteError as exc:
            _json_failure(as_json, exc)
            raise
        if workers is not None:
            cfg = cfg.with_options(workers=workers)
        if allow_shrink:
            cfg = cfg.with_options(allow_shrink=True)
        cfg = cfg.with_options(cluster=cluster)
        dask = _cluster(cfg, as_json)
        pre = start_prerender(cfg, full=full)  # before the heavy imports: the helper works while they load

        from .builder import Builder
        from .reporter import ConsoleReporter, JsonReporter

        reporter = JsonReporter() if as_json else ConsoleReporter()
        builder = Builder(cfg, reporter, full=full, prerender=pre, cluster=dask)
        pre = None  # the builder owns it now
        try:
            result = builder.run()
        except MbsiteError as exc:
            _json_failure(as_json, exc)
            raise CliError(exc) from exc
        finally:
            builder.close()
    finally:
        if pre is not None:
            pre.cancel()
        if dask is not None:
            dask.close()
        if collecting:
            gc.enable()
    _leave(0 if result.ok else 1)


def _cluster(cfg: Any, as_json: bool = False, *, watch: bool = False) -> Any:
    """The Dask cluster of --cluster / [build] cluster / MBSITE_CLUSTER, connected (None: render locally).
    For a build, an unreachable scheduler is an error before anything is built or published; the watch renders
    here while it is unreachable and tries it again for each large batch."""
    if not cfg.cluster:
        return None
    from .cluster import WATCH_BURST, Cluster

    if watch:
        return Cluster(cfg.cluster, min_routes=WATCH_BURST, fallback=True,
                       notify=lambda text: click.echo(f"watch: {text}", err=True))
    cluster = Cluster(cfg.cluster)
    try:
        cluster.connect()
    except MbsiteError as exc:
        _json_failure(as_json, exc)
        raise CliError(exc) from exc
    return cluster


def _json_failure(as_json: bool, err: MbsiteError | str) -> None:
    """With --json, a build that stops on an error still prints its summary (with the error) on stdout."""
    if not as_json:
        return
    from .errors import Problem
    from .reporter import problem_record

    problem = Problem.from_error(err) if isinstance(err, MbsiteError) else Problem("error", err, code="config")
    summary = {"pages": 0, "rendered": 0, "unchanged": 0, "removed": 0, "variants_written": 0,
               "variants_shared": 0, "warnings": 0, "errors": 1, "seconds": 0.0, "reasons": {}, "tenants": [],
               "problems": [problem_record(problem)]}
    sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
    sys.stdout.flush()


_FAST_EXIT = False  # set by the console script (run), never when the commands are called in-process (tests)


def _leave(code: int) -> None:
    """End a one-shot command. From the console script, once everything is written and flushed, the process
    ends without tearing down its objects one by one (a large build's model takes a tenth of a second to free)."""
    if _FAST_EXIT:
        import logging

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code:
        sys.exit(code)


@main.command()
@click.argument("tenant", required=False)
@click.argument("path", required=False)
@site_option
@db_option
@click.option("--level", type=click.IntRange(0, 5), default=0, show_default=True, help="Viewer level 0..5.")
@click.option("--component", "component", default=None, metavar="PKG:ID", help="Render one component instead of a page.")
@click.option("--packages", "packages_dir", default=None, type=click.Path(file_okay=False),
              help="Package folder for --component/--all (default: the site's packages, then the built-ins).")
@click.option("--props", default=None, metavar="JSON", help="Props for --component, as a JSON object.")
@click.option("--all", "render_all", is_flag=True, help="Render every component of every package (use with --json).")
@click.option("--json", "as_json", is_flag=True, help="With --all: one JSON object per component per line.")
def render(tenant: str | None, path: str | None, site: str, db: str | None, level: int, component: str | None,
           packages_dir: str | None, props: str | None, render_all: bool, as_json: bool) -> None:
    """Print one page (TENANT PATH), one component (--component PKG:ID) or all components (--all --json)."""
    cfg = _config(site, None, db)
    dirs = [Path(packages_dir)] if packages_dir else cfg.package_dirs()
    if render_all:
        from .gallery import render_all as gallery_all

        for item in gallery_all(dirs):
            click.echo(json.dumps(item, sort_keys=True) if as_json else f"{item['package']}:{item['component']}"
                       f" {'ok' if item['ok'] else 'error: ' + str(item['error'])}")
        return
    if component:
        from .gallery import render_one

        try:
            parsed = json.loads(props) if props else None
        except json.JSONDecodeError as exc:
            raise CliError(f"--props: invalid JSON: {exc.msg} (column {exc.colno})") from exc
        if parsed is not None and not isinstance(parsed, dict):
            raise CliError("--props must be a JSON object")
        result = render_one(dirs, component, parsed, level)
        for w in result.warnings:
            click.echo(f"warning: {w}", err=True)
        css = f"<style>{result.css}</style>\n" if result.css else ""
        click.echo(css + result.html)
        return
    if not tenant or not path:
        raise click.UsageError("give TENANT and PATH, or --component PKG:ID, or --all")
    from .pages import render_page
    from .routes import normalize_path
    from .site import load_model, open_site_db

    engine, _ = open_site_db(cfg)
    problems: list[Any] = []
    model = load_model(cfg, engine, problems)
    table = model.tables.get(tenant)
    if table is None:
        raise CliError(f"unknown tenant {tenant!r} (known: {', '.join(sorted(model.tables)) or 'none'})")
    route = table.routes.get(normalize_path(path))
    if route is None:
        raise CliError(f"tenant {tenant} has no page at {normalize_path(path)}")
    if level < route.min_level:
        raise CliError(f"{route.path} needs level {route.min_level}; rendering at level {level} is not allowed")
    page = render_page(model, route, level)
    for w in page.problems:
        click.echo(f"{w.severity}: {w}", err=True)
    click.echo(page.html)


@main.command()
@site_option
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Output folder to check links in.")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the problems as a JSON list on stdout.")
def check(site: str, out: str | None, db: str | None, as_json: bool) -> None:
    """Validate packages, content, seed and templates, then the built output's internal links; exit 1 on errors."""
    from .check import run_check

    cfg = _config(site, out, db)
    problems = run_check(cfg)
    if as_json:
        click.echo(json.dumps([{"severity": p.severity, "message": p.message, "location": str(p.location),
                                "code": p.code} for p in problems], indent=1))
    else:
        for p in problems:
            click.echo(f"{p.severity}: {p}", err=True)
        errors = sum(p.severity == "error" for p in problems)
        click.echo(f"{errors} errors, {len(problems) - errors} warnings", err=True)
    if any(p.severity == "error" for p in problems):
        sys.exit(1)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
def init(directory: str, force: bool) -> None:
    """Scaffold a new site in DIRECTORY (content, packages, themes, schemas, mbsite.toml)."""
    from .scaffold import scaffold

    password = scaffold(Path(directory), force=force)
    click.echo(f"Created a site in {directory}.\nSign-in for the generated admin: admin / {password}\n"
               f"(shown only now: content/seed/site.yaml holds its argon2 hash; to choose another, replace the\n"
               f" password_hash line with `password: NEW` before the first build)\n"
               f"Next: cd {directory} && mbsite build")


@main.command()
@site_option
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Output folder (default: SITE/build).")
@db_option
@click.option("--no-initial", is_flag=True, help="Do not build what is stale before waiting for changes.")
@click.option("--allow-shrink", is_flag=True,
              help="Publish even when the site loses more than [build] max_shrink of its pages, or all of them.")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Render large batches on this Dask scheduler (default: [build] cluster, MBSITE_CLUSTER).")
def watch(site: str, out: str | None, db: str | None, no_initial: bool, allow_shrink: bool,
          cluster: str | None) -> None:
    """Rebuild on every file change, change-feed row and due revalidation until SIGINT/SIGTERM.
    On PostgreSQL one watch per database is active; others stand by and take over if it dies."""
    from .reporter import ConsoleReporter
    from .watch import Batch, Watcher

    cfg = _config(site, out, db).with_options(allow_shrink=allow_shrink or None, cluster=cluster)
    reporter = ConsoleReporter(quiet=True)

    def report(batch: Batch) -> None:
        if batch.result is not None:
            s = batch.result.summary
            why = ", ".join(f"{k} {v}" for k, v in sorted(s["reasons"].items())) or "nothing stale"
            click.echo(f"[{'+'.join(sorted(batch.causes))}] rendered {s['rendered']}, removed {s['removed']} "
                       f"({why}) in {batch.seconds * 1000:.0f} ms", err=True)

    def role(text: str) -> None:
        click.echo(f"watch: {text}", err=True)

    dask = _cluster(cfg, watch=True)
    try:
        watcher = Watcher(cfg, reporter, on_batch=report, cluster=dask, single_active=True, on_role=role)
        watcher.install_signal_handlers()
        click.echo(f"watching {', '.join(str(p) for p in watcher.watched_paths())} and the change feed", err=True)
        watcher.run(initial_build=not no_initial)
    finally:
        if dask is not None:
            dask.close()
    if watcher.lost_lock:
        raise CliError("stopped: lost the watch lock; restart to stand by")
    click.echo("stopped", err=True)


@main.command()
@site_option
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Output folder (default: SITE/build).")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--open", "open_browser", is_flag=True, help="Open the landing page in the default browser.")
@click.option("--no-watch", is_flag=True, help="Build once and serve; do not rebuild on changes.")
@click.option("--allow-shrink", is_flag=True,
              help="Publish even when the site loses more than [build] max_shrink of its pages, or all of them.")
def serve(site: str, out: str | None, db: str | None, host: str, port: int, open_browser: bool,
          no_watch: bool, allow_shrink: bool) -> None:
    """Live preview: every tenant, the functions and the gate; open pages update after each rebuild."""
    from .preview import Preview, PreviewReporter, Published, describe

    cfg = _config(site, out, db).with_options(allow_shrink=allow_shrink or None)

    def report(p: Published) -> None:
        click.echo(describe(p, cfg.site_dir), err=True)

    preview = Preview(cfg, PreviewReporter(), watch=not no_watch, on_published=report)
    preview.start()
    urls = preview.urls(host, port)
    click.echo("serving " + "\n        ".join(urls), err=True)
    click.echo("watching files and the change feed; Ctrl+C stops" if not no_watch else "not watching (--no-watch)",
               err=True)
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(urls[0],)).start()
    try:
        preview.server(host, port).run()
    finally:
        preview.stop()


@main.command()
@click.argument("tenant")
@click.argument("path")
@site_option
@db_option
@click.option("--level", type=click.IntRange(0, 5), default=None, help="Only this level's variant.")
@click.option("--json", "as_json", is_flag=True, help="Print the stored outputs as JSON.")
def why(tenant: str, path: str, site: str, db: str | None, level: int | None, as_json: bool) -> None:
    """Explain what a page depends on, why it was last rendered, and whether the next build would render it."""
    from .explain import explain

    cfg = _config(site, None, db)
    report = explain(cfg, tenant, path, level)
    click.echo(json.dumps(report, indent=1, sort_keys=True) if as_json else report["text"])
    if not report["exists"]:
        sys.exit(1)  # like render: a page that does not exist is an error, whatever was stored for it


@main.command()
@click.argument("tenant", required=False)
@click.argument("path", required=False)
@site_option
@db_option
@click.option("--tag", default=None, help="Revalidate every output carrying this tag (e.g. entity:shop.product).")
@click.option("--build", "run_build", is_flag=True, help="Run an incremental build right away.")
def revalidate(tenant: str | None, path: str | None, site: str, db: str | None, tag: str | None,
               run_build: bool) -> None:
    """Queue an on-demand revalidation of TENANT PATH, or of every output with --tag (any tenant unless given)."""
    from .builder import Builder
    from .explain import check_revalidation, queue_revalidation
    from .reporter import ConsoleReporter
    from .site import open_site_db

    if not tag and not (tenant and path):
        raise click.UsageError("give TENANT PATH, or --tag TAG [TENANT]")
    cfg = _config(site, None, db)
    engine, _ = open_site_db(cfg)
    check_revalidation(cfg, engine, tenant, path, tag)
    queue_revalidation(engine, tenant, path, tag)
    click.echo("queued" + ("" if run_build else "; the next build or the running watch loop renders it"),
               err=True)
    if run_build:
        result = Builder(cfg, ConsoleReporter(), engine=engine).run()
        if not result.ok:
            sys.exit(1)


_EXPORT_FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


@main.command("export")
@click.argument("tenant")
@site_option
@db_option
@click.option("-o", "--output", default=None, type=click.Path(), metavar="FILE",
              help="Write here (.yaml/.yml, .json, or a folder in the seed format); default: YAML on stdout.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json", "seed"]), default=None,
              help="Document format (default: from the file's extension; a name without one is a seed folder).")
@click.option("--with-media", is_flag=True, help="Include the media files' bytes (base64), not only their metadata.")
def export_cmd(tenant: str, site: str, db: str | None, output: str | None, fmt: str | None, with_media: bool) -> None:
    """Write one tenant (users with password hashes, packages, pages, data, records, media) as one document."""
    from .site import open_site_db
    from .transfer import dump_document, export_tenant, write_document

    cfg = _config(site, None, db)
    if fmt is None:
        fmt = "yaml" if output is None else _EXPORT_FORMATS.get(Path(output).suffix.lower(), "seed")
    if fmt == "seed" and output is None:
        raise click.UsageError("--format seed writes a folder: give it with -o DIR")
    engine = None
    try:
        engine, _ = open_site_db(cfg)
        doc = export_tenant(engine, tenant, media_dir=cfg.media_dir, with_media=with_media)
        if output is None:
            sys.stdout.write(dump_document(doc, fmt))
            sys.stdout.flush()
        else:
            write_document(doc, Path(output), fmt)
            click.echo(f"exported {tenant}: " + ", ".join(f"{len(doc[k])} {k.replace('_', ' ')}" for k in doc
                                                          if isinstance(doc[k], list)) + f" → {output}", err=True)
    finally:
        if engine is not None:
            engine.dispose()


@main.command("import")
@click.argument("file", metavar="FILE")
@site_option
@db_option
@click.option("--as", "as_slug", default=None, metavar="SLUG", help="Import under this tenant slug (a copy).")
@click.option("--replace", is_flag=True, help="Replace the tenant's rows when it exists already.")
def import_cmd(file: str, site: str, db: str | None, as_slug: str | None, replace: bool) -> None:
    """Load an export (file, seed folder, or - for stdin) in one transaction: all of it, or nothing."""
    from .site import open_site_db
    from .transfer import import_tenant, read_document

    cfg = _config(site, None, db)
    engine = None
    try:
        doc = read_document(file, stdin=sys.stdin.buffer.read() if file == "-" else None, root=cfg.site_dir)
        engine, _ = open_site_db(cfg)
        result = import_tenant(engine, doc, as_slug=as_slug, replace=replace, media_dir=cfg.media_dir)
    finally:
        if engine is not None:
            engine.dispose()
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result.counts.items())
    click.echo(f"{'replaced' if result.replaced else 'imported'} tenant {result.slug}: {counts}; "
               "the next build renders it", err=True)


@main.group()
def db() -> None:
    """Database: create, upgrade and seed the schema."""


@db.command("init")
@site_option
@db_option
def db_init(site: str, db: str | None) -> None:
    """Create the schema and triggers, then load the YAML seed (idempotent)."""
    from .db.engine import ensure_schema, open_engine, resolve_url
    from .db.seed import load_seed

    cfg = _config(site, None, db)
    engine = open_engine(resolve_url(cfg.site_dir, cfg.database_url))
    try:
        ensure_schema(engine)
        n = load_seed(engine, cfg.content_dir, cfg.site_dir)
    finally:
        engine.dispose()
    click.echo(f"schema ready; {n} seed records checked")


@db.command("upgrade")
@site_option
@db_option
def db_upgrade(site: str, db: str | None) -> None:
    """Bring the schema and change-feed triggers up to date (safe to run repeatedly)."""
    from .db.engine import SCHEMA_VERSION, ensure_schema, open_engine, resolve_url

    cfg = _config(site, None, db)
    engine = open_engine(resolve_url(cfg.site_dir, cfg.database_url))
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()
    click.echo(f"schema at version {SCHEMA_VERSION}")


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@site_option
@db_option
def db_backup(file: str, site: str, db: str | None) -> None:
    """Write a consistent snapshot of the whole database and the media store to FILE (a tar; .tar.gz compresses)."""
    from .db.backup import backup
    from .db.engine import resolve_url

    cfg = _config(site, None, db)
    result = backup(resolve_url(cfg.site_dir, cfg.database_url), cfg.media_dir, Path(file))
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"backup written to {file}: schema version {result.schema_version}, "
               f"{sum(result.tables.values())} rows, {result.media_files} media files", err=True)


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@site_option
@db_option
def db_restore(file: str, site: str, db: str | None) -> None:
    """Replace the database and the media store with a backup's, after checking all of it (nothing half-done)."""
    from .db.backup import restore
    from .db.engine import resolve_url

    cfg = _config(site, None, db)
    result = restore(resolve_url(cfg.site_dir, cfg.database_url), cfg.media_dir, Path(file))
    click.echo(f"restored {file}: {sum(result.tables.values())} rows, {result.media_files} media files; "
               "the next build brings the output folder up to date", err=True)


def run() -> None:
    """The `mbsite` console script."""
    global _FAST_EXIT
    _FAST_EXIT = True
    main()


if __name__ == "__main__":  # pragma: no cover
    run()
