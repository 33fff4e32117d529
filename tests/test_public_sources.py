"""Public benchmarks found by name: explicit path, then the data directory, then the pinned hub copy."""

import json
from pathlib import Path

import pytest

from alignlab.data import DATA_DIR_ENV, PublicSource, locate, register_source, set_data_dir
from alignlab.errors import DataError

SOURCE = register_source(PublicSource("test/locate-demo", files=("demo/a.csv", "demo/b.csv"),
                                      hub="hf://org/demo@test", revision="abc123"))
LOCAL_ONLY = register_source(PublicSource("test/locate-local-only", files=("only/x.jsonl",),
                                          url="https://example.org/only"))


@pytest.fixture(autouse=True)
def _no_data_dir(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    set_data_dir(None)
    yield
    set_data_dir(None)


def test_data_dir_file_wins_over_hub_and_second_layout_is_tried(tmp_path: Path, monkeypatch):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "b.csv").write_text("x\n1\n")
    assert locate("test/locate-demo") == "hf://org/demo@test"  # no data dir yet
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert locate("test/locate-demo") == str(tmp_path / "demo" / "b.csv")
    (tmp_path / "demo" / "a.csv").write_text("x\n1\n")
    assert locate("test/locate-demo") == str(tmp_path / "demo" / "a.csv")


def test_set_data_dir_overrides_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "nowhere"))
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "x.jsonl").write_text("{}\n")
    set_data_dir(tmp_path)
    assert locate("test/locate-local-only") == str(tmp_path / "only" / "x.jsonl")


def test_explicit_path_wins_and_must_exist(tmp_path: Path):
    f = tmp_path / "mine.csv"
    f.write_text("x\n")
    assert locate("test/locate-demo", f) == str(f)
    with pytest.raises(DataError, match="no such file"):
        locate("test/locate-demo", tmp_path / "missing.csv")


def test_missing_file_without_hub_copy_says_where_it_looked(tmp_path: Path, monkeypatch):
    with pytest.raises(DataError, match="ALIGNLAB_DATA_DIR or --data-dir is not set"):
        locate("test/locate-local-only")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(DataError, match=str(tmp_path / "only" / "x.jsonl")):
        locate("test/locate-local-only")


def test_unknown_source_lists_known_ones():
    with pytest.raises(DataError, match="no public source named"):
        locate("test/never-registered")


def test_public_suites_declare_their_sources():
    from alignlab.data import public_sources
    from alignlab.evaluate import public_suites, suite_sources

    suites = public_suites()
    assert suites["values/xstest"] == ("xstest",) == suite_sources("values/xstest")
    assert "values/safety" not in suites and suite_sources("values/safety") == ()
    known = public_sources()
    assert all(src in known for srcs in suites.values() for src in srcs)


SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "xstest" / "xstest_prompts.csv").exists(), reason="../shared/data/xstest absent")
def test_data_dir_option_finds_a_public_suite_without_path(tmp_path: Path):
    from typer.testing import CliRunner

    from alignlab.cli.main import app

    run = CliRunner().invoke(app, ["eval", "--model", "scripted:I cannot help with that.", "--suite", "values/xstest",
                                   "--limit", "4", "--out", str(tmp_path / "run"), "--quiet",
                                   "--data-dir", str(SHARED)])
    assert run.exit_code == 0, run.output
    result = json.loads((tmp_path / "run" / "results.json").read_text())
    assert result["suites"]["values/xstest"]["n"] == 4
    bad = CliRunner().invoke(app, ["eval", "--suite", "values/xstest", "--data-dir", str(tmp_path / "nowhere")])
    assert bad.exit_code != 0 and "no such directory" in bad.output
