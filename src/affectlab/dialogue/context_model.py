"""A context classifier as a torch module: encoder → mean pooling → one linear layer over the labels."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from affectlab.encoders.pooled import PooledModel


class ContextModel(PooledModel):
    def __init__(self, n_labels: int) -> None:
        super().__init__(lambda hidden: nn.Linear(hidden, n_labels))

    @classmethod
    def from_artifact(cls, folder: Path, n_labels: int) -> ContextModel:
        return cls.loaded(folder, n_labels)
