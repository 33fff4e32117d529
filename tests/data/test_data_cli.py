"""`alignlab data ...` through typer's CliRunner."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from alignlab.cli.data import data_app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(data_app, [str(a) for a in args])


def test_convert_hh_rlhf_real_file(shared, tmp_path):
    src = shared / "hh_rlhf" / "harmless-base" / "test.jsonl.gz"
    out = tmp_path / "OUT.jsonl"
    result = invoke("convert", "--from", "hh-rlhf", src, out)
    assert result.exit_code == 0, result.output
    assert "converted 2312 of 2312 rows → 2312 preference records" in result.output
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        originals = [json.loads(line) for line in fh]
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(written) == 2312
    for row, original in zip(written, originals, strict=True):
        assert set(row) == {"prompt", "chosen", "rejected"}
        assert row["prompt"] + row["chosen"] == original["chosen"]


def test_bad_file_stops_at_line_7(bad_preferences, tmp_path):
    result = invoke("convert", "--from", "preference", bad_preferences, tmp_path / "o.jsonl")
    assert result.exit_code == 2
    assert f"error: {bad_preferences}:7: invalid JSON" in result.output
    assert ":9:" not in result.output
    assert not (tmp_path / "o.jsonl").exists()
    result = invoke("validate", bad_preferences, "--as", "preference")
    assert result.exit_code == 2 and f"{bad_preferences}:7:" in result.output


def test_skip_invalid_reports_lines_7_and_9(bad_preferences, tmp_path):
    report = tmp_path / "report.json"
    result = invoke("convert", bad_preferences, tmp_path / "o.jsonl", "--skip-invalid", "--report", report)
    assert result.exit_code == 0, result.output
    assert "converted 8 of 10 rows → 8 preference records" in result.output
    assert "skipped 2 of 10 rows" in result.output
    assert f"{bad_preferences}:7: invalid JSON" in result.output
    assert f"{bad_preferences}:9: field 'rejected': missing (expected a string or a list of messages)" in result.output
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 8
    saved = json.loads(report.read_text())
    assert [where for where, _ in saved["examples"]] == [f"{bad_preferences}:7", f"{bad_preferences}:9"]
    result = invoke("validate", bad_preferences, "--skip-invalid")
    assert result.exit_code == 1  # validation found bad rows
    assert "8 of 10 rows valid" in result.output and ":9: field 'rejected'" in result.output


def test_validate_good_file_and_ignored_columns(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"prompt": "q", "chosen": "a", "rejected": "b", "score": 3}) + "\n")
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    assert "1 of 1 rows valid (1 preference records)" in result.output
    assert "ignored columns (no preference field): score" in result.output


def test_convert_to_and_pairs_options(fixtures, tmp_path):
    out = tmp_path / "uf.jsonl"
    result = invoke("convert", "-f", "ultrafeedback", fixtures / "ultrafeedback.jsonl", out, "--pairs", "best_vs_worst")
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 1
    result = invoke("convert", "-f", "ultrafeedback", fixtures / "ultrafeedback.jsonl", out, "--pairs", "nope")
    assert result.exit_code == 2 and "unknown --pairs" in result.output
    result = invoke("convert", "-f", "xstest", fixtures / "xstest_prompts.csv", out, "--to", "preference")
    assert result.exit_code == 2 and "cannot convert safety_prompt records to preference" in result.output
    result = invoke("convert", "-f", "no-such", fixtures / "xstest_prompts.csv", out)
    assert result.exit_code == 2 and "unknown format 'no-such'" in result.output


def test_stats(fixtures):
    result = invoke("stats", fixtures / "xstest_prompts.csv", "--from", "xstest", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["records"] == 3 and stats["labels"]["label"] == {"safe": 2, "unsafe": 1}
    assert stats["lengths"]["prompt"]["n"] == 3
    table = invoke("stats", fixtures / "hh-rlhf.jsonl", "--from", "hh-rlhf")
    assert table.exit_code == 0 and "length (characters)" in table.output and "duplicate prompts" in table.output


def test_stats_counts_duplicates(tmp_path):
    path = tmp_path / "d.jsonl"
    row = json.dumps({"prompt": "q", "chosen": "a", "rejected": "b"})
    path.write_text("\n".join([row, row, json.dumps({"prompt": "q", "chosen": "c", "rejected": "d"})]) + "\n")
    stats = json.loads(invoke("stats", path, "--json").output)
    assert stats["duplicates"] == {"records": 1, "prompts": 2}


@pytest.mark.parametrize("level", [None, "instructions", "preferences", "values"])
def test_catalog(level):
    args = ["catalog", "--json"] + (["--level", level] if level else [])
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    if level is None:
        names = {e["name"] for e in entries}
        assert {"hh-rlhf", "ultrafeedback", "pku-saferlhf", "shp", "ifeval", "mt-bench", "truthfulqa", "bbq",
                "xstest", "ethics", "globalopinionqa"} <= names
    else:
        assert entries and all(e["level"] == level and e["category"].startswith(level) for e in entries)
    assert all(e["license"] and e["hub"] and e["format"] and e["suite"] for e in entries)


def test_catalog_formats_kinds_tables():
    result = invoke("catalog", "--level", "values")
    assert result.exit_code == 0 and "xstest" in result.output
    assert invoke("catalog", "--level", "nope").exit_code == 2
    assert "hh-rlhf" in invoke("formats").output
    assert "preference" in invoke("kinds").output


def test_every_catalog_dataset_has_an_adapter_and_a_suite():
    from alignlab.data import CATALOG, adapters, record_kinds
    from alignlab.evaluate import parse_suite_spec, suite_names, suite_parameters

    known, suites = adapters(), set(suite_names())
    for entry in CATALOG:
        assert entry.format in known, entry.name
        assert entry.kind in record_kinds(), entry.name
        name, args = parse_suite_spec(entry.suite)
        assert name in suites, entry.name
        assert set(args) <= suite_parameters(name), entry.name
        if "format" in args:
            assert args["format"] == entry.format, entry.name


def test_catalog_works_by_level():
    from alignlab.data import CATALOG, LEVELS, WORKS

    result = invoke("catalog", "--works", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == len(WORKS) and {r["level"] for r in rows} == set(LEVELS)
    assert all(r["name"] and r["authors"] and r["method"] and r["representation"] and r["dataset"] for r in rows)
    assert all(1990 < r["year"] < 2030 for r in rows)
    values = json.loads(invoke("catalog", "--works", "--level", "values", "--json").output)
    assert values and all(r["level"] == "values" for r in values)
    cited = {r["dataset"] for r in rows}
    assert {"hh-rlhf", "truthfulqa", "xstest"} <= cited & {e.name for e in CATALOG}
    assert "Constitutional AI" in invoke("catalog", "--works").output


def test_validate_value_records(tmp_path):
    path = tmp_path / "dilemmas.jsonl"
    good = {"id": "d1", "scenario": "A friend asks you to cover for them at work.", "value_system": "schwartz",
            "options": [{"text": "Cover for them.", "values": ["benevolence"]},
                        {"text": "Decline.", "values": ["conformity", "security"]}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "options": [{"text": "Only one."}]}) + "\n")
    result = invoke("validate", path, "--as", "dilemma")
    assert result.exit_code == 2
    assert f"{path}:2: field 'options': expected at least 2 items, got 1" in result.output
    stats = json.loads(invoke("stats", path, "--skip-invalid", "--json").output)
    assert stats["labels"]["value"] == {"benevolence": 1, "conformity": 1, "security": 1} and stats["skipped"] == 1
