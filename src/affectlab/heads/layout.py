"""Which outputs of the affect head mean what (readable without torch).

The head is one linear layer over the pooled sentence vector; its rows come in blocks, in the order of
:data:`HEAD_LAYOUT`. A model holds an ordered subset of the blocks (its ``config.json`` lists them). Two
kinds of block share the layer: *trained* ones (:data:`BLOCKS`, what ``affectlab train text`` trains with the
encoder) and *fitted* ones (:data:`FITTED_BLOCKS`, ridge regressions on the frozen pooled vectors that
``affectlab train readings`` appends as rows afterwards, :mod:`affectlab.train.readings`).
"""

from __future__ import annotations

from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD, VAD_SCALE

EMOINT_EMOTIONS = ("anger", "fear", "joy", "sadness")

# (block name, its label names, how its raw outputs become scores): "sigmoid" → probabilities, "standardized"
# → the config's VAD mean and std undo the training scaling, "clipped" → already on the block's scale
# (BLOCK_SCALES), only clipped to it.
HEAD_LAYOUT: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("goemotions", GOEMOTIONS, "sigmoid"),
    ("ekman", EKMAN, "sigmoid"),
    ("sentiment", SENTIMENT, "sigmoid"),
    ("vad", VAD, "standardized"),
    ("irony", ("irony",), "sigmoid"),
    ("intensity", EMOINT_EMOTIONS, "clipped"),
    ("vad_writer", VAD, "clipped"),
    ("vad_reader", VAD, "clipped"),
    ("empathy", ("empathy",), "clipped"),
    ("distress", ("distress",), "clipped"),
)
LAYOUT_BLOCKS = tuple(name for name, _, _ in HEAD_LAYOUT)
FITTED_BLOCKS = ("intensity", "vad_writer", "vad_reader", "empathy", "distress")
BLOCKS = tuple(name for name in LAYOUT_BLOCKS if name not in FITTED_BLOCKS)  # the trained ones
# Text models trained before the irony block was added: their config.json does not list blocks.
BLOCKS_BEFORE_IRONY = BLOCKS[:4]
BLOCK_SCALES: dict[str, tuple[float, float]] = {
    "intensity": (0.0, 1.0),  # EmoInt
    "vad_writer": VAD_SCALE,  # EmoBank
    "vad_reader": VAD_SCALE,
    "empathy": (1.0, 7.0),  # WASSA-22
    "distress": (1.0, 7.0),
}


def check_blocks(blocks: tuple[str, ...]) -> None:
    """Raise ValueError unless ``blocks`` is an ordered subset of the layout (each at most once, in layout order).

    >>> check_blocks(("goemotions", "ekman", "sentiment", "vad", "intensity"))
    >>> check_blocks(("ekman", "goemotions"))
    Traceback (most recent call last):
    ValueError: head blocks must be an ordered subset of ('goemotions', ...), not ('ekman', 'goemotions')
    """
    unknown = [name for name in blocks if name not in LAYOUT_BLOCKS]
    positions = [LAYOUT_BLOCKS.index(name) for name in blocks if name in LAYOUT_BLOCKS]
    if unknown or positions != sorted(set(positions)):
        raise ValueError(f"head blocks must be an ordered subset of {LAYOUT_BLOCKS}, not {tuple(blocks)}")


def head_layout(blocks: tuple[str, ...] = BLOCKS) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """The layout entries of ``blocks``, in head order."""
    check_blocks(tuple(blocks))
    return tuple(entry for entry in HEAD_LAYOUT if entry[0] in blocks)


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
