"""A user's labelled file for ``affectlab train head``: read, checked row by row, and split into train and dev.

Any table affectlab reads (CSV, TSV, JSONL, Parquet; :mod:`affectlab.io.readers`): one text column and one
label column. A single-label file holds one label a row; with ``separator`` the file is multi-label and a
cell holds several (``"bug|billing"``); a JSONL list of strings is taken as it is. Every problem is one
:class:`HeadDataError` naming the file and the row or column at fault.

>>> data = read_labelled(Path("tickets.csv"), "text", "label", separator="|")
>>> train, dev = carve_dev(data, share=0.2, seed=13)
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from affectlab.errors import AffectlabError
from affectlab.io.readers import is_missing, read_rows, table_columns
from affectlab.text.analyzer import InvalidText, check_text

MIN_ROWS = 10  # fewer leave nothing to tune on
MIN_PER_LABEL = 2  # one to learn from, one to tune on
RESERVED_LABEL = "labels"  # custom_labels holds the chosen labels


class HeadDataError(AffectlabError, ValueError):
    """A labelled file that a head cannot be trained on; the message names the row, column or label."""


@dataclass(frozen=True)
class Labelled:
    """Rows of a labelled file: ``texts[i]`` carries ``labels[i]`` and was row ``rows[i]`` of ``source``."""

    source: str
    texts: list[str]
    labels: list[list[str]]
    rows: list[int]

    def subset(self, indices: list[int]) -> Labelled:
        return Labelled(self.source, [self.texts[i] for i in indices], [self.labels[i] for i in indices],
                        [self.rows[i] for i in indices])

    def label_counts(self) -> dict[str, int]:
        """Rows per label, most frequent first (ties by name)."""
        counts = Counter(label for labels in self.labels for label in labels)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def read_labelled(path: Path, text_column: str, label_column: str, separator: str | None = None,
                  encoding: str = "utf-8") -> Labelled:
    """Every row of ``path`` with its text and labels; the first bad row raises :class:`HeadDataError`."""
    path = Path(path)
    columns = table_columns(path, encoding)  # JSONL has none before its rows: checked row by row below
    if columns and label_column not in columns:
        raise HeadDataError(f"{path}: no label column {label_column!r}; columns are: {', '.join(columns)}")
    if label_column == text_column:
        raise HeadDataError(f"{path}: the text and label columns are both {text_column!r}")
    texts, labels, rows = [], [], []
    for block in read_rows(path, text_column, encoding=encoding):
        for row in block:
            where = f"{path} row {row.number}"
            if row.error is not None:
                raise HeadDataError(f"{path}: {row.error}")
            try:
                texts.append(check_text(row.text))
            except InvalidText as exc:
                raise HeadDataError(f"{where}: {exc} (column {text_column!r})") from None
            if label_column not in row.record:
                raise HeadDataError(f"{where}: no field {label_column!r}")
            labels.append(_labels(row.record[label_column], separator, where, label_column))
            rows.append(row.number)
    return Labelled(str(path), texts, labels, rows)


def _labels(cell: object, separator: str | None, where: str, column: str) -> list[str]:
    if isinstance(cell, list) and separator is not None:
        parts = cell
    elif isinstance(cell, bool) or not isinstance(cell, (str, int)) or is_missing(cell):
        kind = "missing" if is_missing(cell) else f"a {type(cell).__name__}, not a label"
        raise HeadDataError(f"{where}: the label is {kind} (column {column!r})")
    else:
        parts = str(cell).split(separator) if separator is not None else [str(cell)]
    if not all(isinstance(part, str) for part in parts):
        raise HeadDataError(f"{where}: labels must be strings (column {column!r})")
    found = list(dict.fromkeys(part.strip() for part in parts if part.strip()))
    if not found:
        raise HeadDataError(f"{where}: no label (column {column!r} is empty)")
    return found


def check_trainable(data: Labelled) -> list[str]:
    """The label set (sorted) once ``data`` has enough rows and at least :data:`MIN_PER_LABEL` of each label;
    else :class:`HeadDataError` saying which."""
    if len(data.texts) < MIN_ROWS:
        raise HeadDataError(f"{data.source}: {len(data.texts)} labelled rows; a head needs at least {MIN_ROWS}")
    counts = data.label_counts()
    if len(counts) < 2:
        raise HeadDataError(f"{data.source}: only one label ({', '.join(counts) or 'none'}); a head needs two or "
                            "more")
    rare = [label for label, count in counts.items() if count < MIN_PER_LABEL]
    if rare:
        label = rare[0]
        row = next(r for r, labels in zip(data.rows, data.labels) if label in labels)
        more = f" (and {len(rare) - 1} more labels)" if len(rare) > 1 else ""
        raise HeadDataError(f"{data.source}: label {label!r} occurs only once (row {row}){more}; each label needs "
                            f"at least {MIN_PER_LABEL} rows, one to learn from and one to tune on")
    check_label_names(sorted(counts), str(data.source))
    return sorted(counts)


def check_label_names(labels: list[str], source: str) -> None:
    """Labels become output columns (``custom_<label>``, beside ``custom_labels``), which tables and DuckDB
    match without case: refuse ``labels`` and labels that differ only in case."""
    if RESERVED_LABEL in labels:
        raise HeadDataError(f"{source}: the label {RESERVED_LABEL!r} is reserved (its column would be the list of "
                            "chosen labels); rename it")
    seen: dict[str, str] = {}
    for label in labels:
        if label.casefold() in seen:
            raise HeadDataError(f"{source}: labels {seen[label.casefold()]!r} and {label!r} differ only in case; "
                                "their columns would collide")
        seen[label.casefold()] = label


def check_dev(dev: Labelled, labels: list[str]) -> None:
    """A dev file given by the user may only use the training labels."""
    known = set(labels)
    for row, row_labels in zip(dev.rows, dev.labels):
        unknown = [label for label in row_labels if label not in known]
        if unknown:
            raise HeadDataError(f"{dev.source} row {row}: label {unknown[0]!r} is not in the training data")


def carve_dev(data: Labelled, share: float, seed: int) -> tuple[Labelled, Labelled]:
    """A seeded dev split of about ``share`` of the rows, stratified: each row goes with its rarest label, and
    each label's rows are split so that it keeps at least one row on both sides."""
    counts = data.label_counts()
    groups: dict[str, list[int]] = {}
    for index, labels in enumerate(data.labels):
        groups.setdefault(min(labels, key=lambda label: (counts[label], label)), []).append(index)
    shuffle = random.Random(seed)
    dev: list[int] = []
    for label in sorted(groups):
        members = groups[label]
        shuffle.shuffle(members)
        if len(members) >= 2:
            dev += members[: min(len(members) - 1, max(1, round(share * len(members))))]
    taken = set(dev)
    for label in counts:  # a multi-label row went with a rarer label: give each label a row to learn from
        if all(label not in data.labels[i] for i in range(len(data.texts)) if i not in taken):
            taken.remove(next(i for i in sorted(taken) if label in data.labels[i]))
    return (data.subset([i for i in range(len(data.texts)) if i not in taken]),
            data.subset([i for i in range(len(data.texts)) if i in taken]))
