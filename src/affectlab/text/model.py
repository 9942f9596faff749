"""The text affect model: encoder → mean pooling → affect head, as a torch module."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch
from torch import Tensor, nn

from affectlab.encoders.minilm import mean_pool
from affectlab.encoders.pooled import PooledModel
from affectlab.heads.affect import AffectHead
from affectlab.heads.layout import BLOCKS
from affectlab.text.artifact import ArtifactConfig


class AffectModel(PooledModel):
    def __init__(self, encoder: str = "minilm", blocks: tuple[str, ...] = BLOCKS) -> None:
        super().__init__(partial(AffectHead, blocks=blocks), encoder)
        self.blocks = tuple(blocks)

    @classmethod
    def from_artifact(cls, folder: Path) -> AffectModel:
        config = ArtifactConfig.load(folder)
        return cls.loaded(folder, config.encoder, tuple(config.blocks))


class WithPooled(nn.Module):
    """A pooled model whose output row is its head's outputs followed by the pooled sentence vector they were
    computed from: one array, so that every runtime and :func:`~affectlab.text.runtime.run_sorted` handle it
    as they handle the head alone. Heads of one's own (:mod:`affectlab.text.label_head`) read the vector."""

    def __init__(self, model: PooledModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        states = self.model.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = mean_pool(states, attention_mask)
        return torch.cat([self.model.head(pooled), pooled], dim=-1)
