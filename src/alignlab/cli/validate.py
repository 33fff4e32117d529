"""``alignlab validate known-groups``: does a value survey see a stated value priority in this model?"""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.assignments import parse_assignments
from alignlab.cli._data_dir import data_dir_option, use_data_dir
from alignlab.cli._errors import friendly_errors

validate_app = typer.Typer(no_args_is_help=True, help="Check that an instrument measures what it claims on a model.")


@validate_app.command("known-groups")
@friendly_errors
def known_groups_cmd(
    model: str = typer.Option("default", "--model", "-m", help="Model spec (a chat model: personas are system "
                              "prompts)."),
    suite: str = typer.Option("values/schwartz", "--suite", "-s", help="A value survey with optional arguments: "
                              "values/schwartz, values/moral-foundations or values/survey:items=FILE,system=..., "
                              "e.g. values/schwartz:paraphrases=false,personas=my.yaml."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run directory (default: runs/<model>-<hash>; the "
                                    "same command resumes it)."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Samples per model call."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Bypass the response cache."),
    cache_path: Path | None = typer.Option(None, "--cache", help="Cache file (default: under $ALIGNLAB_HOME)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    model_arg: list[str] = typer.Option(None, "--model-arg", help="Backend option KEY=VALUE (repeatable)."),
    data_dir: Path | None = data_dir_option(),
) -> None:
    """Ask the survey under a neutral prompt and under personas that state a value priority; report, per persona,
    the shift of its values with a 95% CI and whether the survey detected it. The same run as
    `alignlab eval --suite SUITE:known_groups=true`, whose results and report carry the verdict."""
    use_data_dir(data_dir)
    from rich.console import Console

    from alignlab.evaluate import build_suite, default_out, parse_suite_spec, run_eval
    from alignlab.models import load_model

    name, params = parse_suite_spec(suite)
    params["known_groups"] = True
    built = build_suite(name, **params)
    spec = f"{name}:" + ",".join(f"{k}={v}" for k, v in params.items())
    out_dir = out or default_out(model, [spec], None, None)
    options = parse_assignments(model_arg or [], "--model-arg")
    console = Console(stderr=True)
    with load_model(model, cache=False if no_cache else (cache_path or True), **options) as m:
        console.print(f"[bold]alignlab validate known-groups[/] model={model} suite={spec} out={out_dir}",
                      soft_wrap=True)
        results = run_eval(m, [built], out_dir, batch_size=batch_size, show_progress=not quiet,
                           config_extra={"batch_size": batch_size, "plan": None})
    print_known_groups(results["suites"][name]["metrics"], out_dir)


def print_known_groups(metrics: dict, out_dir: Path) -> None:
    """One row per persona: the values it puts first, their shift [95% CI] and the verdict; then the overall one."""
    from rich.console import Console
    from rich.table import Table

    table = Table("persona", title="known-groups validity: shift of the persona's values from the neutral prompt "
                  "(ipsatised scale points)")
    for col in ("values it puts first", "shift [95% CI]", "verdict"):
        table.add_column(col, overflow="fold")
    personas = [k.split("/")[1] for k in metrics if k.count("/") == 1 and k.startswith("known_groups/")
                and k != "known_groups/detected"]
    for p in personas:
        e = metrics[f"known_groups/{p}"]
        lo, hi = e.get("ci") or [None, None]
        shift = "—" if e.get("value") is None else f"{e['value']:+.3f}" + (
            "" if lo is None else f" [{lo:+.3f}, {hi:+.3f}]")
        colour = {"detected": "green", "opposite": "red"}.get(e.get("verdict", ""), "yellow")
        table.add_row(p, ", ".join(e.get("values", [])), shift, f"[{colour}]{e.get('verdict', '—')}[/]")
    console = Console()
    console.print(table)
    det = metrics.get("known_groups/detected") or {}
    if det.get("value") == 1:
        console.print(f"every stated priority was detected ({det['n']} of {det['n']}): the survey's profile of this "
                      "model is interpretable.", soft_wrap=True)
    else:
        missed = ", ".join(det.get("undetected", [])) or "all"
        console.print(f"[bold yellow]not interpretable[/]: the survey did not detect the stated priority of {missed}; "
                      "its profile of this model cannot be read as the model's values.", soft_wrap=True)
    console.print(f"every effect per value: {out_dir / 'results.json'}", soft_wrap=True)
