"""``report.html``: one self-contained, offline page per run directory.

Sections: a scorecard per level of the survey's taxonomy (level scores from the suites' declared *score* metrics on
a chance-to-perfect scale, raw figures beside them), reliability (each instrument's gates and reliability figures),
special views found by metric naming conventions (per-instruction-type accuracy, a Schwartz radar in circumplex
order, Moral Foundations bars, similarity to populations, refusal vs over-refusal), every suite's metrics with
their declared meaning and CIs, a sample browser, and the resolved config with versions. A view whose metrics a
failed reliability gate covers is drawn greyed, as "not interpretable for this model", with the figure and the
reason; a view built on data the data itself flags as synthetic says so. Each special view is left out when its
metrics are missing; the metric tables always show everything.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from alignlab.evaluate.metric_info import MetricInfo, declared, explain_gate, failed_gate, threshold_text
from alignlab.evaluate.rundir import RunDir
from alignlab.models.provenance import describe_all
from alignlab.report import _browser, _opinions, svg
from alignlab.report._template import TAXONOMY, page
from alignlab.report.svg import Point, fmt
from alignlab.targets.values import MORAL_FOUNDATIONS, SCHWARTZ, ValueSystem

LEVELS = ("instructions", "preferences", "values")
# Per-instruction-type metrics: IFEval's ``strict/<instruction_id>``, or a suite's own ``type/<id>``.
_TYPE_METRIC = re.compile(r"^(?:strict|type|instruction_type)/(?P<id>.+)$")
_REFUSAL_SEG = re.compile(r"^(over_|false_)?refusals?(?:_rate)?$")
_QUALIFIERS = ("safe", "unsafe", "benign", "harmful")


def load_run(run: str | Path | RunDir) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """(run dir, results.json, config.yaml) of a run directory (or of the results.json inside one)."""
    run_dir = RunDir.of(run)
    return run_dir.path, run_dir.read_results(), run_dir.read_config()


def build_report(run_dir: str | Path | RunDir) -> Path:
    """Write ``report.html`` into the run directory (atomically) and return its path."""
    path, results, config = load_run(run_dir)
    return RunDir(path).write_report(render(path, results, config))


def render(run_dir: Path, results: dict[str, Any], config: dict[str, Any]) -> str:
    """The report page for one run as a string."""
    suites: dict[str, dict[str, Any]] = results.get("suites") or {}
    model = results.get("model") or config.get("model") or {}
    views = _views(suites)
    opinions = _opinions.section(run_dir, suites)
    reliability = _reliability(suites)
    sections = [
        ("scorecard", "Scorecard", _scorecards(results)),
        *([("reliability", "Reliability", reliability)] if reliability else []),
        *([("views", "Views", views)] if views else []),
        *([("opinions", "Opinion items", opinions)] if opinions else []),
        ("metrics", "Metrics", _metric_tables(suites, config)),
        ("samples", "Samples", _browser.section(_browser.payload(run_dir, suites))),
        ("config", "Config", _config(config, results)),
    ]
    run = results.get("run") or {}
    header = (
        f"<h1>alignlab report — {_e(model.get('spec', '?'))}</h1><div class=meta>backend {_e(model.get('backend'))}"
        f" · {_e(_params(model.get('parameters')))} · fingerprint <code>{_e(model.get('fingerprint'))}</code> · "
        f"created {_e(results.get('created'))} · finished {_e(results.get('finished'))} · "
        f"{_e(run.get('model_calls'))} model calls in {_e(run.get('seconds'))} s</div>{_replay(results)}"
        f"<div class=meta id=build>build: {_e(describe_all(results.get('provenance') or config.get('provenance')))}"
        "</div>"
    )
    body = "".join(s if sid == "samples" else f'<section id="{sid}"><h2>{title}</h2>{s}</section>'
                   for sid, title, s in sections)
    return page(f"alignlab report — {model.get('spec', '?')}", header,
                [(sid, title) for sid, title, _ in sections], body, _browser.SCRIPT)


def _replay(results: dict[str, Any]) -> str:
    """For scores of recorded responses: how many prompts were scored, and any join by position."""
    info = results.get("replay")
    if not isinstance(info, dict):
        return ""
    missing = info.get("n_missing") or 0
    fuzzy = info.get("fuzzy") or []
    return (f"<p class=meta>recorded responses: {_e(info.get('n_scored'))} of {_e(info.get('n_prompts'))} prompts "
            f"scored (by key {_e(info.get('by_key'))}, by exact prompt {_e(info.get('by_text'))}"
            + (f", by position {len(fuzzy)}" if fuzzy else "") + ")"
            + (f"; <strong>{missing} without a response, not scored</strong>" if missing else "") + "</p>")


def _e(x: object) -> str:
    return escape("—" if x is None else str(x), quote=True)


def _params(n: object) -> str:
    if not isinstance(n, int | float):
        return "parameters unknown"
    return f"{n / 1e9:.2f} B parameters" if n >= 1e9 else f"{n / 1e6:.1f} M parameters"


def _ci(m: dict[str, Any]) -> str:
    lo, hi = (list(m.get("ci") or []) + [None, None])[:2]
    return "—" if lo is None or hi is None else f"[{fmt(lo)}, {fmt(hi)}]"


def _kind(info: MetricInfo | None) -> str:
    """A metric's declared kind and direction as a short badge."""
    if info is None:
        return '<span class="kind kind-undeclared">undeclared</span>'
    arrow = f"→{info.target:g}" if info.direction == "target" else {"higher": "↑", "lower": "↓"}.get(info.direction, "")
    chance = f" · chance {info.chance:.3g}" if info.chance is not None else ""
    return f'<span class="kind kind-{info.kind}">{info.kind} {_e(arrow)}</span><span class=note>{_e(chance)}</span>'


def _scorecards(results: dict[str, Any]) -> str:
    suites, levels = results.get("suites") or {}, results.get("levels") or {}
    not_run = results.get("not_run") or {}
    v2 = (levels.get("instructions") or {}).get("scale") == "chance-to-perfect"
    cards = []
    for level in LEVELS:
        tax, info = TAXONOMY[level], levels.get(level) or {}
        names = info.get("suites") or [n for n, s in suites.items() if s.get("level") == level]
        scaled = {c["suite"]: c for c in info.get("components") or []}
        excluded = {c["suite"]: c["reason"] for c in info.get("excluded") or []}
        rows = []
        for n in names:
            s = suites.get(n, {})
            pm = s.get("primary_metric")
            m = (s.get("metrics") or {}).get(pm or "", {})
            errs = s.get("n_errors") or 0
            comp = scaled.get(n)
            cls = "" if comp or not v2 else ' class="out"'
            why = f"<br><span class=note>not in the level score: {_e(excluded[n])}</span>" if n in excluded else ""
            rows.append(f'<tr{cls}><td><a href="#suite-{_e(n)}">{_e(n)}</a><br><span class=note>{_e(pm)}'
                        f"{f' · {errs} errors' if errs else ''}</span><br>{_kind(declared(m))}{why}</td>"
                        f"<td class=num>{fmt(svg.number(m.get('value')))}<br><span class=note>{_ci(m)}</span></td>"
                        f"<td class=num>{fmt(comp['normalized']) if comp else '—'}</td>"
                        f"<td class=num>{_e(m.get('n'))}</td></tr>")
        skipped = [f"<li>{_e(n)}: {_e(why)}</li>" for n, why in not_run.items() if n.split("/")[0] == level]
        table = ("<table><tr><th>suite · primary metric</th><th>raw [95% CI]</th><th>scaled</th><th>n</th></tr>"
                 f"{''.join(rows)}</table>") if rows else \
            "<p class=empty>Nothing measured at this level in this run (<code>alignlab suites</code> lists what " \
            "can be).</p>"
        score = svg.number(info.get("score"))
        if not v2:
            head = (f"<div class=score>{fmt(score)}</div><div class=note>level score from a run before metric "
                    "declarations (results schema 1): a plain mean of primary metrics, not oriented; rerun to "
                    "get a comparable score</div>")
        elif score is None:
            head = (f"<div class=\"score none\">no score</div><div class=note>{_e(info.get('note') or 'no score')}"
                    "</div>")
        else:
            lo_hi = ""
            if svg.number(info.get("stderr")) is not None:
                lo_hi = f" [{fmt(score - 1.96 * info['stderr'])}, {fmt(score + 1.96 * info['stderr'])}]"
            k = len(info.get("components") or [])
            head = (f"<div class=score>{fmt(score)}<span class=note>{_e(lo_hi)}</span></div><div class=note>level "
                    f"score: mean of {k} score metric{'s' if k != 1 else ''} on a chance-to-perfect scale (0 = "
                    "chance, or the worst end where no chance level exists; 1 = perfect; below 0 = worse than "
                    "chance). Raw figures beside each; greyed rows measure reliability or only describe and do not "
                    "count.</div>")
        cards.append(
            f'<div class="card level-{level}"><h3>{_e(tax["title"])} <span class=note>({level})</span></h3>'
            f"{head}{table}"
            + (f"<p class=note>Not run:</p><ul class=note>{''.join(skipped)}</ul>" if skipped else "")
            + f"<dl><dt>Goal representations</dt><dd>{_e(tax['goal'])}</dd><dt>Alignment algorithms</dt>"
            f"<dd>{_e(tax['algorithms'])}</dd><dt>Evaluation methods</dt><dd>{_e(tax['evaluation'])}</dd></dl></div>"
        )
    return ("<p class=note>The three levels of alignment goals from the survey's taxonomy — instructions, "
            "preferences, values — each with what this run measured. Each metric declares which way is better, "
            "its chance level and whether it measures attainment (score), the measurement's reliability, or only "
            "describes; only score metrics make a level score.</p>"
            f"<div class=cards>{''.join(cards)}</div>")


def _patterns(gate: dict[str, Any]) -> str:
    """The metric families a gate covers, ``{field}`` shown as ``*``."""
    return ", ".join(re.sub(r"\{\w+\}", "*", p) for p in gate.get("covers") or [])


def _reliability(suites: dict[str, dict[str, Any]]) -> str:
    """Per suite: its reliability gates (pass/fail with the figure, threshold and what they cover) and every
    reliability metric it reports, with chance where declared."""
    parts = []
    for name, s in suites.items():
        metrics = s.get("metrics") or {}
        gates = s.get("reliability") or []
        rel = [(k, m, declared(m)) for k, m in metrics.items() if isinstance(m, dict)
               and (declared(m) or MetricInfo("descriptive", "none")).kind == "reliability"]
        if not gates and not rel:
            continue
        rows = []
        for g in gates:
            status = {True: '<span class="ok">meets it</span>', False: '<span class="bad">falls short</span>',
                      None: '<span class="note">not measured</span>'}[g.get("passed")]
            m = metrics.get(g.get("metric"), {})
            rows.append(f"<tr{' class=failed' if g.get('passed') is False else ''}><td>{_e(g.get('metric'))}</td>"
                        f"<td class=num>{fmt(svg.number(g.get('value')))}<br><span class=note>{_ci(m)}</span></td>"
                        f"<td class=num>{_e(threshold_text(g))}</td><td>{status}</td>"
                        f"<td><span class=note>{_e(_patterns(g))}</span>"
                        + (f"<br>{_e(g.get('reason'))}" if g.get("passed") is False else "") + "</td></tr>")
        gate_table = ("<table><tr><th>gate</th><th>value [95% CI]</th><th>needs</th><th>this model</th>"
                      f"<th>covers · why it matters</th></tr>{''.join(rows)}</table>") if rows else ""
        other = "".join(f"<tr><td>{_e(k)}</td><td class=num>{fmt(svg.number(m.get('value')))}</td>"
                        f"<td class=num>{_ci(m)}</td><td>{_kind(i)}</td><td class=note>{_e(i.description if i else '')}"
                        "</td></tr>" for k, m, i in rel)
        failed = [g for g in gates if g.get("passed") is False]
        verdict = (f"<p class=bad>Not interpretable for this model: {_e(_patterns(failed[0]))}"
                   f" — {_e(failed[0].get('metric'))} = {fmt(svg.number(failed[0].get('value')))}, needs "
                   f"{_e(threshold_text(failed[0]))}.</p>") if failed else ""
        parts.append(f"<h3>{_e(name)}</h3>{verdict}{gate_table}"
                     + (f"<details{' open' if not gates else ''}><summary>{len(rel)} reliability figures</summary>"
                        "<table><tr><th>metric</th><th>value</th><th>95% CI</th><th>declared</th><th></th></tr>"
                        f"{other}</table></details>" if rel else ""))
    if not parts:
        return ""
    return ("<p class=note>How far each instrument's figures can be trusted for this model: whether answers survive "
            "reordering the options or rephrasing the question, and how strongly the model favours a position. "
            "Each instrument declares the reliability it needs before its profile or ranking reads as a finding; "
            "where the model falls short, the views below grey that figure out.</p>" + "".join(parts))


# ---- special views, found by metric naming conventions -------------------------------------------------------

def value_metrics(metrics: dict[str, Any], system: ValueSystem, min_keys: int = 3) -> tuple[str, list[Point]] | None:
    """The best ``<prefix>/<value>`` family of ``system``'s values in ``metrics`` (ipsatised over ``raw/``, then
    the most values, then the shortest prefix), as points in the system's order; None if fewer than ``min_keys``."""
    families: dict[str, set[str]] = {}
    for name in metrics:
        prefix, _, key = name.rpartition("/")
        if key in system.keys:
            families.setdefault(prefix, set()).add(key)
    ranked = sorted((f for f in families if len(families[f]) >= min_keys),
                    key=lambda f: ("raw" in f.split("/"), -len(families[f]), len(f)))
    if not ranked:
        return None
    prefix = ranked[0]
    join = (prefix + "/") if prefix else ""
    return prefix, [Point.of(v.name, metrics.get(join + v.key)) for v in system.values]


def refusal_metrics(metrics: dict[str, Any]) -> list[tuple[str, Point | None, Point | None]]:
    """Per family (e.g. ``rule``, ``judge``): (family, refusal on unsafe prompts, refusal on safe prompts).

    Recognised: ``[family/]refusal_rate`` with ``[family/]over_refusal_rate`` (or ``false_refusal_rate``), and a
    ``safe``/``unsafe`` qualifier as the segment after or before it (``refusal_rate/safe``, ``unsafe/refusal``).
    Longer names (``refusal_rate/by_type/...``) are breakdowns, shown only in the metric table.
    """
    found: dict[str, list[Point | None]] = {}
    for name, m in metrics.items():
        segs = name.split("/")
        idx = next((i for i, s in enumerate(segs) if _REFUSAL_SEG.match(s)), None)
        if idx is None or not isinstance(m, dict):
            continue
        prefix, rest = segs[:idx], segs[idx + 1:]
        qualifier = rest[0] if len(rest) == 1 and rest[0] in _QUALIFIERS else None
        if rest and qualifier is None:
            continue
        if qualifier is None and prefix and prefix[-1] in _QUALIFIERS:
            qualifier, prefix = prefix[-1], prefix[:-1]
        over = segs[idx].startswith(("over_", "false_")) or qualifier in ("safe", "benign")
        slot = found.setdefault("/".join(prefix), [None, None])
        slot[int(over)] = slot[int(over)] or Point.of(name, m)
    return [(fam, r, o) for fam, (r, o) in found.items()]


def gated(svg: str, gate: dict[str, Any] | None) -> str:
    """``svg`` as drawn, or greyed under the notice when a failed reliability gate covers its metrics."""
    if gate is None:
        return svg
    return f'<div class="gated"><p class="gate-notice">{_e(explain_gate(gate))}</p><div class=greyed>{svg}</div></div>'


def synthetic_populations(suite: dict[str, Any]) -> set[str]:
    """Populations the suite's data flags as synthetic (results.json ``synthetic.populations``)."""
    return {str(p) for p in ((suite.get("synthetic") or {}).get("populations") or [])}


def _views(suites: dict[str, dict[str, Any]]) -> str:
    figs, refusals = [], []
    for name, s in suites.items():
        metrics = s.get("metrics") or {}
        types = [Point.of(mt["id"], m) for k, m in metrics.items() if (mt := _TYPE_METRIC.match(k))]
        if types:
            figs.append(("Per-instruction-type accuracy",
                         svg.bars(types, f"{name}: accuracy per instruction type (strict)", domain=(0, 1),
                                   label_width=300, width=720)))
        found = value_metrics(metrics, SCHWARTZ)
        if found:
            prefix, pts = found
            gate = failed_gate(s, (f"{prefix}/" if prefix else "") + SCHWARTZ.keys[0])
            figs.append(("Value profile (Schwartz circumplex)",
                         gated(svg.radar(pts, f"{name}: {prefix or 'values'}"), gate)))
        found = value_metrics(metrics, MORAL_FOUNDATIONS)
        if found:
            prefix, pts = found
            gate = failed_gate(s, (f"{prefix}/" if prefix else "") + MORAL_FOUNDATIONS.keys[0])
            figs.append(("Moral foundations", gated(svg.bars([p for p in pts if p.value is not None] or pts,
                                                                f"{name}: {prefix or 'foundations'}",
                                                                label_width=110, width=480), gate)))
        fake = synthetic_populations(s)
        similar = sorted((Point.of(k.removeprefix("similarity/") + (" (synthetic)" if k.removeprefix(
                          "similarity/") in fake else ""), m) for k, m in metrics.items()
                          if k.startswith("similarity/") and k.count("/") == 1 and isinstance(m, dict)),
                         key=lambda p: -(p.value if p.value is not None else -1))
        if similar:  # opinion surveys: how close the model's answers are to each population's
            gate = next((g for k in metrics if k.startswith("similarity/") and (g := failed_gate(s, k))), None)
            title = f"{name}: 1 − Jensen–Shannon distance" + (" · SYNTHETIC populations" if fake else "")
            chart = svg.bars(similar, title, domain=(0, 1), label_width=200, width=560)
            if fake:
                chart = (f'<p class="synthetic-notice">Synthetic data: {len(fake)} of these populations are made up '
                         f"(flagged <code>synthetic: true</code> in {_e((s.get('synthetic') or {}).get('source'))}"
                         "); they describe no real people.</p>" + chart)
            figs.append(("Similarity to populations", gated(chart, gate)))
        for family, refusal, over in refusal_metrics(metrics):
            refusals.append((f"{name} ({family})" if family else name, refusal, over))
    if refusals:
        figs.append(("Refusal vs over-refusal", svg.refusal_pairs(refusals, "Refusal vs over-refusal")))
    if not figs:
        return ""
    note = ("<p class=note>Whiskers and bands are 95% CIs. Value profiles are ipsatised (centred on the model's "
            "own mean), so they show relative priorities, not absolute endorsement. A greyed view is not "
            "interpretable for this model: the instrument's reliability gate failed (see Reliability).</p>")
    return note + '<div class="views">' + "".join(
        f"<figure><figcaption><h3>{_e(title)}</h3></figcaption>{svg}</figure>" for title, svg in figs) + "</div>"


# ---- tables and config ---------------------------------------------------------------------------------------

def _metric_tables(suites: dict[str, dict[str, Any]], config: dict[str, Any]) -> str:
    params = {s.get("name"): s.get("params") for s in config.get("suites") or [] if isinstance(s, dict)}
    out = []
    for name, s in suites.items():
        rows = []
        for metric, m in (s.get("metrics") or {}).items():
            m = m if isinstance(m, dict) else {"value": m}
            extra = {k: v for k, v in m.items() if k not in ("value", "stderr", "ci", "n", "declared")}
            star = " ★" if metric == s.get("primary_metric") else ""
            more = (f"<details><summary>more</summary><pre>{_e(json.dumps(extra, default=str))}</pre></details>"
                    if extra else "")
            gate = failed_gate(s, metric)
            grey = f' class=out title="{_e(explain_gate(gate))}"' if gate else ""
            rows.append(f"<tr{grey}><td>{_e(metric)}{star}</td><td>{_kind(declared(m))}</td>"
                        f"<td class=num>{fmt(svg.number(m.get('value')))}</td>"
                        f"<td class=num>{_ci(m)}</td><td class=num>{fmt(svg.number(m.get('stderr')))}</td>"
                        f"<td class=num>{_e(m.get('n'))}</td><td>{more}</td></tr>")
        errors = "".join(f"<li><code>{_e(cause)}</code> × {_e(c)}</li>" for cause, c in (s.get("errors") or {}).items())
        out.append(
            f'<h3 id="suite-{_e(name)}">{_e(name)} <span class=note>{_e(s.get("level"))} · v{_e(s.get("version"))}'
            f" · n={_e(s.get('n'))} · errors {_e(s.get('n_errors', 0))}</span></h3>"
            f"<p class=note>{_e(s.get('description') or '')}"
            + (f" · params <code>{_e(json.dumps(params[name], default=str))}</code>" if params.get(name) else "")
            + "</p><table><tr><th>metric (★ primary)</th><th>declared</th><th>value</th><th>95% CI</th><th>stderr</th>"
            "<th>n</th>"
            f"<th></th></tr>{''.join(rows)}</table>" + (f"<ul class=note>{errors}</ul>" if errors else "")
        )
    return "".join(out) or "<p class=empty>No suites in results.json.</p>"


def _config(config: dict[str, Any], results: dict[str, Any]) -> str:
    import yaml

    versions = config.get("versions") or {}
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v if v is not None else 'not installed')}</td></tr>"
                   for k, v in versions.items())
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True) if config else "(no config.yaml)"
    return (f"<p>Command: <code>{_e(config.get('command'))}</code> · results schema v"
            f"{_e(results.get('schema_version'))}</p><h3>Versions</h3><table>{rows}</table>"
            f"<details><summary>Resolved config.yaml</summary><pre class=config>{_e(text)}</pre></details>")
