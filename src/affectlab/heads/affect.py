"""One linear head over the pooled sentence vector; :mod:`affectlab.heads.layout` names its outputs."""

from __future__ import annotations

from torch import Tensor, nn

from affectlab.heads.layout import BLOCKS, head_size


class AffectHead(nn.Module):
    def __init__(self, hidden_size: int, blocks: tuple[str, ...] = BLOCKS, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden_size, head_size(blocks))

    def forward(self, pooled: Tensor) -> Tensor:
        return self.linear(self.dropout(pooled))
