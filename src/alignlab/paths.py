"""Where alignlab keeps converted models and the response cache."""

from __future__ import annotations

import os
from pathlib import Path


def alignlab_home() -> Path:
    """``$ALIGNLAB_HOME``, default ``~/.cache/alignlab``."""
    return Path(os.environ.get("ALIGNLAB_HOME") or Path.home() / ".cache" / "alignlab").expanduser()
