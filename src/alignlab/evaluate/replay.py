"""Score responses produced elsewhere with any generation suite: the ordinary runner over a ``responses:`` replay.

Each sample is joined to a recorded response by key (the row's ``key`` or ``id`` equals the sample id), else by
exact prompt text. Nothing is guessed: a join by position in the file happens only with ``fuzzy=True``, and every
such join is reported with the text similarity of the two prompts. A sample without a response fails the run
unless ``partial=True``, which scores the joined samples only and records how many of how many were scored
(results.json ``replay``, shown in the report).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.errors import AlignlabError, DataError
from alignlab.evaluate._registry import build_suite, parse_suite_spec
from alignlab.evaluate._suite import Sample, Suite
from alignlab.evaluate.evaluation import EvalResults
from alignlab.evaluate.rundir import RunDir
from alignlab.evaluate.runner import run_eval
from alignlab.models import Model
from alignlab.models.replay import RecordedResponse, ReplayAPI, file_fingerprint, prompt_text, read_responses

MAX_LISTED = 20


@dataclass
class Join:
    """Samples with their responses (None where none was found) and how each was found."""

    responses: dict[str, str | None]
    """Sample id → response text."""
    by_key: int = 0
    by_text: int = 0
    fuzzy: list[dict[str, Any]] = field(default_factory=list)
    """Joins by position (``fuzzy=True`` only): sample id, response line, similarity of the two prompts."""
    missing: list[str] = field(default_factory=list)
    unused_responses: int = 0

    def summary(self) -> dict[str, Any]:
        """What results.json and config.yaml record about the join."""
        n = len(self.responses)
        return {"n_prompts": n, "n_scored": n - len(self.missing), "by_key": self.by_key, "by_text": self.by_text,
                "fuzzy": [{k: v for k, v in f.items() if k not in ("prompt", "response_prompt")} for f in self.fuzzy],
                "missing": self.missing[:MAX_LISTED], "n_missing": len(self.missing),
                "unused_responses": self.unused_responses}


def join(samples: list[Sample], rows: list[RecordedResponse], *, fuzzy: bool = False) -> Join:
    """Match each sample to a recorded response: by key, else by exact prompt, else (``fuzzy``) by position."""
    by_key = {r.key: i for i, r in enumerate(rows) if r.key is not None}
    by_text = {r.prompt: i for i, r in enumerate(rows) if r.prompt is not None}  # repeated prompt: last row wins
    chosen: list[int | None] = []
    result = Join(responses={})
    for s in samples:
        keys = {s.id, str((s.metadata or {}).get("key", s.id))}
        i = next((by_key[k] for k in keys if k in by_key), None)
        if i is not None:
            result.by_key += 1
        else:
            i = by_text.get(prompt_text(s.input))
            result.by_text += i is not None
        chosen.append(i)
    used = {i for i in chosen if i is not None}
    for pos, (s, i) in enumerate(zip(samples, chosen, strict=True)):
        if i is None and fuzzy and not by_key and pos < len(rows) and pos not in used:
            i = pos
            used.add(i)
            mine, theirs = prompt_text(s.input), rows[i].prompt or ""
            result.fuzzy.append({"id": s.id, "by": "line", "response_line": rows[i].line,
                                 "similarity": round(difflib.SequenceMatcher(None, mine, theirs).ratio(), 3),
                                 "prompt": mine, "response_prompt": theirs})
        if i is None:
            result.missing.append(s.id)
        result.responses[s.id] = None if i is None else rows[i].response
    result.unused_responses = len(rows) - len(used)
    return result


def default_score_out(suite: str, responses: Path, args: dict[str, Any]) -> Path:
    digest = hashlib.sha256(f"{suite}:{sorted(args.items())}:{file_fingerprint(responses)}".encode()).hexdigest()
    return Path("runs") / f"{suite.rsplit('/', 1)[-1]}-{digest[:8]}"


def score_responses(suite: str | Suite, responses: str | Path, out: str | Path | None = None, *,
                    fuzzy: bool = False, partial: bool = False, progress: bool = False) -> tuple[EvalResults, Join]:
    """Score ``responses`` (JSON lines: prompt, response; key optional) with a generation suite into ``out``.

    ``suite`` is a spec (``"values/safety"``, ``"instructions/ifeval:prompts=PATH"``) or a built ``Suite``.
    Returns the results and the join (see the module docstring for ``fuzzy`` and ``partial``).
    """
    responses = Path(responses)
    if isinstance(suite, str):
        name, args = parse_suite_spec(suite)
        built = build_suite(name, **args)
    else:
        built, args = suite, dict(suite.params)
    rows = read_responses(responses)
    joined = join(built.samples, rows, fuzzy=fuzzy)
    n, missing = len(built.samples), joined.missing
    if missing and not partial:
        raise DataError(f"{responses}: {len(missing)} of {n} prompts of {built.name} have no response (first: "
                        f"sample {missing[0]}); joined by key {joined.by_key}, by exact prompt {joined.by_text}",
                        hint="pass --allow-partial to score the others"
                             + ("" if fuzzy else ", or --fuzzy-join to join the rest by line"))
    if not n - len(missing):
        raise AlignlabError(f"{responses}: none of the {n} prompts of {built.name} has a response")
    scored = [s for s in built.samples if joined.responses[s.id] is not None]
    # The replay answers by the prompt text the solver sends, which for generation suites is the sample's input.
    table = {prompt_text(s.input): joined.responses[s.id] for s in scored}
    if len(table) < len(scored):
        _check_one_response_per_prompt(scored, joined)
    run_suite = dataclasses.replace(built, samples=scored) if len(scored) < n else built
    run_suite.name, run_suite.params = built.name, dict(built.params)
    api = ReplayAPI(table, source=str(responses), fingerprint=file_fingerprint(responses))
    api.spec = f"responses:{responses}"
    info = joined.summary()
    run_dir = RunDir.of(out if out is not None else default_score_out(built.name, responses, args))
    with Model(api) as model:
        results = run_eval(model, [run_suite], run_dir.path, show_progress=progress,
                           config_extra={"responses": {"path": str(responses), "n": len(rows)}, "replay": info})
    results["replay"] = info
    run_dir.write_results(results)
    return EvalResults(run_dir, results), joined


def _check_one_response_per_prompt(samples: list[Sample], joined: Join) -> None:
    """Two samples with one prompt text but different responses cannot both be replayed by prompt."""
    seen: dict[str, tuple[str, str | None]] = {}
    for s in samples:
        text, resp = prompt_text(s.input), joined.responses[s.id]
        if text in seen and seen[text][1] != resp:
            raise DataError(f"samples {seen[text][0]} and {s.id} share a prompt but were given different responses",
                            hint="give the responses keys that name the samples")
        seen[text] = (s.id, resp)
