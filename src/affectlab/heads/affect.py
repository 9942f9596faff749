"""One linear head over the pooled sentence vector, read as four blocks of outputs."""

from __future__ import annotations

from torch import Tensor, nn

from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD

# (block name, its label names, how its raw outputs become scores)
HEAD_LAYOUT: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("goemotions", GOEMOTIONS, "sigmoid"),
    ("ekman", EKMAN, "sigmoid"),
    ("sentiment", SENTIMENT, "sigmoid"),
    ("vad", VAD, "standardized"),
)


def head_slices() -> dict[str, slice]:
    """Where each block lives in the head's output vector."""
    slices: dict[str, slice] = {}
    start = 0
    for name, labels, _ in HEAD_LAYOUT:
        slices[name] = slice(start, start + len(labels))
        start += len(labels)
    return slices


class AffectHead(nn.Module):
    def __init__(self, hidden_size: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden_size, sum(len(labels) for _, labels, _ in HEAD_LAYOUT))

    def forward(self, pooled: Tensor) -> Tensor:
        return self.linear(self.dropout(pooled))
