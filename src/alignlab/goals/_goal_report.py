"""Before/after comparison of a goal run: deltas with CIs (``summary.json``) and a self-contained ``report.html``.

Deltas. A metric whose suite declares it the ``mean`` (or class-``balanced_mean``) of a per-sample score (see
``alignlab.evaluate.metric_info``: the score ``of``, the items ``where`` selects, the classes ``by``) is compared
item by item: both runs scored the same items, so the difference is estimated from the paired per-item
differences with a percentile bootstrap over items (seeded, ``N_BOOT`` resamples; within each class for a balanced
mean). Pairing removes the between-item variance that two independent CIs would double-count, so a paired CI is
much narrower when items differ a lot in difficulty. Items missing or failed in either run are left out of the
pairing (``n`` says how many remain). Any other metric (a statistic over the whole set, or one without a
declaration, e.g. from a version-1 run) with standard errors in both runs gets the unpaired normal interval
Δ ± 1.96·√(se_a² + se_b²); metrics with neither get no CI. Every delta records which method made its CI.
"""

from __future__ import annotations

import base64
import json
import math
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from alignlab.evaluate.metric_info import declared, selects
from alignlab.evaluate.rundir import RunDir
from alignlab.report import TAXONOMY, page, svg
from alignlab.report.svg import Point, fmt

N_BOOT = 2000
Z95 = 1.959963984540054
PAIRED = "paired bootstrap over items"
UNPAIRED = "independent normal (stderrs)"


def paired_bootstrap(before: Any, after: Any, *, classes: Any = None, n_boot: int = N_BOOT, seed: int = 0,
                     confidence: float = 0.95) -> dict[str, Any]:
    """Mean paired difference ``after - before`` over items with a percentile bootstrap CI (items resampled with
    replacement, the same resample for both runs). With ``classes`` (one label per item) the difference is the
    class-balanced mean, and items are resampled within their class. Hand-written: scipy's ``bootstrap``
    resamples pairs too but is far slower for thousands of small metrics, and this is a few lines of numpy."""
    a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("paired_bootstrap needs two equal-length 1-d sequences")
    d = b - a
    n = int(d.size)
    if n == 0:
        return {"value": None, "ci": [None, None], "n": 0, "method": PAIRED}
    groups = [d] if classes is None else [d[np.asarray(classes) == c] for c in dict.fromkeys(classes)]
    rng = np.random.default_rng(seed)
    means = np.zeros(n_boot)
    for g in groups:
        chunk = max(1, 2_000_000 // g.size)  # bounded memory for large suites
        for start in range(0, n_boot, chunk):
            k = min(chunk, n_boot - start)
            means[start:start + k] += g[rng.integers(0, g.size, size=(k, g.size))].mean(axis=1) / len(groups)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return {"value": float(np.mean([g.mean() for g in groups])), "ci": [float(lo), float(hi)], "n": n,
            "method": PAIRED, "n_boot": n_boot, "seed": seed}


def read_samples(run_dir: Path, suite: str) -> dict[str, dict[str, Any]]:
    """A run's finished records of one suite by sample id (failed ones left out)."""
    return {str(row["id"]): row for row in RunDir(run_dir).samples(suite)
            if row.get("error") is None and row.get("scores")}


def _num(x: Any) -> float | None:
    return svg.number(x)


def _paired(m_before: dict, m_after: dict, before: dict[str, dict], after: dict[str, dict],
            seed: int) -> dict[str, Any] | None:
    """The paired bootstrap for a metric both runs declare as the same (balanced) mean of a per-sample score."""
    info, other = declared(m_after), declared(m_before)
    if info is None or info != other or info.aggregation not in ("mean", "balanced_mean") or not info.of:
        return None
    pairs, classes = [], []
    for sid, rb in before.items():
        ra = after.get(sid)
        if ra is None or not selects(info, rb):
            continue
        vb, va = _num(rb["scores"].get(info.of)), _num(ra["scores"].get(info.of))
        if vb is not None and va is not None:
            pairs.append((vb, va))
            classes.append(str((rb.get("metadata") or {}).get(info.by)))
    if not pairs:
        return None
    arr = np.asarray(pairs)
    return paired_bootstrap(arr[:, 0], arr[:, 1], classes=classes if info.by else None, seed=seed)


def _delta(mb: dict, ma: dict, before: dict, after: dict, seed: int) -> dict[str, Any]:
    vb, va = _num(mb.get("value")), _num(ma.get("value"))
    if vb is None or va is None:
        return {"value": None, "ci": [None, None], "method": None}
    paired = _paired(mb, ma, before, after, seed)
    if paired is not None:
        # The headline delta is the difference of the reported metrics; the CI comes from the paired items.
        return {**paired, "value": va - vb, "paired_mean": paired["value"]}
    sb, sa = _num(mb.get("stderr")), _num(ma.get("stderr"))
    if sb is not None and sa is not None:
        half = Z95 * math.hypot(sb, sa)
        return {"value": va - vb, "ci": [va - vb - half, va - vb + half], "method": UNPAIRED}
    return {"value": va - vb, "ci": [None, None], "method": None}


def _side(m: dict[str, Any]) -> dict[str, Any]:
    return {"value": _num(m.get("value")), "ci": list(m.get("ci") or [None, None])[:2], "n": m.get("n"),
            "stderr": _num(m.get("stderr"))}


def compare(before_dir: Path, after_dir: Path, *, seed: int = 0) -> dict[str, Any]:
    """Per suite and metric: before, after and the delta with its CI and method."""
    rb, ra = RunDir(before_dir).read_results(), RunDir(after_dir).read_results()
    out: dict[str, Any] = {}
    for name, sb in (rb.get("suites") or {}).items():
        sa = (ra.get("suites") or {}).get(name)
        if sa is None:
            continue
        before, after = read_samples(before_dir, name), read_samples(after_dir, name)
        metrics = {}
        for metric, mb in (sb.get("metrics") or {}).items():
            ma = (sa.get("metrics") or {}).get(metric)
            if not isinstance(mb, dict) or not isinstance(ma, dict) or _num(mb.get("value")) is None:
                continue
            metrics[metric] = {"before": _side(mb), "after": _side(ma),
                               "delta": _delta(mb, ma, before, after, seed)}
        out[name] = {"level": sb.get("level"), "primary_metric": sb.get("primary_metric"), "n_before": sb.get("n"),
                     "n_after": sa.get("n"), "n_paired": len(before.keys() & after.keys()), "metrics": metrics}
    return out


# -- report.html --------------------------------------------------------------------------------------------------


def _e(x: object) -> str:
    return escape("—" if x is None else str(x), quote=True)


def _ci(c: list | None) -> str:
    lo, hi = (list(c or []) + [None, None])[:2]
    return "" if lo is None or hi is None else f" [{fmt(lo)}, {fmt(hi)}]"


def _signed(x: float | None) -> str:
    return "—" if x is None else f"{x:+.3f}"


def _show(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return json.dumps(v, default=str) if isinstance(v, dict | list) else str(v) if v is not None else "—"


def _kv(d: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(_show(v))}</td></tr>" for k, v in d.items())
    return f"<table>{rows}</table>" if rows else "<p class=empty>none</p>"


def _order(metrics: dict[str, Any], primary: str | None) -> list[str]:
    head = [primary] if primary in metrics else []
    plain = [m for m in metrics if m not in head and "/" not in m]
    return head + plain + [m for m in metrics if "/" in m]


_TABLE_HEAD = ("<tr><th>metric</th><th>before [95% CI]</th><th>after [95% CI]</th>"
               "<th>Δ after − before [95% CI]</th><th>CI method</th></tr>")


def _suite_section(name: str, s: dict[str, Any]) -> str:
    primary = s.get("primary_metric")
    rows: list[str] = []
    for metric in _order(s["metrics"], primary):
        m = s["metrics"][metric]
        d = m["delta"]
        sig = d.get("ci") and None not in d["ci"] and (d["ci"][0] > 0 or d["ci"][1] < 0)
        delta = f"{_signed(d.get('value'))}{_ci(d.get('ci'))}"
        n = f" (n={d['n']})" if d.get("n") else ""
        rows.append(f"<tr><td>{'<b>' if metric == primary else ''}{_e(metric)}{'</b>' if metric == primary else ''}"
                    f"</td><td class=num>{_e(fmt(m['before']['value']) + _ci(m['before']['ci']))}</td>"
                    f"<td class=num>{_e(fmt(m['after']['value']) + _ci(m['after']['ci']))}</td>"
                    f"<td class=num>{'<b>' if sig else ''}{_e(delta)}{'</b>' if sig else ''}</td>"
                    f"<td class=note>{_e((d.get('method') or 'no CI') + n)}</td></tr>")
    chart = ""
    if primary in s["metrics"]:
        m = s["metrics"][primary]
        pts = [Point.of("before", m["before"]), Point.of("after", m["after"])]
        chart = f"<figure>{svg.bars(pts, f'{name}: {primary}', label_width=80, width=480)}</figure>"
    # Per-subset and per-section breakdowns (metric names with a "/") fold away below the headline metrics.
    n_main = sum(1 for m in s["metrics"] if m == primary or "/" not in m)
    main, detail = rows[:n_main], rows[n_main:]
    folded = (f"<details><summary>{len(detail)} breakdown metrics (per subset, section, ...)</summary>"
              f"<div class=scroll><table>{_TABLE_HEAD}{''.join(detail)}</table></div></details>") if detail else ""
    return (f"<h3>{_e(name)} <span class=note>({_e(s.get('level'))}; n before {_e(s.get('n_before'))}, "
            f"after {_e(s.get('n_after'))}, paired items {_e(s.get('n_paired'))})</span></h3>{chart}"
            f"<div class=scroll><table>{_TABLE_HEAD}{''.join(main)}</table></div>{folded}")


def _delta_chart(suites: dict[str, Any]) -> str:
    pts = []
    for name, s in suites.items():
        m = s["metrics"].get(s.get("primary_metric") or "")
        if m:
            d = m["delta"]
            lo, hi = (list(d.get("ci") or []) + [None, None])[:2]
            pts.append(Point(f"{name}: {s['primary_metric']}", _num(d.get("value")), _num(lo), _num(hi), d.get("n")))
    if not pts:
        return ""
    xs = [abs(x) for p in pts for x in (p.value, p.lo, p.hi) if x is not None] or [1.0]
    r = max(xs) * 1.1 or 1.0
    return f"<figure>{svg.bars(pts, 'Δ primary metric (after − before)', domain=(-r, r), label_width=300)}</figure>"


def _svg_img(path: Path | None) -> str:
    """A training plot as an ``<img>`` data URI: shown inline, yet any markup in the file stays inert."""
    if path is None or not path.is_file():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img alt="training metrics" src="data:image/svg+xml;base64,{data}"></figure>'


def _frontier(out: Path) -> str:
    """Baseline and aligned model on the harmfulness / over-refusal plane, when a safety suite ran in both."""
    from alignlab.report.frontier import frontier_points, frontier_svg

    try:
        points = frontier_points({"baseline": out / "baseline", "after": out / "after"})
    except Exception:  # noqa: BLE001 - a missing or partial run dir: the chart is optional
        return ""
    return f"<figure>{frontier_svg(points)}</figure>" if len(points) == 2 else ""


def render(summary: dict[str, Any], out: Path) -> str:
    goal = summary["goal"]
    level = TAXONOMY.get(goal.get("level") or "", {})
    suites = summary.get("suites") or {}
    train = summary.get("train") or {}
    data = summary.get("data") or {}
    tax = "".join(f"<dt>{_e(k)}</dt><dd>{_e(level.get(k))}</dd>" for k in ("goal", "algorithms", "evaluation"))
    goal_html = (f"<p>{_e(goal.get('description') or '')}</p><div class=card><h3>{_e(level.get('title'))}</h3>"
                 f"<dl>{tax}</dl></div><h3>Representation</h3>{_kv(goal.get('representation') or {})}"
                 f"<h3>Alignment recipe</h3>{_kv(summary.get('recipe') or goal.get('align') or {})}")
    results = (_delta_chart(suites) + _frontier(out) + "".join(_suite_section(n, s) for n, s in suites.items())
               + f"<p class=note>{_e(summary.get('method_note', ''))}</p>") if suites else \
        "<p class=empty>no suite was run in both the baseline and the aligned model</p>"
    final = train.get("final_metrics") or {}
    train_html = (_kv({k: train.get(k) for k in ("method", "steps", "train_seconds", "model_dir", "adapter_dir")})
                  + "<h3>Final metrics</h3>" + _kv(final)
                  + _svg_img(Path(train["plot_path"]) if train.get("plot_path") else None))
    stats = data.get("stats") or {}
    overlap = stats.get("opening_overlap") or {}
    warnings = "".join(f"<p class=warn>warning: {_e(w)}</p>" for w in summary.get("warnings") or [])
    results = warnings + results
    overlap_html = (f"<h3>Shared openings (first {_e(overlap.get('k'))} words) between training and held-out "
                    f"answers</h3>{_kv({k: overlap.get(k) for k in ('n_heldout', 'chosen', 'rejected', 'decisive')})}"
                    f"{_kv(dict(overlap.get('top') or []))}") if overlap else ""
    files = {"train": data.get("train_path"), **(data.get("heldout") or {}), "audit": data.get("audit_path")}
    data_html = (warnings + overlap_html + _kv({k: v for k, v in stats.items() if k != "opening_overlap"})
                 + _kv(files))
    links = "".join(f'<li><a href="{_e(rel)}/report.html">{_e(rel)}/report.html</a> — {_e(spec)}</li>'
                    for rel, spec in (("baseline", goal.get("model")), ("after", train.get("model_spec"))))
    runs_html = f"<ul>{links}</ul><h3>Wall time per step (s)</h3>{_kv(summary.get('timing') or {})}"
    sections = [("goal", "Goal", goal_html), ("results", "Before / after", results), ("data", "Data", data_html),
                ("train", "Training", train_html), ("runs", "Runs", runs_html)]
    body = "".join(f'<section id="{sid}"><h2>{_e(title)}</h2>{html}</section>' for sid, title, html in sections)
    header = (f"<h1>alignlab goal — {_e(goal.get('name'))}</h1><div class=meta>level {_e(goal.get('level'))} · "
              f"{_e(goal.get('model'))} → {_e(train.get('model_spec'))} · {_e(train.get('method'))} · "
              f"run dir {_e(out)}{_e(f' · --limit {limit}') if (limit := summary.get('limit')) else ''}</div>")
    return page(f"alignlab goal — {goal.get('name')}", header, [(s, t) for s, t, _ in sections], body)
