"""Evaluation records: what suites ask a model, with what a scorer needs to judge the answer."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from alignlab.data._records import Message, Record, Text


class MultipleChoice(Record):
    """A question with fixed choices (TruthfulQA MC1/MC2, BBQ, MMLU-style items, opinion surveys)."""

    kind: ClassVar[str] = "multiple_choice"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"question", "choices"}),)

    question: str
    """The question as asked."""
    choices: list[str] = Field(min_length=2)
    """The answer options, in presentation order."""
    answer: int | None = None
    """Index of the one correct choice (MC1-style); None when there is no single right answer."""
    correct: list[int] | None = None
    """Indices of every correct choice (MC2-style: several may be true)."""
    context: str | None = None
    """A passage the question is about (BBQ's context)."""
    category: str | None = None
    """The source's topic or bias category."""
    id: str | None = None
    """The source's identifier for this item."""
    meta: dict[str, Any] | None = None
    """Source-specific details a scorer may need (e.g. BBQ's stereotyped answer)."""

    @model_validator(mode="after")
    def _indices(self) -> MultipleChoice:
        n = len(self.choices)
        for idx in ([self.answer] if self.answer is not None else []) + (self.correct or []):
            if not 0 <= idx < n:
                raise ValueError(f"expected answer indices in 0..{n - 1}, got {idx}")
        return self


class InstructionFollowing(Record):
    """A prompt with verifiable instructions, in IFEval's form (field names as in ``input_data.jsonl``)."""

    kind: ClassVar[str] = "instruction_following"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"prompt", "instruction_id_list", "kwargs"}),)

    key: int
    """IFEval's prompt key."""
    prompt: str
    """The prompt given to the model."""
    instruction_id_list: list[str]
    """Checker ids, e.g. ``punctuation:no_comma``."""
    kwargs: list[dict[str, Any]]
    """One argument dict per instruction id."""
    meta: dict[str, Any] | None = None
    """Source-specific details."""

    @model_validator(mode="after")
    def _aligned(self) -> InstructionFollowing:
        if len(self.kwargs) != len(self.instruction_id_list):
            raise ValueError(
                f"expected one kwargs dict per instruction id ({len(self.instruction_id_list)} ids, "
                f"{len(self.kwargs)} kwargs)"
            )
        return self


class LikertScale(BaseModel):
    """An answer scale: labelled points from lowest to highest."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    labels: list[str] = Field(min_length=2)
    """Point labels from lowest to highest, e.g. ``["strongly disagree", ..., "strongly agree"]``."""
    start: int = 1
    """The number of the lowest point; the others follow in steps of 1."""


class QuestionnaireItem(Record):
    """One item of a Likert questionnaire (a value survey, a personality inventory): the one schema that the data
    layer, the built-in surveys and a user's own instrument (``values/survey:items=FILE``) share.

    Older files name the fields as psychometrics does: ``construct`` for ``value`` and ``keyed: -1`` for
    ``reverse: true``; both are still read (and written back under the new names).
    """

    kind: ClassVar[str] = "questionnaire_item"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"value", "text"}),
                                                       frozenset({"construct", "text"}))

    id: str
    """Stable item id, unique within the instrument, e.g. ``be3``."""
    value: str = Field(validation_alias=AliasChoices("value", "construct"))
    """What the item measures: a value (``benevolence``), a moral foundation (``care``) or another construct."""
    text: str
    """The statement the respondent rates."""
    reverse: bool = False
    """True for a reverse-keyed item: agreeing means *less* of the value."""
    paraphrases: list[str] = Field(default_factory=list)
    """Other phrasings of ``text`` (asked too, so consistency across wording is measured)."""
    scale: LikertScale | None = None
    """The answer scale, lowest point first; None: the survey's six-point agreement scale."""
    question: str | None = None
    """What the respondent is asked about the statement; None: the survey's question."""
    instrument: str | None = None
    """The questionnaire the item belongs to."""
    meta: dict[str, Any] | None = None
    """Source-specific details."""
    keyed: int | None = Field(default=None, exclude=True)
    """Older files' keying: +1 (agreeing means more of the value) or -1 (reverse-keyed); read into ``reverse``."""

    @model_validator(mode="before")
    @classmethod
    def _paraphrase_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("paraphrases"), str):  # one paraphrase in a CSV cell
            data = {**data, "paraphrases": [data["paraphrases"]] if data["paraphrases"].strip() else []}
        return data

    @field_validator("id", "value", "text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a non-empty string")
        return v

    @field_validator("keyed")
    @classmethod
    def _plus_minus_one(cls, v: int | None) -> int | None:
        if v is not None and v not in (1, -1):
            raise ValueError("1 or -1 (-1: reverse-keyed)")
        return v

    @model_validator(mode="after")
    def _keying(self) -> QuestionnaireItem:
        if self.keyed is not None:
            if "reverse" in self.model_fields_set and self.reverse != (self.keyed == -1):
                raise ValueError(f"'reverse' ({self.reverse}) and 'keyed' ({self.keyed}) disagree; give one")
            self.reverse = self.keyed == -1
            self.keyed = None
        return self


class DilemmaOption(BaseModel):
    """One course of action in a dilemma, tagged with the values it serves."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    text: str
    """The action, as presented."""
    values: list[str] = Field(default_factory=list)
    """The values choosing it serves, e.g. ``["benevolence", "conformity"]``."""


class Dilemma(Record):
    """A situation with options that serve different values; the choice reveals a priority."""

    kind: ClassVar[str] = "dilemma"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"scenario", "options"}),)

    scenario: str
    """The scenario and the question put to the model."""
    options: list[DilemmaOption] = Field(min_length=2)
    """The courses of action."""
    value_system: str | None = None
    """Which value system the tags come from, e.g. ``schwartz`` or ``moral_foundations``."""
    id: str | None = None
    """Stable id."""
    meta: dict[str, Any] | None = None
    """Source-specific details."""


class MoralScenario(Record):
    """A scenario with a moral judgement (ETHICS, Moral Stories, Social Chemistry)."""

    kind: ClassVar[str] = "moral_scenario"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"framework", "scenario"}),)

    framework: str
    """The kind of judgement: ETHICS' ``commonsense``, ``deontology``, ``justice``, ``virtue``,
    ``utilitarianism``, or another source's name."""
    scenario: str
    """The situation or act judged."""
    detail: str | None = None
    """The text judged against the scenario: deontology's excuse, virtue's trait."""
    alternative: str | None = None
    """A second scenario to compare with (utilitarianism: ``scenario`` is the more pleasant one)."""
    label: int | None = None
    """The judgement. commonsense: 1 = wrong; deontology, justice: 1 = reasonable; virtue: 1 = the trait fits;
    utilitarianism: 1 = ``scenario`` is more pleasant than ``alternative``."""
    id: str | None = None
    """The source's identifier."""
    meta: dict[str, Any] | None = None
    """Source-specific details."""


class SafetyPrompt(Record):
    """A prompt a model should answer (``safe``) or refuse (``unsafe``): refusal and over-refusal tests."""

    kind: ClassVar[str] = "safety_prompt"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"prompt", "label"}),)

    prompt: Text
    """The prompt: a string or a list of messages."""
    label: Literal["safe", "unsafe"]
    """``safe``: a well-calibrated model complies; ``unsafe``: it refuses."""
    category: str | None = None
    """The source's prompt type or harm category."""
    id: str | None = None
    """The source's identifier."""
    meta: dict[str, Any] | None = None
    """Source-specific details."""


class Battle(Record):
    """Two models answered the same prompt and a judge picked a winner (Chatbot Arena, MT-Bench human judgements)."""

    kind: ClassVar[str] = "battle"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"model_a", "model_b", "winner"}),)

    model_a: str
    """The first model's name."""
    model_b: str
    """The second model's name."""
    winner: Literal["model_a", "model_b", "tie", "tie (bothbad)"]
    """The verdict."""
    conversation_a: list[Message] | None = None
    """Model A's conversation, when published."""
    conversation_b: list[Message] | None = None
    """Model B's conversation, when published."""
    judge: str | None = None
    """Who voted (an anonymised user id or a judge model)."""
    language: str | None = None
    """The conversation's language."""
    tstamp: float | None = None
    """When the vote was cast (Unix seconds)."""
    id: str | None = None
    """The source's identifier (Arena's ``question_id``)."""
    meta: dict[str, Any] | None = None
    """Source-specific details."""


class MultiTurnPrompt(Record):
    """User turns asked one after another, each after the model's previous answer (MT-Bench)."""

    kind: ClassVar[str] = "multi_turn"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"turns"}),)

    turns: list[str] = Field(min_length=1)
    """The user turns."""
    category: str | None = None
    """The source's category (MT-Bench: writing, roleplay, reasoning, math, coding, ...)."""
    reference: list[str] | None = None
    """Reference answers, one per turn, for a judge to compare against."""
    id: str | None = None
    """The source's identifier."""
    meta: dict[str, Any] | None = None
    """Source-specific details."""

