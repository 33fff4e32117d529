"""``alignlab score``: score existing outputs without a model (``alignlab score ifeval``)."""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._errors import friendly_errors

score_app = typer.Typer(help="Score existing model outputs without running a model.", no_args_is_help=True,
                        add_completion=False)


def _fmt(v: dict) -> tuple[str, str, str]:
    if v.get("value") is None:
        return "—", "—", "0"
    lo, hi = v["ci"]
    return f"{100 * v['value']:.2f}", f"[{100 * lo:.2f}, {100 * hi:.2f}]", str(v["n"])


@score_app.command("ifeval")
@friendly_errors
def ifeval_cmd(
    prompts: Path = typer.Option(..., "--prompts", help="IFEval prompt file (JSONL: key, prompt, "
                                 "instruction_id_list, kwargs), e.g. input_data.jsonl."),
    responses: Path = typer.Option(..., "--responses", help="Responses (JSONL: prompt, response), joined to the "
                                   "prompts by prompt text."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run directory (default: runs/ifeval-<hash of both "
                                    "files>)."),
) -> None:
    """Score IFEval responses: prompt- and instruction-level accuracy, strict and loose, with 95% CIs."""
    from rich.console import Console
    from rich.table import Table

    from alignlab.evaluate.instructions.ifeval import HEADLINE, score_files

    results = score_files(prompts, responses, out)
    console, err = Console(), Console(stderr=True)
    join = results["join"]
    for f in join["fallbacks"]:
        err.print(f"[yellow]note:[/] prompt key {f['key']} has no response with the same text; joined by "
                  f"{f['by']} to response line {f['response_line']} (text similarity {f['similarity']:.3f})",
                  soft_wrap=True)
    if join["missing"]:
        err.print(f"[yellow]warning:[/] {len(join['missing'])} prompt(s) have no response and are counted as errors: "
                  f"keys {', '.join(map(str, join['missing'][:10]))}", soft_wrap=True)
    if join["unused_responses"]:
        err.print(f"[yellow]note:[/] {join['unused_responses']} response(s) match no prompt", soft_wrap=True)
    summary = results["suites"]["instructions/ifeval"]
    metrics = summary["metrics"]
    head = Table("accuracy (%)", "value", "95% CI", "n", title="IFEval")
    for name in HEADLINE:
        head.add_row(name, *_fmt(metrics[name]))
    console.print(head)
    types = sorted({k.split("/", 1)[1] for k in metrics if "/" in k})
    per = Table("instruction type", "strict", "loose", "95% CI (strict)", "n", title="per instruction type")
    for t in types:
        s, lo = _fmt(metrics[f"strict/{t}"]), _fmt(metrics[f"loose/{t}"])
        per.add_row(t, s[0], lo[0], s[1], s[2])
    console.print(per)
    console.print(f"prompts: {summary['n']}  errors: {summary['n_errors']}  run dir: {results['out']}")
