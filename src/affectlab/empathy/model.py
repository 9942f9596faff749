"""A context classifier as a torch module: encoder → mean pooling → one linear layer over the labels."""

from __future__ import annotations

from pathlib import Path

from torch import Tensor, nn

from affectlab.encoders import load_encoder, mean_pool
from affectlab.encoders.finetuned import freeze_embeddings, load_finetuned, save_finetuned
from affectlab.text.artifact import WEIGHTS_FILE


class ContextModel(nn.Module):
    def __init__(self, n_labels: int) -> None:
        super().__init__()
        self.encoder = load_encoder()
        self.head = nn.Linear(self.encoder.config.hidden_size, n_labels)

    def freeze_embeddings(self) -> None:
        freeze_embeddings(self)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(mean_pool(states, attention_mask))

    def save_weights(self, folder: Path) -> None:
        save_finetuned(self, folder / WEIGHTS_FILE)

    @classmethod
    def from_artifact(cls, folder: Path, n_labels: int) -> ContextModel:
        return load_finetuned(cls(n_labels), folder / WEIGHTS_FILE)
