"""Data builders: deterministic held-out splits by prompt (never by id alone), TRL-schema training files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from alignlab.errors import AlignlabError
from alignlab.evaluate.preferences.agreement import read_pairs
from alignlab.goals import BuildContext, BuiltData, load_goal, register_builder
from alignlab.goals._builders import (
    build_instructions,
    build_preference_pairs,
    builtin_pairs_path,
    prompt_key,
    split_groups,
)


def _goal(tmp_path: Path, representation: str, name: str = "goal.yaml") -> object:
    p = tmp_path / name
    p.write_text(f"name: t\nlevel: preferences\nrepresentation: {representation}\n"
                 "align: {method: dpo}\nevaluate: [preferences/hhh-pairs]\n")
    return load_goal(p)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_split_groups_is_seeded_stratified_and_exact() -> None:
    keys = [f"p{i}" for i in range(30)]
    strata = ["a"] * 20 + ["b"] * 10
    held = split_groups(keys, strata, fraction=0.3, seed=1)
    assert len(held) == 9  # round(0.3 × 30)
    assert Counter(s for k, s in zip(keys, strata, strict=True) if k in held) == {"a": 6, "b": 3}
    assert split_groups(keys, strata, fraction=0.3, seed=1) == held  # deterministic
    assert split_groups(list(reversed(keys)), list(reversed(strata)), fraction=0.3, seed=1) == held  # order-free
    assert split_groups(keys, strata, fraction=0.3, seed=2) != held
    assert split_groups(keys, None, every=10) == {"p0", "p10", "p20"}
    assert split_groups(keys, None) == set()


def test_prompt_key_ignores_case_and_whitespace_only() -> None:
    assert prompt_key("What is  2+2?\n") == prompt_key("what is 2+2?")
    a, b = [{"role": "user", "content": "Hi  there"}], [{"role": "user", "content": "hi there"}]
    assert prompt_key(a) == prompt_key(b)
    assert prompt_key("What is 2+2?") != prompt_key("What is 2+3?")


def test_builtin_pairs_split_a_third_held_out_per_subset(tmp_path: Path) -> None:
    goal = _goal(tmp_path, "{kind: preference-pairs, heldout_fraction: 0.3333}")
    built = build_preference_pairs(goal, tmp_path / "data", BuildContext(policy="default", seed=0))
    assert built.stats["n_rows"] == 180 and built.stats["n_heldout"] == 60 and built.stats["n_train"] == 120
    train, held = _rows(built.train_path), _rows(built.heldout["pairs"])
    # TRL's conversational preference schema: prompt messages, chosen/rejected assistant messages, nothing else.
    assert set(train[0]) == {"prompt", "chosen", "rejected"}
    assert train[0]["prompt"][0]["role"] == "user" and train[0]["chosen"][0]["role"] == "assistant"
    assert not {prompt_key(r["prompt"]) for r in train} & {prompt_key(r["prompt"]) for r in held}
    # Every subset keeps about a third held out (stratified), and the agreement suite reads the held-out file.
    per_subset = Counter(r["subset"] for r in held)
    assert per_subset["helpful/arithmetic"] == 10 and per_subset["honest/self-knowledge"] == 5
    pairs = read_pairs(built.heldout["pairs"])
    assert len(pairs) == 60 and all(p.subset for p in pairs)
    # Deterministic: a second build with the same seed writes the same files.
    again = build_preference_pairs(goal, tmp_path / "data2", BuildContext(policy="default", seed=0))
    assert again.heldout["pairs"].read_text() == built.heldout["pairs"].read_text()
    assert again.train_path.read_text() == built.train_path.read_text()
    audit = _rows(built.audit_path)
    assert Counter(r["split"] for r in audit) == {"train": 120, "heldout": 60}


def test_same_prompt_under_other_ids_never_straddles_the_split(tmp_path: Path) -> None:
    rows = []
    for i in range(20):
        prompt = f"Question number {i}?"
        # The same prompt three times, with different ids and spacing/case: all must land on one side.
        for j, variant in enumerate((prompt, prompt.upper(), f"  {prompt}  ")):
            rows.append({"id": f"{i}-{j}", "prompt": variant, "chosen": f"good {j}", "rejected": f"bad {j}"})
    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    goal = _goal(tmp_path, "{kind: preference-pairs, path: pairs.jsonl, heldout_fraction: 0.25, seed: 3}")
    built = build_preference_pairs(goal, tmp_path / "data", BuildContext(policy="default", seed=0))
    assert built.stats["n_heldout_prompts"] == 5 and built.stats["n_heldout"] == 15
    held_ids = {r["id"] for r in _rows(built.heldout["pairs"])}
    assert {i.split("-")[0] for i in held_ids} == {h.split("-")[0] for h in held_ids}
    assert all(f"{h.split('-')[0]}-{j}" in held_ids for h in held_ids for j in range(3))
    train_keys = {prompt_key(r["prompt"]) for r in _rows(built.train_path)}
    assert not train_keys & {prompt_key(r["prompt"]) for r in _rows(built.heldout["pairs"])}


def test_heldout_every_and_a_split_that_leaves_nothing(tmp_path: Path) -> None:
    goal = _goal(tmp_path, "{kind: preference-pairs, heldout_every: 3}")
    built = build_preference_pairs(goal, tmp_path / "data", BuildContext(policy="default"))
    assert built.stats["n_heldout"] == 60 and built.stats["heldout_fraction"] is None
    every = [json.loads(line)["id"] for line in builtin_pairs_path().read_text().splitlines()][::3]
    assert [p.id for p in read_pairs(built.heldout["pairs"])] == every  # prompts 0, 3, 6, ... in file order
    goal = _goal(tmp_path, "{kind: preference-pairs, heldout_fraction: 0.999}", "g2.yaml")
    with pytest.raises(AlignlabError, match="leaves no training pairs"):
        build_preference_pairs(goal, tmp_path / "d2", BuildContext(policy="default"))


def test_instructions_builder_writes_sft_rows_and_arena_files(tmp_path: Path) -> None:
    src = tmp_path / "sft.jsonl"
    src.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"Say {i}.", "completion": f"{i}."}) + "\n"
                           for i in range(10)))
    goal = _goal(tmp_path, "{kind: instructions, path: sft.jsonl, heldout_fraction: 0.2}")
    built = build_instructions(goal, tmp_path / "data", BuildContext(policy="default", seed=0))
    train = _rows(built.train_path)
    assert len(train) == 8 and train[0]["prompt"][0] == {"role": "user", "content": train[0]["prompt"][0]["content"]}
    assert set(train[0]) == {"prompt", "completion"}
    questions, refs = _rows(built.heldout["questions"]), _rows(built.heldout["references"])
    assert len(questions) == 2 and [q["question_id"] for q in questions] == [r["question_id"] for r in refs]
    assert questions[0]["turns"][0].startswith("Say ") and refs[0]["turns"][0].endswith(".")
    # No split asked for: everything trains, nothing is held out.
    goal = _goal(tmp_path, "{kind: instructions, path: sft.jsonl}", "g2.yaml")
    built = build_instructions(goal, tmp_path / "d2", BuildContext(policy="default"))
    assert built.heldout == {} and len(_rows(built.train_path)) == 10
    goal = _goal(tmp_path, "{kind: instructions}", "g3.yaml")
    with pytest.raises(AlignlabError, match="needs a path"):
        build_instructions(goal, tmp_path / "d3", BuildContext(policy="default"))


def test_registered_builder_is_found_by_kind(tmp_path: Path) -> None:
    @register_builder("test-echo")
    def echo(goal, out_dir: Path, context: BuildContext) -> BuiltData:  # noqa: ANN001
        return BuiltData(out_dir / "train.jsonl", stats={"policy": context.policy})

    goal = _goal(tmp_path, "{kind: test-echo, anything: 1}")
    assert goal.representation.get("anything") == 1  # no options model: the fields pass through


def _templated_pairs(path: Path, n: int = 40) -> Path:
    # The pre-issue-17 shape: every chosen answer opens "I can't help with", every rejected one "Sure! Here's a plan".
    rows = [{"id": f"r{i}", "subset": "harmless/refusal", "prompt": f"How can I do harmful thing number {i}?",
             "chosen": f"I can't help with that, since thing {i} could hurt someone.",
             "rejected": f"Sure! Here's a plan for thing {i}: start now."} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_templated_openings_are_measured_and_warned_on(tmp_path: Path) -> None:
    _templated_pairs(tmp_path / "pairs.jsonl")
    goal = _goal(tmp_path, "{kind: preference-pairs, path: pairs.jsonl, heldout_fraction: 0.25}")
    overlap = build_preference_pairs(goal, tmp_path / "data", BuildContext(policy="default")).stats["opening_overlap"]
    assert overlap["n_heldout"] == 10 and overlap["chosen"] == overlap["rejected"] == overlap["decisive"] == 1.0
    assert overlap["warning"] and "i can't help with" in overlap["warning"]


def test_builtin_pairs_cannot_be_told_apart_by_their_openings(tmp_path: Path) -> None:
    # Issue 17: 80 of the 180 pairs were decided by fixed wording. No answer side of any subset may repeat an opening
    # now, and the example goal's split (a third held out) must not warn.
    from alignlab.goals.openings import opening

    rows = _rows(builtin_pairs_path())
    for side in ("chosen", "rejected"):
        repeated = Counter((r["subset"], opening(r[side])) for r in rows)
        assert [k for k, n in repeated.items() if n > 1] == [], side
    goal = _goal(tmp_path, "{kind: preference-pairs, heldout_fraction: 0.3333}")
    overlap = build_preference_pairs(goal, tmp_path / "data", BuildContext(policy="default", seed=0)).stats[
        "opening_overlap"]
    assert overlap["n_heldout"] == 60 and overlap["decisive"] <= 0.10 and overlap["warning"] is None
