"""``alignlab goal run`` (the closed loop) and ``alignlab goal show`` (the resolved goal)."""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._data_dir import data_dir_option, use_data_dir
from alignlab.cli._errors import friendly_errors
from alignlab.cli._output import print_table

goal_app = typer.Typer(no_args_is_help=True, help="Run a goal: build data, align, evaluate before and after.")


def _load(path: Path, model: str | None, critic: str | None):  # noqa: ANN202 - a Goal
    from alignlab.goals import load_goal

    goal = load_goal(path)
    updates = {k: v for k, v in (("model", model), ("critic", critic)) if v is not None}
    if updates:
        # model_copy keeps the private source path (for error messages), unlike a re-validation.
        goal = goal.model_copy(update=updates)
    return goal


def default_out(goal, limit: int | None) -> Path:  # noqa: ANN001 - a Goal
    """``runs/goal-<name>-<hash>``: the same goal and options resume the same run directory."""
    return Path("runs") / f"goal-{goal.name}-{goal.digest(limit)}"


@goal_app.command("run")
@friendly_errors
def run_cmd(
    goal_file: Path = typer.Argument(..., help="Goal YAML file (see examples/goals/)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run directory (default: runs/goal-<name>-<hash>; "
                                    "the same command resumes it)."),
    model: str | None = typer.Option(None, "--model", "-m", help="Override the goal's model spec."),
    critic: str | None = typer.Option(None, "--critic", help="Override the goal's critic model spec."),
    limit: int | None = typer.Option(None, "--limit", "-n", min=1, help="Cap every evaluation suite and the "
                                     "training set at N items (a quick try of the whole loop)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
    data_dir: Path | None = data_dir_option(),
) -> None:
    """Build the goal's data, evaluate the model, align it, evaluate it again and report the deltas."""
    use_data_dir(data_dir)
    from alignlab.goals import run_goal

    goal = _load(goal_file, model, critic)
    out_dir = out or default_out(goal, limit)
    result = run_goal(goal, out_dir, progress=not quiet, limit=limit)
    _print(result)


@goal_app.command("show")
@friendly_errors
def show_cmd(
    goal_file: Path = typer.Argument(..., help="Goal YAML file."),
    model: str | None = typer.Option(None, "--model", "-m", help="Override the goal's model spec."),
    critic: str | None = typer.Option(None, "--critic", help="Override the goal's critic model spec."),
) -> None:
    """Print the goal with defaults filled in and paths resolved (what `goal run` would use), after the checks
    `goal run` makes before it starts (suite names, trainer fields)."""
    import yaml

    from alignlab.goals import check_goal

    goal = _load(goal_file, model, critic)
    check_goal(goal)
    typer.echo(yaml.safe_dump(goal.resolved(), sort_keys=False, allow_unicode=True), nl=False)


def _print(result) -> None:  # noqa: ANN001 - a GoalResult
    from rich.console import Console
    from rich.table import Table

    table = Table("suite", title=f"goal {result.summary['goal']['name']}: before → after")
    for col in ("metric", "before", "after", "Δ [95% CI]", "CI method"):
        table.add_column(col, overflow="fold")
    for name, s in result.summary["suites"].items():
        metric = s.get("primary_metric")
        m = s["metrics"].get(metric or "")
        if not m:
            continue
        d = m["delta"]
        lo, hi = (list(d.get("ci") or []) + [None, None])[:2]
        ci = "" if lo is None else f" [{lo:+.3f}, {hi:+.3f}]"
        fmt = lambda x: "—" if x is None else f"{x:.3f}"  # noqa: E731
        table.add_row(name, metric, fmt(m["before"]["value"]), fmt(m["after"]["value"]),
                      ("—" if d.get("value") is None else f"{d['value']:+.3f}") + ci, d.get("method") or "—")
    console = Console()
    print_table(table, console)
    if result.skipped:
        console.print(f"skipped (done before): {', '.join(result.skipped)}")
    console.print(f"summary: {result.summary_path}\nreport: {result.report_path}", soft_wrap=True)
