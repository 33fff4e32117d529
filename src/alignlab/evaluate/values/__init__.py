"""Level 3, human values: value surveys (``values/schwartz``, ``values/moral-foundations``) scored into value
profiles, and value conflicts (``values/conflicts``) ranked by Bradley–Terry strength."""

from alignlab.evaluate.values.dilemmas import conflict_metrics, value_strengths
from alignlab.evaluate.values.scoring import (
    ItemScore,
    Profile,
    consistency,
    expected_agreement,
    ipsatize,
    item_scores,
    likert_from_choice,
    likert_from_logprobs,
    option_probs,
    reverse_key,
    survey_metrics,
    value_profile,
)

__all__ = [
    "ItemScore",
    "Profile",
    "conflict_metrics",
    "consistency",
    "expected_agreement",
    "ipsatize",
    "item_scores",
    "likert_from_choice",
    "likert_from_logprobs",
    "option_probs",
    "reverse_key",
    "survey_metrics",
    "value_profile",
    "value_strengths",
]
