"""Instruction-level formats: Alpaca, Dolly, ShareGPT (training); IFEval and MT-Bench (evaluation)."""

from __future__ import annotations

from typing import Any

from alignlab.data._eval_records import InstructionFollowing, MultiTurnPrompt
from alignlab.data._records import LanguageModeling, Message, PromptCompletion, Record
from alignlab.data._validate import RowError
from alignlab.data.adapters._registry import adapter, need, to_int

_SHAREGPT_ROLES = {
    "human": "user", "user": "user", "prompter": "user",
    "gpt": "assistant", "chatgpt": "assistant", "assistant": "assistant", "bard": "assistant", "bing": "assistant",
    "model": "assistant", "function_call": "assistant",
    "system": "system", "observation": "tool", "function": "tool", "tool": "tool",
}


def _instruction_prompt(instruction: str, extra: str | None) -> str:
    # The raw instruction plus its input, without Alpaca's "Below is an instruction..." template: templates belong
    # to the model's chat format, which TRL applies at training time.
    return f"{instruction}\n\n{extra}" if extra else instruction


@adapter("alpaca", produces="prompt_completion", source="https://github.com/tatsu-lab/stanford_alpaca#data-release")
def alpaca(row: dict[str, Any]) -> list[Record]:
    """Alpaca (instruction, input, output) → prompt-completion; the input follows the instruction."""
    instruction = need(row, "instruction")
    extra = row.get("input")
    if extra is not None and not isinstance(extra, str):
        raise RowError("input", "a string", extra)
    return [PromptCompletion(prompt=_instruction_prompt(instruction, extra), completion=need(row, "output"))]


@adapter("dolly", produces="prompt_completion", source="https://huggingface.co/datasets/databricks/databricks-dolly-15k")
def dolly(row: dict[str, Any]) -> list[Record]:
    """Dolly (instruction, context, response, category) → prompt-completion; the context follows."""
    meta = {"category": row["category"]} if row.get("category") else None
    return [PromptCompletion(prompt=_instruction_prompt(need(row, "instruction"), row.get("context") or None),
                             completion=need(row, "response"), meta=meta)]


@adapter("sharegpt", produces="language_modeling",
         source="https://huggingface.co/datasets/anon8231489123/ShareGPT_Vicuna_unfiltered")
def sharegpt(row: dict[str, Any]) -> list[Record]:
    """ShareGPT ({id, conversations: [{from, value}]}) → conversations (``messages``)."""
    key = "conversations" if "conversations" in row else "items"
    turns = need(row, key if key in row else "conversations", list, "a list of {from, value} turns")
    messages: list[Message] = []
    if isinstance(row.get("system"), str) and row["system"]:
        messages.append(Message(role="system", content=row["system"]))
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict) or not isinstance(turn.get("value"), str):
            raise RowError(f"{key}[{i}]", "an object with 'from' and a string 'value'", turn)
        role = _SHAREGPT_ROLES.get(str(turn.get("from", "")).lower())
        if role is None:
            raise RowError(f"{key}[{i}].from", "one of " + ", ".join(sorted(_SHAREGPT_ROLES)), turn.get("from"))
        messages.append(Message(role=role, content=turn["value"]))  # type: ignore[arg-type]
    if not messages:
        raise RowError(key, "at least one turn", turns)
    rid = row.get("id")
    return [LanguageModeling(messages=messages, id=str(rid) if rid is not None else None)]


@adapter("ifeval", produces="instruction_following",
         source="https://github.com/google-research/google-research/tree/master/instruction_following_eval")
def ifeval(row: dict[str, Any]) -> list[Record]:
    """IFEval input_data.jsonl (key, prompt, instruction_id_list, kwargs) → instruction-following prompts."""
    kwargs = need(row, "kwargs", list, "a list of objects")
    # The hub copy (google/IFEval) fills every unused argument with null; the original leaves them out.
    clean = [{k: v for k, v in kw.items() if v is not None} if isinstance(kw, dict) else kw for kw in kwargs]
    return [InstructionFollowing(key=to_int(row, "key"), prompt=need(row, "prompt"),
                                 instruction_id_list=need(row, "instruction_id_list", list), kwargs=clean)]


@adapter("ifeval-responses", produces="prompt_completion",
         source="https://github.com/google-research/google-research/tree/master/instruction_following_eval")
def ifeval_responses(row: dict[str, Any]) -> list[Record]:
    """IFEval response files (prompt, response) → prompt-completion."""
    return [PromptCompletion(prompt=need(row, "prompt"), completion=need(row, "response"))]


@adapter("mt-bench", produces="multi_turn",
         source="https://github.com/lm-sys/FastChat/tree/main/fastchat/llm_judge/data/mt_bench")
def mt_bench(row: dict[str, Any]) -> list[Record]:
    """MT-Bench question.jsonl (question_id, category, turns, reference) → multi-turn prompts."""
    reference = row.get("reference")
    if reference is not None and not isinstance(reference, list):
        raise RowError("reference", "a list of strings", reference)
    return [MultiTurnPrompt(turns=need(row, "turns", list, "a list of strings"), category=row.get("category"),
                            reference=reference, id=str(to_int(row, "question_id")))]
