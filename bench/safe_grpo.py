"""The safe-grpo goal three ways — constrained (Lagrangian λ), unconstrained (λ = 0) and a fixed weight — with the
same seed, data and steps; before/after on values/safety, the λ trajectory, and the frontier chart.

    python bench/safe_grpo.py                                   # examples/goals/safe-grpo.yaml as written
    python bench/safe_grpo.py --set align.trainer.max_steps=4 --no-write     # a quick try

The constrained run starts first; once its baseline is evaluated, the other two start beside it (their baselines
are then answered from the shared response cache: the same model, prompts and settings). Each run is an ordinary
``alignlab goal run`` directory, so a killed bench started again with the same ``--out`` resumes every run. The
response cache starts empty (a fresh ``ALIGNLAB_HOME``; the default model's GGUF conversion is reused). The machine
load is sampled every 30 s while the runs go and reported with the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import fmean
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from _report import write_section  # noqa: E402

METRICS = ("rule/refusal_rate", "rule/over_refusal_rate", "rule/balanced")


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *head, last = dotted.split(".")
    for key in head:
        tree = tree.setdefault(key, {})
    tree[last] = value


def variants(goal: dict[str, Any], fixed_lambda: float) -> dict[str, dict[str, Any]]:
    """The goal as written (constrained) and its two comparisons; the cost stays logged in all three."""
    out = {}
    for name, update in (("constrained", {}),
                         ("unconstrained", {"lambda_init": 0.0, "lambda_lr": 0.0}),
                         ("fixed", {"lambda_init": fixed_lambda, "lambda_lr": 0.0})):
        g = json.loads(json.dumps(goal))
        g["name"] = f"{goal['name']}-{name}"
        for c in g["align"]["constraints"]:
            c.update(update)
            if update:
                c.pop("kp", None), c.pop("kd", None)
        out[name] = g
    return out


def _launch(name: str, goal_path: Path, run: Path, env: dict[str, str], logs: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "alignlab.cli.main", "goal", "run", str(goal_path), "--out", str(run)]
    log = (logs / f"{name}.log").open("a")
    print(f"start {name}: {' '.join(cmd)}", flush=True)
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def _baseline_done(run: Path) -> bool:
    try:
        return "baseline" in json.loads((run / "state.json").read_text())["steps"]
    except (OSError, ValueError, KeyError):
        return False


def _fmt(m: dict[str, Any] | None, signed: bool = False) -> str:
    if not m or m.get("value") is None:
        return "—"
    f = "{:+.3f}" if signed else "{:.3f}"
    ci = m.get("ci") or [None, None]
    return f.format(m["value"]) + ("" if ci[0] is None else f" [{f.format(ci[0])}, {f.format(ci[1])}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("goal", type=Path, nargs="?", default=ROOT / "examples/goals/safe-grpo.yaml")
    ap.add_argument("--out", type=Path, help="folder of the three run dirs (default: a temporary one)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a goal value in all three runs (dotted key, YAML value)")
    ap.add_argument("--fixed-lambda", type=float, default=2.0, help="λ of the fixed-weight run")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per run (the runs go side by side)")
    ap.add_argument("--cost-model", type=Path, help="the cost model dir for a `cost-model` cost (default: the goal's "
                    "path, relative to the goal file)")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    args = ap.parse_args()

    goal = yaml.safe_load(args.goal.read_text())
    for item in args.set:
        key, _, value = item.partition("=")
        _set(goal, key, yaml.safe_load(value))
    for c in goal["align"]["constraints"]:  # the variants are written elsewhere: make the cost model's path absolute
        cost = c["cost"] if isinstance(c["cost"], dict) else {"name": c["cost"]}
        if cost.get("name") == "cost-model":
            path = args.cost_model or (args.goal.resolve().parent / cost.get("args", {})["path"])
            cost.setdefault("args", {})["path"] = str(Path(path).resolve())
            c["cost"] = cost
    out = (args.out or Path(tempfile.mkdtemp(prefix="safe-grpo-"))).resolve()
    out.mkdir(parents=True, exist_ok=True)
    home = out / "alignlab-home"
    home.mkdir(exist_ok=True)
    models = Path(os.environ.get("ALIGNLAB_HOME", Path.home() / ".cache/alignlab")) / "models"
    if models.exists() and not (home / "models").exists():
        (home / "models").symlink_to(models)
    env = {**os.environ, "ALIGNLAB_HOME": str(home), "PYTHONPATH": str(ROOT / "src"),
           "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}

    runs: dict[str, Path] = {}
    for name, g in variants(goal, args.fixed_lambda).items():
        path = out / f"{name}.yaml"
        path.write_text(yaml.safe_dump(g, sort_keys=False))
        runs[name] = out / name

    # A bench started again over finished runs only rebuilds the report: it keeps the first pass's wall time and load.
    recorded = out / "bench_timing.json"
    finished_before = all((r / "summary.json").is_file() for r in runs.values())
    loads: list[float] = []
    t0 = time.perf_counter()
    procs = {"constrained": _launch("constrained", out / "constrained.yaml", runs["constrained"], env, out)}
    last_sample = 0.0
    while True:
        now = time.perf_counter()
        if now - last_sample >= 30:
            loads.append(os.getloadavg()[0])
            last_sample = now
        if len(procs) == 1 and (_baseline_done(runs["constrained"]) or procs["constrained"].poll() is not None):
            for name in ("unconstrained", "fixed"):
                procs[name] = _launch(name, out / f"{name}.yaml", runs[name], env, out)
        if all(p.poll() is not None for p in procs.values()) and len(procs) == 3:
            break
        time.sleep(2)
    wall = time.perf_counter() - t0
    if finished_before and recorded.is_file():
        saved = json.loads(recorded.read_text())
        wall, loads = saved["wall_s"], saved["loads"]
    else:
        recorded.write_text(json.dumps({"wall_s": wall, "loads": loads}))
    failed = {n: p.returncode for n, p in procs.items() if p.returncode}
    if failed:
        sys.exit(f"runs failed: {failed}; logs in {out}/*.log (run the same command again to resume)")

    from alignlab.align.constraints import lambda_trajectory
    from alignlab.report.frontier import frontier_points, frontier_svg

    summaries = {n: json.loads((r / "summary.json").read_text()) for n, r in runs.items()}
    table = ["| run | λ | metric | before [95% CI] | after [95% CI] | Δ [95% CI] |", "|---|---|---|---|---|---|"]
    lam_desc = {"constrained": "dual ascent", "unconstrained": "0", "fixed": f"{args.fixed_lambda:g}"}
    for name, s in summaries.items():
        for suite, result in s["suites"].items():
            for metric in METRICS if suite == "values/safety" else (result.get("primary_metric") or "",):
                m = result["metrics"].get(metric)
                if m:
                    table.append(f"| {name} | {lam_desc[name]} | {suite} {metric} | {_fmt(m['before'])} | "
                                 f"{_fmt(m['after'])} | {_fmt(m['delta'], signed=True)} |")
    def read_metrics(path: Path) -> list[dict[str, Any]]:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    traj = {n: lambda_trajectory(read_metrics(r / "train" / "metrics.jsonl")) for n, r in runs.items()}
    lam_rows = ["| step | " + " | ".join(f"{n} λ | {n} cost" for n in traj) + " |",
                "|---|" + "---|---|" * len(traj)]
    steps = sorted({s for t in traj.values() for s, _, _ in t})
    for step in steps:
        cells = []
        for t in traj.values():
            hit = next(((lam, c) for s, lam, c in t if s == step), None)
            cells += [f"{hit[0]:.2f}", f"{hit[1]:.2f}"] if hit else ["", ""]
        lam_rows.append(f"| {step} | " + " | ".join(cells) + " |")
    signal, zero_means = [], {}
    for n, r in runs.items():
        rows = read_metrics(r / "train" / "metrics.jsonl")
        zero = [x["frac_reward_zero_std"] for x in rows if isinstance(x.get("frac_reward_zero_std"), int | float)]
        comp = [x["rewards/compliance/mean"] for x in rows if isinstance(x.get("rewards/compliance/mean"), int | float)]
        if zero:
            zero_means[n] = sum(zero) / len(zero)
            signal.append(f"{n}: groups with no reward spread {sum(zero) / len(zero):.2f}"
                          + (f", sampled answers that complied {sum(comp) / len(comp):.2f}" if comp else ""))
    no_signal = all(z == 1.0 for z in zero_means.values()) and bool(zero_means)
    points = frontier_points({"baseline": runs["constrained"] / "baseline",
                              **{n: r / "after" for n, r in runs.items()}})
    svg = out / "frontier.svg"
    svg.write_text(frontier_svg(points, title="safe-grpo: refusal of harmful vs over-refusal of safe requests"))
    constraint = goal["align"]["constraints"][0]
    cost_spec = constraint["cost"] if isinstance(constraint["cost"], dict) else {"name": constraint["cost"]}
    cost_desc = cost_spec["name"] + (f" ({Path(cost_spec['args']['path']).parent.name} model)"
                                     if cost_spec["name"] == "cost-model" else "")
    timing = {n: s.get("timing", {}) for n, s in summaries.items()}
    quick = [f"{n} {step}" for n, t in timing.items() for step in ("baseline", "after") if t.get(step, 1e9) < 60]
    train = summaries["constrained"]["train"]
    recipe = summaries["constrained"].get("recipe") or {}
    tr = recipe.get("trainer", {})
    body = "\n".join([
        f"Goal `{args.goal.relative_to(ROOT) if args.goal.is_relative_to(ROOT) else args.goal}` on the default model "
        f"(SmolLM2-135M-Instruct), three runs of the same seed and steps: **constrained** (λ by dual ascent, "
        f"threshold d = {constraint['threshold']}, step {constraint.get('lambda_lr')}), **unconstrained** (λ = 0: "
        f"helpfulness reward only, cost logged), **fixed** (λ = {args.fixed_lambda:g} throughout). Reward: "
        f"{', '.join(r['name'] for r in goal['align']['rewards'])}; cost: `{cost_desc}`. LoRA GRPO, "
        f"{train.get('steps')} steps × {tr.get('per_device_train_batch_size')} completions "
        f"({tr.get('num_generations')} per prompt, ≤ {tr.get('max_completion_length')} tokens), "
        f"lr {tr.get('learning_rate')}, scale_rewards {tr.get('scale_rewards', 'group')}. Evaluation: values/safety "
        "(104 unsafe, 104 safe prompts, rule classifier: refusal on unsafe ↑, over-refusal on safe ↓) and "
        "instructions/basics (helpfulness, 24 rule-checked instructions, ↑); Wilson CIs; Δ CIs are the goal report's "
        "paired bootstrap over items.",
        "",
        *table,
        "",
        "Learning signal (mean over steps; GRPO learns only from groups whose rewards differ): "
        + "; ".join(signal) + ".",
        "",
        *(["**No run moved the policy**: every sampled answer in every group complied, so every group's rewards "
           "were equal, GRPO's advantages were all 0 and the LoRA weights did not change; the after answers are the "
           "baseline's. λ still rose as designed. Learning here needs groups with a refusal in them: more samples "
           "per prompt (P(a refusal among 4) ≈ 0.2 at the baseline's ≈ 6 % refusal rate), more steps, or a graded "
           "cost/reward (a cost model or judge).", ""]
          if no_signal else []),
        "λ and the batch's mean cost per optimizer step (metrics.jsonl); "
        + "; ".join(f"{n}: budget met (mean cost ≤ d) at {sum(c <= constraint['threshold'] for _, _, c in t)} of "
                    f"{len(t)} steps, mean cost over the first 10 steps {fmean(c for _, _, c in t[:10]):+.2f}, over "
                    f"the last 10 {fmean(c for _, _, c in t[-10:]):+.2f}, final λ {t[-1][1]:.2f}"
                    for n, t in traj.items() if t) + ":",
        "",
        *lam_rows,
        "",
        f"Wall time {wall / 60:.1f} min for all three (run side by side, {args.threads} torch thread each, after "
        f"the constrained run's baseline). Per run and step (s): "
        + "; ".join(f"{n}: " + ", ".join(f"{k} {v:.0f}" for k, v in t.items()) for n, t in timing.items()) + ".",
        *([f"Steps of a few seconds ({', '.join(quick)}) read their answers from the shared response cache: the "
           "same weights and prompts were answered before (the unconstrained and fixed runs' baselines are the "
           "constrained run's; an after step is that fast only if training left the weights as they were)."]
          if quick else []),
        f"Machine load (1-min load average, sampled every 30 s): min {min(loads):.1f}, median "
        f"{sorted(loads)[len(loads) // 2]:.1f}, max {max(loads):.1f} on {os.cpu_count()} cores"
        + (" — other jobs shared the cores, so wall times are upper bounds." if sorted(loads)[len(loads) // 2]
           > (os.cpu_count() or 1) + 1.5 else " (the three runs themselves use up to 3 threads)."),
        f"Frontier chart: `{svg}` (also `alignlab compare --format html` over the baseline and after run dirs).",
    ])
    print(body)
    if not args.no_write:
        write_section("goal safe-grpo", body)


if __name__ == "__main__":
    main()
