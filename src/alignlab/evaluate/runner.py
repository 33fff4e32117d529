"""Run suites against a model into a run directory (``RunDir``: config.yaml, samples/, results.json), resumably.

Finished samples are journaled to ``samples/<suite>.jsonl.partial`` (fsynced per chunk) so a killed run, started
again with the same command, redoes only what is missing; the final files are written atomically.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from alignlab.errors import AlignlabError
from alignlab.evaluate._suite import Output, Sample, Suite
from alignlab.evaluate.metric_info import check_gates, declared, failed_gate, resolve, threshold_text
from alignlab.evaluate.rundir import RunDir
from alignlab.models import Model
from alignlab.progress import Tracker, suite_progress
from alignlab.targets.levels import LEVELS

RESULTS_SCHEMA_VERSION = 2
"""2: every metric carries its ``declared`` meaning, suites their ``reliability`` gates, levels the
chance-to-perfect scale with components. Version 1 files still read (no declarations: nothing is ranked by them)."""
_VERSIONED = ["alignlab", "torch", "transformers", "trl", "peft", "llama_cpp_python", "vllm", "httpx", "numpy"]


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def spread(samples: list[Sample], n: int | None) -> list[Sample]:
    """``n`` samples spread evenly over the suite, in order (all when ``n`` is None or larger).

    Suite files are often grouped (harmful prompts, then safe ones); a prefix would measure one group only.
    """
    if n is None or n >= len(samples):
        return list(samples)
    return [samples[(i * len(samples)) // n] for i in range(n)]


def _identity(model: Model, limit: int | dict[str, int] | None) -> dict[str, Any]:
    return {"spec": model.spec, "fingerprint": model.fingerprint(), "system": model.system, "limit": limit}


def _prepare_dir(out: RunDir, model: Model, suites: Sequence[Suite], limit: int | dict[str, int] | None,
                 extra: dict) -> dict:
    """Write config.yaml, refusing to mix a different model or config into an existing run directory."""
    ident = _identity(model, limit)
    previous: dict[str, Any] = out.read_config()
    if previous:
        if previous.get("identity") != ident:
            raise AlignlabError(
                f"{out} holds a run with another model or settings ({previous.get('identity')})",
                hint="pass a new --out, or delete that directory",
            )
        old_params = {s["name"]: s.get("params", {}) for s in previous.get("suites", [])}
        for s in suites:
            if s.name in old_params and old_params[s.name] != s.params:
                raise AlignlabError(
                    f"{out} ran suite {s.name!r} with other arguments {old_params[s.name]}", hint="pass a new --out"
                )
    info = model.info()
    known = {s["name"]: s for s in previous.get("suites", [])}
    for s in suites:
        known[s.name] = {"name": s.name, "level": s.level, "version": s.version, "params": s.params,
                         "n_samples": len(s.samples)}
    config = {
        "identity": ident,
        "model": {"spec": info.spec, "backend": info.backend, "fingerprint": info.fingerprint,
                  "parameters": info.parameters, "context_length": info.context_length},
        "suites": list(known.values()),
        "limit": limit,
        "created": previous.get("created") or _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        # The build behind the numbers (llama.cpp's CPU features, torch's, device, dtype, threads): the same
        # versions compiled for another CPU score and generate slightly differently.
        "provenance": model.provenance(),
        "command": " ".join(sys.argv),
        **extra,
    }
    out.write_config(config)
    return config


def _record(sample: Sample, output: Output, scores: dict[str, float | None] | None) -> dict[str, Any]:
    return {
        "id": sample.id,
        "input": sample.input,
        "target": sample.target,
        "choices": sample.choices,
        "output": output.text,
        "answer": output.answer,
        "logprobs": output.logprobs,
        "scores": scores,
        "judge": output.judge,
        "error": output.error,
        "metadata": sample.metadata,
        **({"extra": output.extra} if output.extra else {}),
    }


def _score_one(suite: Suite, sample: Sample, output: Output) -> dict[str, Any]:
    if output.error is not None:
        return _record(sample, output, None)
    try:
        return _record(sample, output, suite.scorer(sample, output))
    except Exception as exc:  # a scorer bug on one odd output must not lose the run
        output.error = f"scorer failed: {type(exc).__name__}: {exc}"
        return _record(sample, output, None)


def _run_suite(suite: Suite, model: Model, out: RunDir, samples: list[Sample], batch_size: int,
               progress: Tracker) -> list[dict]:
    done: dict[str, dict[str, Any]] = {}
    # Earlier results count as finished unless they ended in an error, which a new run retries.
    for row in out.read_journal(suite.name):
        if row.get("error") is None and row["id"] not in done:
            done[row["id"]] = row
    wanted = {s.id for s in samples}
    done = {k: v for k, v in done.items() if k in wanted}
    todo = [s for s in samples if s.id not in done]
    task = progress.add_task(suite.name, total=len(samples), completed=len(samples) - len(todo), rate="")
    # Rewrite the journal from what survived, so a cut-off line never sits before new lines.
    journal = out.write_journal(suite.name, done.values())
    started, finished = time.perf_counter(), 0
    errors: dict[str, dict[str, Any]] = {}
    with journal.open("a", encoding="utf-8") as fh:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            try:
                outputs = suite.solver(model, chunk)
            except AlignlabError:
                raise
            except Exception as exc:  # a failed batch becomes counted errors, not a lost run
                outputs = [Output(error=f"{type(exc).__name__}: {exc}") for _ in chunk]
            for sample, output in zip(chunk, outputs, strict=True):
                rec = _score_one(suite, sample, output)
                if rec["error"] is None:
                    fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
                    done[sample.id] = rec
                else:
                    errors[sample.id] = rec
            fh.flush()
            os.fsync(fh.fileno())
            finished += len(chunk)
            rate = finished / max(time.perf_counter() - started, 1e-9)
            progress.update(task, advance=len(chunk), rate=f"{rate:.2f} samples/s")
    records = [done.get(s.id) or errors[s.id] for s in samples]
    out.write_samples(suite.name, records)
    journal.unlink(missing_ok=True)
    return records


def summarize_suite(suite: Suite, records: list[dict[str, Any]]) -> dict[str, Any]:
    errs = Counter(r["error"][:160] for r in records if r.get("error"))
    metrics: dict[str, Any] = {}
    for metric in suite.metrics:
        metrics.update(metric(records))
    for name, m in metrics.items():
        if isinstance(m, dict):
            info = resolve(name, suite.metric_info)
            m["declared"] = info.to_dict() if info is not None else None
    return {
        "level": suite.level,
        "description": suite.description,
        "version": suite.version,
        "n": len(records),
        "n_errors": sum(errs.values()),
        "errors": dict(errs),
        "primary_metric": suite.primary_metric,
        "metrics": metrics,
        "reliability": check_gates(suite.gates, metrics),
        **({"synthetic": suite.synthetic} if suite.synthetic else {}),
    }


def summarize_levels(suites: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per level: the mean of its suites' primary metrics that are declared *score* metrics, each placed on the
    chance-to-perfect scale (0 = chance or the worst end, 1 = perfect) so that higher is better whatever the
    metric's direction; the raw figures sit beside it in ``components``. Primary metrics that measure reliability
    or only describe, that are undeclared, or that a failed reliability gate covers are listed in ``excluded``
    with the reason. A level without a score metric has ``score: null`` and says so in ``note``."""
    levels: dict[str, Any] = {}
    for level in LEVELS:
        names = [n for n, s in suites.items() if s["level"] == level]
        components, excluded = [], []
        for n in names:
            s = suites[n]
            pm = s.get("primary_metric")
            m = (s.get("metrics") or {}).get(pm or "")
            why = None
            info = declared(m)
            if pm is None or not isinstance(m, dict):
                why = "no primary metric"
            elif info is None:
                why = "undeclared metric: its direction and chance level are unknown"
            elif info.kind != "score":
                why = f"a {info.kind} metric, not attainment of the goal"
            elif (gate := failed_gate(s, pm)) is not None:
                why = f"not interpretable: {gate['metric']} = {gate['value']} (needs {threshold_text(gate)})"
            if why is None:
                norm, norm_se = info.normalized(m.get("value"), m.get("stderr"))  # type: ignore[union-attr]
                if norm is None:
                    why = "no value" if m.get("value") is None else "no chance-to-perfect scale declared"
                else:
                    components.append({"suite": n, "metric": pm, "raw": m.get("value"), "normalized": norm,
                                       "stderr": norm_se, "chance": info.chance, "direction": info.direction})
            if why is not None:
                excluded.append({"suite": n, "metric": pm, "reason": why})
        score = sum(c["normalized"] for c in components) / len(components) if components else None
        ses = [c["stderr"] for c in components]
        stderr = (math.sqrt(sum(se**2 for se in ses)) / len(ses)) if components and None not in ses else None
        levels[level] = {
            "suites": names, "score": score, "stderr": stderr, "scale": "chance-to-perfect",
            "components": components, "excluded": excluded,
            "note": None if components else ("no suite at this level" if not names
                                             else "no score metric at this level: nothing measures attainment"),
        }
    return levels


def run_eval(
    model: Model,
    suites: Sequence[Suite],
    out: str | Path,
    *,
    limit: int | dict[str, int] | None = None,
    batch_size: int = 16,
    show_progress: bool = True,
    config_extra: dict[str, Any] | None = None,
    not_run: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Evaluate ``model`` on ``suites`` into ``out``; returns what it writes to results.json.

    ``not_run`` maps suites that were asked for but could not run (e.g. no judge) to the reason; the results
    list them so a reader sees what was not measured.
    """
    run_dir = RunDir.of(out)
    run_dir.path.mkdir(parents=True, exist_ok=True)
    config = _prepare_dir(run_dir, model, suites, limit, config_extra or {})
    calls_before = model.model_calls
    started = time.perf_counter()
    previous = run_dir.read_results() if run_dir.has_results() else {}
    summaries: dict[str, Any] = dict(previous.get("suites", {}))
    with suite_progress(show_progress) as progress:
        for suite in suites:
            lim = limit.get(suite.name) if isinstance(limit, dict) else limit
            samples = spread(suite.samples, lim)
            records = _run_suite(suite, model, run_dir, samples, batch_size, progress)
            summaries[suite.name] = summarize_suite(suite, records)
    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "model": config["model"],
        "created": config["created"],
        "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "suites": summaries,
        "levels": summarize_levels(summaries),
        "not_run": {k: v for k, v in (not_run or {}).items() if k not in summaries},
        "provenance": config["provenance"],
        "run": {"model_calls": model.model_calls - calls_before,
                "seconds": round(time.perf_counter() - started, 3)},
    }
    run_dir.write_results(results)
    return results
