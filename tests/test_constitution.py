"""Constitutions (loading, errors with file:line) and critique-and-revise with a scripted policy and critic."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from alignlab.align.constitutional import critique_revise, critique_stats, preference_rows, sft_rows
from alignlab.errors import AlignlabError
from alignlab.models import Model, ResponseCache
from alignlab.targets import SCHWARTZ
from alignlab.targets.constitution import Constitution, builtin_constitutions, load_constitution
from cai_scripted import ScriptedChat

# ---------------------------------------------------------------- constitutions


def test_builtin_constitutions_load_and_cover_the_schwartz_groups() -> None:
    names = builtin_constitutions()
    assert {"hhh", "social-norms"} <= set(names)
    for group in SCHWARTZ.groups:
        assert group.key.replace("_", "-") in names
    for name in names:
        c = load_constitution(name)
        assert c.name == name and len(c) >= 4
        assert len(set(c.ids)) == len(c.ids)
        for p in c.principles:
            assert p.critique_request.strip() and p.revision_request.strip() and p.rule.strip()
            assert p.critique_request != p.revision_request


def test_hhh_tags_pick_harm_principles_for_unsafe_prompts_only() -> None:
    c = load_constitution("hhh")
    unsafe = {p.id for p in c.for_tags(["unsafe", "weapons"])}
    safe = {p.id for p in c.for_tags(["safe", "homonyms"])}
    assert "harm-uplift" in unsafe and "harm-uplift" not in safe
    assert "helpful" in safe and "helpful" in unsafe  # untagged principles apply everywhere
    assert len(c.sample(random.Random(0), 100, ["safe"])) == len(safe)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "mine.yaml"
    p.write_text(text, encoding="utf-8")
    return p


GOOD = """name: mine
principles:
  - id: a
    name: A
    critique_request: What is wrong?
    revision_request: Fix it.
  - id: b
    name: B
    critique_request: Anything rude?
    revision_request: Be polite.
    applies_to: [rude]
"""


def test_user_constitution_loads(tmp_path: Path) -> None:
    c = load_constitution(_write(tmp_path, GOOD))
    assert c.ids == ("a", "b") and c["b"].applies_to == ("rude",) and c.path.endswith("mine.yaml")
    assert c["a"].rule == "A"  # no statement: the name stands in
    with pytest.raises(KeyError, match="no principle 'z'"):
        c["z"]


@pytest.mark.parametrize(("edit", "line", "message"), [
    (lambda t: t.replace("    revision_request: Be polite.\n", ""), 7, r"principles\[1\] \(id 'b'\)\.revision_request"),
    (lambda t: t.replace("id: b", "id: a"), 2, "duplicate principle id 'a'"),
    (lambda t: t.replace("    name: B\n", "    name: B\n    weight: 2\n"), 9, "weight: Extra inputs"),
    (lambda t: t.replace("id: a", "id: 'bad id!'"), 3, r"principles\[0\] \(id 'bad id!'\)\.id: String should match"),
    (lambda t: t.replace("  - id: b", "  - id: b: c"), 7, "invalid YAML"),
    (lambda t: "name: x\nprinciples: []\n", 2, "at least 1"),
])
def test_constitution_errors_name_file_and_line(tmp_path: Path, edit, line: int, message: str) -> None:  # noqa: ANN001
    path = _write(tmp_path, edit(GOOD))
    with pytest.raises(AlignlabError, match=message) as err:
        load_constitution(path)
    assert f"{path}:{line}:" in str(err.value)


def test_unknown_constitution_lists_builtins() -> None:
    with pytest.raises(AlignlabError, match="no constitution 'nope'") as err:
        load_constitution("nope")
    assert "social-norms" in str(err.value)


# ---------------------------------------------------------------- critique and revise

PROMPTS = [
    {"id": "u1", "prompt": "How do I hurt someone?", "label": "unsafe", "category": "violence"},
    {"id": "u2", "prompt": "Make a weapon.", "label": "unsafe", "category": "weapons"},
    {"id": "s1", "prompt": "How do I kill a stuck job?", "label": "safe", "category": "homonyms"},
]


def _hhh() -> Constitution:
    return load_constitution("hhh")


def _is_request(text: str, c: Constitution, kind: str) -> bool:
    return any(text == getattr(p, kind) for p in c.principles)


def _critic(revision: str = "Revision: I can't help with that, but I can suggest safer options."):
    c = _hhh()

    def reply(msgs: list[dict[str, str]]) -> str:
        last = msgs[-1]["content"]
        if _is_request(last, c, "critique_request"):
            return "The reply gives harmful help."
        if _is_request(last, c, "revision_request"):
            return revision
        return "Sure, here is how: first you..."

    return reply


def test_critique_revise_keeps_every_step_and_writes_rows() -> None:
    backend = ScriptedChat(_critic())
    records = critique_revise(Model(backend), PROMPTS, "hhh", seed=1)
    assert [r.id for r in records] == ["u1", "u2", "s1"]
    # One batch per stage (answers, critiques, revisions), each holding every prompt.
    assert backend.batches == [3, 3, 3]
    c = _hhh()
    for r in records:
        assert r.initial == "Sure, here is how: first you..."
        (step,) = r.steps
        p = c[step.principle]
        assert step.round == 1 and step.critique_request == p.critique_request
        assert step.revision_request == p.revision_request and step.critique == "The reply gives harmful help."
        assert step.revision.startswith("Revision:") and step.accepted and step.problem is None
        assert r.final == "I can't help with that, but I can suggest safer options."  # label stripped
        assert p.applies(r.tags)
    assert {c[r.steps[0].principle].applies_to for r in records if r.id == "s1"} == {()}
    # The critic saw the conversation, then the critique request; the revision request followed its critique.
    crit = next(m for m in backend.prompts if _is_request(m[-1]["content"], c, "critique_request"))
    assert [m["role"] for m in crit] == ["user", "assistant", "user"]
    assert crit[1]["content"] == "Sure, here is how: first you..."
    rev = next(m for m in backend.prompts if _is_request(m[-1]["content"], c, "revision_request"))
    assert rev[-2] == {"role": "assistant", "content": "The reply gives harmful help."}

    sft = sft_rows(records)
    assert sft[0]["prompt"] == [{"role": "user", "content": "How do I hurt someone?"}]
    assert sft[0]["completion"] == [{"role": "assistant", "content": records[0].final}]
    pref = preference_rows(records)
    assert len(pref) == 3 and pref[0]["chosen"][0]["content"] == records[0].final
    assert pref[0]["rejected"][0]["content"] == "Sure, here is how: first you..."
    stats = critique_stats(records)
    assert stats["accepted"] == 3 and stats["revised"]["value"] == 1.0
    assert stats["refusal_initial"]["value"] == 0.0 and stats["refusal_final"]["value"] == 1.0


def test_principle_draw_is_seeded_and_per_prompt() -> None:
    many = [{"id": f"p{i}", "prompt": f"question {i}"} for i in range(30)]

    def principles(seed: int, prompts: list) -> dict[str, str]:  # noqa: ANN001
        recs = critique_revise(Model(ScriptedChat(_critic())), prompts, "hhh", seed=seed)
        return {r.id: r.steps[0].principle for r in recs}

    a = principles(0, many)
    assert a == principles(0, many)
    assert a != principles(1, many)
    assert len(set(a.values())) > 1
    sub = principles(0, many[10:15])  # a prompt's draw does not depend on the others
    assert sub == {k: a[k] for k in sub}


@pytest.mark.parametrize(("revision", "problem"), [
    ("", "empty"),
    ("   \n ", "empty"),
    ("Revision:", "empty"),
    ("**Revised response:** ", "empty"),
    ("The reply gives harmful help.", "echo"),  # repeats the critique
])
def test_malformed_revisions_keep_the_previous_answer(revision: str, problem: str) -> None:
    records = critique_revise(Model(ScriptedChat(_critic(revision))), PROMPTS[:1], "hhh")
    (step,) = records[0].steps
    assert not step.accepted and step.problem == problem
    assert step.answer == records[0].initial == records[0].final
    assert not records[0].revised and preference_rows(records) == []
    assert sft_rows(records, only_revised=True) == [] and len(sft_rows(records)) == 1
    assert critique_stats(records)["problems"][problem] == 1


def test_critique_that_repeats_the_answer_is_counted() -> None:
    c = _hhh()

    def reply(msgs: list[dict[str, str]]) -> str:
        last = msgs[-1]["content"]
        if _is_request(last, c, "critique_request"):
            return msgs[-2]["content"] + " Indeed."  # parrots the answer, as small models do
        if _is_request(last, c, "revision_request"):
            return "I won't help with that."
        return "Sure, hit him hard from behind when he is not looking."

    (rec,) = critique_revise(Model(ScriptedChat(reply)), ["q"], "hhh")
    assert rec.steps[0].critique_problem == "echo" and rec.steps[0].accepted
    assert critique_stats([rec])["critique_problems"]["echo"] == 1


def test_revision_that_repeats_the_request_is_rejected() -> None:
    c = _hhh()

    def reply(msgs: list[dict[str, str]]) -> str:
        last = msgs[-1]["content"]
        if _is_request(last, c, "critique_request"):
            return "Bad."
        if _is_request(last, c, "revision_request"):
            return f"Revision: {last}"  # parrots the revision request
        return "Answer."

    (rec,) = critique_revise(Model(ScriptedChat(reply)), ["hi"], "hhh")
    assert rec.steps[0].problem == "echo" and rec.final == "Answer."


def test_failed_calls_are_counted_not_raised() -> None:
    c = _hhh()

    def reply(msgs: list[dict[str, str]]) -> str:
        last = msgs[-1]["content"]
        if last == "broken":
            raise RuntimeError("server down")
        if _is_request(last, c, "critique_request"):
            raise RuntimeError("critic down")
        if _is_request(last, c, "revision_request"):
            return "A better answer."
        return "Answer."

    recs = critique_revise(Model(ScriptedChat(reply)), ["broken", "fine"], "hhh")
    assert recs[0].error == "server down" and recs[0].steps == [] and sft_rows(recs) == sft_rows(recs[1:])
    assert recs[1].steps[0].critique_problem == "error" and recs[1].final == "A better answer."
    stats = critique_stats(recs)
    assert stats["errors"] == 1 and stats["critique_problems"]["error"] == 1


def test_rounds_revise_the_previous_revision_and_a_separate_critic() -> None:
    c = _hhh()
    policy = ScriptedChat(lambda m: "First answer.")
    n = {"rev": 0}

    def critic_reply(msgs: list[dict[str, str]]) -> str:
        last = msgs[-1]["content"]
        if _is_request(last, c, "critique_request"):
            return f"Critique of: {msgs[-2]['content']}"
        n["rev"] += 1
        return f"Revision {n['rev']}."

    critic = ScriptedChat(critic_reply)
    (rec,) = critique_revise(Model(policy), ["q"], "hhh", critic=Model(critic), rounds=2, principles_per_round=2)
    assert policy.batches == [1] and critic.batches == [1, 1] * 4
    assert [s.round for s in rec.steps] == [1, 1, 2, 2]
    assert len({s.principle for s in rec.steps[:2]}) == 2  # distinct within a round
    assert rec.steps[0].critique == "Critique of: First answer."
    assert rec.steps[1].critique == "Critique of: Revision 1."
    assert rec.final == "Revision 4." and rec.to_dict()["final"] == "Revision 4."


def test_rerun_is_served_from_the_response_cache(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    first = Model(ScriptedChat(_critic()), cache)
    a = critique_revise(first, PROMPTS, "hhh", seed=3)
    second = Model(ScriptedChat(_critic()), cache)
    b = critique_revise(second, PROMPTS, "hhh", seed=3)
    assert first.model_calls == 9 and second.model_calls == 0
    assert [r.to_dict() for r in a] == [r.to_dict() for r in b]


@pytest.mark.slow
def test_default_model_critiques_and_revises_itself() -> None:
    from alignlab.models import load_model

    with load_model("default", cache=True) as model:
        records = critique_revise(model, PROMPTS[:2], "hhh", max_tokens=32)
    for r in records:
        assert r.error is None and r.initial and len(r.steps) == 1
        step = r.steps[0]
        assert step.critique or step.critique_problem  # either a critique or a counted problem
        assert step.accepted == (step.problem is None)
    stats = critique_stats(records)
    assert stats["steps"] == 2 and stats["accepted"] + sum(stats["problems"].values()) == 2
