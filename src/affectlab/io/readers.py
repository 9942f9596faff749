"""Streaming readers for CSV, JSONL, Parquet and TXT files.

Each reader yields blocks of :class:`Row`; a row that cannot be read whole (bad bytes, a malformed
JSON line, a missing cell) still comes out, with what could be kept and an ``error`` naming the line.
Problems with the file itself raise :class:`InputFileError` with one clear sentence.

Every row also says where the next one starts (:class:`Position`), so a reader can later start in
the middle of a file: that is how corpus jobs cut a file into chunks that are read independently.
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


@dataclass(frozen=True)
class Position:
    """Where reading resumes: ``offset`` is a byte offset (a row index for Parquet), ``consumed`` the
    number of lines (txt, jsonl), records (csv) or rows (Parquet) before it."""

    offset: int = 0
    consumed: int = 0


START = Position()


def is_missing(cell: object) -> bool:
    """A cell that holds no value: None, a NaN (float or NumPy), or pandas' NaT and NA."""
    if cell is None:
        return True
    try:
        return bool(cell != cell)  # NaN and NaT are the values unequal to themselves
    except (TypeError, ValueError):  # pandas' NA answers NA, which has no truth value
        return type(cell).__name__ == "NAType"


@dataclass
class Row:
    number: int  # 1-based data row (line for txt/jsonl, record for csv/parquet)
    record: dict[str, object]  # every column the user gave, kept for the output
    text: object  # the cell to analyze, as read
    error: str | None = None
    after: Position | None = None  # where the next row starts


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


class _TrackedLines:
    """The physical lines of an open binary file from ``start``, counting bytes and lines as they go."""

    def __init__(self, handle: io.BufferedReader, start: Position) -> None:
        handle.seek(start.offset)
        self.handle = handle
        self.offset = start.offset
        self.lines = start.consumed

    def __iter__(self) -> Iterator[bytes]:
        for raw in self.handle:
            self.offset += len(raw)
            self.lines += 1
            yield raw

    @property
    def position(self) -> Position:
        return Position(self.offset, self.lines)


def _txt_rows(table: Table, start: Position) -> Iterator[Row]:
    with table.path.open("rb") as handle:
        lines = _TrackedLines(handle, start)
        for raw in lines:
            number = lines.lines
            text, error = _decode(raw.rstrip(b"\r\n"), f"line {number}")
            yield Row(number, {"text": text}, None if error else text, error, lines.position)


def _jsonl_rows(table: Table, start: Position) -> Iterator[Row]:
    with table.path.open("rb") as handle:
        lines = _TrackedLines(handle, start)
        for raw in lines:
            if raw.strip():
                yield _jsonl_row(table, lines.lines, raw.rstrip(b"\r\n"), lines.position)


def _jsonl_row(table: Table, number: int, raw: bytes, after: Position) -> Row:
    line, error = _decode(raw, f"line {number}")
    if error:
        return Row(number, {table.text_column: line}, None, error, after)
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return Row(number, {table.text_column: line}, None, f"line {number}: not valid JSON ({exc.msg})", after)
    if not isinstance(record, dict):
        return Row(number, {table.text_column: line}, None, f"line {number}: expected a JSON object", after)
    if table.text_column not in record:
        return Row(number, record, None, f"line {number}: no field {table.text_column!r}", after)
    return Row(number, record, record[table.text_column], None, after)


def _csv_rows(table: Table, start: Position) -> Iterator[Row]:
    delimiter = "\t" if table.path.suffix.lower() == ".tsv" else ","
    with table.path.open("rb") as handle:
        lines = _TrackedLines(handle, START)
        # surrogateescape keeps undecodable bytes visible per cell instead of failing the whole file;
        # csv.reader takes one line at a time and never reads past a record, so lines.offset stays exact
        reader = csv.reader((raw.decode("utf-8", "surrogateescape") for raw in lines), delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise InputFileError(f"{table.path}: the file is empty")
        header = [h.lstrip("\ufeff") for h in header]
        _require_column(table, header)
        table.columns = header
        if start.offset > lines.offset:
            lines = _TrackedLines(handle, start)
            reader = csv.reader((raw.decode("utf-8", "surrogateescape") for raw in lines), delimiter=delimiter)
        for number, cells in enumerate(reader, start.consumed + 1):
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
            text = None if error else record[table.text_column]
            yield Row(number, record, text, error, Position(lines.offset, number))


def open_parquet(path: Path, text_column: str):
    """A ``pyarrow.parquet.ParquetFile`` that has ``text_column``, or :class:`InputFileError` saying why not."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for corrupt or foreign files
        raise InputFileError(f"{path}: not a readable Parquet file ({exc})") from exc
    _require_column(Table(Path(path), "parquet", text_column), parquet.schema_arrow.names)
    return parquet


def _parquet_rows(table: Table, block_size: int, start: Position) -> Iterator[Row]:
    parquet = open_parquet(table.path, table.text_column)
    table.columns = list(parquet.schema_arrow.names)
    groups, skip, first = [], start.offset, 0
    for index in range(parquet.metadata.num_row_groups):
        size = parquet.metadata.row_group(index).num_rows
        if first + size > start.offset:
            groups.append(index)
        elif groups == []:
            skip -= size
        first += size
    number = start.offset
    try:
        for batch in parquet.iter_batches(batch_size=block_size, row_groups=groups):
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            for record in batch.slice(skip).to_pylist():
                number += 1
                yield Row(number, record, record[table.text_column], None, Position(number, number))
            skip = 0
    except OSError as exc:
        raise InputFileError(f"{table.path}: Parquet data is corrupt after row {number} ({exc})") from exc


def _require_column(table: Table, columns: list[str]) -> None:
    if table.text_column not in columns:
        raise InputFileError(
            f"{table.path}: no column {table.text_column!r}; columns are: {', '.join(map(str, columns))}"
        )


def read_rows(
    path: Path, text_column: str = "text", block_size: int = 1024, start: Position = START
) -> Iterator[list[Row]]:
    """Yield the rows of ``path`` in blocks of ``block_size``, from ``start`` (a row's ``after``)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    fmt = detect_format(path)
    table = Table(path, fmt, "text" if fmt == "txt" else text_column)
    try:
        rows = {
            "txt": lambda: _txt_rows(table, start),
            "jsonl": lambda: _jsonl_rows(table, start),
            "csv": lambda: _csv_rows(table, start),
            "parquet": lambda: _parquet_rows(table, block_size, start),
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
