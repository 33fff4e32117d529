"""Wall time of `alignlab eval` (the default model on the default plan) with a cold and a warm response cache.

    .venv/bin/python bench/default_plan.py

Runs the README's main job twice as subprocesses, the first against an empty cache file, the second against the
same cache into a new run directory; writes the `default-plan` section of BENCHMARKS.md. The converted GGUF
(done once per machine, ~40 s) is not part of either figure.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_section

ALIGNLAB = [sys.executable, "-m", "alignlab.cli.main"]


def run(out: Path, cache: Path) -> tuple[float, dict]:
    t0 = time.perf_counter()
    subprocess.run([*ALIGNLAB, "eval", "--out", str(out), "--cache", str(cache), "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, json.loads((out / "results.json").read_text())


def main() -> None:
    subprocess.run([*ALIGNLAB, "models", "info", "default"], check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        cache = tmp_path / "cache.sqlite"
        cold_s, cold = run(tmp_path / "cold", cache)
        warm_s, warm = run(tmp_path / "warm", cache)
    rows = [f"| {name} | {s['level']} | {s['n']} | {s['primary_metric']} | "
            f"{s['metrics'][s['primary_metric']]['value']:.3f} |" for name, s in cold["suites"].items()]
    body = (
        "`alignlab eval` with no arguments: the default model (SmolLM2-135M-Instruct; llama.cpp generates, "
        "transformers scores) on the default plan, as the README's first command runs it.\n\n"
        "| cache | wall time (s) | model calls |\n|---|---|---|\n"
        f"| cold (empty cache file) | {cold_s:.1f} | {cold['run']['model_calls']} |\n"
        f"| warm (same cache, new run dir) | {warm_s:.1f} | {warm['run']['model_calls']} |\n\n"
        f"Warm vs cold: {cold_s / warm_s:.0f}× faster. Level scores (mean of primary metrics): "
        + ", ".join(f"{k} {v['score']:.3f}" for k, v in cold["levels"].items() if v["score"] is not None)
        + ".\n\n| suite | level | n | primary metric | value |\n|---|---|---|---|---|\n" + "\n".join(rows)
    )
    write_section("default-plan", body)


if __name__ == "__main__":
    main()
