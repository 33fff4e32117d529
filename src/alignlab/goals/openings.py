"""Shared openings between training and held-out preference answers: wording a model can learn instead of the goal.

A split by prompt keeps prompts apart, but when chosen answers share a template ("I can't help with …") a model
trained on some of them picks the held-out ones by their first words. ``opening_overlap`` measures that: for each
held-out pair, does its chosen (rejected) answer open with the same first ``k`` words as some training chosen
(rejected) answer? A *decisive* pair is one whose opening occurs on its own side in training and never on the other
side, so the opening alone tells the two answers apart. The goal loop stores the figures in ``summary.json`` and warns
when the decisive share exceeds ``WARN_SHARE``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

OPENING_WORDS = 4
"""Words compared: four catch fixed phrases ("I can't help with", "I'm sorry, but I") but not shared topic words
such as "The capital of" that both answers of a pair carry."""
WARN_SHARE = 0.10
"""Warn when more than one held-out pair in ten could be decided by its opening alone."""

_WORD = re.compile(r"[\w']+")


def answer_text(value: Any) -> str:
    """The answer's text: a string, or the last message's content of a conversational completion."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        last = value[-1]
        content = last.get("content") if isinstance(last, dict) else getattr(last, "content", "")
        return content if isinstance(content, str) else ""
    return ""


def opening(text: str, k: int = OPENING_WORDS) -> str:
    """The first ``k`` words, case-folded, punctuation dropped, curly apostrophes made straight."""
    return " ".join(_WORD.findall(text.casefold().replace("’", "'"))[:k])


def opening_overlap(train: Sequence[tuple[str, str]], heldout: Sequence[tuple[str, str]],
                    k: int = OPENING_WORDS) -> dict[str, Any]:
    """Shares of held-out (chosen, rejected) pairs whose openings occur in the training pairs (see module doc).

    Returns ``k``, ``n_heldout``, ``chosen`` / ``rejected`` (share whose opening starts a training answer of the
    same side), ``decisive`` (share decidable by an opening alone), ``top`` (the most frequent shared openings with
    their held-out counts) and ``warning`` (a sentence when ``decisive`` > ``WARN_SHARE``, else None).
    """
    tc = Counter(opening(c, k) for c, _ in train)
    tr = Counter(opening(r, k) for _, r in train)
    n = len(heldout)
    shared_c = shared_r = decisive = 0
    top: Counter[str] = Counter()
    for c, r in heldout:
        oc, orj = opening(c, k), opening(r, k)
        in_c, in_r = oc in tc, orj in tr
        shared_c += in_c
        shared_r += in_r
        if in_c:
            top[f"chosen: {oc}"] += 1
        if in_r:
            top[f"rejected: {orj}"] += 1
        decisive += (in_c and oc not in tr) or (in_r and orj not in tc)
    share = (lambda x: x / n) if n else (lambda x: None)
    out: dict[str, Any] = {"k": k, "n_heldout": n, "chosen": share(shared_c), "rejected": share(shared_r),
                           "decisive": share(decisive), "top": [[o, m] for o, m in top.most_common(5)],
                           "warning": None}
    if n and decisive / n > WARN_SHARE:
        worst = "; ".join(f"{o!r} ×{m}" for o, m in top.most_common(3))
        out["warning"] = (f"{decisive}/{n} held-out pairs open like training answers of their own side only (first "
                          f"{k} words), so wording alone can decide them: {worst}. The held-out gain may measure "
                          "learned openings; vary the wording or hold out a set written independently.")
    return out
