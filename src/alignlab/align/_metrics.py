"""Training metrics: appended to ``metrics.jsonl`` as the trainer logs them, and drawn into ``metrics.svg``.

One JSON object per log call (``step`` + what TRL logged), flushed at once, so an interrupted run keeps what it
logged and a resumed run appends after it. The plot is hand-written SVG (the report's helpers): matplotlib is not
a dependency, and a few polylines do not need it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alignlab.report.svg import ACCENT, document, escape_text, ticks

# Panels, in order, each with the logged keys it draws (the first key in accent colour; eval_* keys dashed).
PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("loss", ("loss", "eval_loss")),
    ("preference accuracy", ("rewards/accuracies", "accuracy", "eval_rewards/accuracies", "eval_accuracy")),
    ("reward margin", ("rewards/margins", "margin", "eval_rewards/margins", "eval_margin")),
    ("reward", ("reward", "eval_reward")),
    ("KL to reference", ("kl", "objective/kl", "eval_kl")),
    ("token accuracy", ("mean_token_accuracy", "eval_mean_token_accuracy")),
)
_COLOURS = (ACCENT, "#c04030", "#30a060", "#a060c0")


def metrics_callback(path: Path) -> Any:
    """A transformers ``TrainerCallback`` that appends each log to ``path`` (main process only)."""
    from transformers import TrainerCallback

    class MetricsCallback(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            if not logs or not state.is_world_process_zero:
                return
            row = {"step": state.global_step, "epoch": state.epoch, **{k: _jsonable(v) for k, v in logs.items()}}
            with path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
                fh.flush()

    return MetricsCallback()


_SHOWN = ("loss", "eval_loss", "rewards/accuracies", "rewards/margins", "reward", "kl", "mean_token_accuracy",
          "eval_rewards/accuracies", "learning_rate")


def log_line(step: int, max_steps: int, logs: dict[str, Any]) -> str:
    """``step 20/120 · loss 0.6931 · rewards/accuracies 0.625``: the headline metrics of one log, for people."""
    shown = [f"{k} {v:.4g}" for k in _SHOWN if isinstance(v := logs.get(k), int | float) and not isinstance(v, bool)]
    return " · ".join([f"step {step}/{max_steps}", *shown])


def _has_shown(logs: dict[str, Any] | None) -> bool:
    # the end-of-training summary (train_runtime, train_loss) has none: the CLI prints its own summary line
    return bool(logs) and any(k in logs for k in _SHOWN)


def progress_callback(terminal: bool) -> Any:
    """Training progress: on a terminal transformers' step bar with one readable line per log (not the raw dict
    TRL logs); otherwise one plain line per log on stderr. Replaces transformers' Progress/PrinterCallback."""
    import sys

    from transformers import TrainerCallback
    from transformers.trainer_callback import ProgressCallback

    class ReadableProgress(ProgressCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            if _has_shown(logs) and state.is_world_process_zero and self.training_bar is not None:
                self.training_bar.write(log_line(state.global_step, state.max_steps, logs))

    class PlainLines(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            if _has_shown(logs) and state.is_world_process_zero:
                print(log_line(state.global_step, state.max_steps, logs), file=sys.stderr, flush=True)

    return ReadableProgress() if terminal else PlainLines()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # tensors and numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, int | float | str | bool | type(None)) else str(value)


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The rows of a ``metrics.jsonl`` (a line cut off by a kill is skipped)."""
    rows = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def final_metrics(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The last logged value of every numeric metric."""
    out: dict[str, float] = {}
    for row in rows:
        for key, value in row.items():
            if key != "step" and isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = float(value)
    return out


def _series(rows: Sequence[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    """(step, value) per row that logged ``key``; a resumed run's repeated steps keep the later value."""
    by_step: dict[float, float] = {}
    for row in rows:
        v = row.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            by_step[float(row.get("step", len(by_step)))] = float(v)
    return sorted(by_step.items())


def _panel(title: str, lines: list[tuple[str, list[tuple[float, float]]]], width: int, height: int) -> list[str]:
    """One line chart's shapes, drawn in a (width × height) box at the origin."""
    left, top, bottom, right = 52, 22, 24, 10
    xs = [x for _, pts in lines for x, _ in pts]
    ys = [y for _, pts in lines for _, y in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    body = [f'<text x="{left}" y="14" font-weight="bold">{escape_text(title)}</text>']
    for tick in ticks(y0, y1, 4):
        body.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" stroke="#ddd"/>'
                    f'<text x="{left - 4}" y="{py(tick) + 4:.1f}" text-anchor="end" fill="#666">{tick:g}</text>')
    for tick in ticks(x0, x1, 4):
        if tick != int(tick):  # steps are whole numbers
            continue
        body.append(f'<text x="{px(tick):.1f}" y="{height - 8}" text-anchor="middle" fill="#666">{tick:g}</text>')
    for i, (key, pts) in enumerate(lines):
        colour = _COLOURS[i % len(_COLOURS)]
        dash = ' stroke-dasharray="4 3"' if key.startswith("eval_") else ""
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}>'
                    f"<title>{escape_text(key)}</title></polyline>")
        if len(pts) == 1:
            body.append(f'<circle cx="{px(pts[0][0]):.1f}" cy="{py(pts[0][1]):.1f}" r="2.5" fill="{colour}"/>')
        body.append(f'<text x="{left + pw}" y="{14 + 12 * i}" text-anchor="end" fill="{colour}">'
                    f'{escape_text(key)}</text>')
    return body


def _constraint_panels(rows: Sequence[dict[str, Any]]) -> list[tuple[str, list[tuple[str, list]]]]:
    """Per constraint (``constraint/<cost>/...`` keys): λ, and the batch mean cost beside its threshold."""
    names = sorted({k.split("/")[1] for row in rows for k in row if k.startswith("constraint/") and k.count("/") == 2})
    panels = []
    for name in names:
        key = f"constraint/{name}"
        if pts := _series(rows, f"{key}/lambda"):
            panels.append((f"Lagrange multiplier λ ({name})", [(f"{key}/lambda", pts)]))
        lines = [(k, pts) for k in (f"{key}/cost", f"{key}/threshold", f"{key}/over_budget")
                 if (pts := _series(rows, k))]
        if lines:
            panels.append((f"cost vs budget ({name})", lines))
    return panels


def plot_metrics(rows: Sequence[dict[str, Any]], out: Path, title: str = "training") -> Path | None:
    """Write ``out`` (SVG): one panel per metric family that was logged, against the step; None if none was."""
    panels = []
    for name, keys in PANELS:
        lines = [(k, pts) for k in keys if (pts := _series(rows, k))]
        if lines:
            panels.append((name, lines))
    panels += _constraint_panels(rows)
    if not panels:
        return None
    w, h, cols = 360, 200, 2
    body = [f'<text x="8" y="16" font-weight="bold" font-size="14">{escape_text(title)}'
            '<tspan font-weight="normal" fill="#666"> (x: optimizer step)</tspan></text>']
    for i, (name, lines) in enumerate(panels):
        dx, dy = (i % cols) * w, 24 + (i // cols) * h
        body.append(f'<g transform="translate({dx},{dy})">{"".join(_panel(name, lines, w, h))}</g>')
    height = 24 + math.ceil(len(panels) / cols) * h
    svg = document(w * cols, height, title, body).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    tmp = out.with_suffix(".svg.tmp")
    tmp.write_text(svg, encoding="utf-8")
    tmp.replace(out)
    return out
