"""The report's page shell: CSS, a Content-Security-Policy, and the survey taxonomy the scorecards are framed by."""

from __future__ import annotations

import base64
import hashlib
from html import escape

# Design §1: the survey's taxonomy, one row per level (what we align with / how / how it is evaluated).
TAXONOMY: dict[str, dict[str, str]] = {
    "instructions": {
        "title": "Human instructions",
        "goal": "instruction/response data (NLP task collections, model-generated, human-shared)",
        "algorithms": "supervised fine-tuning (SFT)",
        "evaluation": "benchmarks (task accuracy, verifiable instruction following); automatic chatbot arenas "
                      "(LLM judge vs a reference)",
    },
    "preferences": {
        "title": "Human preferences",
        "goal": "human demonstrations; human feedback (pairwise, ranked, rated, thumbs); model synthetic feedback",
        "algorithms": "reward model + RL (RLOO, GRPO, PPO), DPO family, KTO, ORPO, best-of-n",
        "evaluation": "benchmarks (truthfulness, bias, toxicity); human evaluation (arena, ratings); "
                      "reward-model scoring",
    },
    "values": {
        "title": "Human values",
        "goal": "principles (HHH, social norms and ethics, Schwartz values, Moral Foundations); target value "
                "profiles and constitutions",
        "algorithms": "critique-and-revise, AI feedback against principles (RLAIF), value-profile rewards, "
                      "principle-driven self-alignment",
        "evaluation": "safety and risk benchmarks (refusal, over-refusal); social-norm benchmarks; value surveys "
                      "(questionnaires → value profile); value classifiers",
    },
}

CSS = """
:root { --fg: #1d1d1f; --muted: #666; --line: #e2e2e6; --accent: #3060c0; --bad: #c04030; --bg2: #f6f7f9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; }
header.top { padding: 18px 28px; background: var(--bg2); border-bottom: 1px solid var(--line); }
header.top h1 { margin: 0 0 4px; font-size: 22px; }
header.top .meta { color: var(--muted); }
nav { padding: 8px 28px; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: #fff; z-index: 2; }
nav a { margin-right: 16px; color: var(--accent); text-decoration: none; }
main { padding: 8px 28px 40px; max-width: 1280px; }
h2 { margin: 28px 0 10px; font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 18px 0 6px; font-size: 15px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(330px, 1fr)); gap: 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: #fff; }
.card h3 { margin-top: 0; }
.card table { width: 100%; }
.card td:first-child { word-break: break-word; }
.card td.num { white-space: nowrap; }
.card .score { font-size: 28px; font-weight: 600; }
.card dl { margin: 6px 0; color: var(--muted); font-size: 12px; }
.card dt { font-weight: 600; color: var(--fg); }
.card dd { margin: 0 0 4px; }
.empty { color: var(--muted); font-style: italic; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
td.num { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
.scroll { overflow-x: auto; }
.note { color: var(--muted); font-size: 12px; }
.warn { color: #a4450b; font-weight: 600; }
.views { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.views figure { margin: 0; }
svg.chart { max-width: 100%; height: auto; font-family: inherit; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; }
details { margin: 4px 0; }
pre.config { background: var(--bg2); padding: 10px; border-radius: 6px; font-size: 12px; }
.sb-controls { margin: 8px 0; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
#sb-search { width: 320px; padding: 4px 6px; }
#sb-count { color: var(--muted); }
article.sample { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 6px;
  margin: 8px 0; padding: 6px 10px; }
article.sample.fail { border-left-color: var(--bad); }
article.sample header { display: flex; gap: 12px; font-size: 12px; color: var(--muted); flex-wrap: wrap; }
article.sample .sid { font-weight: 600; color: var(--fg); }
article.sample .badge { color: #fff; background: var(--bad); border-radius: 4px; padding: 0 6px; }
.kind { font-size: 11px; border-radius: 3px; padding: 0 4px; margin-right: 4px; white-space: nowrap; }
.kind-score { background: #e3ecfa; color: #1d4f9a; }
.kind-reliability { background: #fdf0dc; color: #8a5200; }
.kind-descriptive, .kind-undeclared { background: #eee; color: #555; }
tr.out td { color: #999; }
tr.out a { color: #8aa0c8; }
tr.failed td { background: #fdf1ef; }
.ok { color: #2a7a3a; font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.card .score.none { color: var(--muted); font-size: 20px; }
.gated { position: relative; border: 1px dashed #bbb; border-radius: 6px; padding: 6px; background: #fafafa; }
.gated .greyed { opacity: 0.35; filter: grayscale(1); }
.gate-notice { margin: 0 0 4px; color: var(--bad); font-weight: 600; font-size: 12px; max-width: 560px; }
.synthetic-notice { margin: 0 0 4px; color: #8a5200; font-size: 12px; max-width: 560px; }
.field { display: grid; grid-template-columns: 70px 1fr; gap: 8px; margin-top: 4px; }
.field .k { color: var(--muted); font-size: 12px; }
.field.output pre { background: var(--bg2); padding: 4px 6px; border-radius: 4px; }
"""


def script_hash(script: str) -> str:
    """The CSP source for one inline script: only that exact script may run, nothing injected."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def page(title: str, header: str, nav: list[tuple[str, str]], body: str, script: str = "") -> str:
    """A complete, self-contained HTML document; ``header`` and ``body`` are already-escaped HTML."""
    # default-src 'none': the page can fetch nothing (offline by construction), and an injected script would not
    # run because only the report's own script is allowed, by hash.
    csp = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src {script_hash(script)}"
    links = "".join(f'<a href="#{escape(anchor)}">{escape(text)}</a>' for anchor, text in nav)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top">{header}</header><nav>{links}</nav><main>{body}</main>'
        + (f"<script>{script}</script>" if script else "")
        + "</body></html>\n"
    )
