"""``--data-dir``: the folder of downloaded public benchmark files, for every command that runs suites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from alignlab.errors import AlignlabError


def data_dir_option() -> Any:
    return typer.Option(None, "--data-dir", help="Folder of downloaded public benchmark files in their publishers' "
                        "layout (e.g. xstest/xstest_prompts.csv); public suites read their files there before the "
                        "hub. Default: $ALIGNLAB_DATA_DIR.")


def use_data_dir(path: Path | None) -> None:
    """Point public suites at ``path`` for this process (nothing to do when it is not given)."""
    if path is None:
        return
    from alignlab.data import set_data_dir

    if not path.expanduser().is_dir():
        raise AlignlabError(f"--data-dir {path}: no such directory")
    set_data_dir(path)
