"""One lazy registry type for every pluggable piece (suites, rewards, goal builders, backends, data adapters,
IFEval checkers, record kinds).

Entries are added by decorators in the modules that define them; those modules are imported the first time the
registry is read, so importing alignlab stays light and a user's module can add or replace entries the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

from alignlab.errors import AlignlabError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind. ``modules`` register the built-ins when imported, on first read."""

    def __init__(self, kind: str, modules: Sequence[str] = (), *, hint: str | None = None,
                 error: type[AlignlabError] = AlignlabError) -> None:
        self.kind, self.modules, self.hint, self.error = kind, tuple(modules), hint, error
        self._entries: dict[str, T] = {}
        self._loaded = False

    def add(self, name: str, entry: T) -> T:
        """Add (or replace) ``name``."""
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of ``add``."""
        return lambda entry: self.add(name, entry)

    def load(self) -> None:
        """Import the modules that register the built-ins (once)."""
        if not self._loaded:
            self._loaded = True
            for module in self.modules:
                importlib.import_module(module)

    def get(self, name: str) -> T:
        """The entry; an unknown name is an error listing the known ones."""
        self.load()
        if name not in self._entries:
            known = ", ".join(sorted(self._entries))
            raise self.error(f"unknown {self.kind} {name!r}", hint=self.hint or f"known: {known}")
        return self._entries[name]

    def find(self, name: str) -> T | None:
        self.load()
        return self._entries.get(name)

    def names(self) -> list[str]:
        self.load()
        return sorted(self._entries)

    def entries(self) -> dict[str, T]:
        self.load()
        return dict(self._entries)

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
