"""Human evaluation: blind pairwise battles and 1–7 ratings served by a FastAPI app, with a Bradley–Terry
leaderboard, inter-annotator agreement and judge–human agreement; votes export as preference pairs.

Imports nothing heavy: FastAPI and SQLAlchemy load when a function here is called.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ImportReport",
    "Settings",
    "add_annotator",
    "arena_stats",
    "cohen_kappa",
    "create_app",
    "export_preferences",
    "fleiss_kappa",
    "import_runs",
    "import_verdicts",
    "make_engine",
    "migrate",
    "parse_run_arg",
    "preference_rows",
    "revoke_annotator",
    "secret",
]

_WHERE = {
    "ImportReport": "_import", "import_runs": "_import", "import_verdicts": "_import", "parse_run_arg": "_import",
    "Settings": "app", "create_app": "app",
    "add_annotator": "_db", "make_engine": "_db", "migrate": "_db", "secret": "_db",
    "arena_stats": "_stats", "cohen_kappa": "_stats", "fleiss_kappa": "_stats",
    "export_preferences": "_export", "preference_rows": "_export",
    "revoke_annotator": "_sessions",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'alignlab.arena' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"alignlab.arena.{_WHERE[name]}"), name)
