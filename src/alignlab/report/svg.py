"""Inline SVG charts for the report: bars with CI whiskers, a circumplex radar with a CI band, refusal pairs.

Hand-written rather than matplotlib: the charts are a few dozen shapes each, matplotlib would add a heavy
dependency (and font/backend setup) to every install just for the report, and its SVG output embeds glyph paths
that bloat an offline file. Plain SVG also stays crisp, is searchable text, and needs no JavaScript.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = 12
ACCENT = "#3060c0"
BAND = "#3060c0"
WARN = "#c04030"


@dataclass(frozen=True)
class Point:
    """A figure with its 95% CI; any part may be missing."""

    label: str
    value: float | None
    lo: float | None = None
    hi: float | None = None
    n: int | None = None

    @classmethod
    def of(cls, label: str, metric: dict | None) -> Point:
        m = metric or {}
        ci = m.get("ci") or [None, None]
        ci = list(ci) + [None, None]
        return cls(label, number(m.get("value")), number(ci[0]), number(ci[1]), m.get("n"))


def number(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) else None


def fmt(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def escape_text(s: object) -> str:
    return escape(str(s), quote=True)


def _domain(points: Sequence[Point], fixed: tuple[float, float] | None) -> tuple[float, float]:
    """The axis range: ``fixed`` if given; [0, 1] when everything is a rate; else the data padded, with 0 in it."""
    if fixed:
        return fixed
    xs = [x for p in points for x in (p.value, p.lo, p.hi) if x is not None]
    if not xs:
        return 0.0, 1.0
    if min(xs) >= 0 and max(xs) <= 1:
        return 0.0, 1.0
    lo, hi = min(0.0, min(xs)), max(0.0, max(xs))
    pad = (hi - lo) * 0.05 or 1.0
    return lo - (pad if lo < 0 else 0), hi + pad


def document(width: int, height: int, title: str, body: list[str], cls: str = "chart") -> str:
    return (f'<svg class="{cls}" role="img" aria-label="{escape_text(title)}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-size="{FONT}">'
            f"<title>{escape_text(title)}</title>{''.join(body)}</svg>")


def bars(points: Sequence[Point], title: str, *, domain: tuple[float, float] | None = None,
         label_width: int = 220, width: int = 640) -> str:
    """Horizontal bars (labels read well even for long instruction ids) with 95% CI whiskers."""
    row, top = 20, 24
    height = top + row * len(points) + 22
    lo_d, hi_d = _domain(points, domain)
    plot_w = width - label_width - 100

    def x(v: float) -> float:
        return label_width + (min(max(v, lo_d), hi_d) - lo_d) / (hi_d - lo_d) * plot_w

    body = [f'<text x="{label_width}" y="14" font-weight="bold">{escape_text(title)}</text>']
    for tick in ticks(lo_d, hi_d):
        body.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 4}" y2="{height - 18}" '
                    f'stroke="#ddd"/><text x="{x(tick):.1f}" y="{height - 4}" text-anchor="middle" '
                    f'fill="#666">{tick:g}</text>')
    zero = x(0.0) if lo_d <= 0 <= hi_d else x(lo_d)
    for i, p in enumerate(points):
        y = top + i * row
        body.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{escape_text(p.label)}</text>')
        if p.value is None:
            body.append(f'<text x="{zero + 4:.1f}" y="{y + 13}" fill="#999">no value</text>')
            continue
        x0, x1 = sorted((zero, x(p.value)))
        body.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1):.1f}" height="{row - 6}" '
                    f'fill="{ACCENT}" fill-opacity="0.75"><title>{escape_text(p.label)}: {fmt(p.value)} '
                    f'[{fmt(p.lo)}, {fmt(p.hi)}] n={p.n}</title></rect>')
        if p.lo is not None and p.hi is not None:
            yl = y + row / 2
            body.append(f'<path d="M{x(p.lo):.1f} {yl - 5}v10M{x(p.lo):.1f} {yl}H{x(p.hi):.1f}M{x(p.hi):.1f} '
                        f'{yl - 5}v10" stroke="#222" fill="none"/>')
        n = f" n={p.n}" if p.n is not None else ""
        body.append(f'<text x="{width - 94}" y="{y + 13}" fill="#333">{fmt(p.value, 2)}'
                    f'<tspan fill="#999" font-size="10">{n}</tspan></text>')
    return document(width, height, title, body)


def ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    step = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(step)) if step > 0 else 1
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= step), default=mag)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


def radar(points: Sequence[Point], title: str, *, size: int = 380) -> str:
    """A radar in the given (circumplex) order: the value polygon over a shaded band between CI bounds.

    Scores may be negative (ipsatised profiles centre on the respondent's mean), so the radius maps the data range
    linearly and a dashed ring marks zero.
    """
    width = size + 160  # room for long labels left and right of the circle
    cx, cy = width / 2, size / 2
    r_max, r_min = size / 2 - 50, 14.0
    xs = [x for p in points for x in (p.value, p.lo, p.hi) if x is not None]
    lo_d, hi_d = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if hi_d - lo_d < 1e-9:
        lo_d, hi_d = lo_d - 1, hi_d + 1
    k = len(points)

    def xy(i: int, v: float) -> tuple[float, float]:
        r = r_min + (v - lo_d) / (hi_d - lo_d) * (r_max - r_min)
        a = -math.pi / 2 + 2 * math.pi * i / k
        return cx + r * math.cos(a), cy + r * math.sin(a)

    def poly(vals: list[float | None]) -> str:
        return " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(i, v) for i, v in enumerate(vals) if v is not None))

    body = [f'<text x="{cx}" y="14" text-anchor="middle" font-weight="bold">{escape_text(title)}</text>']
    for frac in (0.25, 0.5, 0.75, 1.0):
        body.append(f'<polygon points="{poly([lo_d + frac * (hi_d - lo_d)] * k)}" fill="none" stroke="#ddd"/>')
    if lo_d < 0 < hi_d:
        body.append(f'<polygon class="zero" points="{poly([0.0] * k)}" fill="none" stroke="#888" '
                    f'stroke-dasharray="4 3"/>')
    for i, p in enumerate(points):
        ex, ey = xy(i, hi_d)
        lx, ly = xy(i, hi_d + (hi_d - lo_d) * 0.12)
        anchor = "middle" if abs(lx - cx) < 8 else ("start" if lx > cx else "end")
        body.append(f'<line x1="{cx}" y1="{cy}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="#eee"/>'
                    f'<text x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="{anchor}">{escape_text(p.label)}</text>')
    if all(p.lo is not None and p.hi is not None for p in points):
        # The band: outer polygon (upper bounds) with the inner one (lower bounds) cut out by the even-odd rule.
        outer, inner = poly([p.hi for p in points]), poly([p.lo for p in points])
        body.append(f'<path class="ci-band" d="M{outer}Z M{inner}Z" fill="{BAND}" fill-opacity="0.18" '
                    f'fill-rule="evenodd" stroke="none"/>')
    if all(p.value is not None for p in points):
        body.append(f'<polygon points="{poly([p.value for p in points])}" fill="none" stroke="{ACCENT}" '
                    f'stroke-width="2"/>')
    for i, p in enumerate(points):
        if p.value is not None:
            a, b = xy(i, p.value)
            body.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{ACCENT}"><title>{escape_text(p.label)}: '
                        f'{fmt(p.value)} [{fmt(p.lo)}, {fmt(p.hi)}]</title></circle>')
    body.append(f'<text x="4" y="{size - 6}" fill="#666">centre {lo_d:.2f}, rim {hi_d:.2f}'
                f'{"; dashed ring = 0" if lo_d < 0 < hi_d else ""}</text>')
    return document(int(width), size, title, body)


def refusal_pairs(rows: Sequence[tuple[str, Point | None, Point | None]], title: str, width: int = 640) -> str:
    """Per suite, refusal on unsafe prompts (higher is safer) next to refusal on safe ones (lower is better)."""
    group, top, label_w = 46, 40, 170
    height = top + group * len(rows) + 24
    plot_w = width - label_w - 70

    def x(v: float) -> float:
        return label_w + min(max(v, 0.0), 1.0) * plot_w

    body = [f'<text x="{label_w}" y="14" font-weight="bold">{escape_text(title)}</text>',
            f'<rect x="{label_w}" y="22" width="10" height="10" fill="{ACCENT}"/>'
            f'<text x="{label_w + 14}" y="31">refusal, unsafe prompts (higher is safer)</text>',
            f'<rect x="{label_w + 270}" y="22" width="10" height="10" fill="{WARN}"/>'
            f'<text x="{label_w + 284}" y="31">over-refusal, safe prompts (lower is better)</text>']
    for tick in ticks(0, 1):
        body.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{height - 18}" stroke="#ddd"/>'
                    f'<text x="{x(tick):.1f}" y="{height - 4}" text-anchor="middle" fill="#666">{tick:g}</text>')
    for i, (label, refusal, over) in enumerate(rows):
        y = top + i * group
        body.append(f'<text x="{label_w - 6}" y="{y + 26}" text-anchor="end">{escape_text(label)}</text>')
        for j, (p, colour) in enumerate(((refusal, ACCENT), (over, WARN))):
            yy = y + 4 + j * 20
            if p is None or p.value is None:
                body.append(f'<text x="{label_w + 4}" y="{yy + 13}" fill="#999">not measured</text>')
                continue
            body.append(f'<rect x="{label_w}" y="{yy}" width="{max(x(p.value) - label_w, 1):.1f}" height="16" '
                        f'fill="{colour}" fill-opacity="0.8"><title>{escape_text(p.label)}: {fmt(p.value)} '
                        f'[{fmt(p.lo)}, {fmt(p.hi)}] n={p.n}</title></rect>'
                        f'<text x="{width - 64}" y="{yy + 13}">{fmt(p.value, 2)}</text>')
            if p.lo is not None and p.hi is not None:
                body.append(f'<path d="M{x(p.lo):.1f} {yy + 3}v10M{x(p.lo):.1f} {yy + 8}H{x(p.hi):.1f}'
                            f'M{x(p.hi):.1f} {yy + 3}v10" stroke="#222" fill="none"/>')
    return document(width, height, title, body)
