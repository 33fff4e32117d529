"""Public benchmarks by name: where each one's files are found.

A public suite names its source (``locate("xstest")``) instead of asking for a path. The lookup order is

1. an explicit ``path=`` the user gave the suite;
2. the data directory (``--data-dir`` / ``set_data_dir`` / ``ALIGNLAB_DATA_DIR``), in the layout the source
   declares (the layout of the files as their authors publish them, so one folder of downloads serves every suite);
3. the pinned Hugging Face dataset (``hf://ORG/NAME[:CONFIG][@SPLIT]`` at ``revision``), read with ``datasets``.

When none is available the error says every place that was tried.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from alignlab.errors import DataError

DATA_DIR_ENV = "ALIGNLAB_DATA_DIR"


@dataclass(frozen=True)
class PublicSource:
    """One public benchmark file set, pinned."""

    name: str
    """Short name suites ask for (``xstest``, ``ethics/commonsense``)."""
    files: tuple[str, ...]
    """Paths under the data directory, in the publisher's layout; the first that exists is used."""
    hub: str | None = None
    """``hf://ORG/NAME[:CONFIG][@SPLIT]`` with the same content, or ``None`` where there is no hub copy."""
    revision: str | None = None
    """The hub revision (commit or tag) the hub copy is pinned to."""
    url: str = ""
    """Where the files are published (repository at a commit)."""
    license: str = ""
    rows: int | None = None
    """Rows in the pinned version, for a user to check a download against."""


_SOURCES: dict[str, PublicSource] = {}
_data_dir: Path | None = None


def register_source(source: PublicSource) -> PublicSource:
    """Add a public source (adapters' modules call this at import); a second registration must be identical."""
    old = _SOURCES.get(source.name)
    if old is not None and old != source:
        raise ValueError(f"public source {source.name!r} registered twice with different pins")
    _SOURCES[source.name] = source
    return source


def public_sources() -> dict[str, PublicSource]:
    """Every registered public source by name."""
    import alignlab.data._public_files  # noqa: F401  (registers the built-in suites' sources)
    from alignlab.data.adapters import adapters

    adapters()  # adapter modules may register the sources of their formats

    return dict(sorted(_SOURCES.items()))


def public_source(name: str) -> PublicSource:
    """The registered source ``name``."""
    sources = public_sources()
    if name not in sources:
        raise DataError(f"no public source named {name!r}", hint="known: " + ", ".join(sources))
    return sources[name]


def set_data_dir(path: str | Path | None) -> None:
    """Use ``path`` as the data directory for this process (``None``: back to ``ALIGNLAB_DATA_DIR``)."""
    global _data_dir
    _data_dir = Path(path).expanduser() if path is not None else None


def data_dir() -> Path | None:
    """The data directory in use: ``set_data_dir``'s, else ``ALIGNLAB_DATA_DIR``'s, else ``None``."""
    if _data_dir is not None:
        return _data_dir
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else None


def local_file(name: str) -> Path | None:
    """The source's file in the data directory, or ``None`` when there is no data directory or no such file."""
    source, root = public_source(name), data_dir()
    if root is None:
        return None
    return next((root / f for f in source.files if (root / f).is_file()), None)


def where_looked(name: str) -> str:
    """Where the data directory would hold source ``name`` (or that none is set), for error messages."""
    source, root = public_source(name), data_dir()
    if root is None:
        return f"no data directory to find {source.files[0]} in ({DATA_DIR_ENV} or --data-dir is not set)"
    return f"no file at {root / source.files[0]}" + (f" (nor {len(source.files) - 1} other layout(s))"
                                                      if len(source.files) > 1 else "")


def hub_source(spec: str) -> PublicSource | None:
    """The registered source whose hub copy is ``spec`` (same name, config and split), if any."""
    from alignlab.data._io import parse_hub

    want = parse_hub(spec)
    return next((s for s in public_sources().values() if s.hub and parse_hub(s.hub) == want), None)


def locate(name: str, path: str | Path | None = None) -> str:
    """Where to read source ``name``: ``path`` if given (it must exist, or be ``hf://``), else its file in the
    data directory, else its pinned hub spec. Raises a one-line ``DataError`` naming every place tried."""
    if path:
        text = str(path)
        if text.startswith("hf://") or Path(text).expanduser().exists():
            return text if text.startswith("hf://") else str(Path(text).expanduser())
        raise DataError(f"{text}: no such file", hint=f"pass the {name} file, or drop path= to look it up")
    source = public_source(name)
    found = local_file(name)
    if found is not None:
        return str(found)
    if source.hub:
        return source.hub
    raise DataError(f"{name}: {where_looked(name)} and no hub copy",
                    hint=f"download it from {source.url or 'its publisher'} into that layout, or pass the "
                    "file to the suite (its path argument)")
