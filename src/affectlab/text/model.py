"""The text affect model: encoder → mean pooling → affect head, as a torch module."""

from __future__ import annotations

from functools import partial
from pathlib import Path

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
        return cls(config.encoder, tuple(config.blocks)).load_weights(folder)
