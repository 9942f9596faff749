"""Streaming writers for JSONL, CSV and Parquet that appear at their path only when complete.

Rows go to temporary files beside the target (hidden, ``.NAME.*.part``); :meth:`TableWriter.close` moves the
result into place with one atomic rename. An interrupted run (an exception, Ctrl-C, or SIGTERM, which the
command line turns into an exception) removes them and leaves the previous file, if any, untouched. Where the
output cannot be created (a folder, a path under a file, a folder without write permission)
:func:`check_output` says so before any work is done.

No column is dropped and no value is fatal:

- columns are the union of every row's keys, in the order first seen; a row without a column gets an empty
  cell (CSV), a null (Parquet) or simply lacks the key (JSONL). A CSV whose columns grow after the first block
  is rewritten once at the end with the full header;
- JSONL writes dates and times as ISO 8601, bytes as base64, decimals as strings (see
  :mod:`affectlab.io.values`); CSV cells are text by the same rules (lists and dicts as JSON);
- Parquet keeps each column's type while it is consistent and widens it when it is not (integers beside
  floats → float64; any other mix → text); see :mod:`affectlab.io.parquet_out`;
- no rows give a valid empty file: a CSV header, a Parquet file with the declared columns, an empty JSONL;
- a lone surrogate in a text stays an escape in JSONL and becomes U+FFFD in CSV and Parquet.

>>> with TableWriter(Path("out.parquet")) as writer:
...     writer.write([{"id": 1, "text": "a"}])
...     writer.write([{"id": "b", "text": "c", "late": True}])  # id becomes text; late is null in row 1
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from affectlab.errors import AffectlabError
from affectlab.files import usual_permissions
from affectlab.io.values import json_line, json_value, text_value, valid_unicode

OUTPUT_FORMATS = ("jsonl", "csv", "parquet")


class OutputFileError(AffectlabError, ValueError):
    """The output cannot be written: unknown format, a folder, no permission, no space."""


def output_format(path: Path) -> str:
    path = Path(path)
    fmt = {"json": "jsonl", "ndjson": "jsonl", "pq": "parquet"}.get(
        path.suffix.lower().lstrip("."), path.suffix.lower().lstrip(".")
    )
    if fmt not in OUTPUT_FORMATS:
        raise OutputFileError(f"{path}: cannot write {fmt!r}; use .jsonl, .csv or .parquet")
    return fmt


def check_output(path: Path) -> str:
    """The format of ``path`` once it is sure a file can be created there, else :class:`OutputFileError`.

    Cheap and side-effect free, so commands call it before loading models or reading input.
    """
    check_target(path)
    return output_format(path)


def check_not_source(target: Path, source: Path) -> None:
    """:class:`OutputFileError` when writing ``target`` would replace ``source`` (the same file under another
    name or a hard link too)."""
    same = (os.path.samefile(target, source) if target.exists() and source.exists()
            else target.resolve() == source.resolve())
    if same:
        raise OutputFileError(f"{target}: the output would overwrite the input")


def check_target(path: Path, source: Path | None = None) -> None:
    """:func:`check_output` for a file of any name (a JSON document, say): :class:`OutputFileError` unless a
    file can be created at ``path`` without replacing the input it is made from (``source``)."""
    path = Path(path)
    if source is not None:
        check_not_source(path, Path(source))
    try:
        if path.is_dir():
            raise OutputFileError(f"{path}: is a folder; name a file in it, e.g. {path / 'scored.jsonl'}")
        folder = path.parent
        while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise OutputFileError(f"{path}: {folder} is a file, not a folder")
    except OSError as exc:  # e.g. no permission to look into a folder on the way
        raise OutputFileError(f"{path}: cannot be created ({exc.strerror or exc})") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFileError(f"{path}: cannot create files in {folder} (permission denied)")


TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".pq", ".xlsx", ".xls")


def check_json_target(path: Path, source: Path | None = None, hint: str = "") -> None:
    """:func:`check_target` for a file that receives one JSON document: a table's extension is refused, since the
    file would hold JSON whatever its name says (``hint`` is added to that message)."""
    check_target(path, source)
    if Path(path).suffix.lower() in TABLE_SUFFIXES:
        raise OutputFileError(f"{path}: this result is one JSON document; name the file .json{hint}")


def _temporary(path: Path, tag: str = "") -> Path:
    """A new private file beside ``path``, named so that it is hidden and recognisably partial."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{tag}", suffix=".part")
    except OSError as exc:
        raise OutputFileError(f"{path}: cannot be created ({exc.strerror or exc})") from exc
    os.close(handle)
    return Path(tmp)


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; moved into place on success, removed on failure.

    >>> with atomic_target(Path("out.png")) as tmp:
    ...     figure.savefig(tmp, format="png")
    """
    path = Path(path)
    tmp = _temporary(path)
    try:
        yield tmp
        usual_permissions(tmp)
        os.replace(tmp, path)
    except OSError as exc:  # e.g. a folder made at ``path`` meanwhile, or a full disk
        Path(tmp).unlink(missing_ok=True)
        raise OutputFileError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write a whole text file atomically."""
    with atomic_target(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")


class TableWriter:
    """Write blocks of dict rows to ``path``; use as a context manager so a failure discards the partial file.

    ``declare(columns)`` names columns the output has even if no row is written (e.g. a header-only input).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.format = check_output(self.path)
        self._columns: dict[str, None] = {}
        self._file = None
        self._header: list[str] = []
        self._parquet = None
        if self.format == "parquet":
            from affectlab.io.parquet_out import ParquetParts

            self._parquet = ParquetParts(lambda: _temporary(self.path, "block-"))
        self.rows = 0
        self._tmp = _temporary(self.path)  # last, so that nothing after it can fail and leave it behind

    def declare(self, columns: list[str]) -> None:
        """Columns the output has even if no row holds them (appended, in order, after those already seen)."""
        self._columns.update(dict.fromkeys(columns))

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        for row in rows:
            self._columns.update(dict.fromkeys(row))
        try:
            if self._parquet is not None:
                self._parquet.write(rows, list(self._columns))
            elif self.format == "csv":
                self._write_csv(rows)
            else:
                self._write_text("".join(json_line(row) + "\n" for row in rows), rows)
        except OSError as exc:
            raise OutputFileError(f"{self.path}: writing failed ({exc.strerror or exc})") from exc
        self.rows += len(rows)

    def _write_text(self, text: str, rows: list[dict] | None = None) -> None:
        """Write ``text``; where it holds a lone surrogate, JSONL ``rows`` are written with it escaped (lossless)
        and CSV text with it replaced by U+FFFD."""
        if self._file is None:
            self._file = self._tmp.open("w", encoding="utf-8", newline="")
        try:
            self._file.write(text)  # encoded whole before anything is written, so a failure writes nothing
        except UnicodeEncodeError:
            if rows is None:
                self._file.write(valid_unicode(text))
            else:
                self._file.write("".join(_escaped_line(row) + "\n" for row in rows))

    def _write_csv(self, rows: list[dict]) -> None:
        columns = list(self._columns)
        if not self._header:
            self._header = columns
            self._write_text(_csv_text([columns]))
        # a row has the cells of the columns known when it is written; close() pads them if columns came later
        self._write_text(_csv_text([_cell(row.get(name)) for name in columns] for row in rows))

    def _finish_csv(self) -> None:
        columns = list(self._columns)
        if not self._header:
            if columns:
                self._write_text(_csv_text([columns]))
            return
        if len(columns) == len(self._header):
            return
        self._file.close()
        wider = _temporary(self.path, "wide-")
        limit = csv.field_size_limit(2**31 - 1)  # our own cells, of any size (the limit is global: set back below)
        try:
            with self._tmp.open(encoding="utf-8", newline="") as old, \
                    wider.open("w", encoding="utf-8", newline="") as new:
                reader, writer = csv.reader(old), csv.writer(new)
                next(reader)
                writer.writerow(columns)
                writer.writerows(cells + [""] * (len(columns) - len(cells)) for cells in reader)
            wider.replace(self._tmp)
        except BaseException:
            wider.unlink(missing_ok=True)
            raise
        finally:
            csv.field_size_limit(limit)

    def close(self) -> Path:
        """Finish the file and move it into place; on failure nothing is left behind."""
        try:
            if self._parquet is not None:
                self._parquet.finish(self._tmp, list(self._columns))
            elif self.format == "csv":
                self._finish_csv()
            if self._file is not None:
                self._file.close()
            usual_permissions(self._tmp)
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self.abort()
            raise OutputFileError(f"{self.path}: cannot be written ({exc.strerror or exc})") from exc
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        if self._parquet is not None:
            self._parquet.discard()
        if self._file is not None:
            self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _escaped_line(row: dict) -> str:
    line = json_line(row)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(row, default=json_value)  # ASCII JSON: a lone surrogate becomes a \udXXX escape
    return line


def _csv_text(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _cell(value: object) -> str:
    text = text_value(value)
    return "" if text is None else text
