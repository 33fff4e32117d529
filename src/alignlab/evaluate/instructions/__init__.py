"""Evaluation at the instruction level: verifiable instruction following (IFEval-compatible)."""

from alignlab.evaluate.instructions.ifeval import follows, instructions, score_response

__all__ = ["follows", "instructions", "score_response"]
