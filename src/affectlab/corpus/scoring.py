"""Score one chunk into one part file. Both engines call exactly this, so their results are the same.

A part holds, per input row: where it came from (``source``, ``row``), the text, the parsed time and
group, a ``status`` (``ok``; ``skipped``: no text to analyze; ``error``: the row could not be read),
the reason, every score of :class:`~affectlab.text.result.TextAffect` as float32 columns (the fitted readings,
``intensity_anger`` ... ``distress``, null for a model without them), and the ``drivers``
of a text read in several windows (null for one window): which window, at which characters, each label came from.
A model with a head of one's own (``affectlab train head``) adds its columns, as ``affectlab analyze`` writes them:
``custom_labels`` and a ``custom_<label>`` score per label (:func:`part_schema`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from affectlab.corpus.plan import ChunkSpec, CorpusJob
from affectlab.corpus.times import TimeError, parse_time
from affectlab.io.readers import InputFileError, Row, is_missing, read_rows
from affectlab.io.values import text_value, valid_unicode
from affectlab.io.writers import atomic_target
from affectlab.registry import read_config
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD
from affectlab.text.analyzer import Analyzer
from affectlab.text.label_head import head_folder
from affectlab.text.normalize import is_blank
from affectlab.text.result import READING_COLUMNS, TextAffect

SCORE_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("emotion", "emotions", GOEMOTIONS), ("ekman", "ekman", EKMAN), ("sentiment", "sentiment", SENTIMENT),
)

DRIVER = pa.struct([("label", pa.string()), ("window", pa.int32()), ("start", pa.int64()), ("end", pa.int64())])

SCHEMA = pa.schema(
    [
        ("source", pa.string()), ("row", pa.int64()), ("text", pa.string()),
        ("time", pa.timestamp("us", tz="UTC")), ("group", pa.string()),
        ("status", pa.string()), ("error", pa.string()), ("time_error", pa.string()),
        ("labels", pa.list_(pa.string())), ("top", pa.string()), ("ekman_top", pa.string()),
    ]
    + [(f"{prefix}_{name}", pa.float32()) for prefix, _, names in SCORE_COLUMNS for name in names]
    + [(name, pa.float32()) for name in VAD]
    + [("irony", pa.float32())]
    + [(name, pa.float32()) for name in READING_COLUMNS]
    + [("chunks", pa.int32()), ("drivers", pa.list_(DRIVER)), ("truncated", pa.bool_())]
)


def part_schema(custom_labels: Sequence[str] = ()) -> pa.Schema:
    """The columns of a part file: :data:`SCHEMA`, then, for a head of one's own with ``custom_labels``, the
    labels it chose and a score column per label."""
    if not custom_labels:
        return SCHEMA
    return pa.schema([*SCHEMA, pa.field("custom_labels", pa.list_(pa.string())),
                      *(pa.field(f"custom_{label}", pa.float32()) for label in custom_labels)])


def head_labels(job: CorpusJob) -> list[str]:
    """The labels of ``job``'s model when it is a head of one's own, else none."""
    head = head_folder(job.model)
    return read_config(head)["labels"] if head is not None else []


@dataclass(frozen=True)
class ChunkResult:
    file_index: int
    chunk_index: int
    rows: int
    skipped: int
    errors: int

    def to_dict(self) -> dict:
        return asdict(self)


class ChunkScorer:
    """Holds one loaded text model; ``scorer(spec)`` reads, scores and writes one chunk. ``analyzer``: one already
    loaded with the job's model and settings (a server's), instead of loading another."""

    def __init__(self, job: CorpusJob, threads: int | None = None, analyzer: Analyzer | None = None) -> None:
        self.job = job
        self.analyzer = analyzer or Analyzer(job.model, profile=job.profile, runtime=job.runtime,
                                             batch_size=job.batch_size, threads=threads, max_chars=job.max_chars,
                                             max_windows=job.max_windows, on_long=job.on_long)
        self.custom_labels = head_labels(job)
        self.schema = part_schema(self.custom_labels)

    def __call__(self, spec: ChunkSpec) -> ChunkResult:
        table = self.score(spec)
        write_part(table, spec.part(Path(self.job.output)))
        status = table.column("status").to_pylist()
        return ChunkResult(
            spec.file_index, spec.chunk_index, len(status), status.count("skipped"), status.count("error")
        )

    def score(self, spec: ChunkSpec) -> pa.Table:
        if not spec.rows:  # a file without rows: an empty part marks it done
            return self._table(spec, [], [])
        try:
            rows = next(read_rows(Path(spec.path), self.job.text_column, spec.rows, spec.start, self.job.encoding), [])
        except InputFileError as exc:
            return _unreadable(spec, str(exc), self.schema)
        texts = [row.text if row.error is None else None for row in rows]
        return self._table(spec, rows, self._analyze(texts))

    def _analyze(self, texts: list[object]) -> list[TextAffect]:
        """Scores of a block. If the analyzer fails on it, each half is tried on its own, down to single rows,
        so only the rows it fails on get an error (a few bad rows cost a few extra passes, not one per row)."""
        try:
            return self.analyzer.analyze_batch(texts)
        except Exception as exc:  # noqa: BLE001 - any failure is narrowed down to its rows
            if len(texts) <= 1:
                return [TextAffect.failed(f"cannot be analyzed ({one_line(exc)})") for _ in texts]
            middle = len(texts) // 2
            return self._analyze(texts[:middle]) + self._analyze(texts[middle:])

    def _table(self, spec: ChunkSpec, rows: list[Row], results: list[TextAffect]) -> pa.Table:
        columns: dict[str, list] = {name: [] for name in self.schema.names}
        for row, result in zip(rows, results):
            status, error = _status(row, result)
            moment, time_error = self._time(row)
            group = row.record.get(self.job.group_column) if self.job.group_column else None
            text, repaired = _storable(
                row.text if isinstance(row.text, str) else _as_text(row.record.get(self.job.text_column))
            )
            group, group_repaired = _storable(_as_text(group))
            if (repaired or group_repaired) and error is None:
                error = f"row {row.number}: invalid Unicode (a lone surrogate) stored as U+FFFD"
            columns["source"].append(_storable(spec.path)[0])
            columns["row"].append(row.number)
            columns["text"].append(text)
            columns["time"].append(moment)
            columns["group"].append(group)
            columns["status"].append(status)
            columns["error"].append(_storable(error)[0])
            columns["time_error"].append(_storable(time_error)[0])
            columns["labels"].append(result.labels if status == "ok" else None)
            columns["top"].append(result.top)
            columns["ekman_top"].append(max(result.ekman, key=result.ekman.__getitem__) if result.ekman else None)
            for prefix, attribute, names in SCORE_COLUMNS:
                scores = getattr(result, attribute)
                for name in names:
                    columns[f"{prefix}_{name}"].append(scores.get(name))
            for name in VAD:
                columns[name].append(result.vad.get(name))
            columns["irony"].append(result.irony)
            for name, value in result.reading_columns().items():
                columns[name].append(value)
            columns["chunks"].append(result.chunks)
            columns["drivers"].append(result.driver_records())
            columns["truncated"].append(result.truncated)
            if self.custom_labels:
                custom = result.custom
                columns["custom_labels"].append(custom.labels if custom is not None else None)
                for label in self.custom_labels:
                    columns[f"custom_{label}"].append(custom.scores[label] if custom is not None else None)
        return pa.table(columns, schema=self.schema)

    def _time(self, row: Row) -> tuple[object, str | None]:
        if not self.job.time_column or row.error is not None:  # an unreadable row's error already says why
            return None, None
        try:
            return parse_time(row.record.get(self.job.time_column)), None
        except TimeError as exc:
            return None, f"row {row.number}: {exc}"


def _status(row: Row, result: TextAffect) -> tuple[str, str | None]:
    if row.error is not None:
        return "error", row.error
    if result.error is None:
        return "ok", None
    kind = "skipped" if is_missing(row.text) or (isinstance(row.text, str) and is_blank(row.text)) else "error"
    return kind, f"row {row.number}: {result.error}"


def _as_text(value: object) -> str | None:
    """A cell as text the way every affectlab output writes it (bytes as base64, decimals exactly, lists as JSON)."""
    return None if is_missing(value) else text_value(value)


def _storable(text: str | None) -> tuple[str | None, bool]:
    """``text`` as Parquet can hold it, and whether it had to change: JSON may carry lone surrogates
    (``"\\ud83d"``), which UTF-8 cannot encode; each becomes U+FFFD.

    >>> _storable("x \\ud83d")
    ('x \\ufffd', True)
    """
    if text is None:
        return None, False
    repaired = valid_unicode(text)
    return repaired, repaired != text


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception as one short line: its type, then its message with line breaks folded."""
    message = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unreadable(spec: ChunkSpec, reason: str, schema: pa.Schema) -> pa.Table:
    """A chunk whose bytes cannot be read: each of its planned rows is charged with the reason."""
    numbers = np.arange(spec.consumed + 1, spec.consumed + spec.rows + 1)
    columns = {name: pa.nulls(spec.rows, field.type) for name, field in zip(schema.names, schema)}
    columns["source"] = pa.array([spec.path] * spec.rows, pa.string())
    columns["row"] = pa.array(numbers, pa.int64())
    columns["status"] = pa.array(["error"] * spec.rows, pa.string())
    columns["error"] = pa.array([f"row {n}: unreadable chunk ({reason})" for n in numbers], pa.string())
    return pa.table(columns, schema=schema)


def write_part(table: pa.Table, path: Path) -> None:
    """Write a part file so that it appears only complete: a crash leaves no part, and the chunk is redone."""
    with atomic_target(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
