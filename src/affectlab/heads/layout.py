"""Which outputs of the affect head mean what (readable without torch)."""

from __future__ import annotations

from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD

# (block name, its label names, how its raw outputs become scores)
HEAD_LAYOUT: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("goemotions", GOEMOTIONS, "sigmoid"),
    ("ekman", EKMAN, "sigmoid"),
    ("sentiment", SENTIMENT, "sigmoid"),
    ("vad", VAD, "standardized"),
)
HEAD_SIZE = sum(len(labels) for _, labels, _ in HEAD_LAYOUT)


def head_slices() -> dict[str, slice]:
    """Where each block lives in the head's output vector."""
    slices: dict[str, slice] = {}
    start = 0
    for name, labels, _ in HEAD_LAYOUT:
        slices[name] = slice(start, start + len(labels))
        start += len(labels)
    return slices


# Cause-pair head: how far back a candidate turn is from the target, bucketed. Lower edges: distances
# 0, 1, 2 and 3 each have their own bucket, then 4-5, 6-8, 9-13 and 14 or more.
DISTANCE_BUCKETS: tuple[int, ...] = (0, 1, 2, 3, 4, 6, 9, 14)
