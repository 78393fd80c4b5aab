"""`monitor`: the analysis commands of `monitor.cli`, plus the service's: serve, db, admin, worker.

The service's commands live here, not in `monitor/`, so that the analysis core never imports the
service (`monitor` stays a library and a CLI without a database)."""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli import _guarded, app, err, faces_for_demo, out, print_report
from monitor.cli import demo as offline_demo

# `monitor demo` becomes the service demo; the library-only one stays as `monitor demo --offline`.
app.registered_commands[:] = [c for c in app.registered_commands if c.callback is not offline_demo]

db_app = typer.Typer(no_args_is_help=True, help="The database schema (Alembic migrations).")
admin_app = typer.Typer(no_args_is_help=True, help="Organisations and API keys.")
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")


def _settings():  # type: ignore[no-untyped-def]
    from api.core.settings import ServiceSettings

    return ServiceSettings()


def _friendly_database_errors(work):  # type: ignore[no-untyped-def]
    """A database that cannot be reached is one clear line, not a driver's traceback."""

    def run() -> None:
        from sqlalchemy.exc import OperationalError

        from api.core.problems import Problem
        from monitor.errors import MonitorError

        try:
            work()
        except OperationalError as exc:
            raise MonitorError(f"the database cannot be used: {str(exc.orig).splitlines()[0] if exc.orig else exc}") from None
        except Problem as exc:
            raise MonitorError(exc.detail) from None

    return run


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Make or bring the schema up to date (SQLite file by default; DATABASE_URL for PostgreSQL)."""

    def work() -> None:
        from models.migrate import upgrade

        settings = _settings()
        upgrade(settings.db_url, revision)
        err.print(f"database at {revision}: {_safe_url(settings.db_url)}")

    _guarded(_friendly_database_errors(work))


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision (base: empty).")]) -> None:
    """Step the schema back to a revision."""

    def work() -> None:
        from models.migrate import downgrade

        downgrade(_settings().db_url, revision)

    _guarded(_friendly_database_errors(work))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@admin_app.command("create-org")
def create_org(name: str, kind: Annotated[str, typer.Option(help="institution, platform, inspectorate or admin")],
               jurisdiction: Annotated[str | None, typer.Option(help="whose rules judge it (zhengzhou, sanmenxia, demo); "
                                                                     "default: the service's default_jurisdiction")] = None) -> None:
    """Register an organisation (a platform must be registered before it can report, B0)."""

    def work() -> None:
        from api.store.keys import create_organisation
        from api.core.service import Service

        service = Service.from_settings(_settings())
        with service.session() as db:
            organisation = create_organisation(db, name, kind, by="cli", jurisdiction=jurisdiction)
        out.print(organisation.id, markup=False, highlight=False)

    _guarded(_friendly_database_errors(work))


@admin_app.command("create-key")
def create_key_command(organisation: Annotated[str, typer.Argument(help="Organisation id or name.")],
                       person: Annotated[str, typer.Option(help="Whose key: decisions and uploads are recorded under this name.")],
                       expires: Annotated[str | None, typer.Option(help="Refused after this instant, ISO 8601 with an offset "
                                                                        "(2027-01-01T00:00:00+08:00); default: no expiry.")] = None) -> None:
    """Make an API key; it is printed this once (only its hash is kept)."""

    def work() -> None:
        from api.store.keys import create_key, find_organisation
        from api.core.service import Service
        from monitor.errors import MonitorError

        service = Service.from_settings(_settings())
        with service.session() as db:
            found = find_organisation(db, organisation)
            if found is None:
                raise MonitorError(f"no organisation {organisation!r}")
            key, secret = create_key(db, found, person, by="cli", expires_at=_instant(expires) if expires else None)
        err.print(f"key {key.id} for {person} ({key.role} of {found.name})"
                  + (f", expires {key.expires_at.isoformat()}" if key.expires_at else "") + "; shown once:")
        out.print(secret, markup=False, highlight=False)

    _guarded(_friendly_database_errors(work))


def _instant(text: str):  # type: ignore[no-untyped-def]
    """An ISO 8601 instant with its offset; a naive one is refused (whose midnight would it be?)."""
    from datetime import datetime

    from monitor.errors import MonitorError

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise MonitorError(f"--expires: {text!r} is not an ISO 8601 date and time") from None
    if value.tzinfo is None:
        raise MonitorError("--expires: give an offset (e.g. 2027-01-01T00:00:00+08:00)")
    return value


@admin_app.command("revoke-key")
def revoke_key_command(key_id: Annotated[str, typer.Argument(help="The key's id (`tm_<id>_…`: the part after tm_), "
                                                                  "as `monitor admin list` shows it.")]) -> None:
    """Revoke a key at once, in every API process; its pages sessions end. Cannot be undone."""

    def work() -> None:
        from api.store.keys import revoke_key
        from api.core.service import Service
        from models.tables import ApiKey
        from monitor.errors import MonitorError

        service = Service.from_settings(_settings())
        with service.session() as db:
            key = db.get(ApiKey, key_id.removeprefix("tm_").split("_")[0])
            if key is None:
                raise MonitorError(f"no key {key_id!r}")
            revoke_key(db, key, by="cli")
        err.print(f"key {key.id} of {key.person} revoked")

    _guarded(_friendly_database_errors(work))


@admin_app.command("list")
def list_orgs() -> None:
    """Organisations and their keys (ids only)."""

    def work() -> None:
        from sqlmodel import select

        from api.core.service import Service
        from models.tables import ApiKey, Organisation

        service = Service.from_settings(_settings())
        with service.session() as db:
            for o in db.exec(select(Organisation).order_by(Organisation.name)).all():
                keys = db.exec(select(ApiKey).where(ApiKey.organisation_id == o.id)).all()
                out.print(f"{o.id}  {o.kind:<12} {o.name}  keys: "
                          + (", ".join(f"{k.id} ({k.person}{', revoked' if k.revoked_at else ''}"
                                     f"{', expires ' + k.expires_at.isoformat() if k.expires_at else ''})" for k in keys) or "—"),
                          markup=False, highlight=False)

    _guarded(_friendly_database_errors(work))


@admin_app.command("retention")
def retention_command() -> None:
    """Delete the face images past their jurisdiction's retention period (profile parameter
    image_retention_days), keeping their hashes and the verdicts; images of undecided flags are
    held. Audited. Run it daily (cron, a systemd timer)."""

    def work() -> None:
        from api.core.service import Service
        from api.jobs.retention import enforce_retention

        deleted, held = enforce_retention(Service.from_settings(_settings()))
        out.print(f"deleted {deleted} images past retention; {held} held for undecided flags", markup=False, highlight=False)

    _guarded(_friendly_database_errors(work))


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port.")] = 8000) -> None:
    """Run the service (migrating the database first); the in-process worker runs inside it
    unless MONITOR_QUEUE=celery."""

    def work() -> None:
        import uvicorn

        from api.main import create_app
        from models.migrate import upgrade

        settings = _settings()
        upgrade(settings.db_url)
        err.print(f"serving on http://{host}:{port} (docs at /docs); data in {settings.data_dir}")
        # proxy_headers off: forwarded headers are believed only from MONITOR_TRUSTED_PROXIES (create_app).
        service_app = create_app(settings)
        # What start-up built (modules, the app, the schema) lives as long as the process: frozen out
        # of the cyclic collector's passes, which otherwise walk it each time a batch's thousands of
        # dicts trigger one (xAPI batches: about a tenth less server CPU per statement, bench/xapi.py).
        gc.collect()
        gc.freeze()
        uvicorn.run(service_app, host=host, port=port, log_level="warning", timeout_keep_alive=30,
                    proxy_headers=False)

    _guarded(_friendly_database_errors(work))


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Where the sample class, the sample day and the service's data go.")] = Path("sample_videos/out"),
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    offline: Annotated[bool, typer.Option("--offline", help="Judge the samples with the library only: no server, no database.")] = False,
    keep_serving: Annotated[bool, typer.Option("--serve/--no-serve", help="Keep serving after loading (Ctrl+C stops).")] = True,
    faces: Annotated[Path | None, typer.Option(
        "--faces", help="A folder of real faces (person/photo.jpg) for the class's roster photos and the trainees in the "
                        "room (default: ../shared/data/faces beside the checkout, where present).")] = None,
) -> None:
    """Start the service on the embedded default (SQLite, in-process worker, local files), load the
    sample class (one tampered hour; with real faces, a roster with photos) and a platform's sample
    day through the HTTP API, print the verdicts and where to look."""
    if offline:
        offline_demo(out_dir, faces)
        return
    folder = faces_for_demo(faces)

    def work() -> None:
        from rich.progress import Progress

        from api.demo import BackgroundServer, load_demo, prepare
        from monitor.footage.report import ClassReport

        settings = prepare(out_dir.resolve() / "service")
        server = BackgroundServer(settings, "127.0.0.1", port)
        server.start()
        try:
            with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
                task = progress.add_task("loading", total=1.0)
                result = load_demo(server, out_dir.resolve(),
                                   lambda stage, done: progress.update(task, description=stage, completed=done), folder)
            judged_by = result.report.pop("judged_by", {})
            print_report(ClassReport.model_validate(result.report))
            out.print(f"judged by: jurisdiction {judged_by.get('jurisdiction')}, profile {judged_by.get('profile')} "
                      f"in force from {judged_by.get('in_force_from')}; online face checks off in the demo "
                      "(the sample day has no face pictures)", markup=False)
            if result.period is not None:
                h, absent = result.period["headcount"], [t["trainee"] for t in result.period["attendance"] if t["hours_absent"]]
                out.print(f"attendance: roster {h['roster']}, present at the opening {h['opening']}, subsidisable headcount "
                          f"{h['subsidisable']}; absent from some hours: {', '.join(absent) or 'nobody'}", markup=False)
            sessions = ", ".join(f"{n} {verdict}" for verdict, n in sorted(result.sessions.items()))
            out.print(f"\nlearner sessions of the sample day: {sum(result.sessions.values())} ({sessions})", markup=False)
            out.print(f"flags waiting for an inspector: {result.flags}", markup=False)
            out.print(f"\npages: {result.url}/ui/   API docs: {result.url}/docs   data: {settings.data_dir}", markup=False)
            out.print(f"inspector key (shown once; sign in with it): {result.keys['inspector']}", markup=False, highlight=False)
            out.print(f"institution key (shown once): {result.keys['institution']}", markup=False, highlight=False)
            if keep_serving:
                err.print("serving; Ctrl+C stops")
                while True:
                    time.sleep(3600)
        finally:
            server.stop()

    _guarded(_friendly_database_errors(work))


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
