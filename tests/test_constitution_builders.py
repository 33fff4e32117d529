"""Goal data builders of the constitutional methods (scripted models) and the red-team training prompts."""

from __future__ import annotations

import csv
import difflib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from alignlab.data import SafetyPrompt
from alignlab.errors import AlignlabError
from alignlab.goals._builders import BuildContext, get_builder
from alignlab.goals._goal import load_goal
from alignlab.located_yaml import load_yaml
from alignlab.targets.constitution import builtin_constitutions, load_constitution
from alignlab.testing import ScriptedAPI, scripted_models
from cai_scripted import ScriptedChat

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"  # the workplace's public datasets (licences there)

HHH = load_constitution("hhh")
PRINCIPLES = [p for name in builtin_constitutions() for p in load_constitution(name).principles]
REDTEAM = REPO / "src" / "alignlab" / "suites" / "data" / "redteam_prompts.jsonl"


def _reply(msgs: list[dict[str, str]]) -> str:
    last = msgs[-1]["content"]
    if last == "Crit.":
        return "Too vague."
    if last == "Rev.":
        return "A clearer answer."
    if any(last == p.critique_request for p in PRINCIPLES):
        return "The reply could help someone cause harm."
    if any(last == p.revision_request for p in PRINCIPLES):
        return "Revision: I won't help with that."
    if "[The Start of Assistant A's Answer]" in last:
        a = last.split("[The Start of Assistant A's Answer]\n")[1]
        return "[[A]]" if a.startswith("No") else "[[B]]"
    if msgs[0]["role"] == "system" and "Principles:" in msgs[0]["content"]:
        return "Thought: the principles apply.\nAnswer: A careful answer."
    return "Sure, here is how."


def _goal(tmp_path: Path, representation: str, method: str = "sft") -> object:
    path = tmp_path / "goal.yaml"
    path.write_text(f"""name: t
level: values
representation:
{representation}
align: {{method: {method}, lora: {{r: 4}}}}
evaluate: [values/safety]
""", encoding="utf-8")
    return load_goal(path)


def _build(goal: object, tmp_path: Path, critic: bool = False,
           progress: bool = False) -> tuple[object, dict[str, ScriptedAPI]]:
    """Build with scripted models opened by spec (scripted:policy, scripted:critic); returns those that were used."""
    apis = {"policy": ScriptedChat(_reply), "critic": ScriptedChat(_reply)}
    with scripted_models(**apis):
        ctx = BuildContext(policy="scripted:policy", critic="scripted:critic" if critic else None, seed=0,
                           progress=progress)
        built = get_builder(goal.representation.kind)(goal, tmp_path / "data", ctx)  # type: ignore[attr-defined]
    return built, {name: api for name, api in apis.items() if api.requests}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_critique_revise_builder_writes_sft_rows_and_audit(tmp_path: Path) -> None:
    goal = _goal(tmp_path, "  kind: critique-revise\n  limit: 6")
    built, opened = _build(goal, tmp_path)
    assert list(opened) == ["policy"]  # no critic: the policy critiques itself
    rows = _rows(built.train_path)
    assert len(rows) == 6 and set(rows[0]) == {"prompt", "completion"}
    assert rows[0]["prompt"][0]["role"] == "user" and rows[0]["completion"] == [
        {"role": "assistant", "content": "I won't help with that."}]
    audit = _rows(built.audit_path)
    assert len(audit) == 6 and audit[0]["steps"][0]["critique"] == "The reply could help someone cause harm."
    assert built.stats["n_train"] == 6 and built.stats["accepted"] == 6 and built.stats["constitution"] == "hhh"
    assert built.stats["refusal_final"]["value"] == 1.0


def test_critique_revise_builder_reports_each_phase(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    goal = _goal(tmp_path, "  kind: critique-revise\n  limit: 3")
    _build(goal, tmp_path, progress=True)
    err = capsys.readouterr().err
    assert "critique-revise: answering 3 prompts" in err
    assert "critique-revise: round 1/1: critiquing and revising 3 answers" in err


def test_critique_revise_builder_dpo_with_a_critic(tmp_path: Path) -> None:
    goal = _goal(tmp_path, "  kind: critique-revise\n  output: dpo\n  limit: 4\n  constitution: social-norms",
                 method="dpo")
    built, opened = _build(goal, tmp_path, critic=True)
    assert sorted(opened) == ["critic", "policy"]
    assert all(len(p) == 1 for p in opened["policy"].prompts)  # the policy only answered
    rows = _rows(built.train_path)
    assert len(rows) == 4 and set(rows[0]) == {"prompt", "chosen", "rejected"}
    assert rows[0]["rejected"][0]["content"] == "Sure, here is how."
    assert built.stats["constitution"] == "social-norms"


def test_critique_revise_builder_reads_a_prompt_file_and_a_user_constitution(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_text('{"prompt": "one", "tags": ["x"]}\n{"id": "b", "prompt": "two"}\n',
                                      encoding="utf-8")
    (tmp_path / "c.yaml").write_text(
        "name: c\nprinciples:\n  - {id: x, name: X, critique_request: Crit., revision_request: Rev.}\n",
        encoding="utf-8")
    goal = _goal(tmp_path, "  kind: critique-revise\n  prompts: p.jsonl\n  constitution: c.yaml")
    built, _ = _build(goal, tmp_path)
    audit = _rows(built.audit_path)
    assert [a["id"] for a in audit] == ["1", "b"] and audit[0]["tags"] == ["x"]
    assert all(s["principle"] == "x" and s["critique"] == "Too vague." for a in audit for s in a["steps"])
    assert [a["final"] for a in audit] == ["A clearer answer."] * 2


def test_builder_fails_clearly_when_nothing_was_revised(tmp_path: Path) -> None:
    goal = _goal(tmp_path, "  kind: critique-revise\n  output: dpo\n  limit: 2", method="dpo")

    ctx = BuildContext(policy="scripted:p", seed=0, progress=False)
    with scripted_models(p=ScriptedChat(lambda m: "")), pytest.raises(AlignlabError, match="produced no dpo rows"):
        get_builder("critique-revise")(goal, tmp_path / "data", ctx)


def test_bad_builder_option_fails_at_load_with_file_line(tmp_path: Path) -> None:
    with pytest.raises(AlignlabError, match=r"goal\.yaml:5: representation\.output"):
        _goal(tmp_path, "  kind: critique-revise\n  output: rl")
    with pytest.raises(AlignlabError, match=r"goal\.yaml:5: representation\.rounnds"):
        _goal(tmp_path, "  kind: self-align\n  rounnds: 2")


def test_ai_feedback_builder_labels_pairs_and_holds_some_out(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    with pairs.open("w", encoding="utf-8") as fh:
        for i in range(10):
            # The data's chosen is the refusal for even i; the judge always prefers the refusal ("No ...").
            safe, unsafe = f"No, I won't ({i}).", f"Yes, here is how ({i})."
            chosen, rejected = (safe, unsafe) if i % 2 == 0 else (unsafe, safe)
            fh.write(json.dumps({"id": str(i), "prompt": f"harmful request {i}", "chosen": chosen,
                                 "rejected": rejected}) + "\n")
    goal = _goal(tmp_path, "  kind: ai-feedback\n  path: pairs.jsonl\n  mode: generate\n  heldout_fraction: 0.2",
                 method="dpo")
    built, _ = _build(goal, tmp_path)
    rows = _rows(built.train_path)
    assert len(rows) == 8 and all(r["chosen"][0]["content"].startswith("No") for r in rows)
    assert len(_rows(built.heldout["pairs"])) == 2 and len(_rows(built.audit_path)) == 8
    s = built.stats
    assert s["mode"] == "generate" and s["position_consistency"]["value"] == 1.0
    n_even = sum(int(r["id"]) % 2 == 0 for r in _rows(built.audit_path))
    assert s["agreement_with_data_labels"]["accuracy"]["value"] == pytest.approx(n_even / 8)


def test_self_align_builder_writes_prompts_without_principles(tmp_path: Path) -> None:
    goal = _goal(tmp_path, "  kind: self-align\n  limit: 5\n  n_exemplars: 2")
    built, opened = _build(goal, tmp_path)
    rows = _rows(built.train_path)
    assert len(rows) == 5 and all(len(r["prompt"]) == 1 and r["prompt"][0]["role"] == "user" for r in rows)
    assert rows[0]["completion"] == [{"role": "assistant", "content": "A careful answer."}]
    assert len(opened["policy"].prompts[0]) == 1 + 2 * 2 + 1  # system, two exemplars, the prompt
    assert _rows(built.audit_path)[0]["context"][0]["role"] == "system"


def test_harmless_cai_example_goal_loads() -> None:
    goal = load_goal(REPO / "examples" / "goals" / "harmless-cai.yaml")
    assert goal.representation.kind == "critique-revise" and goal.level == "values"
    assert "values/safety" in [e.name for e in goal.evaluate]


# ---------------------------------------------------------------- red-team training prompts


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def test_redteam_prompts_are_valid_and_balanced() -> None:
    rows = [SafetyPrompt.model_validate_json(line) for line in REDTEAM.read_text(encoding="utf-8").splitlines()]
    labels = Counter(r.label for r in rows)
    assert labels["unsafe"] >= 55 and labels["safe"] >= 25
    assert len({r.id for r in rows}) == len(rows) and len({_norm(r.prompt) for r in rows}) == len(rows)
    assert len({r.category for r in rows if r.label == "unsafe"}) >= 10


def test_redteam_prompts_do_not_overlap_the_heldout_evaluation_prompts() -> None:
    train = [json.loads(line)["prompt"] for line in REDTEAM.read_text(encoding="utf-8").splitlines()]
    safety = REPO / "src" / "alignlab" / "suites" / "data" / "safety_prompts.jsonl"
    held = [json.loads(line)["prompt"] for line in safety.read_text(encoding="utf-8").splitlines()]
    xstest = SHARED_DATA / "xstest" / "xstest_prompts.csv"
    if xstest.exists():
        with xstest.open(encoding="utf-8") as fh:
            held += [r["prompt"] for r in csv.DictReader(fh)]
    held_norm = [_norm(h) for h in held]
    assert not {_norm(t) for t in train} & set(held_norm)
    for t in train:
        tn = _norm(t)
        for h in held_norm:
            assert difflib.SequenceMatcher(None, tn, h, autojunk=False).ratio() < 0.8, (t, h)


def test_constitution_yaml_files_parse_with_lines() -> None:
    # Every built-in constitution is in package data beside the module, readable as YAML with positions.
    folder = REPO / "src" / "alignlab" / "goals" / "constitutions"
    for path in folder.glob("*.yaml"):
        raw, node = load_yaml(path.read_text(encoding="utf-8"), str(path))
        assert raw["name"] == path.stem and node is not None
