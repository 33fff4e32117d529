"""Opinion-survey loaders: GlobalOpinionQA's published CSV schema, alignlab's own format, the built-in data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from alignlab.data import iter_records, parse_hub
from alignlab.data._pipeline import SkipReport
from alignlab.data._validate import RowError
from alignlab.data.adapters.opinions import OpinionItem, parse_selections
from alignlab.errors import DataError
from alignlab.evaluate.values.cultural import HOFSTEDE
from alignlab.evaluate.values.opinions import SYNTHETIC_FILE, builtin_items, load_items

FIXTURE = Path(__file__).parent / "fixtures_opinions" / "global_opinions.csv"
DATA = Path(__file__).parent.parent / "src" / "alignlab" / "suites" / "data"


def test_fixture_is_in_the_published_schema() -> None:
    with FIXTURE.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["question", "selections", "options", "source"]
    assert all(r["selections"].startswith("defaultdict(<class 'list'>, {") for r in rows)
    assert all(r["options"].startswith("['") for r in rows)


def test_globalopinionqa_loader_reads_the_fixture() -> None:
    items = list(iter_records(FIXTURE, "globalopinionqa"))
    assert [type(i) for i in items] == [OpinionItem] * 3
    first, _, third = items
    assert first.options == ["Should be allowed", "Should not be allowed", "DK/Refused"]
    assert first.selections == {"Brazil": [0.3, 0.6, 0.1], "Germany": [0.5, 0.4, 0.1], "Japan": [0.2, 0.5, 0.3]}
    assert first.source == "GAS" and items[1].source == "WVS"
    assert third.question.endswith("(e.g., prices, jobs)")  # commas inside a quoted cell survive
    assert third.options == ["Good", "Bad"]


def test_selections_are_parsed_as_literals_never_evaluated() -> None:
    assert parse_selections("defaultdict(<class 'list'>, {'A B': [1, 0.5]})") == {"A B": [1.0, 0.5]}
    assert parse_selections("{'X': [0.2, 0.8]}") == {"X": [0.2, 0.8]}  # a plain dict literal is accepted too
    with pytest.raises(RowError):
        parse_selections("defaultdict(<class 'list'>, __import__('os').system('echo pwned'))")
    with pytest.raises(RowError):
        parse_selections("[1, 2]")


def test_misaligned_row_fails_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["question", "selections", "options", "source"])
        w.writerow(["Q1?", "defaultdict(<class 'list'>, {'A': [0.5, 0.5]})", "['x', 'y']", "GAS"])
        w.writerow(["Q2?", "defaultdict(<class 'list'>, {'A': [0.5, 0.3, 0.2]})", "['x', 'y']", "GAS"])
    with pytest.raises(DataError, match=r"bad\.csv:3"):
        list(iter_records(bad, "globalopinionqa"))
    report = SkipReport()
    assert len(list(iter_records(bad, "globalopinionqa", skip_invalid=True, report=report))) == 1
    assert report.skipped == 1
    items, rep = load_items(str(bad), "globalopinionqa")
    assert [i.id for i in items] == ["q00000"] and rep.skipped == 1


def test_hf_path_goes_through_the_data_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    with FIXTURE.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    seen = []

    def fake_hub(spec: str) -> list[dict]:
        seen.append(parse_hub(spec))
        return rows

    monkeypatch.setattr("alignlab.data._io._load_hub", fake_hub)
    items, _ = load_items("hf://Anthropic/llm_global_opinions", "globalopinionqa")
    assert seen == [("Anthropic/llm_global_opinions", None, "train")]
    assert len(items) == 3 and items[0].selections["Japan"] == [0.2, 0.5, 0.3]


def test_own_format_jsonl_and_csv(tmp_path: Path) -> None:
    row = {"id": "x1", "question": "Q?", "options": ["no", "yes"], "selections": {"P": [0.4, 0.6]},
           "dimension": "idv", "reverse": True}
    (tmp_path / "a.jsonl").write_text(json.dumps(row) + "\n")
    with (tmp_path / "a.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "question", "options", "selections", "dimension", "reverse"])
        w.writerow(["x1", "Q?", json.dumps(["no", "yes"]), json.dumps({"P": [0.4, 0.6]}), "idv", "true"])
    for name in ("a.jsonl", "a.csv"):
        (item,) = iter_records(tmp_path / name, "opinions")
        assert item.model_dump() == OpinionItem(**row).model_dump(), name


def test_builtin_items_and_synthetic_table() -> None:
    items = builtin_items()
    assert len(items) >= 40 and len({i.id for i in items}) == len(items)
    tagged = [i for i in items if i.dimension]
    assert len(tagged) >= 40 and {i.dimension for i in tagged} == set(HOFSTEDE)
    doc = yaml.safe_load((DATA / SYNTHETIC_FILE).read_text())
    assert doc["synthetic"] is True and "SYNTHETIC" in (DATA / SYNTHETIC_FILE).read_text().splitlines()[0]
    for it in items:
        assert set(it.selections) == set(doc["populations"]), it.id
        for shares in it.selections.values():
            assert abs(sum(shares) - 1) < 1e-6 and min(shares) >= 0
    assert "SYNTHETIC" in (DATA / "opinions.md").read_text()
