"""Principle-driven self-alignment: principles and exemplars in context, SFT rows without them."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.align.self_align import (
    extract_answer,
    load_exemplars,
    self_align,
    self_align_prompt,
    self_align_sft_rows,
    self_align_stats,
)
from alignlab.errors import AlignlabError
from alignlab.models import Model
from alignlab.targets.constitution import load_constitution
from cai_scripted import ScriptedChat


def test_builtin_exemplars_cover_refusal_and_helpfulness() -> None:
    ex = load_exemplars()
    assert 3 <= len(ex) <= 5
    hhh = load_constitution("hhh")
    assert all(p in hhh.ids for e in ex for p in e.principles)
    assert {"harm-uplift", "helpful", "honest"} <= {p for e in ex for p in e.principles}


def test_sft_rows_hold_neither_principles_nor_exemplars() -> None:
    backend = ScriptedChat(lambda msgs: "Thought: harmless request.\nAnswer: Use `kill PID`.")
    prompts = [{"id": "a", "prompt": "How do I stop a frozen program?", "label": "safe"},
               [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]]
    records = self_align(Model(backend), prompts, "hhh")
    hhh, ex = load_constitution("hhh"), load_exemplars()
    # The model saw the principles and every exemplar before the prompt...
    seen = backend.prompts[0]
    assert seen[0]["role"] == "system" and all(p.rule in seen[0]["content"] for p in hhh.principles)
    assert [m["content"] for m in seen[1:-1:2]] == [e.prompt for e in ex]
    assert seen[-1] == {"role": "user", "content": "How do I stop a frozen program?"}
    assert records[0].context == seen
    # ...but the training rows contain only the user's prompt and the answer without the thought.
    rows = self_align_sft_rows(records)
    assert rows[0]["prompt"] == [{"role": "user", "content": "How do I stop a frozen program?"}]
    assert rows[0]["completion"] == [{"role": "assistant", "content": "Use `kill PID`."}]
    assert rows[1]["prompt"] == prompts[1]  # the user's own system message stays
    text = repr(rows)
    for p in hhh.principles:
        assert p.rule not in text
    for e in ex:
        assert e.prompt not in text and e.answer not in text
    assert "Thought" not in text and "Principles:" not in text


def test_exemplar_count_and_custom_exemplars(tmp_path: Path) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text("exemplars:\n  - prompt: P1\n    answer: A1\n  - prompt: P2\n    answer: A2\n", encoding="utf-8")
    backend = ScriptedChat(lambda msgs: "Fine.")
    self_align(Model(backend), ["q"], "social-norms", exemplars=path, n_exemplars=1)
    assert [m["content"] for m in backend.prompts[0][1:]] == ["P1", "Answer: A1", "q"]
    assert "Consideration for others" in backend.prompts[0][0]["content"]


def test_exemplar_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "ex.yaml"
    path.write_text("exemplars:\n  - prompt: P1\n    answer: A1\n  - prompt: P2\n    anser: A2\n", encoding="utf-8")
    with pytest.raises(AlignlabError, match=r"ex\.yaml:4: exemplar 1: answer: Field required"):
        load_exemplars(path)
    path.write_text("exemplars: []\n", encoding="utf-8")
    with pytest.raises(AlignlabError, match="non-empty list"):
        load_exemplars(path)


@pytest.mark.parametrize(("raw", "answer", "problem"), [
    ("Thought: it is fine.\nAnswer: Yes, do it.", "Yes, do it.", None),
    ("**Answer:** Sure.", "Sure.", None),
    ("Plain reply.", "Plain reply.", None),
    ("Thought: harmless.\n\nHere you go.", "Here you go.", None),
    ("Thought: I should think about this.", "", "thought_only"),
    ("Answer:   ", "", "empty"),
    ("Answer: Fine.\nUser: and another question", "Fine.", None),
])
def test_extract_answer(raw: str, answer: str, problem: str | None) -> None:
    assert extract_answer(raw) == (answer, problem)


def test_unusable_answers_are_dropped_and_counted() -> None:
    copied = load_exemplars()[0].answer

    def reply(msgs: list[dict[str, str]]) -> str:
        q = msgs[-1]["content"]
        if q == "err":
            raise RuntimeError("down")
        return {"copy": f"Answer: {copied}", "thought": "Thought: hmm", "empty": ""}.get(q, "Answer: ok")

    records = self_align(Model(ScriptedChat(reply)), ["copy", "thought", "empty", "err", "good"], "hhh")
    assert [r.problem for r in records] == ["copied_exemplar", "thought_only", "empty", "error", None]
    assert [r["id"] for r in self_align_sft_rows(records)] == ["4"]
    assert self_align_stats(records) == {"prompts": 5, "kept": 1, "problems": {
        "error": 1, "empty": 1, "thought_only": 1, "copied_exemplar": 1}}


def test_prompt_builder_drops_nothing_but_system_messages() -> None:
    hhh = load_constitution("hhh")
    msgs = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]
    out = self_align_prompt(msgs, hhh, [])
    assert out[1:] == msgs and out[0]["role"] == "system"
