"""IFEval-compatible verifiable instruction following: 25 checkers, strict/loose scoring, suites and file scoring."""

from alignlab.evaluate.instructions.ifeval._data import IFEvalPrompt, parse_prompts, read_prompts
from alignlab.evaluate.instructions.ifeval._registry import (
    Instruction,
    checker_decorator,
    follows,
    get_instruction,
    instructions,
)
from alignlab.evaluate.instructions.ifeval._util import count_words, split_sentences
from alignlab.evaluate.instructions.ifeval.scoring import (
    HEADLINE,
    IFEVAL_METRICS,
    Checker,
    PromptResult,
    ifeval_metrics,
    loose_variants,
    score_response,
)

__all__ = [
    "HEADLINE",
    "IFEvalPrompt",
    "Checker",
    "IFEVAL_METRICS",
    "Instruction",
    "PromptResult",
    "count_words",
    "follows",
    "checker_decorator",
    "get_instruction",
    "ifeval_metrics",
    "instructions",
    "loose_variants",
    "parse_prompts",
    "read_prompts",
    "score_response",
    "split_sentences",
]
