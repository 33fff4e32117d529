"""``report.html``: one self-contained, offline page per run directory.

Sections: a scorecard per level of the survey's taxonomy, special views found by metric naming conventions
(per-instruction-type accuracy, a Schwartz radar in circumplex order, Moral Foundations bars, refusal vs
over-refusal), every suite's metrics with CIs, a sample browser, and the resolved config with versions. Each
special view looks for its metrics by pattern and is simply left out when none match; the metric tables always
show everything.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from alignlab.evaluate.rundir import RunDir
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
    sections = [
        ("scorecard", "Scorecard", _scorecards(results)),
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


def _scorecards(results: dict[str, Any]) -> str:
    suites, levels = results.get("suites") or {}, results.get("levels") or {}
    not_run = results.get("not_run") or {}
    cards = []
    for level in LEVELS:
        tax, info = TAXONOMY[level], levels.get(level) or {}
        names = info.get("suites") or [n for n, s in suites.items() if s.get("level") == level]
        rows = []
        for n in names:
            s = suites.get(n, {})
            pm = s.get("primary_metric")
            m = (s.get("metrics") or {}).get(pm or "", {})
            errs = s.get("n_errors") or 0
            rows.append(f'<tr><td><a href="#suite-{_e(n)}">{_e(n)}</a><br><span class=note>{_e(pm)}'
                        f"{f' · {errs} errors' if errs else ''}</span></td>"
                        f"<td class=num>{fmt(svg.number(m.get('value')))}</td><td class=num>{_ci(m)}</td>"
                        f"<td class=num>{_e(m.get('n'))}</td></tr>")
        skipped = [f"<li>{_e(n)}: {_e(why)}</li>" for n, why in not_run.items() if n.split("/")[0] == level]
        table = ("<table><tr><th>suite · primary metric</th><th>value</th><th>95% CI</th><th>n</th></tr>"
                 f"{''.join(rows)}</table>") if rows else \
            "<p class=empty>Nothing measured at this level in this run (<code>alignlab suites</code> lists what " \
            "can be).</p>"
        score = svg.number(info.get("score"))
        cards.append(
            f'<div class="card level-{level}"><h3>{_e(tax["title"])} <span class=note>({level})</span></h3>'
            f"<div class=score>{fmt(score)}</div><div class=note>level score: mean of the suites' primary metrics"
            f"</div>{table}"
            + (f"<p class=note>Not run:</p><ul class=note>{''.join(skipped)}</ul>" if skipped else "")
            + f"<dl><dt>Goal representations</dt><dd>{_e(tax['goal'])}</dd><dt>Alignment algorithms</dt>"
            f"<dd>{_e(tax['algorithms'])}</dd><dt>Evaluation methods</dt><dd>{_e(tax['evaluation'])}</dd></dl></div>"
        )
    return ("<p class=note>The three levels of alignment goals from the survey's taxonomy — instructions, "
            "preferences, values — each with what this run measured. Primary metrics mix scales (accuracy, "
            "correlation…), so compare level scores only between runs of the same suites.</p>"
            f"<div class=cards>{''.join(cards)}</div>")


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
            figs.append(("Value profile (Schwartz circumplex)",
                         svg.radar(pts, f"{name}: {prefix or 'values'}")))
        found = value_metrics(metrics, MORAL_FOUNDATIONS)
        if found:
            prefix, pts = found
            figs.append(("Moral foundations", svg.bars([p for p in pts if p.value is not None] or pts,
                                                          f"{name}: {prefix or 'foundations'}", label_width=110,
                                                          width=480)))
        similar = sorted((Point.of(k.removeprefix("similarity/"), m) for k, m in metrics.items()
                          if k.startswith("similarity/") and k.count("/") == 1 and isinstance(m, dict)),
                         key=lambda p: -(p.value if p.value is not None else -1))
        if similar:  # opinion surveys: how close the model's answers are to each population's
            figs.append(("Similarity to populations", svg.bars(similar, f"{name}: 1 − Jensen–Shannon distance",
                                                                 domain=(0, 1), label_width=160, width=520)))
        for family, refusal, over in refusal_metrics(metrics):
            refusals.append((f"{name} ({family})" if family else name, refusal, over))
    if refusals:
        figs.append(("Refusal vs over-refusal", svg.refusal_pairs(refusals, "Refusal vs over-refusal")))
    if not figs:
        return ""
    note = ("<p class=note>Whiskers and bands are 95% CIs. Value profiles are ipsatised (centred on the model's "
            "own mean), so they show relative priorities, not absolute endorsement.</p>")
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
            extra = {k: v for k, v in m.items() if k not in ("value", "stderr", "ci", "n")}
            more = (f"<details><summary>more</summary><pre>{_e(json.dumps(extra, default=str))}</pre></details>"
                    if extra else "")
            star = " ★" if metric == s.get("primary_metric") else ""
            rows.append(f"<tr><td>{_e(metric)}{star}</td><td class=num>{fmt(svg.number(m.get('value')))}</td>"
                        f"<td class=num>{_ci(m)}</td><td class=num>{fmt(svg.number(m.get('stderr')))}</td>"
                        f"<td class=num>{_e(m.get('n'))}</td><td>{more}</td></tr>")
        errors = "".join(f"<li><code>{_e(cause)}</code> × {_e(c)}</li>" for cause, c in (s.get("errors") or {}).items())
        out.append(
            f'<h3 id="suite-{_e(name)}">{_e(name)} <span class=note>{_e(s.get("level"))} · v{_e(s.get("version"))}'
            f" · n={_e(s.get('n'))} · errors {_e(s.get('n_errors', 0))}</span></h3>"
            f"<p class=note>{_e(s.get('description') or '')}"
            + (f" · params <code>{_e(json.dumps(params[name], default=str))}</code>" if params.get(name) else "")
            + "</p><table><tr><th>metric (★ primary)</th><th>value</th><th>95% CI</th><th>stderr</th><th>n</th>"
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
