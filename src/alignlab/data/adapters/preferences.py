"""Preference-level formats: HH-RLHF, UltraFeedback, PKU-SafeRLHF, SHP and Chatbot Arena battles."""

from __future__ import annotations

from typing import Any

from alignlab.data._convert import common_prefix_length, maybe_extract_prompt, parse_dialogue
from alignlab.data._eval_records import Battle
from alignlab.data._records import Message, Preference, Rating, Record
from alignlab.data._validate import RowError
from alignlab.data.adapters._registry import adapter, need

HH_MARKER = "\n\nAssistant:"


def split_hh(chosen: str, rejected: str) -> tuple[str, str, str]:
    """HH-RLHF's two full dialogues → (prompt, chosen reply, rejected reply).

    The prompt is the longest shared start that ends with ``"\\n\\nAssistant:"``, so ``prompt + chosen`` is the
    original ``chosen`` exactly (the reply keeps its leading space).
    """
    # The last marker in `chosen` whose whole prefix `rejected` shares; usually the very last one, so this costs
    # one comparison instead of a character-by-character scan of a prompt thousands of characters long.
    cut = chosen.rfind(HH_MARKER)
    while cut >= 0 and not rejected.startswith(chosen[: cut + len(HH_MARKER)]):
        cut = chosen.rfind(HH_MARKER, 0, cut)
    if cut < 0:
        raise RowError(None, "'chosen' and 'rejected' to share the dialogue up to a '\\n\\nAssistant:' turn",
                       detail=f"they differ from character {common_prefix_length(chosen, rejected)}")
    cut += len(HH_MARKER)
    return chosen[:cut], chosen[cut:], rejected[cut:]


@adapter("hh-rlhf", produces="preference", source="https://github.com/anthropics/hh-rlhf")
def hh_rlhf(row: dict[str, Any]) -> list[Record]:
    """Anthropic HH-RLHF (chosen, rejected dialogues) → prompt / chosen / rejected strings."""
    prompt, chosen, rejected = split_hh(need(row, "chosen"), need(row, "rejected"))
    return [Preference(prompt=prompt, chosen=chosen, rejected=rejected)]


@adapter("hh-rlhf-harmless", produces="preference", source="https://github.com/anthropics/hh-rlhf")
def hh_rlhf_harmless(row: dict[str, Any]) -> list[Record]:
    """HH-RLHF's harmless subsets as conversational harmlessness pairs (``meta.aspect``): ``chosen`` is the less
    harmful reply, so DPO reads them as ``hh-rlhf-chat`` does and a cost model (``method: cost``) trains on them with
    the pair flipped (the more harmful reply costs more)."""
    return [pair.model_copy(update={"meta": {"aspect": "harmlessness"}}) for pair in hh_rlhf_chat(row)]


@adapter("hh-rlhf-chat", produces="preference", source="https://github.com/anthropics/hh-rlhf")
def hh_rlhf_chat(row: dict[str, Any]) -> list[Record]:
    """Anthropic HH-RLHF → conversational prompt / chosen / rejected (each reply one assistant message)."""
    prompt, chosen, rejected = split_hh(need(row, "chosen"), need(row, "rejected"))
    messages = parse_dialogue(prompt)
    if messages and messages[-1].role == "assistant" and not messages[-1].content:
        messages.pop()  # the turn the replies answer
    return [Preference(
        prompt=messages,
        chosen=[Message(role="assistant", content=chosen.removeprefix(" "))],
        rejected=[Message(role="assistant", content=rejected.removeprefix(" "))],
    )]


def _uf_score(completion: dict[str, Any]) -> float | None:
    """UltraFeedback's fine-grained score (mean of the aspect ratings), computed when absent; N/A aspects skipped."""
    if isinstance(completion.get("fine-grained_score"), int | float):
        return float(completion["fine-grained_score"])
    ratings = []
    for aspect in (completion.get("annotations") or {}).values():
        rating = aspect.get("Rating") if isinstance(aspect, dict) else None
        try:
            ratings.append(float(rating))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue  # "N/A"
    if ratings:
        return sum(ratings) / len(ratings)
    score = completion.get("overall_score")
    return float(score) if isinstance(score, int | float) else None


@adapter("ultrafeedback", produces="rating", to="preference", source="https://huggingface.co/datasets/openbmb/UltraFeedback")
def ultrafeedback(row: dict[str, Any]) -> list[Record]:
    """UltraFeedback (instruction, completions with aspect ratings) → ratings (mean aspect rating) → pairs."""
    instruction = need(row, "instruction")
    texts, scores, models = [], [], []
    for i, completion in enumerate(need(row, "completions", list, "a list of completions")):
        if not isinstance(completion, dict) or not isinstance(completion.get("response"), str):
            raise RowError(f"completions[{i}].response", "a string", completion)
        score = _uf_score(completion)
        if score is not None:  # an unrated completion cannot be placed in a pair
            texts.append(completion["response"])
            scores.append(score)
            models.append(str(completion.get("model", "")))
    if not texts:
        raise RowError("completions", "at least one rated completion")
    return [Rating(prompt=instruction, completions=texts, scores=scores,
                   meta={"source": row.get("source"), "models": models})]


@adapter("ultrafeedback-binarized", produces="preference",
         source="https://huggingface.co/datasets/HuggingFaceH4/ultrafeedback_binarized")
def ultrafeedback_binarized(row: dict[str, Any]) -> list[Record]:
    """HuggingFaceH4/ultrafeedback_binarized (conversational chosen/rejected, scores) → pairs with a margin."""
    margin = None
    if isinstance(row.get("score_chosen"), int | float) and isinstance(row.get("score_rejected"), int | float):
        margin = float(row["score_chosen"]) - float(row["score_rejected"])
    pref = Preference(chosen=need(row, "chosen", list), rejected=need(row, "rejected", list), margin=margin,
                      id=row.get("prompt_id"))
    return [maybe_extract_prompt(pref)]


def _pku_pair(row: dict[str, Any], aspect: str) -> Preference:
    key = "better_response_id" if aspect == "helpfulness" else "safer_response_id"
    best = row.get(key)
    if best not in (0, 1, "0", "1"):
        raise RowError(key, "0 or 1", best if key in row else ...)
    best = int(best)  # type: ignore[arg-type]
    other = 1 - best
    return Preference(
        prompt=need(row, "prompt"),
        chosen=need(row, f"response_{best}"),
        rejected=need(row, f"response_{other}"),
        meta={"aspect": aspect, "chosen_safe": row.get(f"is_response_{best}_safe"),
              "rejected_safe": row.get(f"is_response_{other}_safe")},
    )


_PKU = "https://huggingface.co/datasets/PKU-Alignment/PKU-SafeRLHF"


@adapter("pku-saferlhf", produces="preference", source=_PKU)
def pku_saferlhf(row: dict[str, Any]) -> list[Record]:
    """PKU-SafeRLHF → two pair sets per row, better (helpfulness) and safer (harmlessness); see ``meta.aspect``."""
    return [_pku_pair(row, "helpfulness"), _pku_pair(row, "harmlessness")]


@adapter("pku-saferlhf-better", produces="preference", source=_PKU)
def pku_saferlhf_better(row: dict[str, Any]) -> list[Record]:
    """PKU-SafeRLHF → the helpfulness pairs (``better_response_id``)."""
    return [_pku_pair(row, "helpfulness")]


@adapter("pku-saferlhf-safer", produces="preference", source=_PKU)
def pku_saferlhf_safer(row: dict[str, Any]) -> list[Record]:
    """PKU-SafeRLHF → the harmlessness pairs (``safer_response_id``)."""
    return [_pku_pair(row, "harmlessness")]


def _safe_flag(row: dict[str, Any], key: str) -> bool | None:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise RowError(key, "true or false", value)
    return value


@adapter("cost-pairs", produces="preference")
def cost_pairs(row: dict[str, Any]) -> list[Record]:
    """Pairs for a cost model: ``chosen`` is the *more harmful* answer (higher cost), ``rejected`` the safer one;
    optional ``chosen_safe``/``rejected_safe`` (booleans) label each answer safe or not (Safe RLHF's sign labels)."""
    text = "a string or a list of messages"
    pref = Preference(prompt=row.get("prompt"), chosen=need(row, "chosen", (str, list), text),
                      rejected=need(row, "rejected", (str, list), text), id=row.get("id"),
                      meta={"aspect": "cost", "chosen_safe": _safe_flag(row, "chosen_safe"),
                            "rejected_safe": _safe_flag(row, "rejected_safe")})
    return [maybe_extract_prompt(pref)]


@adapter("shp", produces="preference", source="https://huggingface.co/datasets/stanfordnlp/SHP")
def shp(row: dict[str, Any]) -> list[Record]:
    """Stanford Human Preferences (history, human_ref_A/B, labels) → pairs; ``labels`` 1 means A is preferred."""
    label = row.get("labels")
    if label not in (0, 1, "0", "1"):
        raise RowError("labels", "0 or 1", label if "labels" in row else ...)
    a, b = need(row, "human_ref_A"), need(row, "human_ref_B")
    chosen, rejected = (a, b) if int(label) == 1 else (b, a)  # type: ignore[arg-type]
    return [Preference(prompt=need(row, "history"), chosen=chosen, rejected=rejected, id=row.get("post_id"),
                       meta={"domain": row.get("domain"), "score_ratio": row.get("score_ratio")})]


@adapter("chatbot-arena", produces="battle",
         source="https://huggingface.co/datasets/lmsys/chatbot_arena_conversations")
def chatbot_arena(row: dict[str, Any]) -> list[Record]:
    """Chatbot Arena battles (model_a, model_b, winner, conversations, judge, ...) → battles."""
    qid = row.get("question_id")
    return [Battle(
        model_a=need(row, "model_a"), model_b=need(row, "model_b"), winner=need(row, "winner"),
        conversation_a=row.get("conversation_a"), conversation_b=row.get("conversation_b"),
        judge=row.get("judge"), language=row.get("language"), tstamp=row.get("tstamp"),
        id=str(qid) if qid is not None else None,
        meta={"turn": row.get("turn"), "anony": row.get("anony")},
    )]
