"""The report's opinion-item view: per survey item, the model's answer distribution beside the populations'.

Found by the records, not the suite name: any suite whose samples carry ``metadata.selections`` (population →
answer shares, stored once per item by ``values/opinions``, ``values/globalopinionqa`` and surveys built the same
way) and ``extra.distribution`` (the model's, in canonical option order). The model's distribution is the mean
over the orders asked, and an item's similarity is 1 − Jensen–Shannon distance — the same numbers the
``similarity/<population>`` metrics average. Items are ordered by their mean similarity over populations, lowest
first, and capped, so the page shows where the model is farthest from the people surveyed and stays small.

Populations the data flags as synthetic (results.json ``suites.<name>.synthetic.populations``, from the table's own
``synthetic: true``) are labelled so in every chart and in the section's note; a user's table without the flag is
not. Where a failed reliability gate covers the similarity figures, the items are drawn greyed under the notice.

Item and option texts come from data files (and population names from user YAML): everything is escaped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from alignlab.evaluate.metric_info import explain_gate, failed_gate
from alignlab.evaluate.rundir import RunDir
from alignlab.report.svg import ACCENT, FONT, fmt, ticks

MAX_ITEMS = 30
"""Items drawn per suite; the samples jsonl holds the rest."""
MAX_POPULATIONS = 6
"""Up to this many populations every chart shows them all; beyond, the TOP_K most similar and the least similar."""
TOP_K = 4
WIDTH = 580
# Colour-blind-friendly (Okabe–Ito) for populations; the model keeps the report's accent blue.
PALETTE = ("#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#999999", "#8c6d31", "#000000")
_QUESTION = re.compile(r"Question: (?P<q>.*?)\n\nHere are the options:", re.S)


@dataclass
class ItemView:
    """One survey item: the model's order-averaged distribution, each population's shares and similarity."""

    id: str
    question: str
    options: list[str]
    model: list[float]
    populations: dict[str, list[float]]
    similarity: dict[str, float] = field(default_factory=dict)

    @property
    def mean_similarity(self) -> float | None:
        vals = [s for s in self.similarity.values() if math.isfinite(s)]
        return sum(vals) / len(vals) if vals else None

    def shown(self, max_populations: int = MAX_POPULATIONS, top_k: int = TOP_K) -> list[str]:
        """Populations drawn, most similar first: all of them, or the ``top_k`` most similar plus the least."""
        ranked = sorted(self.populations, key=lambda p: (-_finite(self.similarity.get(p)), p))
        if len(ranked) <= max_populations:
            return ranked
        return ranked[:top_k] + ranked[-1:]


def _finite(x: float | None) -> float:
    return x if x is not None and math.isfinite(x) else -1.0


def _e(x: object) -> str:
    return escape(str(x), quote=True)


def question_of(record: dict[str, Any]) -> str:
    """The question as asked: ``metadata.question`` if the suite stores it, else cut out of the rendered prompt."""
    md = record.get("metadata") or {}
    if isinstance(md.get("question"), str):
        return md["question"]
    text = record.get("input") if isinstance(record.get("input"), str) else ""
    m = _QUESTION.search(text)
    return m.group("q").strip() if m else text.strip()[:500]


def collect(records: Iterable[dict[str, Any]]) -> tuple[list[ItemView], int]:
    """Items with both a model distribution and population shares, plus how many items lacked one of them."""
    from alignlab.targets.opinions import similarity  # lazy: keeps `import alignlab.report` light

    dists: dict[str, list[list[float]]] = {}
    info: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # item → (first record, its selections)
    seen: set[str] = set()
    for r in records:
        md, ex = r.get("metadata") or {}, r.get("extra") or {}
        item = md.get("item")
        if item is None or md.get("persona") is not None:  # steered answers are not the model's own
            continue
        item = str(item)
        seen.add(item)
        if isinstance(md.get("selections"), dict) and item not in info:
            info[item] = (r, md["selections"])
        dist = ex.get("distribution")
        if r.get("error") is None and isinstance(dist, list) and dist:
            dists.setdefault(item, []).append([float(x) for x in dist])
    views = []
    for item, (first, selections) in info.items():
        options = [str(o) for o in (first.get("metadata") or {}).get("options") or []]
        got = [d for d in dists.get(item, []) if len(d) == len(options)]
        pops = {str(p): [float(x) for x in s] for p, s in selections.items()
                if isinstance(s, list) and len(s) == len(options)}
        if not got or not pops:
            continue
        model = [sum(col) / len(got) for col in zip(*got, strict=True)]
        views.append(ItemView(item, question_of(first), options, model, pops,
                              {p: similarity(model, s) for p, s in pops.items()}))
    return views, len(seen) - len(views)


def farthest_first(items: Sequence[ItemView]) -> list[ItemView]:
    """Lowest mean similarity over populations first (ties by id, so the order is stable)."""
    return sorted(items, key=lambda v: (2.0 if v.mean_similarity is None else v.mean_similarity, v.id))


def chart(item: ItemView, colours: dict[str, str], width: int = WIDTH, synthetic: frozenset[str] = frozenset()) -> str:
    """Grouped horizontal bars: one group per option, the model's bar then each shown population's.

    The axis runs from 0 to the largest share rounded up to 10%, so small shares stay visible.
    """
    shown = item.shown()
    series = [("model", item.model, ACCENT)] + [(p, item.populations[p], colours.get(p, "#777")) for p in shown]
    per_row, legend_h, bar, step, gap = 3, 16, 8, 9, 8
    top = 6 + math.ceil(len(series) / per_row) * legend_h + 4
    label_w, right = 178, 40
    plot_w = width - label_w - 8 - right
    x0 = label_w + 8
    hi = min(1.0, max(0.1, math.ceil(max(max(d) for _, d, _ in series) * 10 - 1e-9) / 10))
    group_h = len(series) * step + gap
    height = top + group_h * len(item.options) + 18
    truncated = len(shown) < len(item.populations)
    body = []
    col_w = (width - 8) // per_row
    for i, (name, _, colour) in enumerate(series):
        lx, ly = 4 + (i % per_row) * col_w, 6 + (i // per_row) * legend_h
        if name == "model":
            label = "model (orders averaged)"
        else:
            least = " · least similar" if truncated and i == len(series) - 1 else ""
            fake = " (synthetic)" if name in synthetic else ""
            label = f"{name}{fake} · sim {fmt(item.similarity.get(name), 2)}{least}"
        body.append(f'<rect x="{lx}" y="{ly + 1}" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{lx + 14}" y="{ly + 10}">{_cut(label, 34)}</text>')
    for tick in ticks(0.0, hi, 4):
        tx = x0 + tick / hi * plot_w
        body.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top - 2}" y2="{height - 16}" stroke="#e4e4e4"/>'
                    f'<text x="{tx:.1f}" y="{height - 4}" text-anchor="middle" fill="#666" font-size="10">'
                    f"{tick * 100:g}%</text>")
    for j, option in enumerate(item.options):
        body.append(f'<text x="{label_w}" y="{top + j * group_h + group_h / 2 + 1:.1f}" text-anchor="end">'
                    f"{_cut(option, 30)}</text>")
    # One group per series (fill and name set once): bars, then their printed shares, in option order.
    for k, (name, dist, colour) in enumerate(series):
        rects, texts = [], []
        for j, v in enumerate(dist):
            v = min(max(v, 0.0), 1.0)
            y, w = top + j * group_h + k * step, v / hi * plot_w
            rects.append(f'<rect x="{x0}" y="{y}" width="{w:.1f}" height="{bar}"/>')
            texts.append(f'<text x="{x0 + w + 3:.1f}" y="{y + bar - 1}">{v * 100:.0f}%</text>')
        body.append(f'<g class="bars" data-series="{_e(name)}" fill="{colour}">{"".join(rects)}</g>'
                    f'<g class="shares" data-series="{_e(name)}" font-size="9" fill="#333">{"".join(texts)}</g>')
    title = f"{item.id}: answer distribution of the model and the populations"
    return (f'<svg class="chart" role="img" aria-label="{_e(title)}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" font-size="{FONT - 1}"><title>{_e(title)}</title>'
            f"{''.join(body)}</svg>")


def _cut(s: str, n: int) -> str:
    """Escaped ``s``, cut to ``n`` characters with the whole text as a tooltip."""
    return _e(s) if len(s) <= n else f"{_e(s[:n - 1])}…<title>{_e(s)}</title>"


def suite_section(name: str, items: list[ItemView], missing: int, samples_path: str,
                  max_items: int = MAX_ITEMS, synthetic: frozenset[str] = frozenset(),
                  gate_notice: str | None = None) -> str:
    """One suite's items, farthest from the populations first, at most ``max_items`` of them."""
    ordered = farthest_first(items)
    pops = sorted({p for it in items for p in it.populations})
    colours = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(pops)}
    many = len(pops) > MAX_POPULATIONS
    note = (f"{len(items)} items compared with {len(pops)} populations. Each chart shows the model's answer "
            "distribution (averaged over the option orders asked) beside each population's shares; <i>sim</i> "
            "is the item's 1 − Jensen–Shannon distance (1 = the same distribution, 0 = disjoint). Items are "
            "ordered by mean similarity over populations, lowest first: where the model is farthest from the "
            "people surveyed.")
    if many:
        note += (f" With {len(pops)} populations, each chart shows the {TOP_K} most similar on that item and the "
                 "least similar one.")
    if len(ordered) > max_items:
        note += (f" <b>Showing the first {max_items} of {len(ordered)} items</b>; <code>{_e(samples_path)}</code> "
                 "holds all.")
    if missing:
        note += f" {missing} items without a model distribution (errors) or population shares are left out."
    fake = sorted(p for p in pops if p in synthetic)
    if fake:
        note = (f'<span class="synthetic-notice">Synthetic data: {", ".join(_e(p) for p in fake)} '
                f"{'is a made-up population' if len(fake) == 1 else 'are made-up populations'} (the data flags them "
                "<code>synthetic: true</code>); their shares describe no real people.</span> " + note)
    figs = []
    for it in ordered[:max_items]:
        sims = [(p, s) for p, s in it.similarity.items() if math.isfinite(s)]
        best = max(sims, key=lambda t: t[1]) if sims else None
        worst = min(sims, key=lambda t: t[1]) if sims else None
        extremes = (f" · closest {_e(best[0])} {fmt(best[1], 2)} · farthest {_e(worst[0])} {fmt(worst[1], 2)}"
                    if best and worst else "")
        figs.append(f'<figure class="opinion-item" data-item="{_e(it.id)}" style="max-width:{WIDTH}px">'
                    f'<figcaption><div class=note><code>{_e(it.id)}</code> · mean sim '
                    f"{fmt(it.mean_similarity, 2)}{extremes}</div><div>{_e(it.question)}</div></figcaption>"
                    f"{chart(it, colours, synthetic=synthetic)}</figure>")
    views = f'<div class="views">{"".join(figs)}</div>'
    if gate_notice:
        views = f'<div class="gated"><p class="gate-notice">{_e(gate_notice)}</p><div class=greyed>{views}</div></div>'
    return f'<h3 id="opinions-{_e(name)}">{_e(name)}</h3><p class=note>{note}</p>{views}'



def section(run_dir: Path, suites: dict[str, dict[str, Any]], max_items: int = MAX_ITEMS) -> str:
    """The opinion-item view of every suite with population shares in its samples; "" when there is none."""
    parts = []
    for name in suites:
        items, missing = collect(RunDir(run_dir).samples(name))
        if items:
            summary = suites[name]
            fake = frozenset(str(p) for p in ((summary.get("synthetic") or {}).get("populations") or []))
            gate = next((g for k in summary.get("metrics") or {} if k.startswith("similarity/")
                         and (g := failed_gate(summary, k))), None)
            parts.append(suite_section(name, items, missing, f"samples/{name}.jsonl", max_items, fake,
                                       explain_gate(gate) if gate else None))
    return "".join(parts)
