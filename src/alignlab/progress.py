"""Progress for long model work: one live bar per suite on a terminal, plain lines when stderr is not one.

A live bar written to a file or a CI log is a stream of control codes; there a line at the start of each suite,
about every 10% (at most every 30 s) and at its end says the same. ``note`` prints one line about a step (a
conversion, a model load) to stderr, where progress goes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol


class Tracker(Protocol):
    """The part of ``rich.progress.Progress`` the runner uses."""

    def add_task(self, description: str, total: float | None = ..., completed: int = ..., **fields: Any) -> Any: ...

    def update(self, task_id: Any, *, advance: float | None = ..., **fields: Any) -> None: ...


def note(message: str) -> None:
    """One line about a step of long work, on stderr."""
    print(message, file=sys.stderr, flush=True)


@dataclass
class _Task:
    name: str
    total: int
    done: int
    started: float = field(default_factory=time.perf_counter)
    last_line: float = field(default_factory=time.perf_counter)
    last_done: int = 0


class PlainProgress:
    """``Tracker`` that writes plain lines: at a task's start, about every 10% (or 30 s), and at its end."""

    def __init__(self, stream: Any = None, every_s: float = 30.0) -> None:
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.tasks: list[_Task] = []

    def add_task(self, description: str, total: float | None = None, completed: int = 0, **fields: Any) -> int:
        task = _Task(description, int(total or 0), int(completed), last_done=int(completed))
        self.tasks.append(task)
        resumed = f" ({task.done} done before)" if task.done else ""
        self._line(f"{task.name}: {task.total} samples{resumed}")
        if task.total and task.done >= task.total:
            self._line(f"{task.name}: {task.done}/{task.total} done")
        return len(self.tasks) - 1

    def update(self, task_id: int, *, advance: float | None = None, **fields: Any) -> None:
        task = self.tasks[task_id]
        task.done += int(advance or 0)
        now = time.perf_counter()
        step = max(1, task.total // 10)
        finished = task.total and task.done >= task.total
        if finished or task.done - task.last_done >= step or now - task.last_line >= self.every_s:
            rate = fields.get("rate") or ""
            state = f"done in {now - task.started:.0f} s" if finished else f"{now - task.started:.0f} s"
            self._line(f"{task.name}: {task.done}/{task.total}{f' · {rate}' if rate else ''} · {state}")
            task.last_line, task.last_done = now, task.done

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


@contextmanager
def suite_progress(show: bool = True) -> Iterator[Tracker]:
    """A live rich display (one bar per suite) on a terminal, plain lines otherwise; nothing unless ``show``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    if show and not console.is_terminal:
        yield PlainProgress()
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    with Progress(*columns, console=console, disable=not show, transient=False) as progress:
        yield progress
