"""Analyze a text column of a pandas DataFrame into a DataFrame with every input column and the affect
columns of the file writers (:meth:`TextAffect.to_row`); a bad row gets an ``error`` and the rest go on.

>>> import pandas as pd
>>> from affectlab import analyze_frame
>>> out = analyze_frame(pd.DataFrame({"id": [1, 2], "text": ["I love it!", ""]}))
>>> out[["id", "top", "ekman_joy", "error"]]
"""

from __future__ import annotations

from collections.abc import Callable

from affectlab.errors import OptionError, check_count
from affectlab.extras import require
from affectlab.text.analyzer import Analyzer
from affectlab.text.result import TextAffect


def analyze_frame(
    frame,
    text_column: str = "text",
    *,
    analyzer: Analyzer | None = None,
    explain: bool = False,
    batch_size: int = 512,
    on_rows: Callable[[int], None] | None = None,
):
    """A copy of ``frame`` (same index, every column kept) with the affect columns appended.

    A row whose text is missing, not a string or empty gets an ``error`` naming its index label, and empty
    scores. The rows are analyzed ``batch_size`` at a time; ``on_rows`` is called with each batch's size.
    ``analyzer`` defaults to the shipped text model.
    """
    pandas = require("pandas", "corpus")
    if not isinstance(frame, pandas.DataFrame):
        raise OptionError(f"analyze_frame takes a pandas DataFrame, not {type(frame).__name__}")
    if text_column not in frame.columns:
        present = ", ".join(map(str, frame.columns))
        raise OptionError(f"no column {text_column!r} in the DataFrame; columns are: {present}")
    check_count("batch_size", batch_size)
    texts = frame[text_column]
    if isinstance(texts, pandas.DataFrame):
        raise OptionError(f"the DataFrame has {texts.shape[1]} columns named {text_column!r}; rename all but one")
    columns = list(TextAffect.failed("").to_row())
    if explain:
        columns.insert(columns.index("error"), "evidence")
    if analyzer is not None and analyzer.head is not None:  # a head of one's own: its labels' columns too
        for column in ["custom_labels", *(f"custom_{label}" for label in analyzer.head.labels)]:
            columns.insert(columns.index("error"), column)
    clash = [c for c in columns if c in frame.columns]
    if clash:
        raise OptionError(f"input columns {clash} clash with affectlab's output columns; rename them first")
    if analyzer is None:
        from affectlab.text import default_analyzer

        analyzer = default_analyzer()
    values, labels = texts.tolist(), frame.index.tolist()
    rows = []
    for start in range(0, len(values), batch_size):
        part = values[start : start + batch_size]
        for label, result in zip(labels[start:], analyzer.analyze_batch(part, explain=explain)):
            row = result.to_row()
            if result.error is not None:
                row["error"] = f"row {label}: {result.error}"
            rows.append(row)
        if on_rows is not None:
            on_rows(len(part))
    scores = pandas.DataFrame.from_records(rows, index=frame.index, columns=columns)
    return pandas.concat([frame, scores], axis=1)
