"""The two conversation models, each the shared encoder plus small heads over packed turns
(:mod:`affectlab.dialogue.packing` builds their inputs)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from affectlab.encoders import load_encoder
from affectlab.heads.dialogue import CausePairHead, SpanHead, slot_mean


class TurnEmotionModel(nn.Module):
    """Block-causal encoding of a window of turns → emotion logits for every turn. With ``n_features``, each
    turn's pooled vector is joined by that many probabilities of its own (the text model's reading of the turn),
    as log-odds, before the head; 0 is the layout of models that read the turns alone. With ``n_heads``, one
    linear head per register, their logits side by side (:func:`affectlab.dialogue.registers.register_logits`)."""

    def __init__(self, n_labels: int, n_features: int = 0, dropout: float = 0.1, n_heads: int = 1):
        super().__init__()
        self.encoder = load_encoder()
        self.n_features = n_features
        hidden = self.encoder.config.hidden_size
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden + n_features, n_labels * n_heads))

    def forward(self, ids: Tensor, mask: Tensor, slots: Tensor, n_slots: int, features: Tensor | None = None) -> Tensor:
        """``mask``: ``[batch, 1, tokens, tokens]`` additive; ``features``: ``[batch, n_slots, n_features]`` →
        ``[batch, n_slots, heads × labels]`` logits."""
        states = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        pooled = slot_mean(states, slots, n_slots)
        if self.n_features:
            if features is None or features.shape[-1] != self.n_features:
                raise ValueError(f"this turn model reads {self.n_features} numbers per turn beside its tokens")
            pooled = torch.cat([pooled, _log_odds(features.to(pooled.dtype))], -1)
        return self.head(pooled)


def _log_odds(probabilities: Tensor) -> Tensor:
    # As probabilities, a reading moves a logit by at most its weight, and AdamW moves a weight by about the
    # learning rate a step: a run of ~2,000 steps left them near 0.2, so a turn read as 0.98 fear stayed
    # neutral. Log-odds (±6.9 at the clamp) give the same weights room to matter.
    p = probabilities.clamp(1e-3, 1 - 1e-3)
    return torch.log(p) - torch.log1p(-p)


class CauseOutput(NamedTuple):
    pair: Tensor  # [batch, candidate slots] cause logits (slot 1… of the packing; slot 0 is the target)
    start: Tensor  # [batch, tokens] span start logits
    end: Tensor  # [batch, tokens]


class CauseModel(nn.Module):
    """Target-led encoding of the turns up to the target → cause logit per turn and span logits per token.
    ``encoder``: another body than the shared encoder (the cause teacher's)."""

    def __init__(self, encoder: nn.Module | None = None):
        super().__init__()
        self.encoder = encoder if encoder is not None else load_encoder()
        hidden = self.encoder.config.hidden_size
        self.pair = CausePairHead(hidden)
        self.span = SpanHead(hidden)

    def forward(self, ids: Tensor, valid: Tensor, slots: Tensor, n_slots: int,
                distance: Tensor, same_speaker: Tensor) -> CauseOutput:
        states = self.encoder(input_ids=ids, attention_mask=valid.long()).last_hidden_state
        pooled = slot_mean(states, slots, n_slots)
        start, end = self.span(states)
        return CauseOutput(self.pair(pooled[:, 0], pooled[:, 1:], distance, same_speaker), start, end)
