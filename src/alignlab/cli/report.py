"""``alignlab report`` (rebuild a run's report.html) and ``alignlab compare`` (a leaderboard across runs)."""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._errors import friendly_errors


def register(app: typer.Typer) -> None:
    @app.command("report")
    @friendly_errors
    def report_cmd(
        run: Path = typer.Argument(..., help="Run directory written by `alignlab eval`."),
        open_: bool = typer.Option(False, "--open", help="Open the report in a web browser."),
    ) -> None:
        """Rebuild RUN/report.html from its results.json, samples and config.yaml (no model calls)."""
        from alignlab.report import build_report

        out = build_report(run)
        print(out)
        if open_:
            import webbrowser

            webbrowser.open(out.resolve().as_uri())

    @app.command("compare")
    @friendly_errors
    def compare_cmd(
        runs: list[Path] = typer.Argument(..., help="Run directories to compare."),
        fmt: str = typer.Option("markdown", "--format", "-f", help="html, markdown or csv."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Write to FILE instead of standard output."),
    ) -> None:
        """A leaderboard across runs: level scores and each suite's primary metric with 95% CIs; * marks a
        significant difference from the column's best (z-test on the standard errors, p < 0.05)."""
        from alignlab.atomic import write_text_atomic
        from alignlab.report import leaderboard

        warnings: list[str] = []
        text = leaderboard(runs, fmt.lower(), warnings)
        for w in warnings:  # on stderr too, so a csv or a file written with --out does not hide them
            typer.echo(f"warning: {w}", err=True)
        if out is None:
            typer.echo(text, nl=False)
        else:
            write_text_atomic(out, text)
            print(out)
