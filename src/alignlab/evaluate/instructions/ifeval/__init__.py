"""IFEval-compatible verifiable instruction following: 25 checkers, strict/loose scoring, suites and file scoring."""

from alignlab.evaluate.instructions.ifeval._data import IFEvalPrompt, parse_prompts, read_prompts
from alignlab.evaluate.instructions.ifeval._registry import Instruction, follows, get_instruction, instructions
from alignlab.evaluate.instructions.ifeval.scoring import (
    HEADLINE,
    PromptResult,
    ifeval_metrics,
    loose_variants,
    score_response,
)

__all__ = [
    "HEADLINE",
    "IFEvalPrompt",
    "Instruction",
    "PromptResult",
    "follows",
    "get_instruction",
    "ifeval_metrics",
    "instructions",
    "loose_variants",
    "parse_prompts",
    "read_prompts",
    "score_response",
]
