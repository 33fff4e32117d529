"""A run names the build that made its numbers (config.yaml, results.json, report header); compare warns when runs
differ in it; piped output is plain rows and plain progress lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import torch
import transformers
import yaml
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.evaluate import build_suite, run_eval
from alignlab.models import load_model
from alignlab.models.provenance import cpu_flags, describe, describe_all, differences
from alignlab.report import build_report

SCHEMA = Path(__file__).resolve().parents[1] / "src" / "alignlab" / "report" / "results.schema.json"


@pytest.fixture
def tiny_run(tiny_model_dir: Path, tmp_path: Path) -> Path:
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        run_eval(model, [build_suite("instructions/basics", max_tokens=4)], tmp_path / "run", limit=3,
                 show_progress=False)
    return tmp_path / "run"


def test_run_records_the_backend_build(tiny_run: Path) -> None:
    cfg = yaml.safe_load((tiny_run / "config.yaml").read_text())
    results = json.loads((tiny_run / "results.json").read_text())
    jsonschema.validate(results, json.loads(SCHEMA.read_text()))
    assert results["provenance"] == cfg["provenance"]
    build = cfg["provenance"]["loglikelihood"]
    assert cfg["provenance"]["generate"] == build  # one transformers model does both
    assert build == {"engine": "transformers", "transformers": transformers.__version__, "torch": torch.__version__,
                     "device": "cpu", "dtype": "float32", "threads": torch.get_num_threads(),
                     "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    html = build_report(tiny_run).read_text()
    header = re.search(r"<div class=meta id=build>(.*?)</div>", html)
    assert header is not None
    assert f"transformers {transformers.__version__}, torch {torch.__version__}" in header.group(1)
    assert f"cpu {torch.backends.cpu.get_cpu_capability()} float32; {torch.get_num_threads()} threads" in \
        header.group(1)


def test_llama_cpp_system_info_becomes_the_cpu_feature_list() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    line = llama_cpp.llama_print_system_info().decode()
    flags = cpu_flags(line)
    assert flags and all(f"{f} = 1" in line for f in flags)
    assert cpu_flags("CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 0 | OPENMP = 1 |") == ["SSE3", "AVX2", "OPENMP"]
    entry = {"engine": "llama.cpp", "llama_cpp_python": "0.3.36", "system_info": line, "device": "cpu", "threads": 2}
    assert describe(entry) == f"llama.cpp (llama-cpp-python 0.3.36; CPU {' '.join(flags)}; 2 threads)"
    scorer = {"engine": "transformers", "transformers": "5", "torch": "2", "device": "cpu", "dtype": "float32"}
    both = describe_all({"generate": entry, "loglikelihood": scorer})
    assert both.startswith("generate: llama.cpp (") and "loglikelihood: transformers (" in both
    avx2 = {**entry, "system_info": "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 0 | OPENMP = 1 |"}
    avx512 = {**entry, "system_info": "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | OPENMP = 1 |"}
    assert differences({"generate": avx512}, {"generate": avx2}) == ["generate.system_info: -AVX512"]


def _with_build(run: Path, out: Path, **changes: object) -> Path:
    """A copy of ``run`` as if made on another machine: its recorded scorer build changed."""
    import shutil

    shutil.copytree(run, out)
    for name in ("results.json", "config.yaml"):
        path = out / name
        data = json.loads(path.read_text()) if name.endswith(".json") else yaml.safe_load(path.read_text())
        for role in data["provenance"].values():
            role.update(changes)
        path.write_text(json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data))
    return out


def test_compare_warns_when_builds_differ(tiny_run: Path, tmp_path: Path) -> None:
    other = _with_build(tiny_run, tmp_path / "other", cpu_capability="NO AVX", threads=16)
    runner = CliRunner()
    same = runner.invoke(app, ["compare", str(tiny_run), str(tiny_run)])
    assert same.exit_code == 0, same.output
    assert "warning" not in same.output
    res = runner.invoke(app, ["compare", str(tiny_run), str(other), "--format", "csv"])
    assert res.exit_code == 0, res.output
    warning = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "ran on another backend build" in warning[0]
    assert "loglikelihood.cpu_capability" in warning[0] and "-> NO AVX" in warning[0]
    assert "loglikelihood.threads" in warning[0]
    md = runner.invoke(app, ["compare", str(tiny_run), str(other)])
    assert "- warning: " in md.stdout and "cpu_capability" in md.stdout
    assert differences(None, {"generate": {"engine": "x"}}) == []  # runs written before provenance: no claim


def test_piped_tables_are_plain_rows() -> None:
    res = CliRunner().invoke(app, ["suites"])  # CliRunner's output is not a terminal, as with `| cat`
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert not re.search(r"[┃│┏━╇─]", res.stdout)
    assert lines[0].split("\t") == ["level", "suite", "samples", "needs", "description"]
    basics = next(line.split("\t") for line in lines if "\tinstructions/basics\t" in line)
    suite = build_suite("instructions/basics")
    assert basics == ["instructions", "instructions/basics", str(len(suite.samples)), ", ".join(suite.requires),
                      suite.description]
    assert all(len(line.split("\t")) == 5 for line in lines)


def test_progress_is_plain_lines_when_not_a_terminal(tiny_model_dir: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        run_eval(model, [build_suite("instructions/basics", max_tokens=4)], tmp_path / "run", limit=4, batch_size=2)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "instructions/basics: 4 samples"
    assert re.fullmatch(r"instructions/basics: 2/4 · [\d.]+ samples/s · \d+ s", err[1])
    assert re.fullmatch(r"instructions/basics: 4/4 · [\d.]+ samples/s · done in \d+ s", err[-1])
    assert not any("\x1b" in line or "━" in line for line in err)
