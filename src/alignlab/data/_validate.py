"""Say what is wrong with a row in one line: the field, what was expected and what came instead."""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from alignlab.data._records import Message, Record

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "an object",
               list: "a list", type(None): "null"}
_PLURALS = {str: "strings", int: "integers", float: "numbers", bool: "booleans", dict: "objects", Message: "messages"}


class RowError(ValueError):
    """A source row that does not fit its format. ``field`` is the source's column, ``expected`` a phrase."""

    def __init__(self, field: str | None, expected: str, got: Any = ..., detail: str | None = None) -> None:
        self.field, self.expected = field, expected
        # No value given: the field is missing (or, for a whole-row problem, there is nothing to show).
        self.got = ("missing" if field else None) if got is ... else describe_value(got)
        self.detail = detail
        super().__init__(str(self))

    @property
    def key(self) -> str:
        """The problem without row-specific detail, to count like problems together."""
        where = f"field '{self.field}'" if self.field else "row"
        return f"{where}: {self.got}" if self.got == "missing" else f"{where}: expected {self.expected}"

    def __str__(self) -> str:
        where = f"field '{self.field}'" if self.field else "row"
        if self.got == "missing":
            msg = f"{where}: missing (expected {self.expected})"
        elif self.got is None:
            msg = f"{where}: expected {self.expected}"
        else:
            msg = f"{where}: expected {self.expected}, got {self.got}"
        return f"{msg}: {self.detail}" if self.detail else msg


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one row was rejected: ``key`` groups like problems in a report, ``message`` is the full line."""

    key: str
    message: str


def describe_value(value: Any) -> str:
    """``5`` → ``an integer (5)``; short enough for one line."""
    name = _TYPE_NAMES.get(type(value), type(value).__name__)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = repr(value)
        return f"{name} ({text[:40] + '…' if len(text) > 40 else text})"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return name


def describe_type(annotation: Any) -> str:
    """A type annotation as a phrase: ``str | list[Message]`` → ``a string or a list of messages``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe_type(a) for a in args if a is not type(None))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is list:
        inner = args[0] if args else Any
        if inner in _PLURALS:
            return f"a list of {_PLURALS[inner]}"
        if typing.get_origin(inner) in (typing.Union, types.UnionType):
            return "a list whose items are each " + describe_type(inner)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return f"a list of objects with {_fields(inner)}"
        return "a list"
    if origin is dict:
        return "an object"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"an object with {_fields(annotation)}"
    return _TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _fields(model: type[BaseModel]) -> str:
    return ", ".join(f"'{n}'" for n, f in model.model_fields.items() if f.is_required()) or "its fields"


def _is_tag(part: Any) -> bool:
    # Pydantic names union members and validators in error locations ("str", "list[Message]", "function-after[…]").
    return isinstance(part, str) and (
        "[" in part or part in ("str", "int", "float", "bool", "dict", "list", "none", "Message", "nullable")
    )


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if _is_tag(part):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _from_pydantic(exc: ValidationError, model: type[BaseModel] | None) -> Problem:
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":  # from model_validate_json
        reason = str(first.get("ctx", {}).get("error", first["msg"])).replace("at line 1 column", "at column")
        return Problem("invalid JSON", f"invalid JSON: {reason} (expected one JSON object)")
    if first["type"] == "model_type" and not first["loc"]:
        return Problem("not a JSON object", f"expected a JSON object, got {describe_value(first.get('input'))}")
    field = next((p for p in first["loc"] if not _is_tag(p)), None) if first["loc"] else None
    if field is None:  # a model-level check: its message names the fields
        msg = first["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return Problem(msg, msg)
    same = [e for e in errors if e["loc"] and e["loc"][0] == field]
    # A union field fails once per member; the deepest location is the member the input was meant to be.
    best = max(same, key=lambda e: len(_path(e["loc"])))
    path = _path(best["loc"])
    info = model.model_fields.get(str(field)) if model is not None else None
    if best["type"] == "missing":
        expected = describe_type(info.annotation) if info is not None and path == field else "a value"
        return Problem(f"field '{path}': missing", f"field '{path}': missing (expected {expected})")
    ctx = best.get("ctx") or {}
    got = describe_value(best.get("input"))
    if best["type"] in ("too_short", "too_long"):  # a length constraint, not a type: say the bound
        bound = ctx.get("min_length") if best["type"] == "too_short" else ctx.get("max_length")
        expected = f"{'at least' if best['type'] == 'too_short' else 'at most'} {bound} items"
        got = f"{ctx.get('actual_length')}"
    elif path == field and info is not None and best["type"].endswith("_type"):
        expected = describe_type(info.annotation)
    else:
        expected = best["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
    return Problem(f"field '{path}': expected {expected}", f"field '{path}': expected {expected}, got {got}")


def describe_error(exc: BaseException, model: type[BaseModel] | None = None) -> Problem:
    """One line saying what is wrong with a row, from whatever the reader, adapter or model raised."""
    if isinstance(exc, ValidationError):
        return _from_pydantic(exc, model)
    if isinstance(exc, RowError):
        return Problem(exc.key, str(exc))
    if isinstance(exc, json.JSONDecodeError):
        # A JSON line is parsed with its newline, so an unterminated object fails on the "next" line.
        if exc.lineno == 1:
            at = f"column {exc.colno}"
        elif exc.pos >= len(exc.doc.rstrip()):
            at = "end of line"
        else:
            at = f"line {exc.lineno}, column {exc.colno}"
        return Problem("invalid JSON", f"invalid JSON at {at}: {exc.msg} (expected one JSON object)")
    if isinstance(exc, KeyError):
        return Problem(f"field {exc.args[0]!r}: missing", f"field {exc.args[0]!r}: missing")
    if isinstance(exc, UnicodeDecodeError):
        return Problem("not UTF-8", f"expected UTF-8 text: {exc.reason} at byte {exc.start}")
    msg = str(exc) or type(exc).__name__
    return Problem(msg if len(msg) < 80 else type(exc).__name__, msg)


def validate_row(cls: type[Record], row: dict[str, Any]) -> Record:
    """``cls`` built from ``row``; raises ``ValidationError`` (see ``describe_error``)."""
    return cls.model_validate(row)
