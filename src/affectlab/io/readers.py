"""Streaming readers for CSV, JSONL, Parquet and TXT files.

Each reader yields blocks of :class:`Row`; a row that cannot be read whole (bad bytes, a malformed
JSON line, a missing cell) still comes out, with what could be kept and an ``error`` naming the line.
Problems with the file itself raise :class:`InputFileError` with one clear sentence.

Every row also says where the next one starts (:class:`Position`), so a reader can later start in
the middle of a file: that is how corpus jobs cut a file into chunks that are read independently.

Text files (CSV, JSONL, TXT) are UTF-8 unless ``encoding`` says otherwise (any encoding that writes ASCII as
ASCII, e.g. ``latin-1``, ``cp1252``); a UTF-8 byte-order mark is skipped. In CSV files:

- a repeated header name is kept with ``.2``, ``.3``, … added (``name,name`` → ``name``, ``name.2``), as is
  a repeated Parquet column name; a repeated text column is a file error (which copy holds the texts?);
- a field may hold up to :data:`CSV_FIELD_LIMIT` characters; a longer one, or a quote never closed before the
  end of the file, makes that row an error holding its first line only, and reading goes on at the next line
  (so one stray quote cannot swallow the rest of the file).

In JSONL files, a text field that none of the first :data:`JSONL_PROBE_ROWS` objects has is a file error,
like a missing CSV or Parquet column; past that, an object without it is a row error.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from affectlab.errors import AffectlabError, OptionError

FORMATS = ("csv", "jsonl", "parquet", "txt")
CSV_FIELD_LIMIT = 1 << 26  # characters in one CSV field (67,108,864); Python's default, 131,072, is too small
JSONL_PROBE_ROWS = 1000
BOM = b"\xef\xbb\xbf"


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
    codec: str = "utf-8"

    @property
    def encoding_name(self) -> str:
        return "UTF-8" if self.codec == "utf-8" else self.codec


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    aliases = {"tsv": "csv", "json": "jsonl", "ndjson": "jsonl", "pq": "parquet", "text": "txt"}
    fmt = aliases.get(suffix, suffix)
    if fmt not in FORMATS:
        raise InputFileError(f"{path}: unknown format {suffix!r}; use one of .csv, .jsonl, .parquet, .txt")
    return fmt


def codec(encoding: str) -> str:
    """The codec name for ``encoding``, if lines of it can be split on ASCII newlines, else :class:`OptionError`."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise OptionError(f"unknown encoding {encoding!r}; e.g. utf-8, latin-1, cp1252") from None
    if name in ("utf-8", "utf-8-sig"):
        return "utf-8"
    ascii_text = "\n\r\t,\"{}[]:"
    try:  # the readers decode with surrogateescape and replace, which some codecs (idna) refuse
        ok = (ascii_text.encode(name) == ascii_text.encode("ascii")
              and ascii_text.encode("ascii").decode(name, "surrogateescape") == ascii_text)
    except (UnicodeError, LookupError):  # LookupError: not a text encoding at all (rot13, hex, base64)
        ok = False
    if not ok:
        raise OptionError(f"encoding {encoding!r} is not supported (it does not write ASCII as ASCII); "
                          f"convert the file to UTF-8 first, e.g. iconv -f {encoding} -t utf-8")
    return name


def _decode(raw: bytes, where: str, table: Table) -> tuple[str, str | None]:
    try:
        return raw.decode(table.codec), None
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        error = f"{where}: not valid {table.encoding_name} (byte 0x{bad} at offset {exc.start})"
        return raw.decode(table.codec, errors="replace"), error


class _TrackedLines:
    """The physical lines of an open binary file from ``start``, counting bytes and lines as they go;
    ``ended`` turns true once a read found no more lines. A UTF-8 byte-order mark at offset 0 is dropped."""

    def __init__(self, handle: io.BufferedReader, start: Position, skip_bom: bool = True) -> None:
        handle.seek(start.offset)
        self.handle = handle
        self.offset = start.offset
        self.lines = start.consumed
        self.ended = False
        self._bom = skip_bom and start.offset == 0

    def __iter__(self) -> Iterator[bytes]:
        for raw in self.handle:
            self.offset += len(raw)
            self.lines += 1
            if self._bom:
                self._bom = False
                raw = raw.removeprefix(BOM)
            yield raw
        self.ended = True

    @property
    def position(self) -> Position:
        return Position(self.offset, self.lines)


def _txt_rows(table: Table, start: Position) -> Iterator[Row]:
    with table.path.open("rb") as handle:
        lines = _TrackedLines(handle, start, table.codec == "utf-8")
        for raw in lines:
            number = lines.lines
            text, error = _decode(raw.rstrip(b"\r\n"), f"line {number}", table)
            yield Row(number, {"text": text}, None if error else text, error, lines.position)


def _jsonl_rows(table: Table, start: Position) -> Iterator[Row]:
    with table.path.open("rb") as handle:
        lines = _TrackedLines(handle, start, table.codec == "utf-8")
        for raw in lines:
            if raw.strip():
                yield _jsonl_row(table, lines.lines, raw.rstrip(b"\r\n"), lines.position)


def _no_field(table: Table, number: int) -> str:
    return f"line {number}: no field {table.text_column!r}"


def _jsonl_row(table: Table, number: int, raw: bytes, after: Position) -> Row:
    line, error = _decode(raw, f"line {number}", table)
    if error:
        return Row(number, {table.text_column: line}, None, error, after)
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return Row(number, {table.text_column: line}, None, f"line {number}: not valid JSON ({exc.msg})", after)
    except RecursionError:  # brackets nested deeper than the decoder's stack: one bad line, not a failed file
        return Row(number, {table.text_column: line}, None, f"line {number}: not valid JSON (nested too deeply)",
                   after)
    if not isinstance(record, dict):
        return Row(number, {table.text_column: line}, None, f"line {number}: expected a JSON object", after)
    if table.text_column not in record:
        return Row(number, record, None, _no_field(table, number), after)
    return Row(number, record, record[table.text_column], None, after)


def _jsonl_field_checked(table: Table, rows: Iterator[Row]) -> Iterator[Row]:
    """``rows``, once one of the first :data:`JSONL_PROBE_ROWS` objects has the text field (or none was read)."""
    held: list[Row] = []
    keys: dict[str, None] = {}
    for row in rows:
        held.append(row)
        if row.error == _no_field(table, row.number):
            keys.update(dict.fromkeys(map(str, row.record)))
        if row.error is None or len(held) >= JSONL_PROBE_ROWS:
            break
    if keys and not any(row.error is None for row in held):
        shown = ", ".join(list(keys)[:20]) + (", ..." if len(keys) > 20 else "")
        lines = f"lines 1-{held[-1].number}" if held[-1].number > 1 else "line 1"
        raise InputFileError(f"{table.path}: no field {table.text_column!r} in {lines}; fields seen: {shown}")
    yield from held
    yield from rows


def _unique(names: list[str]) -> list[str]:
    """Header names with repeats kept apart: the second ``name`` becomes ``name.2``, the third ``name.3``."""
    taken = set(names)
    unique: list[str] = []
    for name in names:
        if name in unique:
            k = 2
            while f"{name}.{k}" in taken:
                k += 1
            name = f"{name}.{k}"
            taken.add(name)
        unique.append(name)
    return unique


def _csv_reader(lines: Iterable[bytes], table: Table, strict: bool = False):
    # surrogateescape keeps undecodable bytes visible per cell instead of failing the whole file;
    # csv.reader takes one line at a time and never reads past a record, so lines.offset stays exact
    delimiter = "\t" if table.path.suffix.lower() == ".tsv" else ","
    decoded = (raw.decode(table.codec, "surrogateescape") for raw in lines)
    return csv.reader(decoded, delimiter=delimiter, strict=strict)


def _csv_header(table: Table, handle: io.BufferedReader) -> _TrackedLines:
    """Read the header into ``table.columns``; the lines after it, as read so far."""
    lines = _TrackedLines(handle, START, table.codec == "utf-8")
    try:
        header = _next_record(_csv_reader(lines, table))
    except csv.Error as exc:
        raise InputFileError(f"{table.path}: the header line is not readable CSV ({exc})") from exc
    if header is None or header in ([], [""]):  # nothing, or only a byte-order mark
        raise InputFileError(f"{table.path}: the file is empty")
    if lines.ended:
        raise InputFileError(f"{table.path}: a quote in the header line is never closed")
    table.columns = _unique(header)
    _require_one(table, header)
    return lines


def _next_record(reader, limit: int | None = None) -> list[str] | None:
    """The next record of ``reader``, read with fields of up to ``limit`` characters (default
    :data:`CSV_FIELD_LIMIT`); the csv module's limit is global, so it is set back at once."""
    previous = csv.field_size_limit(limit or CSV_FIELD_LIMIT)
    try:
        return next(reader, None)
    finally:
        csv.field_size_limit(previous)


def _csv_rows(table: Table, start: Position) -> Iterator[Row]:
    with table.path.open("rb") as handle:
        lines = _csv_header(table, handle)
        _require_column(table, table.columns)
        if start.offset > lines.offset:
            lines = _TrackedLines(handle, start)
        # strict: a quote that closes where no field ends, or never closes, is an error here, not a swallowed file
        reader = _csv_reader(lines, table, strict=True)
        number = start.consumed
        while True:
            before = lines.offset
            try:
                cells, failure = _next_record(reader), None
            except csv.Error as exc:
                cells, failure = [], str(exc)
            if cells is None:
                return
            number += 1
            if failure is None and not lines.ended:
                if cells:
                    yield _csv_row(table, number, cells, Position(lines.offset, number))
                continue
            # the row is read from its first line alone, and reading goes on after that line
            failed_at, unclosed = lines.offset, lines.ended
            cells, end, readable = _first_line(table, handle, before)
            row = _csv_row(table, number, cells, Position(end, number))
            went_on = "kept its first line and went on after it"
            if unclosed:
                row.text, row.error = None, f"row {number}: a quote opened in this row is never closed; {went_on}"
            elif failed_at != end:
                row.text, row.error = None, (f"row {number}: a quote opened in this row runs on into later lines "
                                             f"and breaks there ({failure}); {went_on}")
            elif not readable or "field limit" in (failure or ""):
                row.text, row.error = None, f"row {number}: not readable as CSV ({failure}); {went_on}"
            # else a stray quote inside one line (`"a"b`): read leniently, as before and as most tools do
            yield row
            lines = _TrackedLines(handle, row.after)
            reader = _csv_reader(lines, table, strict=True)


def _first_line(table: Table, handle: io.BufferedReader, offset: int) -> tuple[list[str], int, bool]:
    """The cells of the physical line at ``offset`` read alone (at most :data:`CSV_FIELD_LIMIT` bytes of it),
    where it ends, and whether it was read whole."""
    handle.seek(offset)
    kept, end = b"", offset
    while piece := handle.readline(1 << 20):
        end += len(piece)
        if len(kept) < CSV_FIELD_LIMIT:
            kept += piece
        if piece.endswith(b"\n"):
            break
    try:  # any field length: the line is in memory already
        cells = _next_record(_csv_reader([kept.rstrip(b"\r\n")], table), max(CSV_FIELD_LIMIT, len(kept) + 1))
    except csv.Error:
        return [], end, False
    return cells or [], end, offset + len(kept) == end


def _csv_row(table: Table, number: int, cells: list[str], after: Position) -> Row:
    header = table.columns
    error = None
    if len(cells) != len(header):
        error = f"row {number}: {len(cells)} cells where the header has {len(header)}"
    repaired = []
    for cell in cells:
        fixed = cell.encode(table.codec, "surrogateescape").decode(table.codec, "replace")
        if fixed != cell and error is None:
            error = f"row {number}: not valid {table.encoding_name}"
        repaired.append(fixed)
    record: dict[str, object] = dict(zip(header, repaired + [None] * (len(header) - len(repaired))))
    if len(repaired) > len(header):
        record["_extra_cells"] = json.dumps(repaired[len(header) :])
    text = None if error else record[table.text_column]
    return Row(number, record, text, error, after)


def open_parquet(path: Path, text_column: str | None):
    """A ``pyarrow.parquet.ParquetFile`` that has ``text_column`` (any columns if None), or
    :class:`InputFileError` saying why not."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for corrupt or foreign files
        raise InputFileError(f"{path}: not a readable Parquet file ({exc})") from exc
    if text_column is not None:
        _require_column(Table(Path(path), "parquet", text_column), parquet.schema_arrow.names)
        _require_one(Table(Path(path), "parquet", text_column), parquet.schema_arrow.names)
    return parquet


def _parquet_rows(table: Table, block_size: int, start: Position) -> Iterator[Row]:
    parquet = open_parquet(table.path, table.text_column)
    names = list(parquet.schema_arrow.names)
    table.columns = _unique(names)
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
            if table.columns != names:  # repeated column names would collapse into one key
                batch = batch.rename_columns(table.columns)
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


def _require_one(table: Table, names: list[str]) -> None:
    """Refuse a text column whose name the header repeats: which copy holds the texts would be a guess."""
    if table.text_column and names.count(table.text_column) > 1:  # "": reading the header alone
        raise InputFileError(f"{table.path}: the header names column {table.text_column!r} "
                             f"{names.count(table.text_column)} times; rename the copies so one holds the texts")


def check_input(path: Path, encoding: str = "utf-8") -> str:
    """The format of ``path`` once it is sure the file can be opened and, for JSON Lines, does not start with an
    array; else :class:`InputFileError`."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputFileError(f"{path}: is a folder, not a file")
        if not path.is_file():
            raise InputFileError(f"{path}: no such file")
        fmt = detect_format(path)
        codec(encoding)
        with path.open("rb") as handle:
            start = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n") if fmt == "jsonl" else b""
    except OSError as exc:  # e.g. no permission to open the file or to look into its folder
        raise InputFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if start.startswith(b"["):
        _refuse_array(path, start)
    return fmt


def _refuse_array(path: Path, start: bytes) -> None:
    """JSON Lines rows are objects: say whether the file is one JSON array or its lines are arrays."""
    try:
        first = json.loads(start.split(b"\n", 1)[0])
    except ValueError:  # the line is not whole JSON: an array spread over lines
        first = None
    if isinstance(first, list):
        raise InputFileError(f"{path}: line 1 is a JSON array; each line must be an object with the text column")
    raise InputFileError(f"{path}: holds a JSON array; rows are read from JSON Lines, one object a line "
                         f"(e.g. jq -c '.[]' {path.name} > rows.jsonl)")


def read_rows(
    path: Path, text_column: str = "text", block_size: int = 1024, start: Position = START, encoding: str = "utf-8"
) -> Iterator[list[Row]]:
    """Yield the rows of ``path`` in blocks of ``block_size``, from ``start`` (a row's ``after``).

    >>> for block in read_rows(Path("posts.csv"), "body", encoding="latin-1"):
    ...     texts = [row.text for row in block if row.error is None]
    """
    path = Path(path)
    fmt = check_input(path, encoding)
    table = Table(path, fmt, "text" if fmt == "txt" else text_column, codec=codec(encoding))
    try:
        rows = {
            "txt": lambda: _txt_rows(table, start),
            "jsonl": lambda: _jsonl_rows(table, start),
            "csv": lambda: _csv_rows(table, start),
            "parquet": lambda: _parquet_rows(table, block_size, start),
        }[fmt]()
        if fmt == "jsonl" and start.offset == 0:
            rows = _jsonl_field_checked(table, rows)
        block: list[Row] = []
        for row in rows:
            block.append(row)
            if len(block) == block_size:
                yield block
                block = []
        if block:
            yield block
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def table_columns(path: Path, encoding: str = "utf-8") -> list[str]:
    """The columns of a table file as :func:`read_rows` names them (a JSONL file has none before its rows)."""
    path = Path(path)
    fmt = check_input(path, encoding)
    if fmt == "txt":
        return ["text"]
    if fmt == "parquet":
        return _unique(list(open_parquet(path, None).schema_arrow.names))
    if fmt == "jsonl":
        return []
    table = Table(path, fmt, "", codec=codec(encoding))
    try:
        with path.open("rb") as handle:
            _csv_header(table, handle)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    return table.columns


def count_rows(path: Path) -> int | None:
    """A quick row count for progress bars (None where it is not cheap to know or the file cannot be read)."""
    path = Path(path)
    try:
        fmt = detect_format(path)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        with path.open("rb") as handle:
            lines = sum(1 for _ in handle)
    except Exception:  # noqa: BLE001 - only a progress bar's total: reading proper reports the problem
        return None
    return max(0, lines - 1) if fmt == "csv" else lines
