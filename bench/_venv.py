"""Peer tools for side-by-side benchmarks, each installed from PyPI into its own venv (never the project's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TORCH = "torch==2.13.0"  # the CPU build on local disk (/opt/wheels); any other spec pulls a multi-GB CUDA build


def venv_python(name: str, packages: list[str]) -> Path:
    """A venv under ``$ALIGNLAB_BENCH_VENVS`` (default ``~/.cache/alignlab-bench``) with ``packages`` installed
    from PyPI; made once, then reused while the package list is the same."""
    root = Path(os.environ.get("ALIGNLAB_BENCH_VENVS") or Path.home() / ".cache" / "alignlab-bench")
    venv = root / name
    py = venv / "bin" / "python"
    marker = venv / "alignlab-bench-installed.json"
    if marker.exists() and json.loads(marker.read_text()) == packages:
        return py
    root.mkdir(parents=True, exist_ok=True)
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    links = ["--find-links", "/opt/wheels"] if Path("/opt/wheels").is_dir() else []
    print(f"installing {' '.join(packages)} into {venv} ...", flush=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *links, *packages], check=True)
    marker.write_text(json.dumps(packages))
    return py
