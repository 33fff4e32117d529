"""Shared paths for the data tests: fixtures written in each published schema, and ../shared/data (real files)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
# The repo is cloned with shared/ beside it: <root>/main/tests/data → <root>/shared/data.
SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture
def bad_preferences(tmp_path: Path) -> Path:
    """Ten preference rows: line 7 is broken JSON, line 9 lacks 'rejected'."""
    import json

    path = tmp_path / "bad.jsonl"
    lines = [json.dumps({"prompt": f"q{i}", "chosen": f"good {i}", "rejected": f"bad {i}"}) for i in range(1, 11)]
    lines[6] = '{"prompt": "q7", "chosen": "good 7", "rejected": "bad 7"'
    lines[8] = json.dumps({"prompt": "q9", "chosen": "good 9"})
    path.write_text("\n".join(lines) + "\n")
    return path
