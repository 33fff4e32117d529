"""``key=value`` arguments from the command line, values read as YAML scalars (numbers, booleans, strings)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alignlab.errors import AlignlabError


def parse_assignments(pairs: Iterable[str], where: str) -> dict[str, Any]:
    """``["k=v", ...]`` → ``{k: v}``; ``where`` names the option in the error message."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise AlignlabError(f"bad argument {pair!r} in {where}", hint="write key=value")
        out[key.strip()] = yaml.safe_load(value)
    return out
