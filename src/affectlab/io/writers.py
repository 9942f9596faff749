"""Streaming writers for JSONL, CSV and Parquet that appear at their path only when complete.

Rows go to a temporary file beside the target; :meth:`TableWriter.close` moves it into place with
one atomic rename. An interrupted run leaves the previous file (if any) untouched.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from affectlab.io.readers import InputFileError

OUTPUT_FORMATS = ("jsonl", "csv", "parquet")


def output_format(path: Path) -> str:
    fmt = {"json": "jsonl", "ndjson": "jsonl", "pq": "parquet"}.get(
        path.suffix.lower().lstrip("."), path.suffix.lower().lstrip(".")
    )
    if fmt not in OUTPUT_FORMATS:
        raise InputFileError(f"{path}: cannot write {fmt!r}; use .jsonl, .csv or .parquet")
    return fmt


def _usual_permissions(path: str | Path) -> None:
    """Temporary files are created private (0600); a finished output gets what a plain ``open`` would give."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; moved into place on success, removed on failure.

    >>> with atomic_target(Path("out.png")) as tmp:
    ...     figure.savefig(tmp, format="png")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    try:
        yield Path(tmp)
        _usual_permissions(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write a whole text file atomically."""
    with atomic_target(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")


class TableWriter:
    """Write dict rows to ``path``; use as a context manager so a failure discards the partial file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.format = output_format(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part")
        os.close(handle)
        self._tmp = Path(tmp)
        self._columns: list[str] | None = None
        self._file = None
        self._csv = None
        self._parquet = None
        self._schema = None
        self.rows = 0

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        if self._columns is None:
            self._columns = list(dict.fromkeys(k for row in rows for k in row))
        if self.format == "parquet":
            self._write_parquet(rows)
        else:
            if self._file is None:
                self._file = self._tmp.open("w", encoding="utf-8", newline="")
                if self.format == "csv":
                    self._csv = csv.DictWriter(self._file, fieldnames=self._columns, extrasaction="ignore")
                    self._csv.writeheader()
            if self.format == "csv":
                self._csv.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)
            else:
                self._file.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        self.rows += len(rows)

    def _write_parquet(self, rows: list[dict]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = {name: [row.get(name) for row in rows] for name in self._columns}
        try:
            if self._schema is None:
                inferred = pa.table(columns).schema
                # a column that is empty in the first block is typed string, not null, so later blocks fit
                self._schema = pa.schema(
                    [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in inferred]
                )
                self._parquet = pq.ParquetWriter(str(self._tmp), self._schema)
            table = pa.table(columns, schema=self._schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputFileError(f"{self.path}: a column changes type between rows ({exc})") from exc
        self._parquet.write_table(table)

    def close(self) -> Path:
        if self._parquet is not None:
            self._parquet.close()
        if self._file is not None:
            self._file.close()
        _usual_permissions(self._tmp)
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        for handle in (self._parquet, self._file):
            if handle is not None:
                handle.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _csv_cell(value: object) -> object:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value
