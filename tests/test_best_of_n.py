"""Best-of-n preference pairs and the ``value-profile-best-of-n`` goal data builder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from alignlab.align.best_of_n import best_of_n_pairs, sample_and_score
from alignlab.errors import AlignlabError
from alignlab.models import GenerateRequest, Model, load_model
from alignlab.targets.values import SCHWARTZ
from alignlab.testing import ScriptedAPI, scripted_models

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "src/alignlab/suites/data/target_profile_example.yaml"


def BySeed(answers: Sequence[str]) -> ScriptedAPI:  # noqa: N802
    """A chat policy whose answer is ``answers[seed]``; a prompt containing "same" always gets the first answer
    and one containing "broken" fails."""

    def answer(r: GenerateRequest) -> str:
        user = r.prompt if isinstance(r.prompt, str) else r.prompt[-1]["content"]
        if "broken" in user:
            raise RuntimeError("boom")
        return answers[0 if "same" in user else r.seed % len(answers)]

    return ScriptedAPI(reply_to=answer, spec="by-seed")


SCORES = {"great": 3.0, "good": 2.0, "meh": 1.0, "bad": -1.0, "unscorable": None}


def score_words(prompts, completions, **kwargs):  # noqa: ANN001, ANN201
    texts = [c if isinstance(c, str) else c[0]["content"] for c in completions]
    return [SCORES[t] for t in texts]


def test_best_and_worst_of_n_are_chosen_and_rejected() -> None:
    api = BySeed(["meh", "great", "bad", "great"])
    stats: dict[str, int] = {}
    pairs = best_of_n_pairs(Model(api), ["Tell me something."], score_words, n=4, temperature=0.7, seed=0,
                            max_tokens=32, stats=stats)
    assert pairs == [{"prompt": [{"role": "user", "content": "Tell me something."}],
                      "chosen": [{"role": "assistant", "content": "great"}],
                      "rejected": [{"role": "assistant", "content": "bad"}],
                      "chosen_score": 3.0, "rejected_score": -1.0, "scores": [1.0, 3.0, -1.0, 3.0]}]
    assert [r.seed for r in api.requests] == [0, 1, 2, 3]
    assert {(r.temperature, r.max_tokens) for r in api.requests} == {(0.7, 32)}
    assert stats["pairs"] == 1 and stats["skipped_tie"] == 0


def test_ties_unscored_and_failed_prompts_are_skipped_and_counted() -> None:
    api = BySeed(["good", "unscorable", "meh", "unscorable"])
    rows = [{"id": "a", "prompt": "ok"}, {"id": "b", "prompt": "same answer each time"},
            {"id": "c", "prompt": "broken"}]
    items = sample_and_score(Model(api), rows, score_words, n=4, seed=0)
    assert [it.skipped for it in items] == [None, "tie", "unscored"]
    assert items[0].chosen == 0 and items[0].rejected == 2  # unscorable samples take no part
    assert items[0].audit()["id"] == "a" and len(items[0].audit()["samples"]) == 4
    stats: dict[str, int] = {}
    pairs = best_of_n_pairs(Model(BySeed(["good", "unscorable", "meh", "unscorable"])), rows, score_words, n=4,
                            stats=stats)
    assert [p["chosen"][0]["content"] for p in pairs] == ["good"]
    assert stats == {"prompts": 3, "pairs": 1, "skipped_tie": 1, "skipped_unscored": 1, "samples": 12,
                     "sample_errors": 4, "samples_unscored": 2}
    with pytest.raises(ValueError, match="n >= 2"):
        best_of_n_pairs(Model(api), ["x"], score_words, n=1)


def test_reward_sees_dataset_columns() -> None:
    seen = {}

    def reward(prompts, completions, **kwargs):  # noqa: ANN001, ANN201
        seen.update(kwargs)
        return [float(len(c[0]["content"])) for c in completions]

    pairs = best_of_n_pairs(Model(BySeed(["a", "abc"])), [{"prompt": "q", "id": "x1", "topic": "t"}], reward, n=2)
    assert seen == {"id": ["x1", "x1"], "topic": ["t", "t"]}
    assert pairs[0]["chosen"][0]["content"] == "abc"


def test_best_of_n_on_the_tiny_model_is_reproducible_and_cached(tiny_model_dir: Path) -> None:
    from alignlab.align.rewards import build_reward

    # A rule reward that varies across random-model samples: the share of the letter "e" in the answer.
    def e_share(prompts, completions, **kwargs):  # noqa: ANN001, ANN201
        texts = [c if isinstance(c, str) else c[0]["content"] for c in completions]
        return [t.count("e") / len(t) if t else None for t in texts]

    model = load_model(f"hf:{tiny_model_dir}")
    prompts = ["Tell me about the sea.", "What is kindness?"]
    items = sample_and_score(model, prompts, e_share, n=4, temperature=1.0, seed=3, max_tokens=12)
    for it in items:
        assert len({c.text for c in it.samples}) > 1  # seeds give different samples
        if it.skipped is None:
            scores = [c.score for c in it.samples if c.score is not None]
            assert it.samples[it.chosen].score == max(scores) and it.samples[it.rejected].score == min(scores)
    first = best_of_n_pairs(model, prompts, e_share, n=4, temperature=1.0, seed=3, max_tokens=12)
    calls = model.model_calls
    again = best_of_n_pairs(model, prompts, e_share, n=4, temperature=1.0, seed=3, max_tokens=12)
    assert again == first and model.model_calls == calls  # the cache answered the rerun
    # Any built reward plugs in the same way.
    regex = build_reward({"name": "regex", "args": {"pattern": "e"}})
    assert all(p["chosen_score"] == 1.0 for p in best_of_n_pairs(model, prompts, regex, n=4, temperature=1.0,
                                                                 max_tokens=12))


# ---------------------------------------------------------------- the goal data builder

VECTORS = {"I care about you.": {"benevolence": 1, "universalism": 1, "power": -1},
           "Seek power.": {"power": 1, "achievement": 1, "benevolence": -1},
           "Hmm.": {}}


def annotate(user: str) -> str:
    text = user.split("[TEXT]\n", 1)[1].split("\n[END TEXT]", 1)[0]
    if text == "Say what?":
        return "no idea"
    return json.dumps({k: VECTORS[text].get(k, 0) for k in SCHWARTZ.keys})


def _goal(tmp_path: Path, **representation: object):  # noqa: ANN202
    from alignlab.goals._goal import Goal

    goal = Goal.model_validate({
        "name": "vp", "level": "values", "model": "policy",
        "representation": {"kind": "value-profile-best-of-n", **representation},
        "align": {"method": "dpo"}, "evaluate": [{"name": "values/schwartz"}],
    })
    goal._source = tmp_path / "goal.yaml"
    return goal


def test_value_profile_builder_writes_pairs_audit_and_heldout(tmp_path: Path) -> None:
    from alignlab.goals._builders import BuildContext, get_builder

    (tmp_path / "target.yaml").write_text(TARGET.read_text())
    prompts = [{"id": f"p{i}", "prompt": f"Question {i}?"} for i in range(5)] + [{"prompt": "same thing"}]
    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in prompts))
    policy = BySeed(["Hmm.", "Seek power.", "I care about you.", "Say what?"])
    judge = ScriptedAPI(annotate)
    goal = _goal(tmp_path, target="target.yaml", prompts="prompts.jsonl", n=4, classifier="scripted:judge",
                 heldout_fraction=0.34, seed=1)
    with scripted_models(policy=policy, judge=judge):
        built = get_builder("value-profile-best-of-n")(goal, tmp_path / "data",
                                                       BuildContext(policy="scripted:policy"))
    assert policy.requests and judge.requests
    train = [json.loads(line) for line in built.train_path.read_text().splitlines()]
    held = [json.loads(line) for line in built.heldout["prompts"].read_text().splitlines()]
    assert len(held) == 2 and built.stats["heldout_prompts"] == 2
    trained_prompts = {r["prompt"][0]["content"] for r in train}
    assert not trained_prompts & {h["prompt"] for h in held}  # held-out prompts are never sampled
    assert all(r["chosen"] == [{"role": "assistant", "content": "I care about you."}] for r in train)
    assert all(r["rejected"] == [{"role": "assistant", "content": "Seek power."}] for r in train)
    assert set(train[0]) == {"prompt", "chosen", "rejected"}
    audit = [json.loads(line) for line in built.audit_path.read_text().splitlines()]
    assert len(audit) == 4 and all(len(a["samples"]) == 4 for a in audit)
    caring = next(s for s in audit[0]["samples"] if s["text"] == "I care about you.")
    assert caring["values"]["benevolence"] == 1 and caring["score"] > 0
    unclear = next(s for s in audit[0]["samples"] if s["text"] == "Say what?")
    assert unclear["values"] is None and unclear["score"] is None
    expected_pairs = len(audit) - ("same thing" not in {h["prompt"] for h in held})  # "same thing" ties
    assert built.stats["pairs"] == len(train) == expected_pairs
    assert built.stats["skipped_tie"] == len(audit) - expected_pairs
    assert built.stats["classifier_parse_failures"] == expected_pairs  # one "Say what?" per varied prompt
    assert built.heldout["target"].read_text() == TARGET.read_text()
    assert [r.seed for r in policy.requests[:4]] == [1, 2, 3, 4]  # the goal's seed starts the samples


def test_value_profile_builder_options_and_failures(tmp_path: Path) -> None:
    from alignlab.goals._builders import BuildContext, builder_options, get_builder

    opts = builder_options("value-profile-best-of-n")
    with pytest.raises(ValueError, match="n\n"):
        opts.model_validate({"target": "t.yaml", "n": 1})
    with pytest.raises(ValueError, match="extra"):
        opts.model_validate({"target": "t.yaml", "prompt": "x.jsonl"})
    (tmp_path / "target.yaml").write_text(TARGET.read_text())
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "prompt": "ok"}\n{"id": "b"}\n')
    build = get_builder("value-profile-best-of-n")
    ctx = BuildContext(policy="scripted:never")  # no model may answer: the inputs fail first
    with pytest.raises(AlignlabError, match=r"bad.jsonl:2: field 'prompt'"):
        build(_goal(tmp_path, target="target.yaml", prompts="bad.jsonl"), tmp_path / "d", ctx)
    with pytest.raises(AlignlabError, match="target profile not found"):
        build(_goal(tmp_path, target="missing.yaml"), tmp_path / "d", ctx)
    # Every sample alike: no pairs is an error that says why, not an empty training file.
    with scripted_models(policy=BySeed(["Hmm."]), judge=BySeed(["{}"])), \
            pytest.raises(AlignlabError, match="no preference pairs"):
        build(_goal(tmp_path, target="target.yaml", limit=3, heldout_fraction=0.0), tmp_path / "d",
              BuildContext(policy="scripted:policy", critic="scripted:judge"))
