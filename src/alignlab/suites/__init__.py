"""Data of the built-in suites, written for alignlab, each file with a datasheet under ``suites/data/``.

The suites' code lives with its level in ``alignlab.evaluate``; this package holds data only (and the scripts that
generated some of it).
"""

from __future__ import annotations

from importlib import resources
from typing import Any


def builtin_jsonl(name: str) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of ``suites/data/NAME`` with their line numbers; errors name ``NAME:line``."""
    from alignlab.data import json_lines

    return json_lines(resources.files("alignlab.suites").joinpath(f"data/{name}").read_text(encoding="utf-8"), name)
