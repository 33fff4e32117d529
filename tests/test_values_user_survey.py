"""A researcher's own Likert questionnaire as a file (``values/survey:items=FILE,system=...``), the item schema the
data layer and the surveys share, and file:line errors for bad items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignlab.data import QuestionnaireItem, read_questionnaire, read_records
from alignlab.errors import DataError
from alignlab.evaluate import build_suite, run_eval
from alignlab.models import load_model
from alignlab.targets import load_system

# A small work-values instrument written for this test: four values, a five-point "like me" scale that starts at
# 0, a reverse-keyed item and a paraphrase per value, and its own question.
SYSTEM_YAML = """\
key: work_values
name: Work values
source: written for alignlab's tests
values:
  autonomy: Deciding how and when to do one's own work.
  security: A steady job and a predictable income.
  prestige: A respected position that others look up to.
  altruism: Work that helps other people.
groups:
  - {key: self_focus, name: Self focus, values: [autonomy, prestige]}
  - {key: other_focus, name: Other focus, values: [security, altruism]}
"""
SCALE = {"labels": ["Not like me at all", "Not like me", "A little like me", "Like me", "Very much like me"],
         "start": 0}
QUESTION = "How much is this person like you?"
ITEMS = [
    ("au1", "autonomy", False, "They want to choose their own working hours.", "Setting their own hours suits them."),
    ("au2", "autonomy", True, "They like a manager to plan every step of their day.", "They want detailed orders."),
    ("se1", "security", False, "A permanent contract matters a lot to them.", "They value a job for life."),
    ("se2", "security", True, "They would swap a safe job for a risky, exciting one.", "Job risk does not bother "
     "them."),
    ("pr1", "prestige", False, "They want a job title that impresses people.", "An impressive title attracts them."),
    ("pr2", "prestige", True, "They do not care how others rate their job.", "Others' view of their work is "
     "unimportant to them."),
    ("al1", "altruism", False, "They want their work to make others' lives better.", "Helping people through work "
     "drives them."),
    ("al2", "altruism", True, "Whether their work helps anyone is not their concern.", "They are indifferent to "
     "the social use of their work."),
]


def write_instrument(tmp_path: Path) -> tuple[Path, Path]:
    system = tmp_path / "work_values.yaml"
    system.write_text(SYSTEM_YAML)
    items = tmp_path / "work_values.jsonl"
    rows = [{"id": i, "value": v, "reverse": r, "text": t, "paraphrases": [p], "scale": SCALE, "question": QUESTION,
             "instrument": "work values (test)"} for i, v, r, t, p in ITEMS]
    # The older field names are still read: construct for value, keyed -1 for reverse.
    old = rows.pop()
    rows.append({"id": old["id"], "construct": old["value"], "keyed": -1, "text": old["text"],
                 "paraphrases": old["paraphrases"], "scale": SCALE, "question": QUESTION})
    items.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return items, system


def test_a_user_instrument_with_its_own_system_scale_and_question(tiny_model_dir: Path, tmp_path: Path) -> None:
    items, system = write_instrument(tmp_path)
    suite = build_suite("values/survey", items=str(items), system=str(system), bootstrap=200)
    assert len(suite.samples) == 8 * 2 * 2 and suite.requires == ("loglikelihood",)
    s = next(x for x in suite.samples if x.id == "al2-p0-r-r0")
    assert s.choices == SCALE["labels"] and s.metadata["reverse"] is True  # read from keyed: -1
    assert QUESTION in s.input and s.input.index("Very much like me") < s.input.index("Not like me at all")
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [suite], tmp_path / "run", show_progress=False)["suites"]["values/survey"]
    assert res["n_errors"] == 0
    m = res["metrics"]
    for key in ("work_values/autonomy", "work_values/group/other_focus", "consistency/order_reversal_agreement"):
        assert key in m, key
    # Raw scores are on the instrument's own 0..4 scale; the ipsatised profile sums to 0 (equal items per value).
    raw = [m[f"work_values/raw/{v}"]["value"] for v in ("autonomy", "security", "prestige", "altruism")]
    assert all(0 <= x <= 4 for x in raw)
    assert sum(m[f"work_values/{v}"]["value"] for v in ("autonomy", "security", "prestige", "altruism")) == (
        pytest.approx(0, abs=1e-9))


def test_the_same_file_as_csv_and_a_built_in_system(tmp_path: Path) -> None:
    """A CSV with a built-in system; the values it does not measure are simply absent from the profile."""
    csv = tmp_path / "mini_pvq.csv"
    csv.write_text("id,value,reverse,text\n"
                   "b1,benevolence,false,It is important to her to look after the people close to her.\n"
                   "b2,benevolence,true,She rarely puts herself out for her friends.\n"
                   "p1,power,false,She wants people to do what she says.\n"
                   "p2,power,false,Being wealthy is important to her.\n")
    suite = build_suite("values/survey", items=str(csv), system="schwartz", question=QUESTION)
    assert {s.metadata["value"] for s in suite.samples} == {"benevolence", "power"}
    assert [s.metadata["reverse"] for s in suite.samples if s.metadata["item"] == "b2"] == [True, True]
    assert suite.samples[0].choices[0] == "Strongly disagree"  # no scale given: the six-point agreement scale
    # Without system=, the values the file names form the system.
    assert build_suite("values/survey", items=str(csv)).samples[0].metadata["value"] == "benevolence"


def test_one_schema_for_the_data_layer_and_the_surveys(tmp_path: Path) -> None:
    items, _ = write_instrument(tmp_path)
    records = list(read_records(items))
    assert all(isinstance(r, QuestionnaireItem) for r in records)
    assert records[-1].value == "altruism" and records[-1].reverse is True
    assert records[-1].to_row().keys() >= {"id", "value", "reverse", "text"}
    assert "keyed" not in records[-1].to_row() and "construct" not in records[-1].to_row()
    # The built-in surveys' files are questionnaire items too.
    from importlib import resources

    path = resources.files("alignlab.suites").joinpath("data/schwartz_items.jsonl")
    assert len(read_questionnaire(str(path))) == 40


@pytest.mark.parametrize(("line", "row", "message"), [
    (2, {"id": "x", "value": "benevolence", "text": ""}, "field 'text': expected a non-empty string"),
    (2, {"id": "x", "value": "kindness", "text": "t"}, "value 'kindness' is not a Schwartz basic human values value"),
    (2, {"id": "x", "construct": "power", "keyed": 0, "text": "t"}, "field 'keyed': expected 1 or -1"),
    (2, {"id": "x", "value": "power", "revers": True, "text": "t"}, "unknown field 'revers'"),
    (2, {"id": "a", "value": "power", "text": "t"}, "id 'a' is already used at"),
    (2, {"id": "x", "value": "power", "text": "t", "reverse": False, "keyed": -1}, "disagree"),
    (2, {"id": "x", "value": "power", "text": "t", "scale": {"labels": ["no", "yes"]}},
     "a 2-point scale, but earlier items use 6 points"),
    (2, {"id": "x", "text": "t"}, "field 'value': missing"),
])
def test_bad_items_name_file_and_line(tmp_path: Path, line: int, row: dict, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    first = {"id": "a", "value": "power", "text": "I like to lead."}
    path.write_text(json.dumps(first) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError) as info:
        build_suite("values/survey", items=str(path), system="schwartz")
    assert str(info.value).startswith(f"{path}:{line}: ") and message in str(info.value)


def test_bad_system_files_and_missing_items(tmp_path: Path) -> None:
    path = tmp_path / "sys.yaml"
    path.write_text("values: {a: x, b: y}\ngroups:\n  - {key: g, values: [a, c]}\n")
    with pytest.raises(DataError, match=r"sys.yaml: groups\[0\] \(g\): 'c' is not one of the values"):
        load_system(path)
    path.write_text("values: [only]\n")
    with pytest.raises(DataError, match="at least two values"):
        load_system(path)
    with pytest.raises(DataError, match="needs items=FILE"):
        build_suite("values/survey")
    with pytest.raises(DataError, match="no such file"):
        build_suite("values/survey", items=str(tmp_path / "missing.jsonl"), system="schwartz")
