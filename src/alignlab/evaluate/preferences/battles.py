"""Read pairwise battles (alignlab battle records or Chatbot Arena's ``clean_battle`` format) into arrays.

Both formats share ``model_a``, ``model_b`` and ``winner`` (``model_a``, ``model_b``, ``tie``, ``tie (bothbad)``).
Style features for style control come from Arena's ``conv_metadata`` (``sum_assistant_a_tokens``,
``header_count_a``, ``list_count_a``, ``bold_count_a`` and the ``_b`` twins; dict-valued counts are summed) or,
failing that, are counted from ``response_a``/``response_b`` text. A file is a JSON array or JSONL, optionally
gzipped. This reader is deliberately independent of ``alignlab.data`` so ratings work on raw exports.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alignlab.errors import DataError
from alignlab.files import decode, read_bytes

WINNERS: dict[str, float] = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}
"""``winner`` value -> score of model_a (a tie is half a win each way)."""
STYLE_FEATURES: tuple[str, ...] = ("length", "headers", "lists", "bold")
"""Style features, in column order of ``Battles.style_a``/``style_b``."""
_ARENA_KEYS = ("sum_assistant_{s}_tokens", "header_count_{s}", "list_count_{s}", "bold_count_{s}")

# Markdown element counts in the spirit of Arena's conv_metadata (written by hand: no library counts these).
_HEADER = re.compile(r"^#{1,6}\s", re.M)
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s", re.M)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")


@dataclass(frozen=True)
class Battles:
    """Battles as parallel arrays, one row per battle."""

    models: tuple[str, ...]
    """Model names; ``a`` and ``b`` index into it."""
    a: np.ndarray
    """(n,) int: index of model_a."""
    b: np.ndarray
    """(n,) int: index of model_b."""
    outcome: np.ndarray
    """(n,) float: 1 if model_a won, 0 if model_b won, 0.5 for a tie."""
    style_a: np.ndarray
    """(n, 4) float: model_a's response length (tokens), markdown headers, list items, bold spans; NaN if unknown."""
    style_b: np.ndarray
    """(n, 4) float: the same for model_b."""
    where: tuple[str, ...] = ()
    """``FILE:LINE`` of each battle, for error messages (empty for in-memory records)."""

    def __len__(self) -> int:
        return int(self.a.size)

    @property
    def has_style(self) -> bool:
        """Whether every battle carries style features."""
        return bool(len(self)) and not (np.isnan(self.style_a).any() or np.isnan(self.style_b).any())

    def counts(self) -> np.ndarray:
        """(M,) battles per model."""
        m = len(self.models)
        return np.bincount(self.a, minlength=m) + np.bincount(self.b, minlength=m)

    def win_rates(self) -> np.ndarray:
        """(M,) share of each model's battles it won, ties counting half."""
        m = len(self.models)
        won = np.bincount(self.a, self.outcome, m) + np.bincount(self.b, 1.0 - self.outcome, m)
        return won / np.maximum(self.counts(), 1)


def _count(value: Any) -> float:
    if isinstance(value, Mapping):  # Arena stores e.g. {"h1": 0, "h2": 3} or {"ordered": 1, "unordered": 2}
        return float(sum(float(v) for v in value.values()))
    return float(value)


def text_style(text: str) -> list[float]:
    """Style features of one response: whitespace tokens, markdown headers, list items, bold spans."""
    return [float(len(text.split())), float(len(_HEADER.findall(text))), float(len(_LIST.findall(text))),
            float(len(_BOLD.findall(text)))]


def _style(rec: Mapping[str, Any], side: str, where: str) -> list[float]:
    meta = rec.get("conv_metadata")
    if isinstance(meta, Mapping):
        keys = [k.format(s=side) for k in _ARENA_KEYS]
        if all(k in meta for k in keys):
            try:
                return [_count(meta[k]) for k in keys]
            except (TypeError, ValueError):
                raise DataError(f"{where}: field 'conv_metadata': style counts must be numbers or dicts of "
                                "numbers") from None
    text = rec.get(f"response_{side}")
    if isinstance(text, str):
        return text_style(text)
    return [np.nan] * len(STYLE_FEATURES)


def _check(rec: Any, w: str) -> None:
    """Raise the DataError that says what is wrong with battle record ``rec`` (at ``w``, FILE:LINE)."""
    if not isinstance(rec, Mapping):
        raise DataError(f"{w}: expected a JSON object, got {type(rec).__name__}")
    names = []
    for field in ("model_a", "model_b"):
        name = rec.get(field)
        if not isinstance(name, str) or not name:
            raise DataError(f"{w}: field '{field}': expected a model name, got {name!r}")
        names.append(name)
    if names[0] == names[1]:
        raise DataError(f"{w}: field 'model_b': a model cannot battle itself ({names[0]!r})")
    winner = rec.get("winner")
    if not isinstance(winner, str) or winner not in WINNERS:
        raise DataError(f"{w}: field 'winner': expected one of {', '.join(map(repr, WINNERS))}, got {winner!r}")


def battles_from_records(records: Iterable[Mapping[str, Any]], source: str = "<records>",
                         lines: Iterable[int] | None = None) -> Battles:
    """Validate battle records and turn them into ``Battles``; bad rows raise ``DataError`` naming FILE:LINE."""
    line_list = list(lines) if lines is not None else None

    def where(k: int) -> str:
        return f"{source}:{line_list[k] if line_list is not None else k + 1}"

    index: dict[str, int] = {}
    a: list[int] = []
    b: list[int] = []
    out: list[float] = []
    styled: list[int] = []
    sa: list[list[float]] = []
    sb: list[list[float]] = []
    # One pass, checks inlined: 200k battles are read on every `alignlab ratings`; _check names the fault.
    for k, rec in enumerate(records):
        try:
            na, nb, score = rec["model_a"], rec["model_b"], WINNERS[rec["winner"]]
            ok = type(na) is str and type(nb) is str and na != nb and bool(na) and bool(nb)
        except (KeyError, TypeError, IndexError):
            ok = False
        if not ok or not isinstance(rec, Mapping):
            _check(rec, where(k))
        ia = index.get(na)
        if ia is None:
            ia = index[na] = len(index)
        ib = index.get(nb)
        if ib is None:
            ib = index[nb] = len(index)
        a.append(ia)
        b.append(ib)
        out.append(score)
        if "conv_metadata" in rec or "response_a" in rec or "response_b" in rec:
            w = where(k)
            styled.append(k)
            sa.append(_style(rec, "a", w))
            sb.append(_style(rec, "b", w))
    n = len(a)
    style_a = np.full((n, len(STYLE_FEATURES)), np.nan)
    style_b = np.full((n, len(STYLE_FEATURES)), np.nan)
    if styled:
        style_a[styled] = np.asarray(sa, dtype=float)
        style_b[styled] = np.asarray(sb, dtype=float)
    return Battles(
        models=tuple(index), a=np.asarray(a, dtype=np.int64), b=np.asarray(b, dtype=np.int64),
        outcome=np.asarray(out, dtype=float), style_a=style_a, style_b=style_b,
        where=tuple(where(k) for k in range(n)),
    )


def _json_array(text: str, source: str) -> tuple[list[Any], list[int]]:
    """Decode a JSON array element by element so each element keeps the line it starts on."""
    dec = json.JSONDecoder()
    newlines = [m.start() for m in re.finditer("\n", text)]
    items: list[Any] = []
    starts: list[int] = []
    ws = re.compile(r"[\s,]*")
    pos = ws.match(text, text.index("[") + 1).end()
    while pos < len(text) and text[pos] != "]":
        try:
            obj, end = dec.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise DataError(f"{source}:{bisect.bisect_right(newlines, exc.pos) + 1}: invalid JSON: {exc.msg}") from None
        items.append(obj)
        starts.append(bisect.bisect_right(newlines, pos) + 1)
        pos = ws.match(text, end).end()
    if pos >= len(text):
        raise DataError(f"{source}:{len(newlines) + 1}: invalid JSON: unterminated array")
    return items, starts


def read_battles(path: str | Path) -> Battles:
    """Read battles from a JSON array or JSONL file (gzip too) in alignlab's or Chatbot Arena's format.

    Parsed with orjson (a JSONL file line by line); anything unreadable is a ``DataError`` naming file and line.
    """
    import orjson

    p = Path(path)
    data = read_bytes(p)
    if data.lstrip()[:1] == b"[":
        try:
            items = orjson.loads(data)
        except orjson.JSONDecodeError:
            items = None
        if isinstance(items, list):
            try:
                return _nonempty(battles_from_records(items, str(p)), p)
            except DataError:  # report the fault by line, not by element number
                pass
        items, lines = _json_array(decode(data, p), str(p))  # slower, and names the line of any fault
        return _nonempty(battles_from_records(items, str(p), lines), p)
    items, lines = [], []
    loads = orjson.loads
    for lineno, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(loads(line))
        except orjson.JSONDecodeError as exc:
            decode(data, p)  # bytes that are not UTF-8: says so, naming their line
            raise DataError(f"{p}:{lineno}: invalid JSON: {str(exc).split(':')[0]}") from None
        lines.append(lineno)
    return _nonempty(battles_from_records(items, str(p), lines), p)


def _nonempty(battles: Battles, p: Path) -> Battles:
    if not len(battles):
        raise DataError(f"{p}: no battles found", hint="expected a JSON array or JSONL of {model_a, model_b, winner}")
    return battles
