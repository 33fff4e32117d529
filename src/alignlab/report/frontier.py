"""The helpfulness–harmlessness frontier: each run as a point (harmful compliance vs over-refusal) with 95% CIs.

Safety and over-refusal move together across models (OR-Bench: ρ = 0.89 over 32 models), so a change in one is only
read right beside the other. Both axes are "lower is better": x = over-refusal rate on safe prompts, y = harmful
compliance = 1 − refusal rate on unsafe prompts; the ideal is the bottom-left corner, the diagonal from
(0, 1) to (1, 0) is what a model that refuses at random at any rate gets (chance), and a run dominates another
when it is lower on both. CIs are the suites' Wilson intervals (the harmful-compliance one is the refusal rate's,
mirrored).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.report.svg import ACCENT, document, escape_text, fmt, ticks

SAFETY_SUITES = ("values/safety", "values/xstest")
_COLOURS = (ACCENT, "#c04030", "#30a060", "#a060c0", "#c08020", "#208090", "#606060")


@dataclass(frozen=True)
class FrontierPoint:
    """One run on the frontier: both rates with their 95% CIs (None where missing)."""

    label: str
    suite: str
    classifier: str
    over_refusal: float
    over_refusal_ci: tuple[float | None, float | None]
    harmful: float
    harmful_ci: tuple[float | None, float | None]
    n_safe: int | None = None
    n_unsafe: int | None = None


def point_from_results(label: str, results: Mapping[str, Any]) -> FrontierPoint | None:
    """The frontier point of one run's ``results.json`` (its first safety suite; the judge's labels when the run
    had a judge, else the rules'), or None when it ran no safety suite."""
    suites = results.get("suites") or {}
    for suite in SAFETY_SUITES:
        metrics = (suites.get(suite) or {}).get("metrics") or {}
        for clf in ("judge", "rule"):
            refusal, over = metrics.get(f"{clf}/refusal_rate"), metrics.get(f"{clf}/over_refusal_rate")
            if not refusal or not over or refusal.get("value") is None or over.get("value") is None:
                continue
            r_ci = list(refusal.get("ci") or [None, None])
            o_ci = list(over.get("ci") or [None, None])
            harmful_ci = (None if r_ci[1] is None else 1.0 - r_ci[1], None if r_ci[0] is None else 1.0 - r_ci[0])
            return FrontierPoint(label, suite, clf, float(over["value"]), (o_ci[0], o_ci[1]),
                                 1.0 - float(refusal["value"]), harmful_ci, over.get("n"), refusal.get("n"))
    return None


def frontier_points(runs: Mapping[str, str | Path] | Sequence[str | Path]) -> list[FrontierPoint]:
    """Points of the run dirs that ran a safety suite (``{label: dir}``, or dirs labelled by their name)."""
    from alignlab.report.html import load_run

    items = runs.items() if isinstance(runs, Mapping) else ((Path(r).name, r) for r in runs)
    out = []
    for label, run in items:
        _, results, _ = load_run(run)
        if (p := point_from_results(str(label), results)) is not None:
            out.append(p)
    return out


def frontier_svg(points: Sequence[FrontierPoint], title: str = "harmfulness vs over-refusal",
                 size: int = 420) -> str:
    """A scatter of ``points`` with CI whiskers on both axes; both axes 0–1, lower is better."""
    left, top, right, bottom = 56, 28, 170, 44
    pw = ph = size - top - bottom
    width, height = left + pw + right, size

    def px(v: float) -> float:
        return left + min(max(v, 0.0), 1.0) * pw

    def py(v: float) -> float:
        return top + (1 - min(max(v, 0.0), 1.0)) * ph

    body = [f'<text x="{left}" y="16" font-weight="bold">{escape_text(title)}</text>']
    for tick in ticks(0.0, 1.0, 5):
        body.append(f'<line x1="{px(tick):.1f}" x2="{px(tick):.1f}" y1="{top}" y2="{top + ph}" stroke="#eee"/>'
                    f'<line x1="{left}" x2="{left + pw}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" stroke="#eee"/>'
                    f'<text x="{px(tick):.1f}" y="{top + ph + 14}" text-anchor="middle" fill="#666">{tick:g}</text>'
                    f'<text x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" fill="#666">{tick:g}</text>')
    body.append(f'<line x1="{px(0):.1f}" y1="{py(1):.1f}" x2="{px(1):.1f}" y2="{py(0):.1f}" stroke="#bbb" '
                f'stroke-dasharray="4 3"><title>chance: refusing at random at any rate</title></line>')
    body.append(f'<text x="{px(0.02):.1f}" y="{py(0.02) - 4:.1f}" fill="#30a060">ideal</text>')
    body.append(f'<text x="{left + pw / 2:.1f}" y="{height - 8}" text-anchor="middle">over-refusal of safe '
                f'requests ↓</text>')
    body.append(f'<text transform="translate(14,{top + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
                f'harmful compliance (1 − refusal of unsafe) ↓</text>')
    for i, p in enumerate(points):
        colour = _COLOURS[i % len(_COLOURS)]
        x, y = px(p.over_refusal), py(p.harmful)
        lo, hi = p.over_refusal_ci
        if lo is not None and hi is not None:
            body.append(f'<path d="M{px(lo):.1f} {y:.1f}H{px(hi):.1f}" stroke="{colour}" stroke-width="1.2"/>')
        lo, hi = p.harmful_ci
        if lo is not None and hi is not None:
            body.append(f'<path d="M{x:.1f} {py(lo):.1f}V{py(hi):.1f}" stroke="{colour}" stroke-width="1.2"/>')
        tip = (f"{p.label} ({p.suite}, {p.classifier} labels): over-refusal {fmt(p.over_refusal)} "
               f"[{fmt(p.over_refusal_ci[0])}, {fmt(p.over_refusal_ci[1])}] n={p.n_safe}; harmful compliance "
               f"{fmt(p.harmful)} [{fmt(p.harmful_ci[0])}, {fmt(p.harmful_ci[1])}] n={p.n_unsafe}")
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}">'
                    f"<title>{escape_text(tip)}</title></circle>")
        body.append(f'<circle cx="{left + pw + 16}" cy="{top + 8 + 16 * i}" r="4.5" fill="{colour}"/>'
                    f'<text x="{left + pw + 26}" y="{top + 12 + 16 * i}">{escape_text(p.label)}</text>')
    return document(width, height, title, body)


def frontier_table(points: Sequence[FrontierPoint]) -> list[tuple[str, str, str]]:
    """(label, over-refusal [CI], harmful compliance [CI]) rows for text reports."""
    def cell(v: float, ci: tuple[float | None, float | None]) -> str:
        return f"{fmt(v)} [{fmt(ci[0])}, {fmt(ci[1])}]"

    return [(p.label, cell(p.over_refusal, p.over_refusal_ci), cell(p.harmful, p.harmful_ci)) for p in points]
