"""Leaderboards across runs: per level score and per suite primary metric, with 95% CIs and significance markers.

Significance: each cell is tested against the best run in its column with a two-sided z-test on the reported
standard errors, z = (a - b) / sqrt(se_a² + se_b²), marked at p < 0.05. For a 0/1 metric (accuracy, refusal
rate) whose stderr is sqrt(p(1 - p) / n) this is the unpooled two-proportion z-test. It treats the runs as
independent samples; runs on the same items are positively correlated, so the test is conservative. Where a
stderr is missing the test falls back to non-overlapping 95% CIs (more conservative still); without either
there is no marker. A zero stderr (all samples scored alike, say 0% correct) is replaced by the 95% CI's
half-width / 1.96, so a 0% or 100% score keeps its Wilson uncertainty.

Which way is better comes from each metric's declaration in results.json (``declared``), never from its name:
higher, lower, or closest to a target (stereotype preference 0.5; the test then compares distances to it). A
level score is results.json's: the mean of the level's *score* metrics on the chance-to-perfect scale, with CI
se = sqrt(Σ se_i²) / k (suites independent). Rows are ordered by mean rank over the score columns (level scores
and suites whose primary metric is a score), which does not depend on the columns' scales. Reliability columns
(position bias, consistency) are ranked within their column but left out of the mean rank: a steadier
measurement is not a better-aligned model. Descriptive and undeclared columns are shown, not ranked.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from alignlab.errors import AlignlabError
from alignlab.evaluate.metric_info import MetricInfo, declared
from alignlab.models.provenance import differences
from alignlab.report import svg
from alignlab.report._template import page
from alignlab.report.frontier import frontier_points, frontier_svg, frontier_table
from alignlab.report.html import LEVELS, load_run
from alignlab.report.svg import Point, fmt

Z95 = 1.959963984540054
FORMATS = ("html", "markdown", "csv")


@dataclass
class Cell:
    """One run's figure in one column."""

    value: float | None = None
    stderr: float | None = None
    lo: float | None = None
    hi: float | None = None
    n: int | None = None
    best: bool = False
    significant: bool = False
    """Differs from the column's best run at p < 0.05 (see the module docstring)."""
    p: float | None = None


@dataclass
class Column:
    key: str
    """``level:<name>`` or the suite name."""
    label: str
    metric: str
    info: MetricInfo | None = None
    """The metric's declaration (a level score: higher is better, a score)."""
    notes: list[str] = field(default_factory=list)

    @property
    def ranked(self) -> bool:
        """Whether the column has a better side (best marker, significance)."""
        return self.info is not None and self.info.ranked

    @property
    def in_mean_rank(self) -> bool:
        """Whether the column counts in the rows' mean rank (attainment only)."""
        return self.ranked and self.info.kind == "score"  # type: ignore[union-attr]


@dataclass
class Leaderboard:
    runs: list[dict[str, Any]]
    """Per row: label, path, spec, mean_rank."""
    columns: list[Column]
    cells: list[list[Cell]]
    """cells[row][column]"""
    warnings: list[str] = field(default_factory=list)
    """Why figures may differ for reasons other than the models (e.g. the runs' backend builds differ)."""


def _cell(m: dict[str, Any] | None) -> Cell:
    p = Point.of("", m)
    se = svg.number((m or {}).get("stderr"))
    if not se and p.lo is not None and p.hi is not None and p.hi > p.lo:
        # A zero stderr (every sample scored alike, e.g. 0% correct) would make any difference "significant";
        # the CI (Wilson for 0/1 scores) still knows the uncertainty, so take its half-width / 1.96.
        se = (p.hi - p.lo) / (2 * Z95)
    return Cell(p.value, se, p.lo, p.hi, (m or {}).get("n"))


LEVEL_SCORE = MetricInfo("score", "higher", (None, 1.0), chance=0.0, aggregation="statistic",
                         description="mean of the level's score metrics, 0 = chance, 1 = perfect")


def _level_cell(results: dict[str, Any], level: str) -> Cell:
    """A run's level score; None for runs before schema 2, whose level score mixed unoriented scales."""
    info = (results.get("levels") or {}).get(level) or {}
    score = svg.number(info.get("score"))
    if score is None or info.get("scale") != "chance-to-perfect":
        return Cell()
    n = len(info.get("components") or [])
    se = svg.number(info.get("stderr"))
    if se is None:
        return Cell(score, n=n)
    return Cell(score, se, score - Z95 * se, score + Z95 * se, n)


def _distance_interval(c: Cell, target: float) -> tuple[float, float]:
    """The interval of |value − target| over the cell's CI."""
    lo, hi = c.lo - target, c.hi - target  # type: ignore[operator]
    if lo <= 0 <= hi:
        return 0.0, max(-lo, hi)
    return min(abs(lo), abs(hi)), max(abs(lo), abs(hi))


def _test(a: Cell, b: Cell, info: MetricInfo | None = None) -> tuple[bool, float | None]:
    """(significant at 5%, two-sided p or None) for a difference between two cells; for a target metric, the
    difference of their distances to the target."""
    if a.value is None or b.value is None:
        return False, None
    target = info.target if info is not None and info.direction == "target" else None
    va, vb = (a.value, b.value) if target is None else (abs(a.value - target), abs(b.value - target))
    if a.stderr is not None and b.stderr is not None:
        se = math.hypot(a.stderr, b.stderr)
        if se == 0:
            return va != vb, 0.0 if va != vb else 1.0
        p = math.erfc(abs(va - vb) / se / math.sqrt(2))
        return p < 0.05, p
    if None not in (a.lo, a.hi, b.lo, b.hi):
        if target is not None:  # compare the intervals of the distance to the target
            (alo, ahi), (blo, bhi) = _distance_interval(a, target), _distance_interval(b, target)
            return ahi < blo or bhi < alo, None
        return a.hi < b.lo or b.hi < a.lo, None  # type: ignore[operator]
    return False, None


def compare_runs(runs: Sequence[str | Path]) -> Leaderboard:
    """Read the runs and build the leaderboard (levels first, then every suite any run has)."""
    if not runs:
        raise AlignlabError("no runs to compare", hint="pass one or more run directories")
    loaded = [load_run(r) for r in runs]
    labels = [str((res.get("model") or {}).get("spec") or d.name) for d, res, _ in loaded]
    dup = {lab for lab in labels if labels.count(lab) > 1}
    labels = [f"{lab} ({loaded[i][0].name})" if lab in dup else lab for i, lab in enumerate(labels)]
    suites: dict[str, dict[str, Any]] = {}
    for _, res, _ in loaded:
        for name, s in (res.get("suites") or {}).items():
            suites.setdefault(name, s)
    order = sorted(suites, key=lambda n: (LEVELS.index(suites[n].get("level")) if suites[n].get("level") in LEVELS
                                          else len(LEVELS), n))
    columns = [Column(f"level:{lv}", lv, "level score", LEVEL_SCORE) for lv in LEVELS
               if any((res.get("levels") or {}).get(lv, {}).get("suites") for _, res, _ in loaded)]
    for name in order:
        metric = suites[name].get("primary_metric") or ""
        infos = [declared(((res.get("suites") or {}).get(name) or {}).get("metrics", {}).get(metric))
                 for _, res, _ in loaded if name in (res.get("suites") or {})]
        known = [i for i in infos if i is not None]
        col = Column(name, name, metric, known[0] if known else None)
        if any(i != known[0] for i in known[1:]):
            col.notes.append("runs declare this metric differently; ranked by the first run's declaration")
        if col.info is None:
            col.notes.append("not ranked: no run declares which way is better (results schema 1?)")
        elif not col.info.ranked:
            col.notes.append(f"not ranked: a {col.info.kind} metric with no better side")
        elif col.info.kind != "score":
            col.notes.append(f"a {col.info.kind} metric: ranked in its column, not in the mean rank")
        columns.append(col)
    cells = [[Cell() for _ in columns] for _ in loaded]
    for j, col in enumerate(columns):
        versions, ns = set(), set()
        for i, (_, res, _) in enumerate(loaded):
            if col.key.startswith("level:"):
                cells[i][j] = _level_cell(res, col.label)
                if (res.get("levels") or {}).get(col.label, {}).get("suites") and cells[i][j].value is None:
                    why = ((res.get("levels") or {}).get(col.label) or {}).get("note") or \
                        "results schema 1: its level score mixes unoriented scales"
                    col.notes.append(f"{labels[i]}: no level score ({why})")
                continue
            s = (res.get("suites") or {}).get(col.key)
            if s is None:
                continue
            if s.get("primary_metric") != col.metric:
                col.notes.append(f"{labels[i]} uses primary metric {s.get('primary_metric')}")
            cells[i][j] = _cell((s.get("metrics") or {}).get(col.metric))
            versions.add(s.get("version"))
            ns.add(s.get("n"))
        if len(versions) > 1:
            col.notes.append(f"suite versions differ: {', '.join(sorted(map(str, versions)))}")
        if len(ns) > 1:
            col.notes.append(f"sample counts differ: {', '.join(sorted(map(str, ns)))}")
        _mark(col, [row[j] for row in cells])
    ranks = [[] for _ in loaded]  # type: list[list[float]]
    for j, col in enumerate(columns):
        if not col.in_mean_rank:
            continue
        vals = [(col.info.badness(row[j].value), i) for i, row in enumerate(cells)  # type: ignore[union-attr]
                if row[j].value is not None]
        vals.sort(key=lambda t: t[0])
        for rank, (_, i) in enumerate(vals, 1):
            ranks[i].append(rank)
    rows = [{"label": labels[i], "path": str(d), "spec": (res.get("model") or {}).get("spec"),
             "mean_rank": sum(ranks[i]) / len(ranks[i]) if ranks[i] else None} for i, (d, res, _) in
            enumerate(loaded)]
    idx = sorted(range(len(rows)), key=lambda i: (rows[i]["mean_rank"] is None, rows[i]["mean_rank"] or 0))
    return Leaderboard([rows[i] for i in idx], columns, [cells[i] for i in idx], build_warnings(loaded, labels))


def build_warnings(loaded: Sequence[tuple[Path, dict[str, Any], dict[str, Any]]], labels: Sequence[str]) -> list[str]:
    """One warning per run whose backend build differs from the first run's (a build change moves figures too)."""
    provs = [res.get("provenance") or cfg.get("provenance") for _, res, cfg in loaded]
    ref = next((i for i, p in enumerate(provs) if p), None)
    if ref is None:
        return []
    out = []
    for i, prov in enumerate(provs):
        diff = differences(provs[ref], prov) if i != ref else []
        if diff:
            out.append(f"{labels[i]} ran on another backend build than {labels[ref]}: {'; '.join(diff)}")
    return out


def _mark(col: Column, column_cells: list[Cell]) -> None:
    present = [c for c in column_cells if c.value is not None]
    if not present or not col.ranked:
        return
    info = col.info
    best = min(present, key=lambda c: info.badness(c.value))  # type: ignore[union-attr,arg-type]
    for c in present:
        if info.badness(c.value) == info.badness(best.value):  # type: ignore[union-attr,arg-type]
            c.best = True
        else:
            c.significant, c.p = _test(c, best, info)


def _text(c: Cell) -> str:
    if c.value is None:
        return "—"
    ci = f" [{fmt(c.lo)}, {fmt(c.hi)}]" if c.lo is not None and c.hi is not None else ""
    return f"{fmt(c.value)}{ci}{' *' if c.significant else ''}"


FRONTIER_NOTE = ("each run's safety suite: over-refusal of safe requests vs harmful compliance (1 − refusal of "
                 "unsafe requests), both lower-is-better; the dashed diagonal is refusing at random (chance)")
LEGEND = ("Cells: value [95% CI]. * = differs from the column's best run at p < 0.05 (z-test on the standard "
          "errors; non-overlapping CIs where a stderr is missing). Which way is better is each metric's declared "
          "direction. Level scores: score metrics on a chance-to-perfect scale (0 = chance, 1 = perfect). Rows are "
          "ordered by mean rank over the score columns; reliability columns are ranked only within themselves.")


def to_markdown(board: Leaderboard) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    head = ["#", "model"] + [esc(f"{c.label} ({c.metric})") for c in board.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for k, (run, row) in enumerate(zip(board.runs, board.cells, strict=True), 1):
        cells = [f"**{_text(c)}**" if c.best else _text(c) for c in row]
        lines.append("| " + " | ".join([str(k), esc(run["label"])] + cells) + " |")
    notes = [f"- {esc(c.label)}: {esc(n)}" for c in board.columns for n in c.notes]
    notes += [f"- warning: {esc(w)}" for w in board.warnings]
    text = "\n".join(lines) + f"\n\n{LEGEND} Bold = best.\n" + ("\n" + "\n".join(notes) + "\n" if notes else "")
    points = frontier_points({run["label"]: run["path"] for run in board.runs})
    if points:
        rows = ["| model | over-refusal of safe ↓ [95% CI] | harmful compliance ↓ [95% CI] |", "|---|---|---|"]
        rows += [f"| {esc(label)} | {over} | {harm} |" for label, over, harm in frontier_table(points)]
        text += "\nFrontier (" + FRONTIER_NOTE + ")\n\n" + "\n".join(rows) + "\n"
    return text


def to_csv(board: Leaderboard) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    head = ["rank", "model", "run", "mean_rank"]
    for c in board.columns:
        head += [c.key, f"{c.key} ci_lo", f"{c.key} ci_hi", f"{c.key} stderr", f"{c.key} n", f"{c.key} sig"]
    w.writerow(head)
    for k, (run, row) in enumerate(zip(board.runs, board.cells, strict=True), 1):
        out: list[Any] = [k, run["label"], run["path"], run["mean_rank"]]
        for c in row:
            out += [c.value, c.lo, c.hi, c.stderr, c.n, int(c.significant) if c.value is not None else None]
        w.writerow(["" if v is None else v for v in out])
    return buf.getvalue()


def to_html(board: Leaderboard) -> str:
    e = escape
    head = "".join(f"<th>{e(c.label)}<br><span class=note>{e(c.metric)}</span></th>" for c in board.columns)
    body = []
    for k, (run, row) in enumerate(zip(board.runs, board.cells, strict=True), 1):
        tds = []
        for c in row:
            tip = f' title="p = {c.p:.3g} vs best"' if c.p is not None else ""
            text = e(_text(c))
            tds.append(f"<td class=num{tip}>{f'<b>{text}</b>' if c.best else text}</td>")
        body.append(f"<tr><td>{k}</td><td>{e(run['label'])}<br><span class=note>{e(run['path'])}</span></td>"
                    f"{''.join(tds)}</tr>")
    charts = []
    for j, col in enumerate(board.columns):
        pts = [Point(run["label"], row[j].value, row[j].lo, row[j].hi, row[j].n)
               for run, row in zip(board.runs, board.cells, strict=True)]
        if any(p.value is not None for p in pts):
            charts.append(f"<figure>{svg.bars(pts, f'{col.label}: {col.metric}', label_width=200, width=560)}"
                          "</figure>")
    notes = "".join(f"<li>{e(c.label)}: {e(n)}</li>" for c in board.columns for n in c.notes)
    notes += "".join(f"<li>warning: {e(w)}</li>" for w in board.warnings)
    points = frontier_points({run["label"]: run["path"] for run in board.runs})
    frontier = (f"<section id=frontier><h2>Frontier</h2><figure>{frontier_svg(points)}</figure><p class=note>"
                f"{e(FRONTIER_NOTE)}</p></section>") if points else ""
    content = (f"<section id=board><h2>Leaderboard</h2><div class=scroll><table><tr><th>#</th><th>model</th>"
               f"{head}</tr>{''.join(body)}</table></div><p class=note>{e(LEGEND)} Bold = best.</p>"
               + (f"<ul class=note>{notes}</ul>" if notes else "") + "</section>"
               f"<section id=charts><h2>Per column</h2><div class=views>{''.join(charts)}</div></section>"
               + frontier)
    header = f"<h1>alignlab leaderboard</h1><div class=meta>{len(board.runs)} runs</div>"
    nav = [("board", "Leaderboard"), ("charts", "Per column")] + ([("frontier", "Frontier")] if points else [])
    return page("alignlab leaderboard", header, nav, content)


def leaderboard(runs: Sequence[str | Path], fmt: str = "markdown", warnings: list[str] | None = None) -> str:
    """The leaderboard of ``runs`` as ``html``, ``markdown`` or ``csv`` text; ``warnings`` collects the board's."""
    render = {"html": to_html, "markdown": to_markdown, "csv": to_csv}.get(fmt)
    if render is None:
        raise AlignlabError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    board = compare_runs(runs)
    if warnings is not None:
        warnings.extend(board.warnings)
    return render(board)
