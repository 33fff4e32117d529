"""``alignlab score SUITE --responses FILE``: score outputs produced elsewhere with any generation suite."""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._data_dir import data_dir_option, use_data_dir
from alignlab.cli._errors import friendly_errors
from alignlab.cli._output import print_table

ALIASES = {"ifeval": "instructions/ifeval"}


def _fmt(v: dict) -> tuple[str, str, str]:
    if v.get("value") is None:
        return "—", "—", "0"
    lo, hi = v["ci"]
    return f"{100 * v['value']:.2f}", f"[{100 * lo:.2f}, {100 * hi:.2f}]", str(v["n"])


def register(app: typer.Typer) -> None:
    @app.command("score")
    @friendly_errors
    def score_cmd(
        suite: str = typer.Argument(..., help="A generation suite, with optional arguments: NAME[:key=value,...] "
                                    "(`alignlab suites` lists them); `ifeval` is instructions/ifeval."),
        responses: Path = typer.Option(..., "--responses", help="Recorded responses (JSONL: prompt, response; key "
                                       "or id optional), joined to the suite's samples by key, else by exact "
                                       "prompt text."),
        prompts: Path | None = typer.Option(None, "--prompts", help="IFEval prompt file (JSONL: key, prompt, "
                                            "instruction_id_list, kwargs): the same as ifeval:prompts=PATH."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Run directory (default: runs/<suite>-<hash of "
                                        "suite and responses>)."),
        fuzzy_join: bool = typer.Option(False, "--fuzzy-join", help="Join a prompt with no matching response to "
                                        "the response on the same line (files in the same order); each such join "
                                        "is reported with the similarity of the two prompts."),
        allow_partial: bool = typer.Option(False, "--allow-partial", help="Score the prompts that have a response "
                                           "and say how many were scored (without it, a missing response fails)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
        data_dir: Path | None = data_dir_option(),
    ) -> None:
        """Score recorded responses with a suite's scorer and metrics (no model runs); writes a run directory."""
        use_data_dir(data_dir)
        from rich.console import Console

        from alignlab.cli.eval import print_results
        from alignlab.evaluate.replay import score_responses

        name, _, args = suite.partition(":")
        spec = ALIASES.get(name, name) + (f":{args}" if args else "")
        if prompts is not None:
            spec += ("," if args else ":") + f"prompts={prompts}"
        results, joined = score_responses(spec, responses, out, fuzzy=fuzzy_join, partial=allow_partial,
                                          progress=not quiet)
        err = Console(stderr=True)
        for f in joined.fuzzy:
            err.print(f"[yellow]note:[/] sample {f['id']} has no response with the same key or prompt; joined by "
                      f"{f['by']} to response line {f['response_line']} (text similarity {f['similarity']:.3f})",
                      soft_wrap=True)
        if joined.missing:
            err.print(f"[yellow]warning:[/] {len(joined.missing)} of {len(joined.responses)} prompt(s) have no "
                      f"response and were not scored: {', '.join(joined.missing[:10])}", soft_wrap=True)
        if joined.unused_responses:
            err.print(f"[yellow]note:[/] {joined.unused_responses} response(s) match no prompt", soft_wrap=True)
        name = next(iter(results.suites))
        if name == "instructions/ifeval":
            _print_ifeval(results.suites[name].metrics)
        else:
            print_results(results.data, results.run_dir.path)
        n = len(joined.responses)
        Console().print(f"prompts: {n}  scored: {n - len(joined.missing)}  errors: {results.n_errors}  "
                        f"run dir: {results.run_dir}", soft_wrap=True)


def _print_ifeval(metrics: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from alignlab.evaluate.instructions.ifeval import HEADLINE

    console = Console()
    head = Table("accuracy (%)", "value", "95% CI", "n", title="IFEval")
    for name in HEADLINE:
        head.add_row(name, *_fmt(metrics[name]))
    print_table(head, console)
    types = sorted({k.split("/", 1)[1] for k in metrics if "/" in k})
    per = Table("instruction type", "strict", "loose", "95% CI (strict)", "n", title="per instruction type")
    for t in types:
        s, lo = _fmt(metrics[f"strict/{t}"]), _fmt(metrics[f"loose/{t}"])
        per.add_row(t, s[0], lo[0], s[1], s[2])
    print_table(per, console)
