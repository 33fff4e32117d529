"""Run suites against a model into a run directory, resumably.

Layout: ``config.yaml`` (resolved config, versions, model fingerprint), ``samples/<suite>.jsonl`` (one record per
sample), ``results.json`` (metrics per suite and per level). Finished samples are journaled to
``samples/<suite>.jsonl.partial`` (fsynced per chunk) so a killed run, started again with the same command, redoes
only what is missing; the final files are written atomically.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from alignlab._atomic import write_json_atomic, write_jsonl_atomic, write_text_atomic
from alignlab.errors import AlignlabError
from alignlab.evaluate._suite import Output, Sample, Suite
from alignlab.models import Model
from alignlab.targets.levels import LEVELS

RESULTS_SCHEMA_VERSION = 1
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


def suite_file(out: Path, suite_name: str) -> Path:
    return out / "samples" / f"{suite_name}.jsonl"


def _identity(model: Model, limit: int | dict[str, int] | None) -> dict[str, Any]:
    return {"spec": model.spec, "fingerprint": model.fingerprint(), "system": model.system, "limit": limit}


def _prepare_dir(out: Path, model: Model, suites: Sequence[Suite], limit: int | dict[str, int] | None,
                 extra: dict) -> dict:
    """Write config.yaml, refusing to mix a different model or config into an existing run directory."""
    ident = _identity(model, limit)
    cfg_path = out / "config.yaml"
    previous: dict[str, Any] = {}
    if cfg_path.exists():
        previous = yaml.safe_load(cfg_path.read_text()) or {}
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
        "command": " ".join(sys.argv),
        **extra,
    }
    write_text_atomic(cfg_path, yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return config


def _read_jsonl_tolerant(path: Path) -> list[dict[str, Any]]:
    """Read a journal; a last line cut off by a kill is ignored (its sample is simply redone)."""
    rows = []
    if not path.exists():
        return rows
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return rows


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


def _run_suite(suite: Suite, model: Model, out: Path, samples: list[Sample], batch_size: int, progress) -> list[dict]:
    final, journal = suite_file(out, suite.name), suite_file(out, suite.name).with_suffix(".jsonl.partial")
    journal.parent.mkdir(parents=True, exist_ok=True)
    done: dict[str, dict[str, Any]] = {}
    # Earlier results count as finished unless they ended in an error, which a new run retries.
    for row in _read_jsonl_tolerant(final) + _read_jsonl_tolerant(journal):
        if row.get("error") is None and row["id"] not in done:
            done[row["id"]] = row
    wanted = {s.id for s in samples}
    done = {k: v for k, v in done.items() if k in wanted}
    todo = [s for s in samples if s.id not in done]
    task = progress.add_task(suite.name, total=len(samples), completed=len(samples) - len(todo), rate="")
    # Rewrite the journal from what survived, so a cut-off line never sits before new lines.
    write_jsonl_atomic(journal, done.values())
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
    write_jsonl_atomic(final, records)
    journal.unlink(missing_ok=True)
    return records


def summarize_suite(suite: Suite, records: list[dict[str, Any]]) -> dict[str, Any]:
    errs = Counter(r["error"][:160] for r in records if r.get("error"))
    metrics: dict[str, Any] = {}
    for metric in suite.metrics:
        metrics.update(metric(records))
    return {
        "level": suite.level,
        "description": suite.description,
        "version": suite.version,
        "n": len(records),
        "n_errors": sum(errs.values()),
        "errors": dict(errs),
        "primary_metric": suite.primary_metric,
        "metrics": metrics,
    }


def summarize_levels(suites: dict[str, dict[str, Any]]) -> dict[str, Any]:
    levels: dict[str, Any] = {}
    for level in LEVELS:
        names = [n for n, s in suites.items() if s["level"] == level]
        prim = [suites[n]["metrics"].get(suites[n]["primary_metric"] or "", {}).get("value") for n in names]
        prim = [p for p in prim if p is not None]
        levels[level] = {"suites": names, "score": sum(prim) / len(prim) if prim else None}
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
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = _prepare_dir(out, model, suites, limit, config_extra or {})
    calls_before = model.model_calls
    started = time.perf_counter()
    results_path = out / "results.json"
    previous = json.loads(results_path.read_text()) if results_path.exists() else {}
    summaries: dict[str, Any] = dict(previous.get("suites", {}))
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    with Progress(*columns, disable=not show_progress, transient=False) as progress:
        for suite in suites:
            lim = limit.get(suite.name) if isinstance(limit, dict) else limit
            samples = spread(suite.samples, lim)
            records = _run_suite(suite, model, out, samples, batch_size, progress)
            summaries[suite.name] = summarize_suite(suite, records)
    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "model": config["model"],
        "created": config["created"],
        "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "suites": summaries,
        "levels": summarize_levels(summaries),
        "not_run": {k: v for k, v in (not_run or {}).items() if k not in summaries},
        "run": {"model_calls": model.model_calls - calls_before,
                "seconds": round(time.perf_counter() - started, 3)},
    }
    write_json_atomic(results_path, results)
    return results
