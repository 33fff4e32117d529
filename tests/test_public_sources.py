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


def test_data_layer_alone_knows_every_public_source():
    """A library user who never imports the suites still finds every public benchmark's source by name
    (`alignlab.data.locate("alpaca-eval")`): no suite module registers a source the data layer lacks."""
    import subprocess
    import sys

    code = ("from alignlab.data import public_sources\n"
            "known = set(public_sources())\n"
            "from alignlab.evaluate import public_suites\n"
            "suites = public_suites()  # imports every built-in suite module\n"
            "print(sorted(({s for srcs in suites.values() for s in srcs} | set(public_sources())) - known))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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


# Rows each built-in public suite reads from the shared files, and the source it declared.
SHARED_SUITES = {
    "instructions/ifeval": ("ifeval", 541),
    "values/xstest": ("xstest", 450),
    "preferences/truthfulqa": ("truthfulqa/mc", 817),
    "preferences/hh-rlhf-harmless": ("hh-rlhf/harmless-base", 2312),
    "preferences/bbq": ("bbq", 3680 + 1200 + 1556),  # the three category files present
    "instructions/mt-bench": ("mt-bench/questions", 80),
}


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data absent")
@pytest.mark.parametrize("name", sorted(SHARED_SUITES))
def test_public_suite_finds_its_file_in_the_data_dir_with_no_path(name: str):
    from alignlab.data import local_file, public_source
    from alignlab.evaluate import build_suite, suite_sources
    from alignlab.models import Model
    from alignlab.testing import ScriptedAPI

    source, rows = SHARED_SUITES[name]
    assert suite_sources(name) == (source,)
    set_data_dir(SHARED)
    found = local_file(source)
    if found is None:
        pytest.skip(f"{source} not in ../shared/data")
    judge = Model(ScriptedAPI("[[5]]"))
    suite = build_suite(name, context={"judge": judge})
    assert len(suite.samples) == rows
    pinned = public_source(source).rows
    assert pinned is None or pinned == rows
    assert suite.params == {}  # nothing recorded as the user's argument


@pytest.mark.skipif(not (SHARED / "mt_bench").is_dir(), reason="../shared/data/mt_bench absent")
def test_mt_bench_from_the_data_dir_uses_the_reference_answers_beside_it():
    from alignlab.evaluate import build_suite
    from alignlab.models import Model
    from alignlab.testing import ScriptedAPI

    set_data_dir(SHARED)
    suite = build_suite("instructions/mt-bench", context={"judge": Model(ScriptedAPI("[[5]]"))})
    refs = {json.loads(line)["question_id"] for line in
            (SHARED / "mt_bench" / "reference_answer" / "gpt-4.jsonl").read_text().splitlines() if line.strip()}
    with_ref = {s.id for s in suite.samples if s.target}
    assert {str(q) for q in refs} <= with_ref


def test_hub_read_uses_the_pinned_revision(monkeypatch):
    import datasets

    from alignlab.data import iter_records

    register_source(PublicSource("test/pinned-hub", files=("pinned/x.csv",), hub="hf://org/pinned@test",
                                 revision="0123abcd"))
    calls = []

    def load_dataset(name, config=None, **kw):
        calls.append((name, config, kw.get("split"), kw.get("revision")))
        return [{"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi\n\nAssistant: no"}]

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    assert len(list(iter_records("hf://org/pinned@test", "hh-rlhf"))) == 1
    assert calls[-1] == ("org/pinned", None, "test", "0123abcd")
    list(iter_records("hf://org/pinned@test#feedbeef", "hh-rlhf"))  # an explicit #REVISION wins
    assert calls[-1][3] == "feedbeef"
    list(iter_records("hf://org/unregistered", "hh-rlhf"))  # no source, no pin: the hub's default
    assert calls[-1] == ("org/unregistered", None, "train", None)


# Built in a fresh process: datasets and huggingface_hub read HF_HOME and the offline switches at import.
_OFFLINE_HF = r"""
import json, shutil, sys
from pathlib import Path

import datasets
from datasets.packaged_modules.json.json import Json

shared, build = Path(sys.argv[1]), Path(sys.argv[2])
# datasets' own JSON builder writes the Arrow file and dataset_info.json; they are placed where datasets keeps a
# hub dataset it has downloaded (<cache>/google___if_eval/default/0.0.0/<commit>), which is what it reads offline.
builder = Json(cache_dir=str(build), data_files={"train": str(shared / "ifeval" / "input_data.jsonl")},
               dataset_name="IFEval")
builder.download_and_prepare()
dest = Path(datasets.config.HF_DATASETS_CACHE) / "google___if_eval" / "default" / "0.0.0" / ("0" * 40)
dest.parent.mkdir(parents=True)
shutil.move(builder.cache_dir, dest)
info = json.loads((dest / "dataset_info.json").read_text())
(dest / "dataset_info.json").write_text(json.dumps({**info, "config_name": "default"}))

from alignlab.data import data_dir, locate
from alignlab.evaluate import build_suite

assert data_dir() is None and locate("ifeval") == "hf://google/IFEval@train"
suite = build_suite("instructions/ifeval")
print(json.dumps({"n": len(suite.samples), "ids": [s.id for s in suite.samples[:3]]}))
"""


@pytest.mark.skipif(not (SHARED / "ifeval" / "input_data.jsonl").exists(), reason="../shared/data/ifeval absent")
def test_a_suite_loads_through_hf_from_a_local_datasets_cache_with_the_network_off(tmp_path: Path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != DATA_DIR_ENV}
    env.update(HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    run = subprocess.run([sys.executable, "-c", _OFFLINE_HF, str(SHARED), str(tmp_path / "build")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    rows = [json.loads(line) for line in (SHARED / "ifeval" / "input_data.jsonl").read_text().splitlines() if line]
    assert got["n"] == len(rows) == 541
    assert got["ids"] == [str(r["key"]) for r in rows[:3]]
