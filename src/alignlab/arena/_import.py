"""Load evaluation runs into the arena as prompts × models, and judge or reward-model verdicts on pairs.

A run directory holds ``config.yaml`` (the model spec) and ``samples/<level>/<suite>.jsonl``; every sample with a
free-text output (a non-empty string ``output``, no ``choices``, no ``error``) becomes a response to the prompt
``<level>/<suite>/<sample id>``. Models meet on the same prompt key; a run whose input differs from the stored one
for that key (another system prompt, another template) is skipped for that prompt and counted, never mixed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from alignlab.arena._db import write
from alignlab.arena._models import Prompt, Response, Verdict
from alignlab.data import json_lines
from alignlab.errors import DataError
from alignlab.evaluate.rundir import RunDir
from alignlab.files import read_text

WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")


@dataclass
class ImportReport:
    """What ``import_runs`` did."""

    prompts: int = 0
    """New prompts."""
    responses: int = 0
    """New responses."""
    unchanged: int = 0
    """Responses already in the database (importing a run twice changes nothing)."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Samples left out, by reason."""

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def prompt_text(value: Any) -> str:
    """A sample input as annotators read it: a string as is, chat messages as ``role: content`` blocks."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n\n".join(f"{m.get('role', '?')}: {m.get('content', '')}" if isinstance(m, dict) else str(m)
                           for m in value)
    return json.dumps(value, ensure_ascii=False)


def _model_name(run: Path) -> str:
    run_dir = RunDir(run)
    if not run_dir.config_path.is_file():
        raise DataError(f"{run}: not a run directory (no config.yaml)", hint="pass the directory `alignlab eval` "
                        "wrote, or NAME=DIR")
    data, cfg = run_dir.read_config(), run_dir.config_path
    spec = (data.get("model") or {}).get("spec") or (data.get("identity") or {}).get("spec")
    if not isinstance(spec, str) or not spec:
        raise DataError(f"{cfg}: field 'model.spec': expected the model spec", hint="or name it: NAME=DIR")
    return spec


def parse_run_arg(arg: str) -> tuple[str, Path]:
    """``DIR`` or ``NAME=DIR`` -> (model name, run dir); the name defaults to the spec in config.yaml."""
    name, sep, path = arg.partition("=")
    if sep and name and not Path(arg).exists():
        return name, Path(path)
    return _model_name(Path(arg)), Path(arg)


def _numeric_scores(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict):
        return None
    out = {k: float(v) for k, v in value.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return out or None


def _samples(run: Path) -> Iterable[tuple[str, int, dict[str, Any]]]:
    run_dir = RunDir(run)
    if not run_dir.samples_dir.is_dir():
        raise DataError(f"{run}: no samples/ directory", hint="run `alignlab eval` first")
    any_rows = False
    for suite, path in run_dir.sample_files():
        for n, rec in json_lines(read_text(path), str(path)):
            if "id" not in rec:
                raise DataError(f"{path}:{n}: field 'id': expected a sample record with an id")
            any_rows = True
            yield suite, n, rec
    if not any_rows:  # importing nothing is not a success
        raise DataError(f"{run_dir.samples_dir}: no samples in any samples/**/*.jsonl",
                        hint="run `alignlab eval` first")


def import_runs(engine: Engine, runs: Iterable[tuple[str, Path]]) -> ImportReport:
    """Import ``(model name, run dir)`` pairs; idempotent. Returns counts of what was added and skipped."""
    report = ImportReport()
    with write(engine) as conn, conn.begin():
        prompts = {r.key: (r.id, r.input) for r in conn.execute(select(Prompt.id, Prompt.key, Prompt.input))}
        have = {(r.prompt_id, r.model) for r in conn.execute(select(Response.prompt_id, Response.model))}
        for model, run in runs:
            for suite, _line, rec in _samples(run):
                out = rec.get("output")
                if rec.get("error") is not None:
                    report.skip("error")
                    continue
                if rec.get("choices") or not isinstance(out, str) or not out.strip():
                    report.skip("no free-text output")
                    continue
                key = f"{suite}/{rec['id']}"
                inp = rec.get("input")
                if key not in prompts:
                    pid = conn.execute(Prompt.__table__.insert().values(
                        key=key, suite=suite, text=prompt_text(inp), input=inp)).inserted_primary_key[0]
                    prompts[key] = (pid, inp)
                    report.prompts += 1
                pid, stored = prompts[key]
                if stored != inp:
                    report.skip("input differs from the stored prompt")
                    continue
                if (pid, model) in have:
                    report.unchanged += 1
                    continue
                conn.execute(Response.__table__.insert().values(
                    prompt_id=pid, model=model, text=out, scores=_numeric_scores(rec.get("scores")), run=str(run)))
                have.add((pid, model))
                report.responses += 1
    return report


def import_verdicts(engine: Engine, path: Path, source: str) -> int:
    """Load pairwise verdicts of a judge or reward model (JSONL: ``prompt`` key, ``model_a``, ``model_b``,
    ``winner``); returns how many were new. Unknown prompt keys raise ``DataError`` naming FILE:LINE."""
    rows = []
    with engine.connect() as conn:
        prompts = dict(conn.execute(select(Prompt.key, Prompt.id)).all())
    for n, rec in json_lines(read_text(path), str(path)):
        for f in ("prompt", "model_a", "model_b", "winner"):
            if not isinstance(rec.get(f), str):
                raise DataError(f"{path}:{n}: field '{f}': expected a string, got {rec.get(f)!r}")
        if rec["winner"] not in WINNERS:
            raise DataError(f"{path}:{n}: field 'winner': expected one of {', '.join(WINNERS)}")
        if rec["prompt"] not in prompts:
            raise DataError(f"{path}:{n}: field 'prompt': unknown prompt {rec['prompt']!r}",
                            hint="import the runs first; keys are <level>/<suite>/<sample id>")
        rows.append(dict(source=source, prompt_id=prompts[rec["prompt"]], model_a=rec["model_a"],
                         model_b=rec["model_b"], winner=rec["winner"]))
    if not rows:
        raise DataError(f"{path}: no verdicts", hint="the file is empty")
    added = 0
    with write(engine) as conn, conn.begin():
        seen = {(r.prompt_id, r.model_a, r.model_b) for r in conn.execute(
            select(Verdict.prompt_id, Verdict.model_a, Verdict.model_b).where(Verdict.source == source))}
        for row in rows:
            if (row["prompt_id"], row["model_a"], row["model_b"]) not in seen:
                conn.execute(Verdict.__table__.insert().values(**row))
                seen.add((row["prompt_id"], row["model_a"], row["model_b"]))
                added += 1
    return added
