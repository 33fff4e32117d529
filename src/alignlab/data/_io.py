"""Read rows from JSONL, JSON, CSV/TSV, Parquet (gzip too), Hugging Face datasets; write records atomically.

Readers stream: JSONL and CSV line by line, Parquet in record batches, hub datasets with ``streaming=True``. Only a
JSON array is read whole. A row that cannot be parsed comes through as a ``BadRow`` in its place, so the caller
decides whether to stop or to skip it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from alignlab.errors import DataError
from alignlab.files import (
    GZIP_ERRORS,
    decode,
    first_bad_utf8_line,
    gzip_problem,
    open_binary,
    remove_stale_temps,
    temp_path,
)

TEXT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv"}
READ_FORMATS = {**TEXT_FORMATS, ".parquet": "parquet", ".pq": "parquet"}
WRITE_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
_BATCH = 2048
csv.field_size_limit(sys.maxsize)  # long completions exceed csv's 128 KiB default


class BadRow(Exception):
    """A row that could not be parsed; carries the parser's exception."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True)
class Part:
    """One file (or hub split) of a source: ``rows()`` yields ``(number, row or BadRow)``; numbers are lines
    (``unit == "line"``) or 1-based rows."""

    name: str
    format: str
    unit: str = "line"
    csv_columns: tuple[str, ...] | None = None
    hub: tuple[str, str | None, str] | None = None

    def where(self, n: int) -> str:
        return f"{self.name}:{n}" if self.unit == "line" else f"{self.name}:row {n}"

    def rows(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        return _readable(self.name, getattr(self, f"_rows_{self.format}")())

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Non-blank lines of a JSON-lines file, undecoded, with their numbers (a byte-order mark dropped)."""
        return _readable(self.name, self._lines())

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        with _open_binary(self.name) as fh:
            for n, raw in enumerate(fh, 1):
                if len(raw) < 3 and not raw.strip():
                    continue  # blank lines (often a trailing one) are not rows
                # Without its line break, a parser's "unexpected end" points into the line, not past it.
                raw = raw.rstrip(b"\r\n")
                yield n, raw.removeprefix(b"\xef\xbb\xbf") if n == 1 else raw

    def _rows_jsonl(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        loads = json.loads
        for n, raw in self.lines():
            try:
                # Decoding first spares json.loads its per-call encoding detection (a quarter of its time).
                row = loads(raw.decode("utf-8"))
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                yield n, BadRow(exc)
                continue
            yield n, row if isinstance(row, dict) else BadRow(TypeError(
                f"expected a JSON object, got {type(row).__name__}"))

    def _rows_json(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        with _open_binary(self.name) as fh:
            head = fh.read(1 << 16).removeprefix(b"\xef\xbb\xbf")
            first = head.lstrip()[:1]
            if first != b"[" and _parses(head.lstrip().split(b"\n", 1)[0]):
                jsonl = True  # JSON lines in a .json file, as many hub datasets name them
            else:
                jsonl = False
                text = decode(head + fh.read(), self.name, "utf-8-sig")
        if jsonl:
            yield from Part(self.name, "jsonl")._rows_jsonl()
        elif first == b"[":
            yield from _json_array(text)
        else:
            yield from enumerate(_single_json(text, self.name), 1)

    def _rows_csv(self, delimiter: str = ",") -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        with _open_text(self.name) as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            header = list(self.csv_columns) if self.csv_columns else next(reader, None)
            if header is None:
                return
            end = reader.line_num
            for cells in reader:
                start, end = end + 1, reader.line_num  # a quoted cell may span lines: report where the row starts
                if not cells:
                    continue
                if len(cells) != len(header):
                    yield start, BadRow(ValueError(f"expected {len(header)} columns, got {len(cells)}"))
                    continue
                # An empty cell is a missing value, so optional fields stay unset; lists and objects were written
                # into cells as JSON (see _write_csv) and are decoded back.
                yield start, {k: _cell(v) for k, v in zip(header, cells, strict=True) if v != ""}

    def _rows_tsv(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        return self._rows_csv(delimiter="\t")

    def _rows_parquet(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        n = 0
        try:
            file = pq.ParquetFile(self.name)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{self.name}: not a readable Parquet file ({exc})") from None
        for batch in file.iter_batches(batch_size=_BATCH):
            for row in batch.to_pylist():
                n += 1
                yield n, row

    def _rows_hub(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        assert self.hub is not None
        for n, row in enumerate(_load_hub(self.name), 1):
            yield n, dict(row)

    def _rows_saved(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        import datasets

        assert self.hub is not None
        ds = datasets.load_from_disk(self.name)
        if isinstance(ds, datasets.DatasetDict):
            split = self.hub[2]
            if split not in ds:
                raise DataError(f"{self.name}: no split {split!r}", hint="splits: " + ", ".join(ds))
            ds = ds[split]
        for n, row in enumerate(ds, 1):
            yield n, dict(row)


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _cell(value: str) -> Any:
    if value[0] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            pass  # text that merely starts with a bracket
    return value


def _single_json(text: str, name: str) -> list[dict[str, Any]]:
    """Rows of a file holding one JSON value: an object of rows (``{"data": [...]}``) or one row."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{name}:{exc.lineno}: invalid JSON at column {exc.colno}: {exc.msg}") from exc
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        return lists[0] if len(value) == 1 and lists else [value]
    raise DataError(f"{name}: expected a JSON array or object of rows", hint="write one JSON object per row")


def _json_array(text: str) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Items of a JSON array with the line each starts on (decoded item by item to know where it is)."""
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    line, counted = 1, 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            item, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield line, BadRow(exc)
            return  # an array cannot be resynchronised after a syntax error
        yield line, item if isinstance(item, dict) else BadRow(TypeError(
            f"expected a JSON object, got {type(item).__name__}"))
        pos = end


_open_binary = open_binary


def _readable(name: str, items: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """``items`` with a cut-off or corrupt gzip stream, or text that is not UTF-8 where it is decoded as a stream
    (CSV), turned into one ``DataError`` naming the file and line."""
    n = 0
    try:
        for n, item in items:
            yield n, item
    except GZIP_ERRORS as exc:
        raise DataError(f"{name}:{n + 1}: {gzip_problem(exc)}", hint="download or write the file again") from None
    except UnicodeDecodeError as exc:
        bad = first_bad_utf8_line(name)
        line, exc = bad if bad else (n + 1, exc)
        raise DataError(f"{name}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start} of the line)",
                        hint="save the file as UTF-8") from None


def _open_text(path: str | Path) -> IO[str]:
    # utf-8-sig: files written by spreadsheet programs (TruthfulQA's CSV) start with a byte-order mark.
    return io.TextIOWrapper(_open_binary(path), encoding="utf-8-sig", newline="")


def _format_of(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return READ_FORMATS.get(suffixes[-1]) if suffixes else None


def parse_hub(spec: str) -> tuple[str, str | None, str]:
    """``hf://NAME[:CONFIG][@SPLIT][#REVISION]`` → (name, config, split); the split defaults to ``train``
    (the revision is ``hub_revision``'s)."""
    body = spec.removeprefix("hf://").partition("#")[0]
    body, _, split = body.partition("@")
    name, _, config = body.partition(":")
    if not name:
        raise DataError(f"no dataset name in {spec!r}", hint="write hf://NAME[:CONFIG][@SPLIT]")
    return name, config or None, split or "train"


def hub_revision(spec: str) -> str | None:
    """The revision to read ``spec`` at: its ``#REVISION``, else the pin of the public source with that hub copy."""
    _, _, rev = spec.partition("#")
    if rev:
        return rev
    from alignlab.data._sources import hub_source

    source = hub_source(spec)
    return source.revision if source is not None else None


def _load_hub(spec: str) -> Iterator[dict[str, Any]]:
    name, config, split = parse_hub(spec)
    revision = hub_revision(spec)
    try:
        import datasets
    except ImportError as exc:
        raise DataError("reading hf:// needs the 'datasets' package", hint="pip install datasets") from exc
    try:
        # Streaming reads rows as they come; offline, datasets serves them from its local cache of the dataset.
        yield from datasets.load_dataset(name, config, split=split, streaming=True, revision=revision)
    except Exception as exc:  # hub, network and config errors all come here; say where else we looked
        from alignlab.data._sources import hub_source, where_looked

        source = hub_source(spec)
        tried = (f"{source.name}: {where_looked(source.name)}; hub copy " if source is not None else "")
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{tried}hf://{name}{':' + config if config else ''}@{split}"
            f"{' at revision ' + revision if revision else ''} could not be read: {why}",
            hint="check the name, config and split, or download the files into the data directory (--data-dir) "
                 "or pass the file's path",
        ) from exc


def open_source(spec: str | Path, csv_columns: tuple[str, ...] | None = None) -> list[Part]:
    """The parts of a source: a file, a directory of data files, a ``save_to_disk`` directory, or ``hf://``."""
    text = str(spec)
    if text.startswith("hf://"):
        hub = parse_hub(text)
        return [Part(text, "hub", unit="row", hub=hub)]
    path = Path(text)
    split = "train"
    if not path.exists() and "@" in path.name:  # DIR@SPLIT for a saved DatasetDict
        path, split = Path(text.rsplit("@", 1)[0]), text.rsplit("@", 1)[1]
    if not path.exists():
        raise DataError(f"no such file: {text}")
    if path.is_dir():
        if (path / "dataset_dict.json").exists() or (path / "state.json").exists():
            return [Part(str(path), "saved", unit="row", hub=(str(path), None, split))]
        files = sorted(p for p in path.rglob("*") if p.is_file() and _format_of(p) and ".cache" not in p.parts)
        if not files:
            raise DataError(f"{path}: no data files", hint="expected .jsonl, .json, .csv, .tsv or .parquet files")
        return [p for f in files for p in open_source(f, csv_columns)]
    fmt = _format_of(path)
    if fmt is None:
        raise DataError(f"{path}: unknown file type", hint="use .jsonl, .json, .csv, .tsv or .parquet (+ .gz)")
    return [Part(str(path), fmt, unit="row" if fmt == "parquet" else "line", csv_columns=csv_columns)]


def _out_format(path: Path) -> tuple[str, bool]:
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes.pop()
    fmt = WRITE_FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None or (gz and fmt == "parquet"):
        raise DataError(f"{path}: cannot write this file type", hint="use .jsonl, .json, .csv or .parquet (+ .gz)")
    return fmt, gz


def write_records(records: Iterable[Any], path: str | Path) -> int:
    """Write records (or plain dicts) to ``path`` — JSONL, JSON, CSV (gzip by ``.gz``) or Parquet — atomically:
    a temporary file beside it replaces it only when all went well. ``None`` fields are left out. Returns the
    number written."""
    path = Path(path)
    fmt, gz = _out_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)  # a killed earlier write's leftover
    tmp = temp_path(path)
    try:
        if fmt == "parquet":
            n = _write_parquet(records, tmp)
        else:
            raw = gzip.open(tmp, "wb", compresslevel=6) if gz else open(tmp, "wb")
            with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh:  # type: ignore[arg-type]
                n = {"jsonl": _write_jsonl, "json": _write_json, "csv": _write_csv}[fmt](records, fh)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n


def _json_line(record: Any) -> str:
    if isinstance(record, dict):
        return json.dumps(record, ensure_ascii=False)
    return record.model_dump_json(exclude_none=True)  # serialised in pydantic-core: the fast path


def _write_jsonl(records: Iterable[Any], fh: IO[str]) -> int:
    n, buf = 0, []
    for record in records:
        buf.append(_json_line(record))
        n += 1
        if len(buf) >= _BATCH:
            fh.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        fh.write("\n".join(buf) + "\n")
    return n


def _write_json(records: Iterable[Any], fh: IO[str]) -> int:
    n = 0
    fh.write("[")
    for record in records:
        fh.write(("\n" if n == 0 else ",\n") + _json_line(record))
        n += 1
    fh.write("\n]\n")
    return n


def _plain(record: Any) -> dict[str, Any]:
    return record if isinstance(record, dict) else record.model_dump(mode="json", exclude_none=True)


def _write_csv(records: Iterable[Any], fh: IO[str]) -> int:
    writer: csv.DictWriter[str] | None = None
    n = 0
    for record in records:
        row = _plain(record)
        if writer is None:
            fields = list(type(record).model_fields) if not isinstance(record, dict) else list(row)
            writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="raise")
            writer.writeheader()
        # Lists and objects go into cells as JSON; readers decode them back (see Part._rows_csv).
        writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                         for k, v in row.items()})
        n += 1
    return n


def _write_parquet(records: Iterable[Any], tmp: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    n, buf = 0, []

    def flush() -> None:
        nonlocal writer
        # Columns are the union over the batch (from_pylist would take the first row's keys and drop the rest).
        columns = list(dict.fromkeys(k for row in buf for k in row))
        if writer is not None:
            late = [c for c in columns if c not in writer.schema.names]
            if late:
                raise DataError(f"column {late[0]!r} first appears after row {n - len(buf)}, but Parquet fixes "
                                "its columns with the first rows", hint="write .jsonl instead")
            columns = writer.schema.names
        data = {c: [row.get(c) for row in buf] for c in columns}
        table = pa.Table.from_pydict(data, schema=writer.schema if writer else None)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table)
        buf.clear()

    try:
        for record in records:
            buf.append(_plain(record))
            n += 1
            if len(buf) >= _BATCH:
                flush()
        if buf or writer is None:
            flush()
    finally:
        if writer is not None:
            writer.close()
    return n


def json_lines(text: str, where: str) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of a small JSON-lines text with their line numbers; errors name ``where:line``.

    For files read whole (built-in suite data, benchmark prompt files); large inputs go through ``open_source``.
    """
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}:{n}: expected a JSON object")
        rows.append((n, row))
    return rows
