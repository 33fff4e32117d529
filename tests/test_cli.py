"""The command line: fast help, one-line errors with exit status 2, models info, cache commands."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

ALIGNLAB = [sys.executable, "-m", "alignlab.cli.main"]


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ALIGNLAB, *args], capture_output=True, text=True, timeout=timeout)


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = ("import sys, time; t = time.perf_counter(); import alignlab.cli.main; "
            "print(time.perf_counter() - t); print(sorted(m for m in ('torch', 'transformers', 'trl', 'datasets', "
            "'llama_cpp', 'httpx', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[1] == "[]"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = _run("--help")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert res.returncode == 0 and "eval" in res.stdout
    # CPU seconds of the child, not wall-clock, so a busy machine does not fail it; includes interpreter start-up
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert cpu < 2.0, f"alignlab --help took {cpu:.2f} CPU s"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["eval", "--model", "nonsense:xyz"], "unknown model spec 'nonsense:xyz'"),
        (["eval", "--model", "hf:/does/not/exist"], "/does/not/exist"),
        (["eval", "--suite", "instructions/nope"], "unknown suite 'instructions/nope'"),
        (["eval", "--suite", "instructions/basics:bogus=1"], "takes no argument 'bogus'"),
        (["models", "info", "openai:m@http://127.0.0.1:9/v1"], "127.0.0.1:9"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], expected: str) -> None:
    res = _run(*args)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert expected in lines[0]
    assert "Traceback" not in res.stderr


def test_debug_shows_traceback() -> None:
    res = _run("--debug", "eval", "--model", "nonsense:xyz")
    assert res.returncode != 0 and "Traceback" in res.stderr


def test_models_info_and_cache_commands(tiny_model_dir: Path, tmp_path: Path) -> None:
    res = _run("models", "info", f"hf:{tiny_model_dir}", "--json")
    assert res.returncode == 0, res.stderr
    import json

    info = json.loads(res.stdout)
    assert info["backend"] == "hf" and info["parameters"] > 0 and info["context_length"] == 512
    assert info["fingerprint"].startswith("sha256:") and "<|im_start|>" in info["chat_template"]

    cache = tmp_path / "c.sqlite"
    res = _run("eval", "--model", f"hf:{tiny_model_dir}", "--suite", "instructions/basics:max_tokens=4",
               "--limit", "3", "--out", str(tmp_path / "run"), "--cache", str(cache), "--quiet")
    assert res.returncode == 0, res.stderr
    assert "model calls: 3" in res.stdout
    res = _run("cache", "info", "--cache", str(cache))
    assert "entries: 3" in res.stdout and "generate" in res.stdout
    res = _run("cache", "clear", "--cache", str(cache))
    assert "removed 3" in res.stdout
    assert "entries: 0" in _run("cache", "info", "--cache", str(cache)).stdout


def test_suites_lists_builtins() -> None:
    res = _run("suites")
    assert res.returncode == 0 and "instructions/basics" in res.stdout
