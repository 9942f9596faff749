"""The text affect model: encoder → mean pooling → affect head, as a torch module."""

from __future__ import annotations

from pathlib import Path

from affectlab.encoders.pooled import PooledModel
from affectlab.heads.affect import AffectHead


class AffectModel(PooledModel):
    def __init__(self) -> None:
        super().__init__(AffectHead)

    @classmethod
    def from_artifact(cls, folder: Path) -> AffectModel:
        return cls().load_weights(folder)
