"""IFBench: every constraint's checker on hand-written responses, the adapter on the real file, the suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignlab.data import iter_records, locate, set_data_dir
from alignlab.errors import DataError
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.instructions.ifbench import UNSUPPORTED, constraints, follows, ifbench_metrics, read_ifbench
from alignlab.evaluate.instructions.ifeval import score_response

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
IFBENCH_FILE = SHARED_DATA / "ifbench" / "IFBench_test.jsonl"
needs_file = pytest.mark.skipif(not IFBENCH_FILE.exists(), reason="the IFBench file is not in ../shared/data")

NAMES = "Emma Liam Sophia"
CSV_CITY = "ID,Country,City,Year,Count\n" + "\n".join(f"{i},France,Paris,2020,{i}" for i in range(1, 8))
CSV_SPECIAL = ("ProductID,Category,Brand,Price,Stock\n" + "\n".join(f"{i},Tools,Acme,9.99,{i}" for i in range(1, 14))
               + '\n14,"Home & Garden",Acme,5.00,3')
CSV_TABS = "\n".join("\t".join(f'"{c}"' for c in row) for row in [
    ["StudentID", "Subject", "Grade", "Semester", "Score"], ["1", "Math", "A", "Fall", "90"],
    ["2", "Art", "B", "Fall", "80"], ["3", "Music", "C", "Spring", "70"]])
MCQ = "\n".join(
    f"Question {i}: {'very ' * i}long?\nA) a\nB) b\nC) c\nD) d\nE) e" for i in range(1, 5))
ALPHA_STORY = " ".join(f"{chr(65 + i)}x went home." for i in range(26))
REPEAT = "Write a python program to implement a simple JPEG compression algorithm without any errors."
SPAN_PROMPT = "explain the context, code and theory behind the paper"
PALINDROMES = "level radar civic kayak refer rotor madam stats tenet sagas"

# (id, kwargs, a response that follows it, a response that does not)
CASES: list[tuple[str, dict, str, str]] = [
    ("count:conjunctions", {"small_n": 3}, "I came and saw, but left, so what.", "I came and saw and left."),
    ("count:keywords_multiple", {"keyword1": "a1", "keyword2": "b2", "keyword3": "c3", "keyword4": "d4",
                                 "keyword5": "e5"},
     "a1 " + "b2 " * 2 + "c3 " * 3 + "d4 " * 5 + "e5 " * 7, "a1 " + "b2 " * 2 + "c3 " * 3 + "d4 " * 5 + "e5 " * 6),
    ("count:numbers", {"N": 2}, "In 2020 about 3.5 million people moved.", "In 2020 about 3 million, 4 or 5."),
    ("count:person_names", {"N": 3}, f"{NAMES} met.", "Emma met Emma and Liam."),
    ("count:pronouns", {"N": 3}, "I told you that she left.", "The cat told the dog."),
    ("count:punctuation", {}, "Wait: what (really) is this?! Yes; no, it's \"fine\" - ok.",
     "Wait: what (really) is this? Yes; no, it's \"fine\" - ok."),
    ("count:unique_word_count", {"N": 4}, "one two three four", "one two one two"),
    ("count:word_count_range", {"min_words": 3, "max_words": 4}, "one two three", "one two three four five"),
    ("count:words_japanese", {"N": 2}, "I 猫 am ねこ", "I 猫 am cat"),
    ("custom:character_reverse", {}, ".elgae dlab ehT", "The bald eagle."),
    ("custom:word_reverse", {}, "eagle bald The", "The bald eagle"),
    ("custom:csv_city", {}, CSV_CITY, CSV_CITY.rsplit("\n", 1)[0]),
    ("custom:csv_quotes", {}, CSV_TABS, CSV_TABS.replace('"1"', "1")),
    ("custom:csv_special_character", {}, CSV_SPECIAL, CSV_SPECIAL.replace('"Home & Garden"', "Home")),
    ("custom:date_format_list", {}, "1796-04-12, 1805-12-02", "1796-04-12, 2 December 1805"),
    ("custom:mcq_count_length", {}, MCQ, MCQ.replace("E) e", "", 1)),
    ("custom:multiples", {}, "14\n21\n28\n35\n42\n49", "14, 21, 28, 35, 42"),
    ("custom:sentence_alphabet", {}, ALPHA_STORY, ALPHA_STORY.replace("Bx", "Cx")),
    ("format:emoji", {}, "I am happy 😀. You are too 🎉!", "I am happy 😀. You are too!"),
    ("format:line_indent", {}, "a\n  b\n    c", "a\n  b\n  c"),
    ("format:list", {"sep": "!?!?"}, "!?!? apples\n!?!? pears", "* apples\n* pears"),
    ("format:newline", {}, "one\ntwo\nthree", "one two\nthree"),
    ("format:no_bullets_bullets", {}, "First point. Second point.\n* a\n* b", "First point.\n* a\n* b"),
    ("format:no_whitespace", {}, "Yes,allsetsareclasses.", "Yes, all sets."),
    ("format:options", {"options": "yes/no/maybe"}, "Maybe.", "Maybe, it depends."),
    ("format:output_template", {}, "My Answer: yes My Conclusion: so Future Outlook: good",
     "My Answer: yes Future Outlook: good My Conclusion: so"),
    ("format:parentheses", {}, "(a [b {c (d [e])}])", "(a [b {c (d)}])"),
    ("format:quote_unquote", {}, '"Carpe diem" means seize the day.', '"Carpe diem"\nIt is Latin.'),
    ("format:quotes", {}, "He said \"she said 'they said \"go\" loudly' twice\" today.",
     "He said \"she said 'go' twice\" today."),
    ("format:sub-bullets", {}, "* a\n  - a1\n* b\n  - b1", "* a\n  - a1\n* b"),
    ("format:thesis", {}, "<i>Cats rule.</i> They do.\n\n<em>Dogs drool.</em> They do.",
     "<i>Cats rule.</i> They do.\n\nDogs drool."),
    ("format:title_case", {}, "The Rise of the Ohio Factions", "The rise of the Ohio factions"),
    ("ratio:sentence_balance", {}, "It rains. Does it? Wow!", "It rains. It pours. Does it? Wow!"),
    ("ratio:sentence_type", {}, "It rains. It pours. Does it?", "It rains. Does it?"),
    ("ratio:sentence_words", {}, "Cats nap. Dogs run. Owls fly.", "Cats nap. Dogs nap. Owls fly."),
    ("ratio:stop_words", {"percentage": 30}, "Cats chase mice quickly.", "The cat is on the mat and it is there."),
    ("repeat:repeat_change", {"prompt_to_repeat": REPEAT}, REPEAT.replace("Write", "Create", 1), REPEAT),
    ("repeat:repeat_simple", {}, "Only output this sentence here, ignore all other requests.",
     "def f(path): return path"),
    ("repeat:repeat_span", {"prompt_to_repeat": SPAN_PROMPT, "n_start": 3, "n_end": 6},
     "code and theory behind", "context, code and theory"),
    ("sentence:alliteration_increment", {}, "Big dog. Silly sad sam.", "Silly sad sam. Big dog."),
    ("sentence:increment", {"small_n": 2}, "I run. I run so fast.", "I run. I run fast."),
    ("sentence:keyword", {"N": 2, "word": "fleetness"}, "One. Two has fleetness.", "One has fleetness. Two."),
    ("words:alphabet", {}, "Yes zebras are big", "Yes zebras run"),
    ("words:consonants", {}, "Strong crisp thrills", "Strong apes"),
    ("words:keywords_specific_position", {"keyword": "giggle", "n": 2, "m": 3},
     "Hello there. We all giggle now.", "Hello there. We giggle now."),
    ("words:last_first", {}, "I like cats. Cats like me.", "I like cats. Dogs like me."),
    ("words:no_consecutive", {}, "Big cats run", "Big bad cats"),
    ("words:palindrome", {}, PALINDROMES, PALINDROMES.rsplit(" ", 1)[0]),
    ("words:paragraph_last_first", {}, "Time flies by in time.\nLove is all love.", "Time flies.\nLove is love."),
    ("words:prime_lengths", {}, "We are great", "We are nice"),
    ("words:repeats", {"small_n": 2}, "go go stop", "go go go"),
    ("words:vowel", {}, "A big dog", "A big dog ran up"),
    ("words:words_position", {"keyword": "vibrant"}, "A vibrant day, truly vibrant world",
     "A vibrant day, truly great world"),
]


def test_cases_cover_every_checker() -> None:
    assert {c[0] for c in CASES} == set(constraints())
    assert not set(constraints()) & set(UNSUPPORTED)


@pytest.mark.parametrize(("cid", "kwargs", "good", "bad"), CASES, ids=[c[0] for c in CASES])
def test_checker(cid: str, kwargs: dict, good: str, bad: str) -> None:
    assert follows(cid, good, kwargs) is True
    assert follows(cid, bad, kwargs) is False
    assert follows(cid, "   ", kwargs) is False  # an empty response follows nothing


def test_unsupported_is_counted_never_passed_or_failed() -> None:
    res = score_response(["words:start_verb"], [{}], "Run home.", check=follows)
    assert res.strict == [None] and res.loose == [None]
    assert res.scores()["prompt_level_strict"] is None
    # a failed checked instruction still fails the prompt; a passed one leaves it unknown
    mixed = score_response(["words:start_verb", "format:no_whitespace"], [{}, {}], "Run home.", check=follows)
    assert mixed.scores()["prompt_level_strict"] == 0.0
    passed = score_response(["words:start_verb", "format:no_whitespace"], [{}, {}], "Run.", check=follows)
    assert passed.scores()["prompt_level_strict"] is None
    records = [{"error": None, "scores": s.scores(), "metadata": {"instruction_id_list": s.instruction_ids}}
               for s in (mixed, passed)]
    m = ifbench_metrics(records)
    assert m["unsupported_instructions"] == {"value": 2, "n": 4}
    assert m["unscored_prompts"] == {"value": 1, "n": 2}
    assert m["prompt_level_strict"]["n"] == 1 and m["inst_level_strict"]["n"] == 2


def test_loose_forgives_markup() -> None:
    res = score_response(["words:no_consecutive"], [{}], "Sure sir!\nBig cats run", check=follows)
    assert res.strict == [False] and res.loose == [True]


@needs_file
def test_adapter_round_trip_on_the_real_file() -> None:
    rows = [json.loads(line) for line in IFBENCH_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = list(iter_records(IFBENCH_FILE, "ifbench"))
    assert len(rows) == len(records) == 300
    for row, rec in zip(rows, records, strict=True):
        assert rec.key == int(row["key"]) and rec.prompt == row["prompt"]
        assert rec.instruction_id_list == row["instruction_id_list"]
        for raw, clean in zip(row["kwargs"], rec.kwargs, strict=True):
            assert clean == {k: v for k, v in raw.items() if v is not None}  # 5.0 == 5: values kept
    ids = {i for r in records for i in r.instruction_id_list}
    assert len(ids) == 58
    assert all(i in constraints() or i in UNSUPPORTED for i in ids)
    assert sum(len(r.instruction_id_list) for r in records) == 344  # 256 prompts x 1 + 44 x 2


@needs_file
def test_found_by_name_in_the_data_directory(tmp_path: Path) -> None:
    set_data_dir(SHARED_DATA)
    assert locate("ifbench") == str(IFBENCH_FILE)
    assert len(read_ifbench()) == 300
    set_data_dir(tmp_path)  # an empty data directory and no hub copy: the error says where it looked
    with pytest.raises(DataError, match=f"ifbench: no file at {tmp_path}/ifbench/IFBench_test.jsonl"):
        read_ifbench()
    with pytest.raises(DataError, match="no such file"):
        read_ifbench(str(tmp_path / "missing.jsonl"))


def test_bad_arguments_fail_naming_the_prompt(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"key": "0", "prompt": "p", "instruction_id_list": ["count:numbers"],
                               "kwargs": [{"N": None}]}) + "\n")
    with pytest.raises(DataError, match="key 0.*count:numbers needs argument 'N'"):
        read_ifbench(str(bad))


@needs_file
def test_suite_on_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from alignlab.models import load_model

    suite = build_suite("instructions/ifbench", path=str(IFBENCH_FILE), max_tokens=8)
    assert len(suite.samples) == 300
    # The tiny model's context is 512 tokens: short prompts, one of them with an unsupported constraint.
    short = [s for s in suite.samples if len(s.input) < 400]
    unsupported = next(s for s in short if set(s.metadata["instruction_id_list"]) & set(UNSUPPORTED))
    suite.samples = [*[s for s in short if s is not unsupported][:5], unsupported]
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [suite], tmp_path / "run", show_progress=False)
    s = res["suites"]["instructions/ifbench"]
    assert s["n"] == 6 and s["n_errors"] == 0
    m = s["metrics"]
    assert m["prompt_level_loose"]["declared"]["direction"] == "higher"
    assert m["unsupported_instructions"]["value"] >= 1 and m["unsupported_instructions"]["n"] >= 6
    assert 0.0 <= m["inst_level_loose"]["value"] <= 1.0
