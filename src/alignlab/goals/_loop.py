"""The closed alignment loop: build data → evaluate the baseline → align → evaluate the aligned model → compare.

Run directory::

    goal.yaml      the resolved goal          state.json   finished steps (what a rerun skips)
    data/          builder output (train.jsonl, held-out files, audit, built.json)
    baseline/      run dir of the goal's model (alignlab.evaluate.runner.run_eval)
    train/         the align output dir (checkpoints, metrics.jsonl, the merged model)
    after/         run dir of the trained model (hf:<model_dir>)
    summary.json   before/after per metric with deltas and CIs       report.html   the same, as a page

Data is built first because the evaluation arguments may point at held-out files it writes. Each step is skipped
when ``state.json`` records it as finished; a killed loop started again redoes only what is missing (``run_eval``
resumes per sample, ``train(resume=True)`` from the last checkpoint). A run directory refuses a different goal.
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from alignlab.atomic import write_json_atomic, write_text_atomic
from alignlab.errors import AlignlabError
from alignlab.goals._builders import BuildContext, BuiltData, get_builder
from alignlab.goals._goal import Goal, fill

if TYPE_CHECKING:
    pass

STEPS = ("data", "baseline", "train", "after", "report")


@dataclass
class GoalResult:
    """What ``run_goal`` did and where it put it."""

    out: Path
    data: BuiltData
    train: dict[str, Any]
    """The training result as recorded in state.json (model_dir, steps, train_seconds, final_metrics, ...)."""
    summary: dict[str, Any]
    summary_path: Path
    report_path: Path
    skipped: list[str] = field(default_factory=list)
    """Steps found finished and not redone."""

    @property
    def baseline_dir(self) -> Path:
        return self.out / "baseline"

    @property
    def after_dir(self) -> Path:
        return self.out / "after"


class _Log:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, step: str, msg: str) -> None:
        if self.enabled:
            n = STEPS.index(step) + 1
            print(f"goal [{n}/{len(STEPS)}] {step}: {msg}", file=sys.stderr, flush=True)


def _read_state(out: Path, identity: dict[str, Any]) -> dict[str, Any]:
    import json

    path = out / "state.json"
    if not path.is_file():
        return {"identity": identity, "steps": {}}
    state = json.loads(path.read_text(encoding="utf-8"))
    if state.get("identity") != identity:
        raise AlignlabError(f"{out} holds a run of another goal or settings",
                            hint="pass a new --out, or delete that directory")
    return state


def _evaluate(goal: Goal, spec: str, run_dir: Path, names: dict[str, str], limit: int | None, progress: bool,
              role: str) -> dict[str, Any]:
    """One evaluation run of ``spec`` on the goal's suites into ``run_dir`` (resumable), plus its report.html."""
    from alignlab.evaluate import NothingToRun, evaluate

    limits = {e.name: min(x for x in (limit, e.limit) if x) for e in goal.evaluate if limit or e.limit}
    suites = [(e.name, fill(e.args, names, f"{goal.where()}: evaluate[{i}] ({e.name})"))
              for i, e in enumerate(goal.evaluate)]
    judge = goal.judge or goal.critic
    try:
        # evaluate() opens the judge (often a large model) only when some suite takes one.
        results = evaluate(
            spec, suites, run_dir, judge=judge, reward_model=goal.reward_model, limit=limits or None,
            progress=progress, require_runnable=True,
            log=lambda line: print(line, file=sys.stderr) if line.startswith("not run") else None,
            config_extra={"goal": goal.name, "role": role, "judge": judge, "reward_model": goal.reward_model})
    except NothingToRun as exc:
        raise AlignlabError(f"{goal.where()}: none of the goal's suites can run ({exc.not_run})") from None
    from alignlab.report import build_report

    try:
        build_report(run_dir)
    except Exception as exc:  # results are safe on disk; a report bug must not fail the loop
        print(f"warning: {run_dir}/report.html not written ({type(exc).__name__}: {exc})", file=sys.stderr)
    return results.data


def _complete(results: dict[str, Any], log: _Log, step: str) -> bool:
    """Whether every sample of the run succeeded; failed ones are left for the next run to retry."""
    failed = sum(s.get("n_errors") or 0 for s in results.get("suites", {}).values())
    if failed:
        log(step, f"{failed} samples failed (see results.json); run the same command again to retry them")
    return not failed


def _train(goal: Goal, built: BuiltData, out: Path, limit: int | None, progress: bool) -> dict[str, Any]:
    from alignlab import align

    recipe = goal.recipe(data_path=built.train_path, output_dir=out / "train", limit=limit)
    if recipe.method in ("reward", "cost"):
        raise AlignlabError(f"{goal.where()}: align.method {recipe.method!r} trains a scoring model, not a policy",
                            hint="a goal aligns its model; train reward models with `alignlab align`")
    result = align.train(recipe, output_dir=out / "train", resume=True, progress=progress)
    gc.collect()  # the trainer's models go before the aligned model is loaded for evaluation
    model_dir = Path(result.model_dir).resolve()
    return {"method": recipe.method, "model_dir": str(model_dir), "model_spec": f"hf:{model_dir}",
            "adapter_dir": str(result.adapter_dir) if result.adapter_dir else None,
            "metrics_path": str(result.metrics_path),
            "plot_path": str(result.plot_path) if result.plot_path else None,
            "steps": result.steps, "train_seconds": result.train_seconds,
            "final_metrics": dict(result.final_metrics), "recipe": recipe.model_dump(mode="json")}


def baseline_spec(spec: str) -> str:
    """The spec the baseline is evaluated as: the backend the aligned model is evaluated on (transformers).

    ``default`` and ``gguf:`` would otherwise generate with llama.cpp, whose greedy text differs slightly from
    transformers'; before and after must differ by the training alone.
    """
    s = spec.strip()
    if s == "default" or s.startswith("gguf:"):
        from alignlab.models.default import default_gguf
        from alignlab.models.hf import converted_dir

        return "hf:" + str(converted_dir(default_gguf() if s == "default" else s.removeprefix("gguf:")))
    return spec


def check_goal(goal: Goal, out: str | Path | None = None, *, limit: int | None = None, trainer: bool = True,
               progress: bool = False) -> None:
    """What ``run_goal`` checks before it builds or trains anything (``goal show`` checks the same): every
    suite name is known, and (``trainer``) every trainer field is one of the TRL config's (this imports TRL)."""
    from alignlab.evaluate import suite_names

    known = set(suite_names())
    for e in goal.evaluate:
        if e.name not in known and not e.name.endswith((".yaml", ".yml")):
            raise AlignlabError(f"{goal.where()}: unknown suite {e.name!r}", hint="`alignlab suites` lists them")
    if not trainer:
        return
    from alignlab.align import trainer_config

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(out) if out is not None else Path(scratch)
        trainer_config(goal.recipe(data_path=root / "data" / "train.jsonl", output_dir=root / "train", limit=limit),
                       root / "train", progress=progress)


def run_goal(goal: Goal, out: str | Path, *, progress: bool = True, limit: int | None = None) -> GoalResult:
    """Run the closed loop for ``goal`` into ``out`` (see the module docstring); resumes a killed run.

    Models open by spec (``alignlab.models.load_model`` with the response cache; tests use ``scripted:`` specs).
    ``limit`` caps every evaluation suite and the training set at N items (a quick try).
    """
    from alignlab.goals._goal_report import PAIRED, UNPAIRED, compare, render

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = _Log(progress)
    identity = {"goal": goal.resolved(), "limit": limit}
    state = _read_state(out, identity)
    steps: dict[str, Any] = state["steps"]
    timing: dict[str, float] = dict(state.get("timing") or {})
    skipped: list[str] = []

    def done(step: str, record: Any, started: float) -> None:
        steps[step] = record
        timing[step] = round(time.perf_counter() - started, 3)
        state["timing"] = timing
        write_json_atomic(out / "state.json", state)

    write_text_atomic(out / "goal.yaml", yaml.safe_dump(goal.resolved(), sort_keys=False, allow_unicode=True))
    write_json_atomic(out / "state.json", state)
    # Unknown suites and trainer fields fail here, before anything is built or trained.
    check_goal(goal, out, limit=limit, trainer="train" not in steps, progress=progress)

    # 1. data
    t0 = time.perf_counter()
    if "data" in steps and Path(steps["data"]["train_path"]).is_file():
        built = BuiltData.from_json(steps["data"])
        skipped.append("data")
        log("data", f"done before ({built.train_path})")
    else:
        log("data", f"building {goal.representation.kind} data into {out / 'data'}")
        context = BuildContext(policy=goal.model, critic=goal.critic, seed=goal.seed, progress=progress)
        built = get_builder(goal.representation.kind)(goal, out / "data", context)
        write_json_atomic(out / "data" / "built.json", built.to_json())
        done("data", built.to_json(), t0)
        log("data", f"{built.stats.get('n_train', '?')} training rows, held out: "
                    f"{', '.join(f'{k}={v.name}' for k, v in built.heldout.items()) or 'none'}")
    overlap = built.stats.get("opening_overlap") or {}
    if overlap.get("warning"):
        log("data", f"warning: {overlap['warning']}")
    names = {f"heldout.{k}": str(v) for k, v in built.heldout.items()}
    names.update(train=str(built.train_path), data=str(built.train_path.parent))

    # 2. baseline
    t0 = time.perf_counter()
    if steps.get("baseline") and (out / "baseline" / "results.json").is_file():
        skipped.append("baseline")
        log("baseline", "done before")
    else:
        spec = baseline_spec(goal.model)
        log("baseline", f"evaluating {spec}")
        results = _evaluate(goal, spec, out / "baseline", names, limit, progress, "baseline")
        if _complete(results, log, "baseline"):
            done("baseline", {"spec": spec}, t0)

    # 3. train
    t0 = time.perf_counter()
    if "train" in steps and Path(steps["train"]["model_dir"]).is_dir():
        train = steps["train"]
        skipped.append("train")
        log("train", f"done before ({train['model_dir']})")
    else:
        log("train", f"aligning {goal.model} into {out / 'train'}")
        train = _train(goal, built, out, limit, progress)
        done("train", train, t0)
        log("train", f"{train['steps']} steps in {train['train_seconds']:.1f} s → {train['model_dir']}")

    # 4. after
    t0 = time.perf_counter()
    if steps.get("after") and (out / "after" / "results.json").is_file():
        skipped.append("after")
        log("after", "done before")
    else:
        log("after", f"evaluating {train['model_spec']}")
        results = _evaluate(goal, train["model_spec"], out / "after", names, limit, progress, "after")
        if _complete(results, log, "after"):
            done("after", {"spec": train["model_spec"]}, t0)

    # 5. compare (always redone: cheap, and picks up report improvements)
    suites = compare(out / "baseline", out / "after", seed=goal.seed)
    summary = {
        "goal": goal.resolved(),
        "data": built.to_json(),
        "train": {k: v for k, v in train.items() if k != "recipe"},
        "recipe": train.get("recipe"),
        "suites": suites,
        "timing": timing,
        "limit": limit,
        "warnings": [w for w in [overlap.get("warning")] if w],
        "method_note": (f"Δ CIs: '{PAIRED}' = percentile bootstrap of the mean per-item difference, the same items "
                        f"resampled for both runs (seed {goal.seed}); '{UNPAIRED}' = Δ ± 1.96·√(se_before² + "
                        "se_after²) for metrics that are not per-item means. Bold Δ: the 95% CI excludes 0."),
    }
    write_json_atomic(out / "summary.json", summary)
    report_path = out / "report.html"
    write_text_atomic(report_path, render(summary, out))
    for name, s in suites.items():
        m = s["metrics"].get(s.get("primary_metric") or "")
        if m and m["after"]["value"] is not None and m["delta"]["value"] is not None:
            d = m["delta"]
            ci = "" if None in (d.get("ci") or [None]) else f" [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}]"
            log("report", f"{name} {s['primary_metric']}: {m['before']['value']:.3f} → {m['after']['value']:.3f} "
                          f"(Δ {d['value']:+.3f}{ci})")
    log("report", f"{report_path}")
    return GoalResult(out, built, train, summary, out / "summary.json", report_path, skipped)
