"""Every command that reads a user file, over a corpus of broken files: a one-line error that names the file,
exit status 2, never a traceback and never success (exit 0) on a file it could not read.

The corpus is generated here: a cut-off gzip, gzip with a bad CRC, gzip with a bad header, invalid UTF-8 inside
otherwise valid rows, random bytes, an empty file, CSV text in a JSON-lines file, JSON lines that are arrays and
strings instead of objects.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.cli.main import app

GOOD_ROW = {"prompt": "Say hi.", "completion": "Hi."}


def _gz_rows(n: int = 400) -> bytes:
    return gzip.compress("".join(json.dumps(GOOD_ROW) + "\n" for _ in range(n)).encode())


def _corrupt_crc() -> bytes:
    data = bytearray(_gz_rows())
    data[-6] ^= 0xFF  # inside the CRC32 trailer
    return bytes(data)


# name → (file suffix kind, content); "gz" files get a .gz suffix after the command's own.
CORPUS: dict[str, tuple[bool, bytes]] = {
    "truncated-gzip": (True, _gz_rows()[: len(_gz_rows()) // 2]),
    "crc-gzip": (True, _corrupt_crc()),
    "bad-gzip-header": (True, b"\x1f\x8b\x63" + bytes(random.Random(1).randrange(256) for _ in range(200))),
    "invalid-utf8": (False, b'{"prompt": "caf\xe9", "completion": "ok"}\n'),
    "binary": (False, bytes(random.Random(0).randrange(256) for _ in range(2000))),
    "empty": (False, b""),
    "csv-in-jsonl": (False, b"prompt,completion\nSay hi.,Hi.\n"),
    "json-arrays": (False, b'["prompt", "completion"]\n[1, 2]\n'),
    "json-strings": (False, b'"prompt"\n"completion"\n'),
}

IFEVAL_PROMPT = {"key": 1, "prompt": "Write one word.", "instruction_id_list": ["punctuation:no_comma"],
                 "kwargs": [{}]}
TASK_YAML = "name: instructions/fuzz\ndata: {data}\ntype: generate\ntemplate: '{{prompt}}'\ntarget_field: completion\n"


def _write(tmp_path: Path, case: str, suffix: str) -> Path:
    gz, content = CORPUS[case]
    path = tmp_path / f"{case}{suffix}{'.gz' if gz else ''}"
    path.write_bytes(content)
    return path


def _run_dir(tmp_path: Path, samples: Path) -> Path:
    """A run directory whose samples file holds the broken bytes (named ``<case>.jsonl``: import reads *.jsonl)."""
    run = tmp_path / "run"
    (run / "samples" / "instructions").mkdir(parents=True)
    (run / "config.yaml").write_text("model: {spec: 'hf:x'}\n")
    (run / "samples" / "instructions" / (samples.name.split(".")[0] + ".jsonl")).write_bytes(samples.read_bytes())
    return run


# Built-in suites over a user's file (the suite argument names it); read before any model loads.
SUITE_FILES = [("instructions/ifeval", "prompts", ".jsonl"), ("preferences/agreement", "path", ".jsonl"),
               ("preferences/bbq", "path", ".jsonl"), ("preferences/truthfulqa", "path", ".json"),
               ("values/ethics", "path", ".csv"), ("values/globalopinionqa", "path", ".csv"),
               ("values/xstest", "path", ".csv")]

# command name → (suffix of the broken file, argv builder(tmp_path, broken file), the path the error must name)
Argv = Callable[[Path, Path], list[str]]
COMMANDS: dict[str, tuple[str, Argv]] = {
    "data validate": (".jsonl", lambda t, f: ["data", "validate", str(f)]),
    "data stats": (".jsonl", lambda t, f: ["data", "stats", str(f)]),
    "data convert": (".jsonl", lambda t, f: ["data", "convert", str(f), str(t / "out.jsonl")]),
    "data convert --skip-invalid": (".jsonl", lambda t, f: ["data", "convert", str(f), str(t / "out.jsonl"),
                                                            "--skip-invalid"]),
    "data validate --from preference": (".jsonl", lambda t, f: ["data", "validate", str(f), "--from", "preference",
                                                                "--skip-invalid"]),
    "data validate (csv)": (".csv", lambda t, f: ["data", "validate", str(f)]),
    "ratings": (".jsonl", lambda t, f: ["ratings", str(f), "--bootstrap", "0"]),
    "score ifeval --responses": (".jsonl", lambda t, f: [
        "score", "ifeval", "--prompts", str(_good(t, "prompts.jsonl", IFEVAL_PROMPT)), "--responses", str(f),
        "--out", str(t / "score")]),
    "score ifeval --prompts": (".jsonl", lambda t, f: [
        "score", "ifeval", "--prompts", str(f), "--responses",
        str(_good(t, "responses.jsonl", {"prompt": "Write one word.", "response": "word"})), "--out", str(t / "s")]),
    "arena import-verdicts": (".jsonl", lambda t, f: ["arena", "import-verdicts", str(f), "--source", "judge",
                                                      "--db", str(t / "arena.db")]),
    "arena import": (".jsonl", lambda t, f: ["arena", "import", f"m={_run_dir(t, f)}", "--db", str(t / "arena.db")]),
    "goal show": (".yaml", lambda t, f: ["goal", "show", str(f)]),
    "align sft --config": (".yaml", lambda t, f: ["align", "sft", "--config", str(f)]),
    "eval --plan": (".yaml", lambda t, f: ["eval", "--plan", str(f), "--model", "hf:/nonexistent"]),
    "eval --suite TASK.yaml": (".yaml", lambda t, f: ["eval", "--suite", str(f), "--model", "hf:/nonexistent"]),
    **{f"eval --suite {suite}": (suffix, lambda t, f, s=suite, k=key: [
        "eval", "--suite", f"{s}:{k}={f}", "--model", "hf:/nonexistent", "--out", str(t / "run-eval")])
       for suite, key, suffix in SUITE_FILES},
    "eval --suite (task data)": (".jsonl", lambda t, f: [
        "eval", "--suite", str(_task(t, f)), "--model", "hf:/nonexistent", "--out", str(t / "run-eval")]),
}


def _good(tmp_path: Path, name: str, row: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(row) + "\n")
    return path


def _task(tmp_path: Path, data: Path) -> Path:
    path = tmp_path / "task.yaml"
    path.write_text(TASK_YAML.format(data=data.name))
    return path


@pytest.mark.parametrize("case", sorted(CORPUS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_broken_file_is_a_one_line_error(tmp_path: Path, command: str, case: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALIGNLAB_DEBUG", raising=False)
    suffix, argv = COMMANDS[command]
    if suffix == ".csv" and case in ("csv-in-jsonl", "json-strings"):
        pytest.skip("valid CSV")
    broken = _write(tmp_path, case, suffix)
    result = CliRunner().invoke(app, argv(tmp_path, broken))
    out = result.output
    assert "Traceback" not in out and (result.exception is None or isinstance(result.exception, SystemExit)), \
        f"{command} on {case}: {result.exception!r}\n{out}"
    assert result.exit_code == 2, f"{command} on {case}: exit {result.exit_code}\n{out}"
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out
    # An empty run directory has no samples file to name: the error names its samples/ folder.
    named = "samples" if (command, case) == ("arena import", "empty") else f"{case}."
    assert named in errors[0], f"{command} on {case}: the error does not name the file: {errors[0]}"
    if command.startswith("data convert"):
        assert not (tmp_path / "out.jsonl").exists()  # nothing written, not even an empty file
