"""Statistics of human-preference evaluation: win rates against a baseline and ratings over battles; preference
agreement, reward-model scoring and the preference-level benchmarks (truthfulness, bias, toxicity).

Names load on first use (PEP 562), so ``alignlab ratings`` imports the battle reader and the Bradley–Terry fit
and not scipy, which the win-rate and benchmark modules need.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "_bt": ("win_matrix",),
    "battles": ("STYLE_FEATURES", "WINNERS", "Battles", "battles_from_records", "read_battles", "text_style"),
    "ratings": ("Leaderboard", "ModelRating", "bradley_terry", "leaderboard", "online_elo", "ranks_by_ci", "to_elo"),
    "winrate": ("WinRate", "length_controlled", "preferences_from_scores", "win_rate"),
    "agreement": ("BestOfN", "Pair", "best_of_n", "read_pairs"),
    "bias": ("read_bbq", "read_stereotype_pairs"),
    "toxicity": ("JudgeScorer", "LexiconScorer", "ToxicityScorer"),
    "truthfulness": ("mc1_score", "mc2_score", "read_mc_task"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
