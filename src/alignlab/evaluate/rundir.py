"""The run directory's layout, in one place: what ``run_eval`` writes and what reports, comparisons, the goal loop
and the arena read.

::

    config.yaml                     resolved config: identity (model, system, limit), suites, versions, command
    samples/<level>/<suite>.jsonl   one record per sample (``<suite>.jsonl.partial`` while a run is journalling)
    results.json                    metrics per suite and per level
    report.html                     the page ``alignlab report`` builds from the above

Writers replace files atomically (a reader sees the old file or the new one). Readers of samples are tolerant:
the report and comparisons skip a line that does not parse, and the runner's journal stops at a line a kill cut
off, so a damaged file costs that line, never the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alignlab.atomic import write_json_atomic, write_jsonl_atomic, write_text_atomic
from alignlab.errors import AlignlabError, DataError
from alignlab.files import read_text

CONFIG, RESULTS, REPORT, SAMPLES = "config.yaml", "results.json", "report.html", "samples"


@dataclass(frozen=True)
class RunDir:
    """A run directory. ``RunDir.of(path)`` also accepts the ``results.json`` inside one."""

    path: Path

    @classmethod
    def of(cls, path: str | Path | RunDir) -> RunDir:
        if isinstance(path, RunDir):
            return path
        p = Path(path)
        return cls(p.parent if p.name == RESULTS else p)

    def __str__(self) -> str:
        return str(self.path)

    # --- paths ------------------------------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def results_path(self) -> Path:
        return self.path / RESULTS

    @property
    def report_path(self) -> Path:
        return self.path / REPORT

    @property
    def samples_dir(self) -> Path:
        return self.path / SAMPLES

    def samples_path(self, suite: str) -> Path:
        """``samples/<suite>.jsonl``; suite names carry their level (``values/safety``)."""
        return self.samples_dir / f"{suite}.jsonl"

    def journal_path(self, suite: str) -> Path:
        return self.samples_dir / f"{suite}.jsonl.partial"

    def sample_files(self) -> Iterator[tuple[str, Path]]:
        """(suite name, samples file) of every finished suite, in name order."""
        if self.samples_dir.is_dir():
            for path in sorted(self.samples_dir.rglob("*.jsonl")):
                yield path.relative_to(self.samples_dir).with_suffix("").as_posix(), path

    # --- readers ----------------------------------------------------------------------------------------------

    def has_results(self) -> bool:
        return self.results_path.is_file()

    def read_results(self) -> dict[str, Any]:
        """results.json; a missing or broken file is an error naming it."""
        if not self.results_path.is_file():
            raise AlignlabError(f"{self.path} has no {RESULTS}", hint="pass a run directory written by alignlab eval")
        try:
            return json.loads(read_text(self.results_path))
        except json.JSONDecodeError as exc:
            raise AlignlabError(f"{self.results_path}:{exc.lineno}: not valid JSON ({exc.msg})") from None

    def read_config(self, *, required: bool = False) -> dict[str, Any]:
        """config.yaml ({} when absent, unless ``required``)."""
        if not self.config_path.is_file():
            if required:
                raise DataError(f"{self.path}: not a run directory (no {CONFIG})",
                                hint="pass the directory `alignlab eval` wrote")
            return {}
        try:
            return yaml.safe_load(read_text(self.config_path)) or {}
        except yaml.YAMLError as exc:
            raise DataError(f"{self.config_path}: invalid YAML: {exc}") from None

    def samples(self, suite: str) -> Iterator[dict[str, Any]]:
        """The records of one suite (none when it has no samples file); lines that do not parse are skipped."""
        path = self.samples_path(suite)
        if not path.is_file():
            return
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(row, dict):
                    yield row

    def read_journal(self, suite: str) -> list[dict[str, Any]]:
        """Finished records of a suite, final file then journal; each stops at a line a kill cut off."""
        return _read_until_cut(self.samples_path(suite)) + _read_until_cut(self.journal_path(suite))

    # --- writers ----------------------------------------------------------------------------------------------

    def write_config(self, config: dict[str, Any]) -> None:
        write_text_atomic(self.config_path, yaml.safe_dump(config, sort_keys=False, allow_unicode=True))

    def write_samples(self, suite: str, records: Iterable[dict[str, Any]]) -> None:
        write_jsonl_atomic(self.samples_path(suite), records)

    def write_journal(self, suite: str, records: Iterable[dict[str, Any]]) -> Path:
        """Start the suite's journal from ``records`` (what survived of an earlier run); returns its path."""
        path = self.journal_path(suite)
        write_jsonl_atomic(path, records)
        return path

    def write_results(self, results: dict[str, Any]) -> None:
        write_json_atomic(self.results_path, results)

    def write_report(self, html: str) -> Path:
        write_text_atomic(self.report_path, html)
        return self.report_path


def _read_until_cut(path: Path) -> list[dict[str, Any]]:
    """A journal's records; a last line cut off by a kill is ignored (its sample is simply redone)."""
    rows: list[dict[str, Any]] = []
    if not path.exists():
        return rows
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return rows
