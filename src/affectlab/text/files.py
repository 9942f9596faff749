"""Analyze a table file row by row into an output file, recording per-row errors and going on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from affectlab.io.readers import InputFileError, check_input, read_rows, table_columns
from affectlab.io.writers import TableWriter, check_not_source, check_output
from affectlab.taxonomy import label_mapping
from affectlab.text.analyzer import Analyzer
from affectlab.text.result import TextAffect

PREVIEW_ROWS = 8


@dataclass(frozen=True)
class FileSummary:
    input: str
    output: str
    rows: int
    errors: int
    label_counts: dict[str, int] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)  # up to 20, each naming its row
    preview: list[dict] = field(default_factory=list)  # the first rows: number, text, labels, top Ekman, valence, error

    def to_dict(self) -> dict:
        return asdict(self)


def analyze_file(
    analyzer: Analyzer,
    source: Path,
    target: Path,
    *,
    text_column: str = "text",
    explain: bool = False,
    block_size: int = 512,
    encoding: str = "utf-8",
    label_set: str | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> FileSummary:
    """Read ``source`` (csv/jsonl/parquet/txt, text files in ``encoding``), write every row with its affect
    columns to ``target``.

    The output keeps all input columns; the affect columns (see :meth:`TextAffect.to_row`) follow, then, with
    ``label_set``, the emotions in that label set (``as_<set>_<label>``, see :meth:`TextAffect.as_labels`). A file
    without rows gives an output without rows that still has them (a CSV header, a Parquet schema).
    ``target`` appears only once it is complete.
    """
    check_input(Path(source), encoding)
    check_output(Path(target))
    if label_set is not None:
        label_mapping(label_set)  # an unknown name fails here, not after the first block
    check_not_source(Path(target), Path(source))
    rows = errors = 0
    label_counts: dict[str, int] = {}
    first_errors: list[str] = []
    preview: list[dict] = []
    with TableWriter(Path(target)) as writer:
        for block in read_rows(Path(source), text_column, block_size, encoding=encoding):
            texts = [row.text if row.error is None else None for row in block]
            results = analyzer.analyze_batch(texts, explain=explain)
            out = []
            for row, result in zip(block, results):
                affect = _affect_row(result, label_set)
                if row.error is not None or result.error is not None:
                    message = row.error or f"row {row.number}: {result.error}"
                    affect["error"] = message
                    errors += 1
                    if len(first_errors) < 20:
                        first_errors.append(message)
                else:
                    for label in result.labels:
                        label_counts[label] = label_counts.get(label, 0) + 1
                if len(preview) < PREVIEW_ROWS:
                    preview.append(_preview(row.number, row.text, result, affect["error"]))
                clash = set(affect) & set(row.record)
                if clash:
                    raise InputFileError(
                        f"{source}: input columns {sorted(clash)} clash with affectlab's output columns"
                    )
                out.append({**row.record, **affect})
            writer.write(out)
            rows += len(block)
            if on_rows is not None:
                on_rows(len(block))
        if rows == 0:
            writer.declare([*table_columns(Path(source), encoding), *_affect_row(TextAffect.failed(""), label_set)])
    ordered = dict(sorted(label_counts.items(), key=lambda kv: -kv[1]))
    return FileSummary(str(source), str(target), rows, errors, ordered, first_errors, preview)


def _affect_row(result: TextAffect, label_set: str | None) -> dict:
    return {**result.to_row(), **(result.as_labels(label_set).to_row() if label_set else {})}


def _preview(number: int, text: object, result: TextAffect, error: str | None) -> dict:
    shown = text if isinstance(text, str) else ""
    return {
        "row": number,
        "text": shown if len(shown) <= 60 else shown[:57] + "...",
        "labels": result.labels,
        "ekman": max(result.ekman, key=result.ekman.__getitem__) if result.ekman else None,
        "valence": result.vad.get("valence"),
        "error": error,
    }
