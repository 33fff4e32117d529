"""YAML task suites: spec validation (errors name file and key), data, few-shot, extraction, scoring, built-ins."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import pytest

from alignlab.errors import AlignlabError, DataError
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.tasks import BUILTIN_TASKS, Extraction, builtin_task_path, extract, suite_from_yaml
from alignlab.models import load_model

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "src" / "alignlab" / "suites" / "data"

MC_ROWS = [
    {"id": "q1", "split": "test", "question": "Sky colour?", "choices": ["blue", "green"], "answer": 0},
    {"id": "q2", "split": "test", "question": "Grass colour?", "choices": ["blue", "green"], "answer": "B"},
    {"id": "q3", "split": "test", "question": "Snow colour?", "choices": ["white", "black"], "answer": "white"},
    {"id": "d1", "split": "dev", "question": "Coal colour?", "choices": ["white", "black"], "answer": 1},
]


def _write(tmp_path: Path, yaml_text: str, rows: list[dict] | None = None, name: str = "data.jsonl") -> Path:
    if rows is not None:
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = tmp_path / "task.yaml"
    path.write_text(yaml_text)
    return path


MC_YAML = """
name: instructions/colours
data: data.jsonl
type: multiple_choice
template: "Q: {question}\\nA:"
choices_field: choices
split: test
fewshot: {n: 1, split: dev, seed: 3}
chat: false
"""


def test_multiple_choice_task_runs_and_scores(tiny_model_dir: Path, tmp_path: Path) -> None:
    suite = suite_from_yaml(_write(tmp_path, MC_YAML, MC_ROWS))
    assert [s.id for s in suite.samples] == ["q1", "q2", "q3"] and suite.requires == ("loglikelihood",)
    assert [s.target for s in suite.samples] == [0, 1, 0]  # index, letter and text all mean an option
    assert suite.samples[0].input == "Q: Coal colour?\nA: black\n\nQ: Sky colour?\nA:"
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [suite], tmp_path / "run", show_progress=False)
    m = res["suites"]["instructions/colours"]["metrics"]
    assert m["accuracy"]["n"] == 3 and m["accuracy_norm"]["n"] == 3
    rows = [json.loads(x) for x in (tmp_path / "run/samples/instructions/colours.jsonl").read_text().splitlines()]
    assert all(len(r["logprobs"]) == 2 and r["scores"]["accuracy"] == float(r["answer"] == r["target"])
               for r in rows)
    assert all(r["scores"]["accuracy_norm"] == float(r["extra"]["answer_norm"] == r["target"]) for r in rows)


def test_generate_task_with_fewshot_file_csv_and_extraction(tiny_model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "shots.jsonl").write_text(json.dumps({"id": "s1", "q": "1+1", "a": 2}) + "\n")
    (tmp_path / "data.csv").write_text("id,q,a,kind\nx1,2+2,4,add\nx2,3*3,9,mul\n")
    path = _write(tmp_path, """
name: instructions/sums
data: data.csv
type: generate
instruction: "Answer with a number.\\n"
template: "{q} ="
target_field: a
answer_template: " {a}"
fewshot: {n: 1, file: shots.jsonl}
extraction: {type: number}
max_tokens: 4
metadata_fields: [kind]
group_by: kind
""")
    suite = suite_from_yaml(path)
    assert suite.samples[0].input == "Answer with a number.\n1+1 = 2\n\n2+2 ="
    assert suite.samples[0].metadata == {"kind": "add", "fewshot_ids": ["s1"]}
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [suite], tmp_path / "run", show_progress=False)
    m = res["suites"]["instructions/sums"]["metrics"]
    assert {"accuracy", "extraction_rate", "accuracy/add", "accuracy/mul"} <= set(m)
    assert m["accuracy"]["n"] == 2


@pytest.mark.parametrize(("text", "rule", "expected"), [
    ("So 3 + 4 = 7. The answer is 7.", {"type": "number"}, 7.0),
    ("The answer is 1,250 dollars, not 12.", {"type": "number", "pattern": r"answer is\s*(-?[\d,]+)"}, 1250.0),
    ("The answer is 12. Check: 12 - 3 = 9", {"type": "number", "pattern": r"answer is\s*(-?[\d,]+)"}, 12.0),
    ("first 3 then 5", {"type": "number", "which": "first"}, 3.0),
    ("it is -4", {"type": "number"}, -4.0),
    ("no digits", {"type": "number"}, None),
    ("Answer: (B) because", {"type": "regex", "pattern": r"\(([A-D])\)"}, "B"),
    ("nothing", {"type": "regex", "pattern": r"\(([A-D])\)"}, None),
])
def test_extraction(text: str, rule: dict, expected: object) -> None:
    assert extract(text, Extraction(**rule)) == expected


def test_exact_match_normalises_both_sides(tmp_path: Path) -> None:
    from alignlab.evaluate import Output

    rows = [{"id": "1", "q": "Capital of France?", "a": "Paris"}]
    path = _write(tmp_path, """
name: instructions/exact
data: data.jsonl
type: generate
template: "{q}"
target_field: a
extraction: {type: exact}
normalise: [strip, lower, strip_punctuation, remove_articles]
""", rows)
    suite = suite_from_yaml(path)
    sample = suite.samples[0]
    for text, ok in [(" The Paris. ", 1.0), ("paris!", 1.0), ("Paris, France", 0.0)]:
        out = Output(text=text, answer=extract(text, Extraction(type="exact"), ["strip", "lower",
                                                                              "strip_punctuation", "remove_articles"]))
        assert suite.scorer(sample, out)["accuracy"] == ok


@pytest.mark.parametrize(("yaml_text", "message"), [
    (MC_YAML + "temprature: 0.5\n", r"task.yaml: temprature: Extra inputs are not permitted"),
    (MC_YAML.replace("choices_field: choices\n", ""),
     r"task.yaml: \(top level\): multiple_choice tasks need choices_field"),
    (MC_YAML.replace("type: multiple_choice", "type: essay"), r"task.yaml: type: "),
    (MC_YAML.replace("{n: 1, split: dev, seed: 3}", "{n: 2}"), r"task.yaml: fewshot: .*fewshot.split or fewshot.file"),
    (MC_YAML + "extraction: {type: regex, pattern: '(['}\n", r"task.yaml: extraction: .*bad regex"),
    (MC_YAML + "fewshot: {n: -1}\n", r"task.yaml: fewshot.n: "),
    ("- a list\n", r"task.yaml: a task file must be a YAML mapping"),
])
def test_spec_errors_name_file_and_key(tmp_path: Path, yaml_text: str, message: str) -> None:
    with pytest.raises(AlignlabError, match=message):
        suite_from_yaml(_write(tmp_path, yaml_text, MC_ROWS))


def test_data_errors_name_file_line_and_field(tmp_path: Path) -> None:
    bad = [*MC_ROWS[:1], {"id": "q9", "split": "test", "question": "?", "choices": ["a", "b"], "answer": "Z"}]
    with pytest.raises(DataError, match=r"data.jsonl:2: field 'answer' = 'Z' names none of the 2 choices"):
        suite_from_yaml(_write(tmp_path, MC_YAML.replace("fewshot: {n: 1, split: dev, seed: 3}", ""), bad))
    with pytest.raises(DataError, match=r"data.jsonl:1: the task's template uses field 'prompt'"):
        suite_from_yaml(_write(tmp_path, MC_YAML.replace("{question}", "{prompt}"), MC_ROWS))
    dup = [MC_ROWS[0], MC_ROWS[0], MC_ROWS[3]]
    with pytest.raises(DataError, match=r"data.jsonl:2: duplicate id 'q1'"):
        suite_from_yaml(_write(tmp_path, MC_YAML, dup))
    with pytest.raises(DataError, match="fewshot.n is 5 but the few-shot source has 1 rows"):
        suite_from_yaml(_write(tmp_path, MC_YAML, MC_ROWS), **{"fewshot.n": 5})


def test_overrides_and_unknown_override(tmp_path: Path) -> None:
    path = _write(tmp_path, MC_YAML, MC_ROWS)
    suite = suite_from_yaml(path, **{"fewshot.n": 0})
    assert suite.samples[0].input == "Q: Sky colour?\nA:" and suite.params == {"fewshot.n": 0}
    with pytest.raises(AlignlabError, match=r"max_tokns: Extra inputs are not permitted \(set by a suite argument"):
        suite_from_yaml(path, max_tokns=3)


def test_builtin_suites_are_registered_and_big_enough() -> None:
    import alignlab.evaluate.tasks  # noqa: F401 - registers the built-in task suites

    sizes = {}
    for short in BUILTIN_TASKS:
        suite = build_suite(f"instructions/{short}")
        assert suite.name == f"instructions/{short}" and suite.level == "instructions"
        assert (DATA / f"{short}.md").exists(), "every built-in suite has a datasheet"
        sizes[short] = len(suite.samples)
        assert len({s.id for s in suite.samples}) == len(suite.samples)
        if suite.samples[0].choices is not None:
            for s in suite.samples:
                assert len(s.choices) == 4 and len(set(s.choices)) == 4 and 0 <= s.target < 4
    assert all(n >= 100 for n in sizes.values()), sizes
    assert build_suite("instructions/knowledge", **{"fewshot.n": 0}).samples[0].input.startswith("Question:")


def _evaluate(expression: str) -> int:
    """Recompute an arithmetic item's answer independently of the generator (integers, + - * // % only);
    a floor division must come out even, or the word problem (sharing, a percentage) would have no whole answer."""
    ops = {ast.Add: int.__add__, ast.Sub: int.__sub__, ast.Mult: int.__mul__, ast.FloorDiv: int.__floordiv__,
           ast.Mod: int.__mod__}

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            left, right = ev(node.left), ev(node.right)
            assert not isinstance(node.op, ast.FloorDiv) or left % right == 0, expression
            return ops[type(node.op)](left, right)
        raise ValueError(ast.dump(node))

    return ev(ast.parse(expression, mode="eval").body)


def test_arithmetic_answers_are_computed_and_the_file_is_reproducible() -> None:
    rows = [json.loads(line) for line in (DATA / "arithmetic.jsonl").read_text().splitlines()]
    for r in rows:
        assert r["answer"] == _evaluate(r["expression"]) >= 0, r["id"]
    spec = importlib.util.spec_from_file_location("make_arithmetic", REPO / "bench" / "make_arithmetic.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.render(mod.build()) == (DATA / "arithmetic.jsonl").read_text()


def test_builtin_mc_items_are_balanced_and_unique() -> None:
    for short in ("knowledge", "reading"):
        rows = [json.loads(line) for line in (DATA / f"{short}.jsonl").read_text().splitlines()]
        test = [r for r in rows if r["split"] == "test"]
        counts = [sum(r["answer"] == k for r in test) for k in range(4)]
        assert max(counts) - min(counts) <= 1, (short, counts)  # no position bias to exploit
        keys = [(r.get("passage_id"), r["question"]) for r in rows]
        assert len(set(keys)) == len(keys)
    assert builtin_task_path("knowledge").name == "knowledge.yaml"
