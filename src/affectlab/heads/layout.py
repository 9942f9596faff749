"""Which outputs of the affect head mean what (readable without torch)."""

from __future__ import annotations

from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD

# (block name, its label names, how its raw outputs become scores)
HEAD_LAYOUT: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("goemotions", GOEMOTIONS, "sigmoid"),
    ("ekman", EKMAN, "sigmoid"),
    ("sentiment", SENTIMENT, "sigmoid"),
    ("vad", VAD, "standardized"),
    ("irony", ("irony",), "sigmoid"),
)
BLOCKS = tuple(name for name, _, _ in HEAD_LAYOUT)
# Text models trained before the irony block was added: their config.json does not list blocks.
BLOCKS_BEFORE_IRONY = BLOCKS[:4]


def head_layout(blocks: tuple[str, ...] = BLOCKS) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """The layout entries of ``blocks``, in head order (a model's blocks are always a prefix of the layout)."""
    if BLOCKS[: len(blocks)] != tuple(blocks):
        raise ValueError(f"head blocks must be a prefix of {BLOCKS}, not {tuple(blocks)}")
    return HEAD_LAYOUT[: len(blocks)]


def head_size(blocks: tuple[str, ...] = BLOCKS) -> int:
    return sum(len(labels) for _, labels, _ in head_layout(blocks))


def head_slices(blocks: tuple[str, ...] = BLOCKS) -> dict[str, slice]:
    """Where each block lives in the head's output vector."""
    slices: dict[str, slice] = {}
    start = 0
    for name, labels, _ in head_layout(blocks):
        slices[name] = slice(start, start + len(labels))
        start += len(labels)
    return slices


# Cause-pair head: how far back a candidate turn is from the target, bucketed. Lower edges: distances
# 0, 1, 2 and 3 each have their own bucket, then 4-5, 6-8, 9-13 and 14 or more.
DISTANCE_BUCKETS: tuple[int, ...] = (0, 1, 2, 3, 4, 6, 9, 14)
