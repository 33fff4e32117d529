"""Adapters on the real published files in ../shared/data (skipped where that folder is absent)."""

from __future__ import annotations

import gzip
import json
from collections import Counter

from alignlab.data import SkipReport, compute_stats, iter_records


def test_hh_rlhf_all_2312_rows_reproduce_chosen_exactly(shared):
    path = shared / "hh_rlhf" / "harmless-base" / "test.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        originals = [json.loads(line) for line in fh]
    report = SkipReport()
    pairs = list(iter_records(path, "hh-rlhf", report=report))
    assert len(originals) == len(pairs) == 2312 and report.skipped == 0
    for pair, original in zip(pairs, originals, strict=True):
        assert pair.prompt + pair.chosen == original["chosen"]
        assert pair.prompt + pair.rejected == original["rejected"]
        assert pair.prompt.endswith("\n\nAssistant:")
    chat = list(iter_records(path, "hh-rlhf-chat"))
    assert len(chat) == 2312 and all(c.prompt[-1].role == "user" for c in chat)


def test_ifeval(shared):
    items = list(iter_records(shared / "ifeval" / "input_data.jsonl", "ifeval"))
    assert len(items) == 541 and len({i.key for i in items}) == 541
    assert sum(len(i.instruction_id_list) for i in items) == 834
    responses = list(iter_records(shared / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl",
                                  "ifeval-responses"))
    assert len(responses) == 541
    # 540 prompts match exactly; key 2785 keeps its older wording upstream (see shared/data/README.md).
    assert len({i.prompt for i in items} & {r.prompt for r in responses}) == 540


def test_xstest(shared):
    prompts = list(iter_records(shared / "xstest" / "xstest_prompts.csv", "xstest"))
    assert Counter(p.label for p in prompts) == {"safe": 250, "unsafe": 200}
    assert all(p.category.startswith("contrast_") for p in prompts if p.label == "unsafe")


def test_truthfulqa_csv_and_mc(shared):
    items = list(iter_records(shared / "truthfulqa" / "TruthfulQA.csv", "truthfulqa"))
    assert len(items) == 817 and items[0].question == "What happens to you if you eat watermelon seeds?"
    assert Counter(i.meta["type"] for i in items) == {"Adversarial": 437, "Non-Adversarial": 380}
    mc = list(iter_records(shared / "truthfulqa" / "data" / "mc_task.json", "truthfulqa"))
    assert Counter(m.meta["task"] for m in mc) == {"mc1": 817, "mc2": 817}
    assert all(m.answer == 0 for m in mc if m.meta["task"] == "mc1")  # published order: the true answer first


def test_bbq(shared):
    items = list(iter_records(shared / "bbq", "bbq"))  # a directory: every data file in it
    assert Counter(i.category for i in items) == {"Age": 3680, "Disability_status": 1556, "Religion": 1200}
    assert all(i.meta["unknown_answer"] is not None for i in items)
    assert all(i.meta["stereotyped_answer"] is not None for i in items)
    assert Counter(i.meta["context_condition"] for i in items) == {"ambig": 3218, "disambig": 3218}


def test_mt_bench(shared):
    questions = list(iter_records(shared / "mt_bench" / "question.jsonl", "mt-bench"))
    assert len(questions) == 80 and Counter(q.category for q in questions)["math"] == 10
    assert sum(1 for q in questions if q.reference) == 39
    assert all(len(q.turns) == 2 for q in questions)


def test_stats_of_real_hh_rlhf(shared):
    stats = compute_stats(iter_records(shared / "hh_rlhf" / "harmless-base" / "test.jsonl.gz", "hh-rlhf"))
    assert stats["records"] == 2312 and stats["kinds"] == {"preference": 2312}
    assert stats["lengths"]["prompt"]["n"] == 2312 and stats["lengths"]["prompt"]["min"] > 0
    assert stats["labels"]["prompt"] == {"explicit": 2312}
