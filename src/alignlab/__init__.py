"""alignlab: define alignment goals at three levels (instructions, preferences, values), align models to them,
and evaluate every level.

    import alignlab
    alignlab.evaluate("default", "default", "runs/smollm")     # model, plan (or suite specs), run directory
"""

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # ``alignlab.evaluate`` loads on first use, so ``import alignlab`` stays light.
    if name == "evaluate":
        import importlib

        return importlib.import_module("alignlab.evaluate")
    raise AttributeError(f"module 'alignlab' has no attribute {name!r}")
