"""Reading and writing: every file type, line numbers in errors, --skip-invalid reports, atomic writes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from alignlab.data import (
    Preference,
    SkipReport,
    convert,
    iter_records,
    open_source,
    parse_hub,
    read_records,
    write_records,
)
from alignlab.errors import DataError

ROWS = [{"prompt": f"q{i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(3)]


def rows_of(path, fmt="auto"):
    return [r.to_row() for r in iter_records(path, fmt)]


def test_broken_json_on_line_7_stops_naming_line_7(bad_preferences):
    with pytest.raises(DataError) as info:
        list(read_records(bad_preferences, "preference"))
    message = str(info.value)
    assert message.startswith(f"{bad_preferences}:7: invalid JSON")
    assert "--skip-invalid" in message


@pytest.mark.parametrize("fmt", ["preference", "auto"])
def test_skip_invalid_reports_lines_7_and_9(bad_preferences, fmt):
    report = SkipReport()
    records = list(iter_records(bad_preferences, fmt, skip_invalid=True, report=report))
    assert len(records) == 8 and report.rows == 10 and report.skipped == 2
    assert [where for where, _ in report.examples] == [f"{bad_preferences}:7", f"{bad_preferences}:9"]
    assert "field 'rejected': missing (expected a string or a list of messages)" in report.examples[1][1]
    assert report.reasons == {"invalid JSON": 1, "field 'rejected': missing": 1}
    assert "skipped 2" in report.summary()


def test_missing_field_alone_names_line_field_and_expectation(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n\n" + json.dumps({"prompt": "q", "chosen": "a"}) + "\n")
    with pytest.raises(DataError, match=r"p\.jsonl:3: field 'rejected': missing \(expected a string or a list"):
        list(read_records(path, "preference"))


def test_jsonl_gzip_and_bom(tmp_path):
    plain = tmp_path / "p.jsonl"
    plain.write_text("\ufeff" + "\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    packed = tmp_path / "p.jsonl.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(json.dumps(r) for r in ROWS))
    assert rows_of(plain) == ROWS == rows_of(packed) == rows_of(plain, "preference")


def test_json_array_reports_item_lines(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[\n  {"prompt": "q", "chosen": "a", "rejected": "b"},\n  {"prompt": "q",\n   "chosen": "a"}\n]')
    with pytest.raises(DataError, match=r"a\.json:3: field 'rejected': missing"):
        list(read_records(path, "preference"))
    (tmp_path / "wrapped.json").write_text(json.dumps({"data": ROWS}, indent=2))
    assert rows_of(tmp_path / "wrapped.json") == ROWS
    (tmp_path / "lines.json").write_text("\n".join(json.dumps(r) for r in ROWS))  # JSON lines named .json
    assert rows_of(tmp_path / "lines.json") == ROWS


def test_csv_multiline_cells_empty_cells_and_json_cells(tmp_path):
    def msg(role: str) -> str:
        return '"[{""role"": ""' + role + '"", ""content"": ""x""}]"'

    path = tmp_path / "p.csv"
    path.write_text(
        'prompt,chosen,rejected,margin\n"two\nlines",a,b,\n'
        f"{msg('user')},{msg('assistant')},{msg('assistant')},1.5\n"
        "q,only,\n"
    )
    report = SkipReport()
    records = list(iter_records(path, "preference", skip_invalid=True, report=report))
    assert records[0].prompt == "two\nlines" and records[0].margin is None  # an empty cell is a missing value
    assert records[1].chosen[0].role == "assistant" and records[1].margin == 1.5  # JSON cells decoded
    # The quoted cell spans lines 2-3, so the row after it starts on line 4 and the short one on line 5.
    assert report.examples == [(f"{path}:5", "expected 4 columns, got 3")]


def test_write_and_read_back_every_format(tmp_path):
    records = [Preference(**r) for r in ROWS] + [Preference(prompt="p", chosen="x", rejected="y", margin=2.0)]
    for name in ("o.jsonl", "o.jsonl.gz", "o.json", "o.csv", "o.csv.gz", "o.parquet"):
        assert write_records(records, tmp_path / name) == 4
        back = [r.to_row() for r in read_records(tmp_path / name, "preference")]
        assert back == [r.to_row() for r in records], name
    assert not list(tmp_path.glob(".*tmp"))  # no temporary files left behind


def test_conversational_records_round_trip_through_csv_and_parquet(tmp_path):
    rec = Preference.model_validate({"prompt": [{"role": "user", "content": "hi"}],
                                     "chosen": [{"role": "assistant", "content": "hello"}],
                                     "rejected": [{"role": "assistant", "content": "go away"}]})
    for name in ("c.csv", "c.parquet", "c.jsonl"):
        write_records([rec], tmp_path / name)
        assert next(read_records(tmp_path / name)).to_row() == rec.to_row(), name


def test_failed_write_leaves_previous_file(tmp_path, bad_preferences):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    with pytest.raises(DataError):
        convert(bad_preferences, out, "preference")
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unknown_types_and_missing_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        open_source(tmp_path / "nope.jsonl")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataError, match="unknown file type"):
        open_source(tmp_path / "x.txt")
    with pytest.raises(DataError, match="cannot write"):
        write_records([], tmp_path / "x.txt")
    with pytest.raises(DataError, match="unknown format"):
        list(iter_records(tmp_path / "x.txt", "no-such-format"))
    (tmp_path / "odd.jsonl").write_text('{"foo": 1}\n')
    with pytest.raises(DataError, match="cannot tell the record kind"):
        list(read_records(tmp_path / "odd.jsonl"))


def test_directory_of_files_and_saved_dataset(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_records([Preference(**ROWS[0])], data / "a.jsonl")
    write_records([Preference(**ROWS[1])], data / "b.parquet")
    assert rows_of(data) == ROWS[:2]

    import datasets

    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS), "test": datasets.Dataset.from_list(ROWS[:1])}
                         ).save_to_disk(str(saved))
    assert rows_of(saved) == ROWS
    assert rows_of(f"{saved}@test") == ROWS[:1]


def test_hub_spec_goes_through_load_dataset(monkeypatch):
    import datasets

    calls = []

    def fake_load_dataset(name, config=None, split=None, streaming=False, revision=None):
        calls.append((name, config, split, streaming, revision))
        return iter(ROWS)

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    assert parse_hub("hf://Anthropic/hh-rlhf") == ("Anthropic/hh-rlhf", None, "train")
    assert parse_hub("hf://truthfulqa/truthful_qa:multiple_choice@validation") == (
        "truthfulqa/truthful_qa", "multiple_choice", "validation")
    assert rows_of("hf://org/prefs:default@test", "preference") == ROWS
    assert calls == [("org/prefs", "default", "test", True, None)]


def test_hub_failure_is_a_data_error(monkeypatch):
    import datasets

    def boom(*args, **kwargs):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", boom)
    with pytest.raises(DataError, match="hf://org/x@train could not be read: offline"):
        list(read_records("hf://org/x"))


def test_reading_streams(tmp_path):
    # A generator: the first record arrives before the file is read to the end (nothing is loaded whole).
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(json.dumps(ROWS[0]) for _ in range(1000)) + "\n{broken\n")
    records = read_records(path, "preference")
    assert next(records).prompt == "q0"
    with pytest.raises(DataError, match=":1001:"):
        list(records)


def test_source_part_numbers(tmp_path):
    path = tmp_path / "p.parquet"
    write_records([Preference(**r) for r in ROWS], path)
    (part,) = open_source(path)
    assert part.unit == "row" and part.where(2) == f"{path}:row 2"
    assert isinstance(Path(part.name), Path)
