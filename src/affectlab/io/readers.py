"""Streaming readers for CSV, JSONL, Parquet and TXT files.

Each reader yields blocks of :class:`Row`; a row that cannot be read whole (bad bytes, a malformed
JSON line, a missing cell) still comes out, with what could be kept and an ``error`` naming the line.
Problems with the file itself raise :class:`InputFileError` with one clear sentence.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from affectlab.errors import AffectlabError

FORMATS = ("csv", "jsonl", "parquet", "txt")


class InputFileError(AffectlabError, ValueError):
    """The input file as a whole cannot be read: missing, unreadable, wrong format, no such column."""


@dataclass
class Row:
    number: int  # 1-based data row (line for txt/jsonl, record for csv/parquet)
    record: dict[str, object]  # every column the user gave, kept for the output
    text: object  # the cell to analyze, as read
    error: str | None = None


@dataclass
class Table:
    path: Path
    format: str
    text_column: str
    columns: list[str] = field(default_factory=list)


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    aliases = {"tsv": "csv", "json": "jsonl", "ndjson": "jsonl", "pq": "parquet", "text": "txt"}
    fmt = aliases.get(suffix, suffix)
    if fmt not in FORMATS:
        raise InputFileError(f"{path}: unknown format {suffix!r}; use one of .csv, .jsonl, .parquet, .txt")
    return fmt


def _decode(raw: bytes, where: str) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        return raw.decode("utf-8", errors="replace"), f"{where}: not valid UTF-8 (byte 0x{bad} at offset {exc.start})"


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            yield number, raw.rstrip(b"\r\n")


def _txt_rows(table: Table) -> Iterator[Row]:
    for number, raw in _lines(table.path):
        text, error = _decode(raw, f"line {number}")
        yield Row(number, {"text": text}, None if error else text, error)


def _jsonl_rows(table: Table) -> Iterator[Row]:
    for number, raw in _lines(table.path):
        if not raw.strip():
            continue
        line, error = _decode(raw, f"line {number}")
        if error:
            yield Row(number, {table.text_column: line}, None, error)
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Row(number, {table.text_column: line}, None, f"line {number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            yield Row(number, {table.text_column: line}, None, f"line {number}: expected a JSON object")
            continue
        if table.text_column not in record:
            yield Row(number, record, None, f"line {number}: no field {table.text_column!r}")
            continue
        yield Row(number, record, record[table.text_column])


def _csv_rows(table: Table) -> Iterator[Row]:
    delimiter = "\t" if table.path.suffix.lower() == ".tsv" else ","
    with table.path.open("rb") as handle:
        # surrogateescape keeps undecodable bytes visible per cell instead of failing the whole file
        text_stream = io.TextIOWrapper(handle, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(text_stream, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise InputFileError(f"{table.path}: the file is empty")
        header = [h.lstrip("\ufeff") for h in header]
        _require_column(table, header)
        table.columns = header
        for number, cells in enumerate(reader, 1):
            if not cells:
                continue
            error = None
            if len(cells) != len(header):
                error = f"row {number}: {len(cells)} cells where the header has {len(header)}"
            repaired = []
            for cell in cells:
                fixed = cell.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                if fixed != cell and error is None:
                    error = f"row {number}: not valid UTF-8"
                repaired.append(fixed)
            record: dict[str, object] = dict(zip(header, repaired + [None] * (len(header) - len(repaired))))
            if len(repaired) > len(header):
                record["_extra_cells"] = json.dumps(repaired[len(header) :])
            yield Row(number, record, None if error else record[table.text_column], error)


def _parquet_rows(table: Table, block_size: int) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(table.path)
    except Exception as exc:  # pyarrow raises several types for corrupt or foreign files
        raise InputFileError(f"{table.path}: not a readable Parquet file ({exc})") from exc
    _require_column(table, parquet.schema_arrow.names)
    table.columns = list(parquet.schema_arrow.names)
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=block_size):
            for record in batch.to_pylist():
                number += 1
                yield Row(number, record, record[table.text_column])
    except OSError as exc:
        raise InputFileError(f"{table.path}: Parquet data is corrupt after row {number} ({exc})") from exc


def _require_column(table: Table, columns: list[str]) -> None:
    if table.text_column not in columns:
        raise InputFileError(
            f"{table.path}: no column {table.text_column!r}; columns are: {', '.join(map(str, columns))}"
        )


def read_rows(path: Path, text_column: str = "text", block_size: int = 1024) -> Iterator[list[Row]]:
    """Yield the rows of ``path`` in blocks of ``block_size``."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    fmt = detect_format(path)
    table = Table(path, fmt, "text" if fmt == "txt" else text_column)
    try:
        rows = {
            "txt": lambda: _txt_rows(table),
            "jsonl": lambda: _jsonl_rows(table),
            "csv": lambda: _csv_rows(table),
            "parquet": lambda: _parquet_rows(table, block_size),
        }[fmt]()
        block: list[Row] = []
        for row in rows:
            block.append(row)
            if len(block) == block_size:
                yield block
                block = []
        if block:
            yield block
    except PermissionError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror})") from exc
    except csv.Error as exc:
        raise InputFileError(f"{path}: not a readable CSV file ({exc})") from exc


def count_rows(path: Path) -> int | None:
    """A quick row count for progress bars (None where it is not cheap to know)."""
    path = Path(path)
    fmt = detect_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows
        except Exception:
            return None
    with path.open("rb") as handle:
        lines = sum(1 for _ in handle)
    return lines - 1 if fmt == "csv" else lines
