"""Heads over a packed conversation: per-turn pooling, the cause-pair classifier and the span scorer."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from affectlab.heads.layout import DISTANCE_BUCKETS


def slot_mean(states: Tensor, slots: Tensor, n_slots: int) -> Tensor:
    """``[batch, tokens, hidden]`` states and each token's slot (-1: none) → ``[batch, n_slots, hidden]``."""
    one_hot = (slots.unsqueeze(-1) == torch.arange(n_slots, device=slots.device)).to(states.dtype)
    totals = torch.einsum("bts,bth->bsh", one_hot, states)
    return totals / one_hot.sum(1).clamp(min=1.0).unsqueeze(-1)


class CausePairHead(nn.Module):
    """Scores (target, candidate) pairs from both pooled turns, their product, the candidate's distance
    back from the target (bucketed) and whether the same speaker said both."""

    def __init__(self, hidden_size: int, feature_size: int = 16, dropout: float = 0.1):
        super().__init__()
        self.distance = nn.Embedding(len(DISTANCE_BUCKETS), feature_size)
        self.same_speaker = nn.Embedding(2, feature_size)
        self.mlp = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(3 * hidden_size + 2 * feature_size, hidden_size),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, 1),
        )

    def forward(self, target: Tensor, candidates: Tensor, distance: Tensor, same_speaker: Tensor) -> Tensor:
        target = target.unsqueeze(1).expand_as(candidates)
        features = torch.cat(
            [candidates, target, candidates * target, self.distance(distance), self.same_speaker(same_speaker)], -1
        )
        return self.mlp(features).squeeze(-1)


class SpanHead(nn.Module):
    """Start and end logits for every token; the caller restricts them to one turn's tokens."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.linear = nn.Linear(hidden_size, 2)

    def forward(self, states: Tensor) -> tuple[Tensor, Tensor]:
        start, end = self.linear(states).unbind(-1)
        return start, end
