"""``alignlab eval`` and ``alignlab suites``."""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.assignments import parse_assignments
from alignlab.cli._data_dir import data_dir_option, use_data_dir
from alignlab.cli._errors import friendly_errors
from alignlab.cli._output import print_table


def register(app: typer.Typer) -> None:
    @app.command("eval")
    @friendly_errors
    def eval_cmd(
        model: str = typer.Option("default", "--model", "-m", help="Model spec: default, hf:PATH, gguf:PATH, "
                                  "llamacpp:PATH, openai:MODEL@URL[,URL...], vllm:PATH."),
        plan: str | None = typer.Option(None, "--plan", "-p", help="Plan: a built-in name (default, full) or a YAML "
                                        "file. Without --plan and --suite: the default plan."),
        suite: list[str] = typer.Option(None, "--suite", "-s", help="Suite (repeatable), with optional "
                                        "arguments: NAME[:key=value,...]; replaces the plan's suites. "
                                        "`alignlab suites` lists them."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Run directory (default: runs/<model>-<hash>; "
                                        "the same command resumes it)."),
        limit: int | None = typer.Option(None, "--limit", "-n", min=1,
                                         help="Evaluate N samples per suite, spread evenly over it."),
        system: str | None = typer.Option(None, "--system", help="Override the system prompt for chat models."),
        batch_size: int = typer.Option(16, "--batch-size", min=1, help="Samples per model call."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Bypass the response cache."),
        cache_path: Path | None = typer.Option(None, "--cache", help="Cache file (default: under $ALIGNLAB_HOME)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
        judge: str | None = typer.Option(None, "--judge", help="Judge model spec for suites scored by an LLM judge; "
                                         "without it those suites are listed as not run."),
        reward_model: str | None = typer.Option(None, "--reward-model", help="Sequence-classification reward model "
                                                "(hf:PATH) for reward-scored suites."),
        reference_model: str | None = typer.Option(None, "--reference-model", help="Reference model spec for the "
                                                   "DPO implicit reward β·log(π/π_ref) in preference agreement."),
        model_arg: list[str] = typer.Option(None, "--model-arg", help="Backend option KEY=VALUE (repeatable), e.g. "
                                            "concurrency=32 for openai:, batch_size=16 for hf:."),
        data_dir: Path | None = data_dir_option(),
    ) -> None:
        """Evaluate a model on suites; writes config.yaml, samples/*.jsonl and results.json."""
        use_data_dir(data_dir)
        from rich.console import Console
        from rich.markup import escape

        from alignlab.evaluate import evaluate

        console = Console(stderr=True)

        def log(line: str) -> None:
            if line.startswith("not run "):
                console.print(f"[yellow]not run[/] {escape(line.removeprefix('not run '))}", soft_wrap=True)
            else:
                console.print(f"[bold]alignlab eval[/] {escape(line)}", soft_wrap=True)

        results = evaluate(model, list(suite) if suite else plan or "default", out, judge=judge,
                           reward_model=reward_model, reference_model=reference_model, limit=limit, system=system,
                           batch_size=batch_size, cache=False if no_cache else (cache_path or True),
                           model_args=parse_assignments(model_arg or [], "--model-arg"), progress=not quiet, log=log)
        out_dir = results.run_dir.path
        print_results(results.data, out_dir)
        from alignlab.report import build_report

        try:
            console.print(f"report: {build_report(out_dir)}", soft_wrap=True)
        except Exception as exc:  # the results are already safe on disk; a report bug must not fail the run
            console.print(f"[yellow]warning[/]: report.html not written ({type(exc).__name__}: {exc}); "
                          f"`alignlab report {out_dir}` retries", soft_wrap=True)

    @app.command("plans")
    def plans_cmd() -> None:
        """List the built-in evaluation plans."""
        from alignlab.plans import load_plan, plan_names

        for name in plan_names():
            p = load_plan(name)
            print(f"{name}: {p.description} ({', '.join(e.name for e in p.entries())})")

    @app.command("suites")
    def suites_cmd(data_dir: Path | None = data_dir_option()) -> None:
        """List the built-in suites by level of the alignment taxonomy."""
        use_data_dir(data_dir)
        from rich.console import Console
        from rich.table import Table

        from alignlab.data import local_file
        from alignlab.errors import AlignlabError
        from alignlab.evaluate import build_suite, suite_names, suite_sources

        table = Table("level")
        table.add_column("suite", no_wrap=True)
        for col in ("samples", "needs", "description"):
            table.add_column(col)
        for name in suite_names():
            missing = [s for s in suite_sources(name) if local_file(s) is None]
            if missing:  # a public benchmark not downloaded: say so rather than reach for the hub to count it
                table.add_row(name.split("/")[0], name, "—", "", f"public data: {', '.join(missing)} (not in the "
                              "data directory; --data-dir, or path= / the hub when run)")
                continue
            try:
                s = build_suite(name)
            except AlignlabError as exc:  # suites over user data need an argument (e.g. prompts=PATH)
                table.add_row(name.split("/")[0], name, "—", "", f"needs arguments: {exc.hint or exc}")
                continue
            table.add_row(s.level, name, str(len(s.samples)), ", ".join(s.requires), s.description)
        print_table(table, Console())


def print_results(results: dict, out_dir: Path) -> None:
    """One row per suite (its primary metric) and a score per level; every metric is in results.json/report."""
    from rich.console import Console
    from rich.table import Table

    table = Table("level", title="results")
    table.add_column("suite", no_wrap=True)
    for col in ("primary metric", "kind", "value", "95% CI", "n", "errors"):
        table.add_column(col, overflow="fold")
    for name, s in results["suites"].items():
        metric = s.get("primary_metric") or next(iter(s["metrics"]), "")
        v = s["metrics"].get(metric, {})
        val = "—" if v.get("value") is None else f"{v['value']:.3f}"
        lo, hi = v.get("ci", [None, None])
        ci = "—" if lo is None else f"[{lo:.3f}, {hi:.3f}]"
        kind = (v.get("declared") or {}).get("kind") or "undeclared"
        failed = next((g for g in s.get("reliability") or [] if g.get("passed") is False), None)
        if failed:
            kind += f" (gate failed: {failed['metric']})"
        table.add_row(s["level"], name, metric, kind, val, ci, str(v.get("n", "")), str(s["n_errors"]))
    console = Console()
    print_table(table, console)
    scores = [f"{lvl} " + ("— (no score metric)" if v["score"] is None else f"{v['score']:.3f}")
              for lvl, v in results["levels"].items() if v.get("suites")]
    console.print("level scores (score metrics, 0 = chance, 1 = perfect): " + ", ".join(scores), soft_wrap=True)
    for name, reason in results.get("not_run", {}).items():
        console.print(f"not run: {name} — {reason}", soft_wrap=True)
    run = results["run"]
    console.print(f"model calls: {run['model_calls']}  time: {run['seconds']:.1f}s  run dir: {out_dir}")
