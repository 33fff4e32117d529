"""Goal YAML: parsed into a typed Goal before any heavy import; every error names file:line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.errors import AlignlabError
from alignlab.goals import load_goal

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "goals" / "preference-dpo.yaml"

GOOD = """\
name: tiny-dpo
level: preferences
model: default
representation:
  kind: preference-pairs
  path: pairs.jsonl
  heldout_fraction: 0.5
align:
  method: dpo
  lora: {r: 4}
  trainer: {max_steps: 2}
evaluate:
  - name: preferences/agreement
    args: {path: "{heldout.pairs}"}
  - preferences/hhh-pairs
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "goal.yaml"
    p.write_text(text)
    return p


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(AlignlabError) as exc:
        load_goal(_write(tmp_path, text))
    return str(exc.value)


def test_example_goal_parses_and_uses_the_builtin_pairs() -> None:
    goal = load_goal(EXAMPLE)
    assert goal.level == "preferences" and goal.representation.kind == "preference-pairs"
    assert goal.align["method"] == "dpo" and goal.align["lora"]["r"] == 8
    assert goal.representation.get("path") is None  # None = the built-in HHH pairs
    assert goal.evaluate[0].args == {"path": "{heldout.pairs}"}


def test_good_goal_resolves_paths_against_its_folder_and_fills_defaults(tmp_path: Path) -> None:
    goal = load_goal(_write(tmp_path, GOOD))
    assert goal.representation.get("path") == str((tmp_path / "pairs.jsonl").resolve())
    assert goal.representation.get("format") == "auto"  # the builder's defaults are filled in
    assert [e.name for e in goal.evaluate] == ["preferences/agreement", "preferences/hhh-pairs"]
    assert goal.evaluate[0].args["path"] == "{heldout.pairs}"  # placeholders are left for the loop
    assert goal.seed == 0 and goal.critic is None


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("level: preferences", "level: feelings", 2, "level"),
        ("  kind: preference-pairs", "  kind: vibes", 5, "unknown representation kind 'vibes'"),
        ("  heldout_fraction: 0.5", "  heldout_fraktion: 0.5", 7, "representation.heldout_fraktion"),
        ("  heldout_fraction: 0.5", "  heldout_fraction: 1.5", 7, "heldout_fraction"),
        ("  lora: {r: 4}", "  lora: {rank: 4}", 10, "lora.rank"),
        ("  method: dpo", "  method: ppo2", 9, "method"),
        ("  trainer: {max_steps: 2}", "  trainer: {max_steps: 2}\n  model: hf:other", 12, "set by the goal loop"),
        ("    args: {path: \"{heldout.pairs}\"}", "    args: {path: \"{heldout.pairs}\"}\n    limt: 3", 15,
         "evaluate.0.limt"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, old: str, new: str, line: int, needle: str) -> None:
    assert old in GOOD
    msg = _error(tmp_path, GOOD.replace(old, new))
    assert f"goal.yaml:{line}:" in msg, msg
    assert needle in msg, msg


def test_unknown_kind_lists_the_known_ones(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD.replace("kind: preference-pairs", "kind: vibes"))
    assert "preference-pairs" in msg and "instructions" in msg


def test_missing_field_and_yaml_syntax_errors(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD.replace("level: preferences\n", ""))
    assert "goal.yaml:1:" in msg and "level" in msg
    msg = _error(tmp_path, GOOD.replace("lora: {r: 4}", "lora: {r: 4"))
    assert "goal.yaml:" in msg and "invalid YAML" in msg
    msg = _error(tmp_path, GOOD.replace("  heldout_fraction: 0.5", "  heldout_fraction: 0.5\n  heldout_every: 3"))
    assert "goal.yaml:4:" in msg and "not both" in msg


def test_recipe_file_with_overrides(tmp_path: Path) -> None:
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "dpo.yaml").write_text(
        "method: dpo\nmodel: default\ndata: {path: x.jsonl}\nlora: {r: 4}\ntrainer: {beta: 0.2}\noutput_dir: o\n")
    goal = load_goal(_write(tmp_path, GOOD.replace("  method: dpo\n  lora: {r: 4}\n  trainer: {max_steps: 2}\n",
                                                   "  recipe: recipes/dpo.yaml\n  trainer: {max_steps: 2}\n")))
    recipe = goal.recipe(data_path=tmp_path / "d.jsonl", output_dir=tmp_path / "t")
    assert recipe.method == "dpo" and recipe.lora.r == 4
    assert recipe.trainer == {"beta": 0.2, "max_steps": 2}  # the goal's keys override the file's
    assert recipe.data.path == str(tmp_path / "d.jsonl") and recipe.output_dir == str(tmp_path / "t")
    bad = _write(tmp_path, GOOD.replace("  method: dpo\n  lora: {r: 4}\n  trainer: {max_steps: 2}\n",
                                        "  recipe: recipes/none.yaml\n"))
    with pytest.raises(AlignlabError, match="no recipe file"):
        load_goal(bad)


def test_load_goal_imports_no_torch() -> None:
    code = (f"import sys; from alignlab.goals import load_goal; load_goal({str(EXAMPLE)!r}); "
            "print(sorted(m for m in ('torch', 'transformers', 'trl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_show_prints_the_resolved_goal_and_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["goal", "show", str(EXAMPLE), "--model", "hf:/somewhere"])
    assert res.exit_code == 0, res.output
    assert "name: preference-dpo" in res.output and "model: hf:/somewhere" in res.output
    assert "heldout_fraction: 0.3333" in res.output
    bad = _write(tmp_path, GOOD.replace("level: preferences", "level: feelings"))
    res = runner.invoke(app, ["goal", "show", str(bad)])
    assert res.exit_code == 2 and f"{bad}:2:" in res.output
