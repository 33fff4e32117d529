"""Training records, named after TRL's dataset schema so what alignlab writes loads into TRL unchanged.

TRL's types (``trl.data_utils``): language modelling (``text`` or ``messages``), prompt-only (``prompt``),
prompt-completion, preference (``prompt``/``chosen``/``rejected``, the prompt explicit or implicit in the shared
start of ``chosen`` and ``rejected``) and unpaired preference (``prompt``/``completion``/``label``). Each comes in a
*standard* form (strings) and a *conversational* form (lists of ``{"role", "content"}`` messages). Rankings and
ratings are alignlab's: they hold n completions and turn into preference pairs (``alignlab.data.ranking_to_pairs``,
``rating_to_pairs``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from alignlab.errors import DataError
from alignlab.registry import Registry

Role = Literal["system", "developer", "user", "assistant", "tool"]


class Message(BaseModel):
    """One chat message, as chat templates and TRL expect it."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    role: Role
    """Who speaks: ``system``, ``developer``, ``user``, ``assistant`` or ``tool``."""
    content: str | list[dict[str, Any]]
    """The text, or a list of typed parts (``{"type": "text", "text": ...}``) for multimodal messages."""


Text = str | list[Message]
"""A standard string or a conversation (list of messages)."""

# Every Record subclass with a ``kind`` registers itself; the evaluation kinds' module is imported on first read.
KINDS: Registry[type[Record]] = Registry("record kind", ["alignlab.data._eval_records"], error=DataError)


class Record(BaseModel):
    """Base of every alignlab record. Unknown input columns are ignored; ``None`` fields are never written."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True, validate_assignment=False)

    kind: ClassVar[str] = ""
    """The record type's name (``preference``, ``rating``, ...)."""
    signature: ClassVar[tuple[frozenset[str], ...]] = ()
    """Column sets that identify this kind in a file (any one suffices); used by ``infer_kind``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("kind"):
            KINDS.add(cls.kind, cls)

    def to_row(self) -> dict[str, Any]:
        """The record as a plain dict without ``None`` fields (the columns alignlab writes)."""
        return self.model_dump(exclude_none=True)


def record_kinds() -> dict[str, type[Record]]:
    """Every record kind by name."""
    return KINDS.entries()


def record_class(kind: str) -> type[Record]:
    """The record class for ``kind``; ``DataError`` names the known kinds otherwise."""
    if kind not in KINDS:
        raise DataError(f"unknown record kind {kind!r}", hint="one of " + ", ".join(KINDS))
    return KINDS.get(kind)


def infer_kind(columns: set[str] | dict[str, Any]) -> str | None:
    """The record kind whose columns match ``columns`` best (most specific signature wins), or None."""
    keys = set(columns)
    best: tuple[int, str] | None = None
    for kind, cls in record_kinds().items():
        for sig in cls.signature:
            if sig <= keys and (best is None or len(sig) > best[0]):
                best = (len(sig), kind)
    return best[1] if best else None


def is_conversational(value: Any) -> bool:
    """True for a list of messages (dicts or ``Message``), as in TRL's conversational format."""
    return isinstance(value, list) and bool(value) and isinstance(value[0], Message | dict)


def _same_form(*values: Any) -> bool:
    forms = {isinstance(v, list) for v in values if v is not None}
    return len(forms) <= 1


class LanguageModeling(Record):
    """Text to model as a whole: ``text`` (standard) or ``messages`` (conversational). For SFT."""

    kind: ClassVar[str] = "language_modeling"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"text"}), frozenset({"messages"}))

    text: str | None = None
    """The whole text (standard form)."""
    messages: list[Message] | None = None
    """The whole conversation (conversational form)."""
    id: str | None = None
    """The source's identifier for this row, when it has one."""
    meta: dict[str, Any] | None = None
    """Source-specific details that no trainer reads."""

    @model_validator(mode="after")
    def _one_form(self) -> LanguageModeling:
        if (self.text is None) == (self.messages is None):
            raise ValueError("expected exactly one of 'text' or 'messages'")
        return self


class PromptOnly(Record):
    """A prompt alone, for online methods that generate their own completions (GRPO, RLOO, PPO)."""

    kind: ClassVar[str] = "prompt_only"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"prompt"}),)

    prompt: Text
    """The prompt: a string or a list of messages."""
    id: str | None = None
    """The source's identifier for this row, when it has one."""
    meta: dict[str, Any] | None = None
    """Source-specific details that no trainer reads."""


class PromptCompletion(Record):
    """A prompt and the completion to learn (SFT on the completion only)."""

    kind: ClassVar[str] = "prompt_completion"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"prompt", "completion"}),)

    prompt: Text
    """The prompt: a string or a list of messages."""
    completion: Text
    """The target completion, in the same form as the prompt."""
    id: str | None = None
    """The source's identifier for this row, when it has one."""
    meta: dict[str, Any] | None = None
    """Source-specific details that no trainer reads."""

    @model_validator(mode="after")
    def _forms(self) -> PromptCompletion:
        if not _same_form(self.prompt, self.completion):
            raise ValueError("expected 'prompt' and 'completion' both strings or both message lists")
        return self


class Preference(Record):
    """A pairwise preference: ``chosen`` is preferred to ``rejected`` (DPO, reward models, ORPO...).

    With ``prompt`` the prompt is *explicit*; without it, it is *implicit*: ``chosen`` and ``rejected`` both start
    with it (``maybe_extract_prompt`` makes it explicit).
    """

    kind: ClassVar[str] = "preference"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"chosen", "rejected"}),)

    prompt: Text | None = None
    """The prompt; None when it is implicit in ``chosen`` and ``rejected``."""
    chosen: Text
    """The preferred completion (or whole conversation, when the prompt is implicit)."""
    rejected: Text
    """The dispreferred completion, in the same form as ``chosen``."""
    margin: float | None = None
    """How much better ``chosen`` is (e.g. a rating difference); TRL's reward trainer reads it."""
    id: str | None = None
    """The source's identifier for this row, when it has one."""
    meta: dict[str, Any] | None = None
    """Source-specific details that no trainer reads."""

    @model_validator(mode="after")
    def _forms(self) -> Preference:
        prompt, chosen, rejected = self.prompt, self.chosen, self.rejected
        if type(chosen) is str and type(rejected) is str and (prompt is None or type(prompt) is str):
            return self  # the common case, checked first: this runs once per row of million-row files
        if isinstance(prompt, str) and isinstance(chosen, list):
            # Some hub sets (ultrafeedback_binarized) pair a string prompt with conversations that already hold
            # it; like TRL's maybe_extract_prompt, treat that prompt as implicit.
            self.prompt = prompt = None
        if not _same_form(prompt, chosen, rejected):
            raise ValueError("expected 'prompt', 'chosen' and 'rejected' all strings or all message lists")
        return self


class UnpairedPreference(Record):
    """A completion judged on its own: ``label`` True is desirable, False undesirable (KTO, BCO)."""

    kind: ClassVar[str] = "unpaired_preference"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"prompt", "completion", "label"}),)

    prompt: Text
    """The prompt: a string or a list of messages."""
    completion: Text
    """The completion that was judged, in the same form as the prompt."""
    label: bool
    """True: thumbs up (desirable); False: thumbs down."""
    id: str | None = None
    """The source's identifier for this row, when it has one."""
    meta: dict[str, Any] | None = None
    """Source-specific details that no trainer reads."""

    @model_validator(mode="after")
    def _forms(self) -> UnpairedPreference:
        if not _same_form(self.prompt, self.completion):
            raise ValueError("expected 'prompt' and 'completion' both strings or both message lists")
        return self


class Ranking(Record):
    """n completions of one prompt, ranked (1 = best; equal ranks are ties). ``ranking_to_pairs`` makes pairs."""

    kind: ClassVar[str] = "ranking"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"prompt", "completions", "ranks"}),)

    prompt: Text
    """The prompt: a string or a list of messages."""
    completions: list[Text]
    """Two or more completions, each in the same form as the prompt."""
    ranks: list[int]
    """One rank per completion; lower is better."""
    id: str | None = None
    """The source's identifier for this row, when it has one."""
    meta: dict[str, Any] | None = None
    """Source-specific details that no trainer reads."""

    @model_validator(mode="after")
    def _check(self) -> Ranking:
        if len(self.completions) != len(self.ranks):
            raise ValueError(
                f"expected one rank per completion ({len(self.completions)} completions, {len(self.ranks)} ranks)"
            )
        if not _same_form(self.prompt, *self.completions):
            raise ValueError("expected the prompt and every completion all strings or all message lists")
        return self


class Rating(Record):
    """n completions of one prompt, each with a score (higher is better). ``rating_to_pairs`` makes pairs."""

    kind: ClassVar[str] = "rating"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"prompt", "completions", "scores"}),)

    prompt: Text
    """The prompt: a string or a list of messages."""
    completions: list[Text]
    """One or more completions, each in the same form as the prompt."""
    scores: list[float]
    """One score per completion; higher is better."""
    id: str | None = None
    """The source's identifier for this row, when it has one."""
    meta: dict[str, Any] | None = None
    """Source-specific details that no trainer reads."""

    @model_validator(mode="after")
    def _check(self) -> Rating:
        if len(self.completions) != len(self.scores):
            raise ValueError(
                f"expected one score per completion ({len(self.completions)} completions, "
                f"{len(self.scores)} scores)"
            )
        if not _same_form(self.prompt, *self.completions):
            raise ValueError("expected the prompt and every completion all strings or all message lists")
        return self
