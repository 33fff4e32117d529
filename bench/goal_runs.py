"""Time an example goal end to end (``alignlab goal run``) with a cold response cache, and record its before/after.

    python bench/goal_runs.py examples/goals/preference-dpo.yaml --metrics accuracy_sum accuracy_norm
    python bench/goal_runs.py examples/goals/harmless-cai.yaml --metrics rule/refusal_rate rule/over_refusal_rate

The response cache starts empty (a fresh ``ALIGNLAB_HOME``); the default model's one-off GGUF conversion is reused
from the usual cache, since it happens once per machine, not once per goal (its time is in the default-plan section).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _report import write_section  # noqa: E402


def _fmt_ci(m: dict) -> str:
    ci = m.get("ci") or [None, None]
    if ci[0] is None:
        return f"{m['value']:.3f}"
    return f"{m['value']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def _fmt_delta(d: dict) -> str:
    ci = d.get("ci") or [None, None]
    body = f"{d['value']:+.3f}"
    return body + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci[0] is not None else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("goal", type=Path)
    ap.add_argument("--metrics", nargs="+", required=True, help="metric names to tabulate, per suite")
    ap.add_argument("--out", type=Path, help="goal run dir (default: a temporary one)")
    ap.add_argument("--note", help="a sentence to add under the table (e.g. what each suite's held-out set is)")
    ap.add_argument("--resumed", action="store_true",
                    help="--out holds a run that was interrupted and resumed: finish it in place (its own "
                         "ALIGNLAB_HOME, from the environment) and report its per-step times, not a clean wall time")
    args = ap.parse_args()
    if args.resumed and not args.out:
        ap.error("--resumed needs --out")

    out = args.out or Path(tempfile.mkdtemp(prefix="goal-bench-")) / "run"
    home = Path(tempfile.mkdtemp(prefix="alignlab-home-"))
    models = Path(os.environ.get("ALIGNLAB_HOME", Path.home() / ".cache/alignlab")) / "models"
    if models.exists():
        (home / "models").symlink_to(models)
    env = {**os.environ} if args.resumed else {**os.environ, "ALIGNLAB_HOME": str(home)}
    # The alignlab of the interpreter running this script (a project venv, or the shared one with PYTHONPATH=src).
    cmd = [str(Path(sys.executable).parent / "alignlab"), "goal", "run", str(args.goal), "--out", str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    summary = json.loads((out / "summary.json").read_text())
    shutil.rmtree(home, ignore_errors=True)

    timing = summary.get("timing", {})
    steps = ", ".join(f"{k} {v:.0f} s" for k, v in timing.items())
    rows = ["| suite | metric | before [95% CI] | after [95% CI] | Δ [95% CI] | CI of Δ |", "|---|---|---|---|---|---|"]
    for suite, entry in summary["suites"].items():
        for name in args.metrics:
            m = entry["metrics"].get(name)
            if m:
                rows.append(f"| {suite} | {name} | {_fmt_ci(m['before'])} | {_fmt_ci(m['after'])} | "
                            f"{_fmt_delta(m['delta'])} | {m['delta'].get('method', '')} |")
    stats = summary.get("data", {}).get("stats", {})
    keep = {k: v for k, v in stats.items() if isinstance(v, int | float | str) and k not in ("source",)}
    overlap = stats.get("opening_overlap")
    shared = ([f"Shared openings (first {overlap['k']} words) of the {overlap['n_heldout']} held-out pairs with "
               f"training answers of the same side: chosen {overlap['chosen']:.2f}, rejected "
               f"{overlap['rejected']:.2f}, decidable by the opening alone {overlap['decisive']:.2f}"
               + (f" — warning: {overlap['warning']}" if overlap.get("warning") else " (no warning).")]
              if overlap and overlap.get("n_heldout") else [])
    train = summary.get("train", {})
    body = "\n".join([
        f"Goal `{args.goal}` ({summary['goal']['name']}, level {summary['goal']['level']}, model "
        f"`{summary['goal']['model']}`), cold response cache.",
        "",
        *rows,
        "",
        (f"Resumed after interruptions on a loaded machine (load average {os.getloadavg()[1]:.0f} on "
         f"{os.cpu_count()} cores at the end), so no clean wall time; last segment per step: {steps}. "
         if args.resumed else f"Wall time {wall / 60:.1f} min in all; per step: {steps}. ")
        + f"Training: {train.get('method')}, "
        f"{train.get('steps')} steps.",
        f"Data: {json.dumps(keep)}",
        *shared,
        *([args.note] if args.note else []),
    ])
    write_section(f"goal {summary['goal']['name']}", body)
    print(body)


if __name__ == "__main__":
    main()
