"""The ``public`` plan's suites: every public benchmark whose files are in the data directory."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from alignlab.errors import AlignlabError
from alignlab.evaluate._registry import public_suites
from alignlab.targets.levels import LEVELS


def public_entries(exclude: Collection[str] = ()) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str]]:
    """(suites to run, {suite: why not}) over every registered public suite not in ``exclude``: a suite runs
    when all its sources are files in the data directory; the reason names where each missing one was looked for.
    Fails when no data directory is set or none of its files is there (a run of nothing is never what was meant).
    """
    from alignlab.data import data_dir, local_file, where_looked

    root = data_dir()
    if root is None:
        raise AlignlabError("the public plan runs the public benchmarks found in a data directory, and none is set",
                            hint="pass --data-dir DIR (or set ALIGNLAB_DATA_DIR); `alignlab data sources` lists "
                                 "the files each benchmark needs")
    found: list[tuple[str, dict[str, Any]]] = []
    skipped: dict[str, str] = {}
    for name, sources in public_suites().items():
        if name in exclude:
            continue
        missing = [s for s in sources if local_file(s) is None]
        if missing:
            skipped[name] = "; ".join(f"{s}: {where_looked(s)}" for s in missing)
        else:
            found.append((name, {}))
    if not found:
        raise AlignlabError(f"no public benchmark's files are in {root}",
                            hint="`alignlab data sources` lists the files and the layout each benchmark expects")
    level = {lvl: i for i, lvl in enumerate(LEVELS)}
    found.sort(key=lambda e: (level.get(e[0].split("/")[0], len(LEVELS)), e[0]))
    return found, skipped
