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
