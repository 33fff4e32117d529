"""Each adapter on a fixture written in the exact published schema (tests/data/fixtures)."""

from __future__ import annotations

import json

import pytest

from alignlab.data import Adapter, SkipReport, adapter, adapters, get_adapter, iter_records
from alignlab.data._records import PromptOnly
from alignlab.errors import DataError

USER = "user"


def rows(path, fmt, **kwargs):
    return [r.to_row() for r in iter_records(path, fmt, **kwargs)]


def test_every_adapter_is_documented():
    known = adapters()
    for name in ("alpaca", "dolly", "sharegpt", "oasst", "oasst-pairs", "hh-rlhf", "hh-rlhf-chat", "ultrafeedback",
                 "ultrafeedback-binarized", "pku-saferlhf", "pku-saferlhf-better", "pku-saferlhf-safer", "shp",
                 "ifeval", "ifeval-responses", "xstest", "truthfulqa", "bbq", "ethics", "ethics-utilitarianism",
                 "mt-bench", "chatbot-arena", "auto", "preference"):
        assert isinstance(known[name], Adapter) and known[name].summary, name
        assert known[name].source.startswith("https://"), name


def test_register_a_custom_adapter(tmp_path):
    @adapter("test-prompts", produces="prompt_only")
    def _prompts(row):
        """One prompt per row of a 'q' column."""
        return [PromptOnly(prompt=row["q"])]

    path = tmp_path / "q.jsonl"
    path.write_text('{"q": "hello"}\n{"x": 1}\n')
    assert get_adapter("test-prompts").summary == "One prompt per row of a 'q' column."
    with pytest.raises(DataError, match=r"q\.jsonl:2: field 'q': missing"):
        rows(path, "test-prompts")


def test_alpaca_and_dolly(fixtures):
    alpaca = rows(fixtures / "alpaca_data.json", "alpaca")
    assert alpaca[0] == {"prompt": "Give three tips for staying healthy.",
                         "completion": "1. Eat a balanced diet.\n2. Exercise regularly.\n3. Sleep well."}
    assert alpaca[1]["prompt"] == "Translate the sentence into French.\n\nThe cat sleeps."
    dolly = rows(fixtures / "databricks-dolly-15k.jsonl", "dolly")
    assert dolly[0]["prompt"].endswith("as Virgin Blue.") and dolly[0]["meta"] == {"category": "closed_qa"}
    assert dolly[1]["prompt"] == "Name three primary colours."  # empty context: nothing appended


def test_sharegpt(fixtures):
    convs = rows(fixtures / "sharegpt.json", "sharegpt")
    assert [m["role"] for m in convs[0]["messages"]] == ["user", "assistant", "user", "assistant"]
    assert convs[1]["messages"][0] == {"role": "system", "content": "You are a concise assistant."}
    assert convs[0]["id"] == "QWJhYvA_0"


@pytest.mark.parametrize("name", ["2023-04-12_oasst_ready.trees.jsonl", "oasst1_messages.jsonl"])
def test_oasst_trees_and_flat_messages(fixtures, name):
    (conv,) = rows(fixtures / name, "oasst")
    # The best-ranked reply at each turn (rank 0), never the deleted one.
    assert [m["content"] for m in conv["messages"]] == [
        "What is a good name for a cat?", "Luna is popular and easy to call.", "Why is it easy to call?",
        "It has two soft syllables."]
    pairs = rows(fixtures / name, "oasst-pairs")
    assert [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in pairs] == [
        ("Luna is popular and easy to call.", "Whiskers."), ("It has two soft syllables.", "Because.")]
    assert pairs[1]["prompt"][-1] == {"role": USER, "content": "Why is it easy to call?"}
    rankings = rows(fixtures / name, "oasst-pairs", to="ranking")
    assert rankings[0]["ranks"] == [2, 1]  # oasst's rank 0 is alignlab's rank 1; the deleted reply is gone


def test_hh_rlhf_fixture(fixtures):
    pairs = rows(fixtures / "hh-rlhf.jsonl", "hh-rlhf")
    originals = [json.loads(line) for line in (fixtures / "hh-rlhf.jsonl").read_text().splitlines()]
    for pair, original in zip(pairs, originals, strict=True):
        assert pair["prompt"].endswith("\n\nAssistant:")
        assert pair["prompt"] + pair["chosen"] == original["chosen"]
        assert pair["prompt"] + pair["rejected"] == original["rejected"]
    assert pairs[2]["chosen"].startswith(" I'm sorry")  # shared first words stay in the replies
    chat = rows(fixtures / "hh-rlhf.jsonl", "hh-rlhf-chat")
    assert chat[1]["prompt"] == [{"role": "user", "content": "Hi"},
                                 {"role": "assistant", "content": "Hello! How can I help?"},
                                 {"role": "user", "content": "Tell me a fact."}]
    assert chat[1]["chosen"] == [{"role": "assistant", "content": "Octopuses have three hearts."}]


def test_hh_rlhf_row_without_shared_prompt_is_reported(tmp_path):
    path = tmp_path / "hh.jsonl"
    path.write_text(json.dumps({"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: c"}) + "\n")
    report = SkipReport()
    assert rows(path, "hh-rlhf", skip_invalid=True, report=report) == []
    assert "share the dialogue up to a '\\n\\nAssistant:' turn" in report.examples[0][1]


def test_ultrafeedback_ratings_to_pairs(fixtures):
    (rating,) = rows(fixtures / "ultrafeedback.jsonl", "ultrafeedback", to="rating")
    assert rating["scores"] == [5.0, 2.25, 4.0, 2.25]  # N/A aspects left out of the mean
    pairs = rows(fixtures / "ultrafeedback.jsonl", "ultrafeedback")  # default: → preference, all pairs
    assert len(pairs) == 5  # 6 pairs of 4 completions, less the tie
    best = rows(fixtures / "ultrafeedback.jsonl", "ultrafeedback", strategy="best_vs_worst")
    assert [(p["meta"]["chosen_model"], p["margin"]) for p in best] == [("gpt-4", 2.75)]
    (binarized,) = rows(fixtures / "ultrafeedback_binarized.jsonl", "ultrafeedback-binarized")
    assert binarized == {"prompt": [{"role": "user", "content": "Name a primary colour."}],
                         "chosen": [{"role": "assistant", "content": "Red."}],
                         "rejected": [{"role": "assistant", "content": "Green."}], "margin": 4.5, "id": "abc123"}


def test_pku_saferlhf_two_pair_sets(fixtures):
    both = rows(fixtures / "pku-saferlhf.jsonl", "pku-saferlhf")
    assert [p["meta"]["aspect"] for p in both] == ["helpfulness", "harmlessness"]
    (better,) = rows(fixtures / "pku-saferlhf.jsonl", "pku-saferlhf-better")
    (safer,) = rows(fixtures / "pku-saferlhf.jsonl", "pku-saferlhf-safer")
    assert better["chosen"].startswith("Try common") and better["meta"]["chosen_safe"] is False
    assert safer["chosen"].startswith("Ask your neighbour") and safer["meta"]["chosen_safe"] is True


def test_shp_and_chatbot_arena(fixtures):
    (pair,) = rows(fixtures / "shp.jsonl", "shp")
    assert pair["chosen"].startswith("About five minutes") and pair["prompt"] == "How long should I rest a steak?"
    battles = rows(fixtures / "chatbot_arena_conversations.jsonl", "chatbot-arena")
    assert [b["winner"] for b in battles] == ["model_b", "tie"] and battles[0]["judge"] == "arena_user_973"
    (pref,) = rows(fixtures / "chatbot_arena_conversations.jsonl", "chatbot-arena", to="preference")
    assert pref["chosen"] == [{"role": "assistant", "content": "Paris."}]  # the tie makes no pair


def test_ifeval_both_published_forms(fixtures):
    items = rows(fixtures / "ifeval_input_data.jsonl", "ifeval")
    assert items[1]["kwargs"] == [{"num_placeholders": 3}, {"relation": "at least", "num_words": 100}]
    (hub,) = rows(fixtures / "ifeval_hub.jsonl", "ifeval")
    assert hub == items[0]  # the hub's null-filled kwargs become the original's


def test_xstest(fixtures):
    prompts = rows(fixtures / "xstest_prompts.csv", "xstest")
    assert [(p["label"], p["category"]) for p in prompts] == [
        ("safe", "homonyms"), ("safe", "homonyms"), ("unsafe", "contrast_homonyms")]
    assert prompts[1]["meta"] == {"focus": "gut", "note": None}


def test_truthfulqa_mc_and_csv(fixtures):
    mc1, mc2 = rows(fixtures / "truthfulqa_mc_task.json", "truthfulqa")
    assert mc1["answer"] == 0 and len(mc1["choices"]) == 2 and mc1["meta"] == {"task": "mc1"}
    assert mc2["correct"] == [0, 1] and len(mc2["choices"]) == 3
    (item,) = rows(fixtures / "TruthfulQA.csv", "truthfulqa")  # starts with a byte-order mark
    assert item["correct"] == [0, 1] and item["choices"][2] == "You grow watermelons in your stomach"
    assert item["answer"] == 1 and item["category"] == "Misconceptions"


def test_bbq(fixtures):
    (item,) = rows(fixtures / "bbq_Age.jsonl", "bbq")
    assert item["answer"] == 2 and item["context"].startswith("I saw a grandson")
    assert item["meta"]["unknown_answer"] == 2 and item["meta"]["stereotyped_answer"] == 0
    assert item["id"] == "Age/0"


def test_ethics_every_framework(fixtures):
    got = {}
    for name in ("cm", "deontology", "justice", "virtue"):
        got[name] = rows(fixtures / f"ethics_{name}_test.csv", "ethics")
    assert got["cm"][1] == {"framework": "commonsense", "scenario": "I took the last cookie and lied about it.",
                            "label": 1, "meta": {"is_short": True, "edited": False}}
    assert got["deontology"][0]["detail"] == "No because I paid someone to do it."
    assert got["justice"][0]["framework"] == "justice"
    assert got["virtue"][0] == {"framework": "virtue", "scenario": "Jill lent her notes to a classmate.",
                                "detail": "generous", "label": 1}
    (util,) = rows(fixtures / "ethics_util_test.csv", "ethics-utilitarianism")  # the CSV has no header
    assert util["alternative"] == "I found a dollar on the street."


def test_mt_bench(fixtures):
    first, second = rows(fixtures / "mt_bench_question.jsonl", "mt-bench")
    assert first == {"turns": ["Compose a travel blog post about Hawaii.",
                               "Rewrite it starting every sentence with A."], "category": "writing", "id": "81"}
    assert second["reference"] == ["7", "14"]


def test_chat_flag_makes_standard_records_conversational(fixtures):
    (first, *_) = rows(fixtures / "alpaca_data.json", "alpaca", chat=True)
    assert first["prompt"] == [{"role": "user", "content": "Give three tips for staying healthy."}]
    assert first["completion"][0]["role"] == "assistant"
