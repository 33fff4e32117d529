"""The report's sample browser: every sample record, searchable, with a "failures only" filter.

Model outputs are untrusted text. They travel as JSON inside ``<script type="application/json">`` with ``<``,
``>``, ``&`` and U+2028/U+2029 written as ``\\uXXXX`` escapes, so no output (say ``</script><img onerror=...>``)
can end the data block or be read as markup; the script below puts them on the page with ``textContent`` only,
never ``innerHTML``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from alignlab.evaluate.rundir import RunDir

MAX_CHARS = 8000
"""Longer fields are cut (with a note) so one runaway generation cannot bloat the report."""
MAX_RECORDS = 2000
"""Per suite; the samples/*.jsonl files keep everything."""

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(obj: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (and valid JSON: the escapes only occur in strings)."""
    text = json.dumps(_finite(obj), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return "".join(_JSON_ESCAPES.get(c, c) for c in text)


def _finite(obj: Any) -> Any:
    """NaN/inf become null: JSON.parse rejects them."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _cut(s: str) -> str:
    return s if len(s) <= MAX_CHARS else s[:MAX_CHARS] + f"\n… [{len(s) - MAX_CHARS} more characters in the jsonl]"


def _text(value: Any) -> str | None:
    """A field as display text: strings as they are, chat messages as ``role: content`` lines, the rest as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, list) and all(isinstance(m, dict) and "content" in m for m in value):
        return _cut("\n\n".join(f"{m.get('role', '?')}: {m['content']}" for m in value))
    return _cut(json.dumps(_finite(value), ensure_ascii=False, default=str))


def is_failure(record: dict[str, Any], primary: str | None) -> bool:
    """An error, a 0 on the suite's primary score, or (without one) a 0 among purely 0/1 scores."""
    if record.get("error"):
        return True
    scores = {k: v for k, v in (record.get("scores") or {}).items() if isinstance(v, int | float)}
    if primary and primary in scores:
        return scores[primary] == 0
    return bool(scores) and all(v in (0, 1) for v in scores.values()) and min(scores.values()) == 0


def payload(run_dir: Path, suites: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The browser's data: one compact entry per sample of every suite in results.json that has a samples file."""
    rows, truncated = [], {}
    for name, summary in suites.items():
        for i, r in enumerate(RunDir(run_dir).samples(name)):
            if i >= MAX_RECORDS:
                truncated[name] = True
                break
            scores = {k: v for k, v in (r.get("scores") or {}).items() if not isinstance(v, dict | list)}
            rows.append({
                "suite": name, "id": str(r.get("id")), "input": _text(r.get("input")),
                "output": _text(r.get("output")), "answer": _text(r.get("answer")),
                "target": _text(r.get("target")), "judge": _text(r.get("judge")), "error": _text(r.get("error")),
                "scores": scores, "fail": is_failure(r, summary.get("primary_metric")),
            })
    return {"suites": [n for n in suites if any(r["suite"] == n for r in rows)], "records": rows,
            "truncated": sorted(truncated), "max_records": MAX_RECORDS}


def section(data: dict[str, Any]) -> str:
    """The browser's static markup plus its data block (the script itself goes in the page's <script>)."""
    note = (f"<p class=note>Only the first {data['max_records']} samples of {', '.join(data['truncated'])} are "
            "shown; the jsonl files hold all.</p>") if data["truncated"] else ""
    return (
        '<section id="samples"><h2>Samples</h2>'
        "<p class=note>Every model output is shown as plain text. A failure is an error or a 0 on the suite's "
        "primary score.</p>" + note +
        '<div class="sb-controls"><label>Suite <select id="sb-suite"><option value="">all suites</option>'
        '</select></label> <input id="sb-search" type="search" placeholder="search inputs, outputs, ids…" '
        'aria-label="search samples"> <label><input id="sb-failures" type="checkbox"> failures only</label> '
        '<span id="sb-count" aria-live="polite"></span></div>'
        '<div id="sb-list"></div><button id="sb-more" type="button" hidden>show more</button>'
        '<noscript><p>The sample browser needs JavaScript; the samples are in samples/*.jsonl.</p></noscript>'
        f'<script type="application/json" id="samples-data">{script_json(data)}</script></section>'
    )


# Vanilla JS, no libraries; every model-controlled string goes through textContent.
SCRIPT = """(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("samples-data").textContent);
  var sel = document.getElementById("sb-suite"), q = document.getElementById("sb-search");
  var fo = document.getElementById("sb-failures"), list = document.getElementById("sb-list");
  var count = document.getElementById("sb-count"), more = document.getElementById("sb-more");
  var PAGE = 50, limit = PAGE, FIELDS = ["input", "output", "answer", "target", "judge", "error"];
  data.suites.forEach(function (s) {
    var o = document.createElement("option"); o.value = s; o.textContent = s; sel.appendChild(o);
  });
  data.records.forEach(function (r) {
    r.hay = [r.id, r.suite].concat(FIELDS.map(function (f) { return r[f] || ""; })).join("\\n").toLowerCase();
  });
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function card(r) {
    var c = el("article", r.fail ? "sample fail" : "sample"), h = el("header");
    h.appendChild(el("span", "sid", r.id)); h.appendChild(el("span", "ssuite", r.suite));
    var sc = Object.keys(r.scores).map(function (k) { return k + "=" + r.scores[k]; }).join("  ");
    h.appendChild(el("span", "sscores", sc));
    if (r.fail) { h.appendChild(el("span", "badge", "failure")); }
    c.appendChild(h);
    FIELDS.forEach(function (f) {
      if (r[f] === null || r[f] === undefined || r[f] === "") { return; }
      var d = el("div", "field " + f);
      d.appendChild(el("span", "k", f)); d.appendChild(el("pre", "v", r[f]));
      c.appendChild(d);
    });
    return c;
  }
  function render() {
    var needle = q.value.trim().toLowerCase(), suite = sel.value, failOnly = fo.checked;
    var hits = data.records.filter(function (r) {
      return (!suite || r.suite === suite) && (!failOnly || r.fail) && (!needle || r.hay.indexOf(needle) >= 0);
    });
    list.replaceChildren();
    hits.slice(0, limit).forEach(function (r) { list.appendChild(card(r)); });
    count.textContent = hits.length + " of " + data.records.length + " samples";
    more.hidden = hits.length <= limit;
  }
  function reset() { limit = PAGE; render(); }
  q.addEventListener("input", reset); sel.addEventListener("change", reset); fo.addEventListener("change", reset);
  more.addEventListener("click", function () { limit += PAGE; render(); });
  render();
})();
"""
