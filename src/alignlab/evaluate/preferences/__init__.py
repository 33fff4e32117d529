"""Statistics of human-preference evaluation: win rates against a baseline and ratings over battles."""

from alignlab.evaluate.preferences._bt import win_matrix
from alignlab.evaluate.preferences.battles import (
    STYLE_FEATURES,
    WINNERS,
    Battles,
    battles_from_records,
    read_battles,
    text_style,
)
from alignlab.evaluate.preferences.ratings import (
    Leaderboard,
    ModelRating,
    bradley_terry,
    leaderboard,
    online_elo,
    ranks_by_ci,
    to_elo,
)
from alignlab.evaluate.preferences.winrate import WinRate, length_controlled, preferences_from_scores, win_rate

__all__ = [
    "STYLE_FEATURES",
    "WINNERS",
    "Battles",
    "Leaderboard",
    "ModelRating",
    "WinRate",
    "battles_from_records",
    "bradley_terry",
    "leaderboard",
    "length_controlled",
    "online_elo",
    "preferences_from_scores",
    "ranks_by_ci",
    "read_battles",
    "text_style",
    "to_elo",
    "win_matrix",
    "win_rate",
]

# Preference agreement, reward-model scoring and the preference-level benchmarks (truthfulness, bias, toxicity).
from alignlab.evaluate.preferences.agreement import BestOfN, Pair, best_of_n, read_pairs  # noqa: E402
from alignlab.evaluate.preferences.bias import read_bbq, read_stereotype_pairs  # noqa: E402
from alignlab.evaluate.preferences.toxicity import JudgeScorer, LexiconScorer, ToxicityScorer  # noqa: E402
from alignlab.evaluate.preferences.truthfulness import mc1_score, mc2_score, read_mc_task  # noqa: E402

__all__ += [
    "BestOfN",
    "JudgeScorer",
    "LexiconScorer",
    "Pair",
    "ToxicityScorer",
    "best_of_n",
    "mc1_score",
    "mc2_score",
    "read_bbq",
    "read_mc_task",
    "read_pairs",
    "read_stereotype_pairs",
]
