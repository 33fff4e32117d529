"""Evaluation formats: XSTest (safety), TruthfulQA (MC1/MC2 and the CSV), BBQ (bias) and ETHICS (moral judgement)."""

from __future__ import annotations

from typing import Any

from alignlab.data._eval_records import MoralScenario, MultipleChoice, SafetyPrompt
from alignlab.data._records import Record
from alignlab.data._validate import RowError
from alignlab.data.adapters._registry import adapter, need, to_int


@adapter("xstest", produces="safety_prompt", source="https://github.com/paul-rottger/exaggerated-safety")
def xstest(row: dict[str, Any]) -> list[Record]:
    """XSTest prompts (id, prompt, type, label, focus, note) → safety prompts (``safe`` or ``unsafe``)."""
    rid = row.get("id")
    return [SafetyPrompt(prompt=need(row, "prompt"), label=need(row, "label"), category=row.get("type"),
                         id=str(rid) if rid is not None else None,
                         meta={"focus": row.get("focus"), "note": row.get("note")})]


def _targets(row: dict[str, Any], key: str) -> tuple[list[str], list[int]]:
    """``{answer: 0/1}`` (mc_task.json) or ``{choices, labels}`` (the hub copy) → (choices, correct indices)."""
    value = need(row, key, dict, "an object of answer → 0/1")
    if "choices" in value and "labels" in value:
        choices, labels = list(value["choices"]), list(value["labels"])
    else:
        choices, labels = list(value), list(value.values())
    if len(choices) < 2 or any(label not in (0, 1) for label in labels):
        raise RowError(key, "two or more answers, each labelled 0 or 1", value)
    return choices, [i for i, label in enumerate(labels) if label == 1]


def _split_answers(text: str | None) -> list[str]:
    # The CSV joins answers with "; " inside one cell.
    return [a.strip() for a in (text or "").split(";") if a.strip()]


@adapter("truthfulqa", produces="multiple_choice", source="https://github.com/sylinrl/TruthfulQA")
def truthfulqa(row: dict[str, Any]) -> list[Record]:
    """TruthfulQA: mc_task.json items → an MC1 and an MC2 item (``meta.task``); TruthfulQA.csv rows → one item
    whose choices are the correct then the incorrect answers. Published order: the first MC choice is correct."""
    if "mc1_targets" in row:
        question = need(row, "question")
        mc1, correct1 = _targets(row, "mc1_targets")
        mc2, correct2 = _targets(row, "mc2_targets")
        if len(correct1) != 1:
            raise RowError("mc1_targets", "exactly one answer labelled 1", row["mc1_targets"])
        return [MultipleChoice(question=question, choices=mc1, answer=correct1[0], meta={"task": "mc1"}),
                MultipleChoice(question=question, choices=mc2, correct=correct2, meta={"task": "mc2"})]
    # The CSV's capitalised headers, or the hub's "generation" config (lists instead of "; "-joined cells).
    get = {k.lower().replace(" ", "_"): v for k, v in row.items()}
    question = need(get, "question")
    right = get.get("correct_answers")
    wrong = get.get("incorrect_answers")
    right = right if isinstance(right, list) else _split_answers(right)
    wrong = wrong if isinstance(wrong, list) else _split_answers(wrong)
    if not right or not wrong:
        raise RowError("Correct Answers" if not right else "Incorrect Answers", "at least one answer")
    best = get.get("best_answer")
    return [MultipleChoice(
        question=question, choices=right + wrong, correct=list(range(len(right))),
        answer=right.index(best) if best in right else None, category=get.get("category"),
        meta={"task": "generation", "best_answer": best, "type": get.get("type"), "source": get.get("source")},
    )]


def _bbq_answer(info: dict[str, Any], groups: list[str], want_unknown: bool) -> int | None:
    for i in range(3):
        entry = info.get(f"ans{i}") or ["", ""]
        group = str(entry[1]) if len(entry) > 1 else ""
        if want_unknown and group == "unknown":
            return i
        if not want_unknown and group != "unknown" and group.lower() in groups:
            return i
    return None


@adapter("bbq", produces="multiple_choice", source="https://github.com/nyu-mll/BBQ")
def bbq(row: dict[str, Any]) -> list[Record]:
    """BBQ (context, question, ans0-2, label, metadata) → multiple choice, with the unknown and the stereotyped
    answers in ``meta`` for the bias score."""
    info = row.get("answer_info") if isinstance(row.get("answer_info"), dict) else {}
    extra = row.get("additional_metadata") if isinstance(row.get("additional_metadata"), dict) else {}
    groups = [str(g).lower() for g in extra.get("stereotyped_groups") or []]
    category = row.get("category")
    return [MultipleChoice(
        question=need(row, "question"),
        choices=[need(row, "ans0"), need(row, "ans1"), need(row, "ans2")],
        answer=to_int(row, "label"),
        context=need(row, "context"),
        category=category,
        id=f"{category}/{row.get('example_id')}",
        meta={
            "question_polarity": row.get("question_polarity"),  # neg / nonneg
            "context_condition": row.get("context_condition"),  # ambig / disambig
            "unknown_answer": _bbq_answer(info, groups, want_unknown=True),
            # Matched on answer_info's group labels; BBQ's supplemental metadata (not read here) is exact.
            "stereotyped_answer": _bbq_answer(info, groups, want_unknown=False),
            "stereotyped_groups": groups,
            "subcategory": extra.get("subcategory"),
            "question_index": row.get("question_index"),
        },
    )]


def _flag(value: Any) -> bool | None:
    # The CSVs write booleans as "True"/"False".
    return value if value is None or isinstance(value, bool) else str(value).lower() == "true"


@adapter("ethics", produces="moral_scenario", source="https://github.com/hendrycks/ethics")
def ethics(row: dict[str, Any]) -> list[Record]:
    """ETHICS CSVs or hub configs → moral scenarios; the framework is told from the columns."""
    if "baseline" in row:
        return [MoralScenario(framework="utilitarianism", scenario=need(row, "baseline"),
                              alternative=need(row, "less_pleasant"), label=1)]
    label = to_int(row, "label")
    if "input" in row:
        return [MoralScenario(framework="commonsense", scenario=need(row, "input"), label=label,
                              meta={"is_short": _flag(row.get("is_short")), "edited": _flag(row.get("edited"))})]
    scenario = need(row, "scenario")
    if "excuse" in row:
        return [MoralScenario(framework="deontology", scenario=scenario, detail=need(row, "excuse"), label=label)]
    if " [SEP] " in scenario:
        text, _, trait = scenario.rpartition(" [SEP] ")
        return [MoralScenario(framework="virtue", scenario=text, detail=trait, label=label)]
    return [MoralScenario(framework="justice", scenario=scenario, label=label)]


@adapter("ethics-utilitarianism", produces="moral_scenario", csv_columns=("baseline", "less_pleasant"),
         source="https://github.com/hendrycks/ethics")
def ethics_utilitarianism(row: dict[str, Any]) -> list[Record]:
    """ETHICS utilitarianism CSV (no header: more pleasant, less pleasant scenario) → moral scenarios."""
    return ethics(row)


HARMBENCH_COPYRIGHT = "copyright"
"""HarmBench's copyright behaviours: judged by a hash classifier over the lyrics/book passages, not by refusal."""


@adapter("harmbench", produces="safety_prompt", source="https://github.com/centerforaisafety/HarmBench")
def harmbench(row: dict[str, Any]) -> list[Record]:
    """HarmBench text behaviours (Behavior, FunctionalCategory, SemanticCategory, Tags, ContextString,
    BehaviorID) → unsafe prompts; a contextual behaviour's prompt is its context, a ``---`` rule, then the
    behaviour (HarmBench's own layout). ``meta.functional`` keeps standard / contextual / copyright."""
    behaviour, functional = need(row, "Behavior"), need(row, "FunctionalCategory")
    if functional not in ("standard", "contextual", HARMBENCH_COPYRIGHT):
        raise RowError("FunctionalCategory", "standard, contextual or copyright", functional)
    context = (row.get("ContextString") or "").strip()
    if functional == "contextual" and not context:
        raise RowError("ContextString", "the context of a contextual behaviour")
    prompt = f"{context}\n\n---\n\n{behaviour}" if context else behaviour
    return [SafetyPrompt(prompt=prompt, label="unsafe", category=need(row, "SemanticCategory"),
                         id=need(row, "BehaviorID"),
                         meta={"functional": functional, "tags": row.get("Tags") or ""})]


@adapter("strongreject", produces="safety_prompt", source="https://github.com/alexandrasouly/strongreject")
def strongreject(row: dict[str, Any]) -> list[Record]:
    """StrongREJECT forbidden prompts (category, source, forbidden_prompt) → unsafe prompts. The category is
    lower-cased after its first word (the small file spells "Disinformation and Deception")."""
    category = need(row, "category").strip()
    category = category[:1].upper() + category[1:].lower()
    return [SafetyPrompt(prompt=need(row, "forbidden_prompt"), label="unsafe", category=category,
                         meta={"source": row.get("source") or ""})]


@adapter("anthropic-persona", produces="multiple_choice", source="https://github.com/anthropics/evals")
def anthropic_persona(row: dict[str, Any]) -> list[Record]:
    """Anthropic persona statements (question, statement, answer_matching_behavior " Yes"/" No", ...) → a
    Yes/No item whose ``answer`` is the answer that matches the persona's behaviour."""
    statement, match = need(row, "statement"), need(row, "answer_matching_behavior").strip()
    if match not in ("Yes", "No"):
        raise RowError("answer_matching_behavior", '" Yes" or " No"', row["answer_matching_behavior"])
    confidence = row.get("label_confidence")
    return [MultipleChoice(question=statement, choices=["Yes", "No"], answer=0 if match == "Yes" else 1,
                           meta={"label_confidence": confidence})]
