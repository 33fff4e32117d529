"""``instructions/basics``: 24 short verifiable instructions, the Foundation's end-to-end smoke suite."""

from __future__ import annotations

import json
import re
from typing import Any

from alignlab.evaluate import solvers
from alignlab.evaluate._registry import register_suite
from alignlab.evaluate._suite import Output, Sample, Suite
from alignlab.evaluate.metric_info import accuracy
from alignlab.evaluate.stats import mean_metric
from alignlab.suites import builtin_jsonl


def _clean(text: str) -> str:
    return text.strip().strip('"').strip().rstrip(".").strip()


def _last_number(text: str) -> float | None:
    # The answer usually closes a worked line ("7 + 5 = 12"), as in GSM8K-style extraction.
    found = re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    return float(found[-1]) if found else None


def check(spec: dict[str, Any], text: str) -> bool:
    """Apply one rule from the suite's data file to a raw output."""
    kind, value, t = spec["type"], spec.get("value"), text.strip()
    if kind == "equals_word":
        return _clean(t) == value if spec.get("case") else _clean(t).lower() == str(value).lower()
    if kind == "number":
        return _last_number(t) == float(value)
    if kind == "lowercase":
        return bool(t) and t == t.lower()
    if kind == "uppercase":
        return any(c.isalpha() for c in t) and t == t.upper()
    if kind == "contains":
        return str(value).lower() in t.lower()
    if kind == "max_words":
        return 0 < len(t.split()) <= int(value)
    if kind == "bullets":
        return sum(1 for line in t.splitlines() if re.match(r"^\s*[-*]\s+\S", line)) == int(value)
    if kind == "starts_with":
        return t.startswith(str(value))
    if kind == "ends_with":
        return t.endswith(str(value))
    if kind == "no_char":
        return bool(t) and str(value) not in t
    if kind == "json_key":
        body = re.sub(r"^```(?:json)?\s*|\s*```$", "", t)
        try:
            obj = json.loads(body)
        except json.JSONDecodeError:
            return False
        return isinstance(obj, dict) and value in obj
    if kind == "quoted":
        return len(t) >= 2 and t[0] in "\"“" and t[-1] in "\"”"
    if kind == "sections":
        parts = [p for p in re.split(rf"^\s*{re.escape(spec['sep'])}\s*$", t, flags=re.M) if p.strip()]
        return len(parts) == int(value)
    raise ValueError(f"unknown check type {kind!r}")


def _score(sample: Sample, output: Output) -> dict[str, float | None]:
    return {"accuracy": float(check(sample.target, output.text or ""))}


@register_suite("instructions/basics")
def basics(max_tokens: int = 128) -> Suite:
    """Short verifiable instructions scored by rules (no judge)."""
    rows = [row for _, row in builtin_jsonl("basics.jsonl")]
    samples = [Sample(id=r["id"], input=r["prompt"], target=r["check"], metadata={"check": r["check"]["type"]})
               for r in rows]
    return Suite(
        name="instructions/basics",
        level="instructions",
        samples=samples,
        solver=solvers.generate(max_tokens=max_tokens),
        scorer=_score,
        metrics=[mean_metric("accuracy")],
        description="24 short verifiable instructions (format, length, case, exact answers), scored by rules.",
        primary_metric="accuracy",
        pass_scores=("accuracy",),
        metric_info={"accuracy": accuracy(description="share of instructions followed (rule-checked)")},
    )
