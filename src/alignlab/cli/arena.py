"""``alignlab arena``: serve the human-evaluation arena, import runs, invite annotators, export votes."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from alignlab.cli._errors import friendly_errors

arena_app = typer.Typer(no_args_is_help=True, help="Human evaluation: blind battles, ratings, leaderboard, export.")

DB_HELP = "Database URL (sqlite:///PATH or postgresql://USER@HOST/DB) or a path to a SQLite file."
DbOption = typer.Option("sqlite:///arena.db", "--db", envvar="ALIGNLAB_ARENA_DB", help=DB_HELP)


class ExportFormat(StrEnum):
    preference = "preference"


class Ties(StrEnum):
    drop = "drop"
    both = "both"


def _engine(db: str):  # noqa: ANN202 - a SQLAlchemy Engine
    from alignlab.arena import make_engine, migrate

    engine = make_engine(db)
    migrate(engine)
    return engine


@arena_app.command("serve")
@friendly_errors
def serve(
    db: str = DbOption,
    host: str = typer.Option("127.0.0.1", help="Address to listen on (keep 127.0.0.1 behind a reverse proxy)."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes (use PostgreSQL for more than a few)."),
    admin_token: str | None = typer.Option(None, envvar="ALIGNLAB_ARENA_ADMIN_TOKEN",
                                           help="Token for /admin and /admin/export (prefer the env variable)."),
    rate: float = typer.Option(1.0, min=0.0, help="Votes per second an annotator may sustain (0: no limit)."),
    burst: int = typer.Option(30, min=1, help="Votes an annotator may make in a quick burst."),
    login_rate: float = typer.Option(0.1, min=0.0, help="Sign-in attempts per second per client address, and "
                                     "failed ones per token (0: no limit)."),
    login_burst: int = typer.Option(10, min=1, help="Sign-in attempts allowed in a quick burst."),
    principle: list[str] = typer.Option([], "--principle", help="A rubric or principle for rating mode "
                                        "(repeatable; default: helpful, harmless, honest)."),
    overlap: float = typer.Option(0.2, min=0.0, max=1.0, help="Chance a battle repeats another annotator's item."),
    secure_cookies: bool = typer.Option(False, help="Send the session cookie over HTTPS only."),
    proxy_headers: bool = typer.Option(False, help="Trust X-Forwarded-* from the proxy at 127.0.0.1."),
) -> None:
    """Serve the arena (migrates the database first)."""
    import os

    import uvicorn

    from alignlab.arena import secret
    from alignlab.arena.app import DEFAULT_PRINCIPLES, Settings

    engine = _engine(db)
    secret(engine)  # created here, once, rather than raced for by the workers
    engine.dispose()
    settings = Settings(db=db, admin_token=admin_token, rate=rate, burst=burst, login_rate=login_rate,
                        login_burst=login_burst,
                        principles=tuple(principle) or DEFAULT_PRINCIPLES, overlap=overlap,
                        secure_cookies=secure_cookies)
    os.environ.update(settings.to_env())  # workers build their app from these (uvicorn --factory)
    uvicorn.run("alignlab.arena.app:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=proxy_headers, log_level="warning")


@arena_app.command("import")
@friendly_errors
def import_(
    runs: list[str] = typer.Argument(..., help="Run directories, or NAME=DIR to name the model."),
    db: str = DbOption,
) -> None:
    """Import evaluation runs' free-text outputs as prompts × models (idempotent)."""
    from alignlab.arena import import_runs, parse_run_arg

    pairs = [parse_run_arg(r) for r in runs]
    report = import_runs(_engine(db), pairs)
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(report.skipped.items())) or "none"
    typer.echo(f"models: {', '.join(sorted({m for m, _ in pairs}))}; new prompts: {report.prompts}; "
               f"new responses: {report.responses}; already there: {report.unchanged}; skipped: {skipped}")


@arena_app.command("import-verdicts")
@friendly_errors
def import_verdicts_(
    path: Path = typer.Argument(..., help="JSONL of {prompt, model_a, model_b, winner} from a judge or reward model."),
    source: str = typer.Option(..., help="Name of the judge or reward model (e.g. judge:gpt-4o)."),
    db: str = DbOption,
) -> None:
    """Import pairwise verdicts of a judge or reward model, for judge–human agreement."""
    from alignlab.arena import import_verdicts

    typer.echo(f"new verdicts from {source}: {import_verdicts(_engine(db), path, source)}")


@arena_app.command("invite")
@friendly_errors
def invite(names: list[str] = typer.Argument(..., help="Annotator names."), db: str = DbOption) -> None:
    """Create annotators and print their invite tokens (shown once; only a hash is stored)."""
    from alignlab.arena import add_annotator

    engine = _engine(db)
    for name in names:
        typer.echo(f"{name}\t{add_annotator(engine, name)}")


@arena_app.command("revoke")
@friendly_errors
def revoke(names: list[str] = typer.Argument(..., help="Annotator names."), db: str = DbOption) -> None:
    """Take annotators' access away now: their token stops signing in and their open sessions end (a running
    server refuses them on the next request). Their votes stay."""
    from alignlab.arena import revoke_annotator

    engine = _engine(db)
    for name in names:
        typer.echo(f"{name}: revoked ({revoke_annotator(engine, name)} open sessions ended)")


@arena_app.command("export")
@friendly_errors
def export(
    db: str = DbOption,
    format: ExportFormat = typer.Option(ExportFormat.preference, "--format", help="Output format."),  # noqa: A002
    out: Path = typer.Option(Path("arena-preferences.jsonl"), "--out", "-o", help="Output JSONL file."),
    ties: Ties = typer.Option(Ties.drop, help="drop ties, or write each tie both ways with margin 0. "
                              "'Both bad' votes are always dropped."),
) -> None:
    """Write votes as prompt/chosen/rejected pairs that `alignlab align dpo|reward` read."""
    from alignlab.arena import export_preferences

    n = export_preferences(_engine(db), out, ties.value)
    typer.echo(f"wrote {n} preference pairs to {out}")


@arena_app.command("stats")
@friendly_errors
def stats(db: str = DbOption, bootstrap: int = typer.Option(1000, min=0, help="Bootstrap rounds.")) -> None:
    """Print the leaderboard, agreement and judge–human agreement as JSON."""
    from dataclasses import asdict

    from alignlab.arena import arena_stats

    s = arena_stats(_engine(db), bootstrap=bootstrap)
    typer.echo(json.dumps({"n_votes": s.n_votes, "n_counted": s.n_counted, "outcomes": s.outcomes,
                           "leaderboard": s.leaderboard.to_dict() if s.leaderboard else None,
                           "agreement": asdict(s.agreement), "sources": [asdict(x) for x in s.sources],
                           "ratings": s.ratings, "rating_alpha": s.rating_alpha}, indent=2))


@arena_app.command("migrate")
@friendly_errors
def migrate_(db: str = DbOption) -> None:
    """Create or upgrade the arena's tables (serve and import do this too)."""
    _engine(db).dispose()
    typer.echo("database at the latest schema")
