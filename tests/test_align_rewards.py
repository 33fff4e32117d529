"""Reward functions for RL recipes: every built-in in TRL's call form (string and conversational), weights, errors,
and one GRPO step that uses them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from alignlab.align.rewards import RewardError, RewardSpec, build_reward, build_rewards, register_reward, reward_names
from alignlab.errors import AlignlabError, DataError
from alignlab.models import Model
from alignlab.targets.values import SCHWARTZ
from alignlab.testing import ScriptedAPI

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "src/alignlab/suites/data/target_profile_example.yaml"


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def said(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


# ---------------------------------------------------------------- registry, specs, weights


def test_builtins_registered_and_weights_in_spec_order() -> None:
    assert {"reward-model", "judge", "ifeval", "value-profile", "regex"} <= set(reward_names())
    funcs, weights = build_rewards([
        RewardSpec(name="regex", weight=0.25, args={"pattern": "^yes"}),
        {"name": "ifeval", "weight": 2},
        {"name": "regex", "args": {"pattern": "no"}},
    ])
    assert weights == [0.25, 2.0, 1.0]
    assert [f.__name__ for f in funcs] == ["regex", "ifeval", "regex_2"]  # distinct names for TRL's logs


def test_regex_reward_string_and_conversational() -> None:
    f = build_reward({"name": "regex", "args": {"pattern": r"<answer>\d+</answer>", "reward_match": 1.0,
                                                "reward_miss": -1.0}})
    assert f(["q", "q"], ["so <answer>42</answer>", "42"]) == [1.0, -1.0]
    assert f([chat("q"), chat("q")], [said("<answer>7</answer>"), said("seven")]) == [1.0, -1.0]
    full = build_reward({"name": "regex", "args": {"pattern": r"\d+", "full_match": True}})
    assert full(["q", "q"], ["12", "12 apples"]) == [1.0, 0.0]


def test_unknown_reward_and_bad_args_are_clear_errors() -> None:
    with pytest.raises(RewardError, match="unknown reward 'judgee'") as e:
        build_rewards([{"name": "judgee"}])
    assert "judge" in str(e.value.hint)
    with pytest.raises(AlignlabError, match="unknown argument 'patern'"):
        build_reward({"name": "regex", "args": {"patern": "x"}})
    with pytest.raises(AlignlabError, match="missing argument 'pattern'"):
        build_reward({"name": "regex"})
    with pytest.raises(AlignlabError, match="invalid pattern"):
        build_reward({"name": "regex", "args": {"pattern": "("}})
    with pytest.raises(AlignlabError, match="invalid reward spec"):
        build_reward({"name": "regex", "wieght": 2})
    with pytest.raises(AlignlabError, match="mode must be"):
        build_reward({"name": "ifeval", "args": {"mode": "lenient"}})


def test_check_reward_and_relative_model_paths() -> None:
    from alignlab.align.rewards import check_reward, resolve_spec

    assert callable(check_reward({"name": "judge", "args": {"model": "hf:judge", "principle": "x"}}))  # nothing loads
    with pytest.raises(RewardError, match="missing argument 'model'"):
        check_reward({"name": "judge", "args": {"principle": "x"}})
    assert resolve_spec("hf:models/judge", Path("/recipes")) == "hf:/recipes/models/judge"
    assert resolve_spec("hf:/abs/judge", Path("/recipes")) == "hf:/abs/judge"
    assert resolve_spec("openai:m@http://h:8000/v1", Path("/recipes")) == "openai:m@http://h:8000/v1"
    assert resolve_spec("default", Path("/recipes")) == "default"


def test_user_registered_reward() -> None:
    @register_reward("length-test")
    def length(*, per_char: float = 1.0):  # noqa: ANN202
        def reward_len(prompts, completions, **kwargs):  # noqa: ANN001, ANN202
            return [per_char * len(c if isinstance(c, str) else c[0]["content"]) for c in completions]
        return reward_len

    funcs, weights = build_rewards([{"name": "length-test", "weight": 0.5, "args": {"per_char": 2}}])
    assert funcs[0].__name__ == "reward_len" and weights == [0.5]
    assert funcs[0](["a", "b"], ["abc", "z"]) == [6.0, 2.0]
    with pytest.raises(AlignlabError, match="unknown argument 'per_word'.*per_char"):
        build_reward({"name": "length-test", "args": {"per_word": 1}})


# ---------------------------------------------------------------- reward-model


@pytest.fixture(scope="module")
def tiny_rm(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from alignlab.testing.tiny_reward import build_tiny_reward_model

    return build_tiny_reward_model(tmp_path_factory.mktemp("rm") / "rm", tokenizer_dir=tiny_model_dir)


def test_reward_model_reward_matches_the_reward_model(tiny_rm: Path) -> None:
    from alignlab.models.reward import load_reward_model

    f = build_reward({"name": "reward-model", "args": {"path": tiny_rm.name, "batch_size": 2}},
                     base_dir=tiny_rm.parent)  # a relative path resolves against the recipe's folder
    rm = load_reward_model(tiny_rm)
    prompts, answers = ["How do I boil an egg?", "Hi"], ["Simmer it for 9 minutes.", "Hello there, friend."]
    got = f(prompts, answers)
    assert got == pytest.approx(rm.score(prompts, answers), abs=1e-5)
    assert got[0] != pytest.approx(got[1])
    conv = f([chat(p) for p in prompts], [said(a) for a in answers])
    assert conv == pytest.approx(rm.score([chat(p) for p in prompts], answers), abs=1e-5)
    assert f.__name__ == "reward_model"
    with pytest.raises(AlignlabError, match="exactly one of 'path' and 'model'"):
        build_reward({"name": "reward-model"})
    with pytest.raises(AlignlabError):
        build_reward({"name": "reward-model", "args": {"path": str(tiny_rm.parent / "missing")}})


# ---------------------------------------------------------------- judge


def judge_reply(user: str) -> str:
    answer = re.search(r"\[The Start of Assistant's Answer\]\n(.*)\n\[The End", user, re.S)
    text = answer.group(1) if answer else ""
    if "fail" in text:
        raise RuntimeError("judge server down")
    if "garbage" in text:
        return "This answer is hard to rate; I will not give a number."
    if "kind" in text:
        return 'The answer is caring and honest. Rating: [[9]]'
    return "The answer is curt. [[3]]"


def test_judge_reward_normalises_and_counts_malformed() -> None:
    api = ScriptedAPI(judge_reply)
    logged: list[tuple[str, float]] = []
    f = build_reward({"name": "judge", "args": {"model": Model(api), "principle": "Be kind to the user.",
                                                "scale": [1, 10]}})
    out = f([chat("Help me"), "Help me", "Help me", "Help me"],
            [said("a kind answer"), "go away", "garbage", "fail"],
            log_metric=lambda name, value: logged.append((name, value)))
    assert out[0] == pytest.approx(8 / 9) and out[1] == pytest.approx(2 / 9)
    assert out[2] is None and out[3] is None
    assert f.counts["parse_failures"] == 1 and f.counts["errors"] == 1 and f.counts["missing"] == 2
    assert logged == [("rewards/judge/missing", 0.5)]
    sent = api.prompts[0][-1]["content"]
    assert "Be kind to the user." in sent and "[Question]\nHelp me" in sent and "scale of 1 to 10" in sent


def test_judge_scale_rubric_and_general_grading() -> None:
    f = build_reward({"name": "judge", "args": {"model": Model(ScriptedAPI(lambda u: "fine. [[4]] then [[5]]")),
                                                "rubric": "5: perfect; 0: useless", "scale": "0-5"}})
    assert f(["q"], ["a"]) == [1.0]  # the last rating wins; 5 on 0..5 is 1.0
    out_of_range = build_reward({"name": "judge", "args": {"model": Model(ScriptedAPI(lambda u: "[[7]]")),
                                                           "principle": "Be brief.", "scale": 5}})
    assert out_of_range(["q"], ["a"]) == [None] and out_of_range.counts["parse_failures"] == 1
    api = ScriptedAPI(lambda u: "Rating: [[10]]")
    general = build_reward({"name": "judge", "args": {"model": Model(api)}})
    assert general(["q"], ["a"]) == [1.0]
    assert "helpfulness, relevance, accuracy" in api.prompts[0][-1]["content"]  # MT-Bench's single grading
    with pytest.raises(AlignlabError, match="not both"):
        build_reward({"name": "judge", "args": {"model": Model(api), "principle": "x", "rubric": "y"}})
    with pytest.raises(AlignlabError, match="scale"):
        build_reward({"name": "judge", "args": {"model": Model(api), "principle": "x", "scale": [5, 1]}})


def test_judge_sees_earlier_turns() -> None:
    api = ScriptedAPI(lambda u: "[[6]]")
    f = build_reward({"name": "judge", "args": {"model": Model(api), "principle": "Stay consistent."}})
    conversation = [{"role": "user", "content": "My name is Ada."}, {"role": "assistant", "content": "Hi Ada!"},
                    {"role": "user", "content": "What is my name?"}]
    assert f([conversation], [said("Ada.")]) == [pytest.approx(5 / 9)]
    sent = api.prompts[0][-1]["content"]
    assert "My name is Ada." in sent and "[Question]\nWhat is my name?" in sent


# ---------------------------------------------------------------- ifeval


def test_ifeval_reward_is_the_fraction_followed() -> None:
    f = build_reward({"name": "ifeval"})
    ids = [["keywords:existence", "punctuation:no_comma"]] * 3
    # Hugging Face's copy fills every argument of every instruction with null; those are dropped.
    kwargs = [[{"keywords": ["flour", "milk"], "num_words": None}, {"keywords": None}]] * 3
    out = f(["Recipe?"] * 3, ["flour and milk", "flour, milk", "flour, sugar"], instruction_id_list=ids,
            kwargs=kwargs)
    assert out == [1.0, 0.5, 0.0]
    assert f([chat("Recipe?")], [said("flour and milk")], instruction_id_list=ids[:1], kwargs=kwargs[:1]) == [1.0]
    assert f(["q"], ["x"], instruction_id_list=[[]], kwargs=[[]]) == [None]
    loose = build_reward({"name": "ifeval", "args": {"mode": "loose"}})
    # Loose accepts the response without its first line (an intro like "Sure, here it is").
    assert loose(["q"], ["Sure, here:\nflour and milk"], instruction_id_list=ids[:1], kwargs=kwargs[:1]) == [1.0]
    with pytest.raises(DataError, match="instruction_id_list"):
        f(["q"], ["a"])
    with pytest.raises(DataError, match="row 0.*unknown instruction"):
        f(["q"], ["a"], instruction_id_list=[["keywords:nope"]], kwargs=[[{}]])


# ---------------------------------------------------------------- value-profile

VECTORS = {  # what a classifier reads in each answer (the example target favours benevolence, opposes power)
    "caring": {"benevolence": 1, "universalism": 1, "power": -1},
    "neutral": {},
    "ambitious": {"power": 1, "achievement": 1, "hedonism": 1, "benevolence": -1},
}


class ScriptedClassifier:
    system = SCHWARTZ

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str] | None]] = []

    def classify(self, responses, prompts=None):  # noqa: ANN001, ANN201
        self.calls.append((list(responses), None if prompts is None else list(prompts)))
        out = []
        for r in responses:
            if r == "???":
                out.append({})
            else:
                v = VECTORS[r]
                out.append({k: v.get(k, 0) for k in SCHWARTZ.keys})
        return out


@pytest.mark.parametrize("metric", ["pearson", "spearman", "cosine", "neg_distance"])
def test_value_profile_rewards_closeness_to_target(metric: str) -> None:
    clf = ScriptedClassifier()
    f = build_reward({"name": "value-profile", "args": {"target": str(TARGET), "classifier": clf,
                                                        "metric": metric}})
    caring, zeros, ambitious, unknown = f([chat("What matters?")] * 4,
                                          [said("caring"), said("neutral"), said("ambitious"), said("???")])
    assert caring > zeros > ambitious
    assert -1.0 <= ambitious and caring <= 1.0
    assert unknown is None and f.counts["parse_failures"] == 1
    assert clf.calls[0][1] == ["What matters?"] * 4  # the classifier sees the question too


def test_value_profile_with_a_judge_classifier(tmp_path: Path) -> None:
    def annotate(user: str) -> str:
        text = user.split("[TEXT]\n", 1)[1].split("\n[END TEXT]", 1)[0]
        if text == "unclear":
            return "I am not sure what values this expresses."
        return json.dumps({k: VECTORS[text].get(k, 0) for k in SCHWARTZ.keys})

    shutil.copyfile(TARGET, tmp_path / "target.yaml")
    judge = Model(ScriptedAPI(annotate))
    f = build_reward({"name": "value-profile", "args": {"target": "target.yaml", "classifier": judge,
                                                        "name": "org_values"}}, base_dir=tmp_path)
    out = f(["q", "q", "q"], ["caring", "ambitious", "unclear"])
    assert out[0] > out[1] and out[2] is None
    assert f.__name__ == "org_values" and f.counts["parse_failures"] == 1


def test_value_profile_errors(tmp_path: Path) -> None:
    with pytest.raises(AlignlabError, match="unknown metric 'l1'"):
        build_reward({"name": "value-profile", "args": {"target": str(TARGET), "classifier": ScriptedClassifier(),
                                                        "metric": "l1"}})
    mf = tmp_path / "mf.yaml"
    mf.write_text("system: moral_foundations\nvalues: {care: 1.0, fairness: 0.5}\n")
    with pytest.raises(AlignlabError, match="classifier rates schwartz values"):
        build_reward({"name": "value-profile", "args": {"target": str(mf), "classifier": ScriptedClassifier()}})
    with pytest.raises(DataError, match="target profile not found"):
        build_reward({"name": "value-profile", "args": {"target": "nope.yaml", "classifier": ScriptedClassifier()}},
                     base_dir=tmp_path)


# ---------------------------------------------------------------- TRL accepts them


def test_grpo_trainer_takes_one_step_with_built_rewards(tiny_model_dir: Path, tmp_path: Path) -> None:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    funcs, weights = build_rewards([
        {"name": "regex", "weight": 0.5, "args": {"pattern": "a"}},
        {"name": "ifeval"},
        {"name": "judge", "args": {"model": Model(ScriptedAPI(lambda u: "[[7]]")), "principle": "Be helpful."}},
        {"name": "value-profile", "args": {"target": str(TARGET), "classifier": ScriptedClassifierAny()}},
    ])
    ds = Dataset.from_list([
        {"prompt": chat("Name a fruit."), "instruction_id_list": ["punctuation:no_comma"],
         "kwargs": [{"keywords": None}]},
        {"prompt": chat("Say hi."), "instruction_id_list": ["keywords:existence"],
         "kwargs": [{"keywords": ["hi"]}]},
    ])
    args = GRPOConfig(output_dir=str(tmp_path / "grpo"), max_steps=1, num_generations=2, max_completion_length=8,
                      per_device_train_batch_size=2, report_to="none", logging_steps=1, save_strategy="no",
                      bf16=False, use_cpu=True, reward_weights=weights, seed=0)
    trainer = GRPOTrainer(model=str(tiny_model_dir), reward_funcs=funcs, args=args, train_dataset=ds)
    trainer.train()
    logs = {k: v for entry in trainer.state.log_history for k, v in entry.items()}
    assert trainer.state.global_step == 1
    for name in ("regex", "ifeval", "judge", "value_profile"):
        assert f"rewards/{name}/mean" in logs
    assert logs["rewards/judge/mean"] == pytest.approx(6 / 9)
    # One generation batch (2 completions of one prompt) went through every function.
    assert [f.counts["scored"] + f.counts["missing"] for f in funcs] == [args.generation_batch_size] * 4


class ScriptedClassifierAny(ScriptedClassifier):
    """Classifies any text: answers with more vowels read as more caring (enough to vary across samples)."""

    def classify(self, responses, prompts=None):  # noqa: ANN001, ANN201
        return [{**{k: 0 for k in SCHWARTZ.keys}, "benevolence": 1 if sum(c in "aeiou" for c in r) > 2 else -1}
                for r in responses]
