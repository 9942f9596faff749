"""The shape every affectlab classifier of one sequence shares: encoder → mean pooling → head.
Subclasses choose the head; only the fine-tuned layers and the head are saved (see :mod:`.finetuned`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import Tensor, nn

from affectlab.encoders.finetuned import freeze_embeddings, load_finetuned, save_finetuned
from affectlab.encoders.minilm import load_encoder, mean_pool
from affectlab.registry import WEIGHTS_FILE


class PooledModel(nn.Module):
    def __init__(self, make_head: Callable[[int], nn.Module]) -> None:
        super().__init__()
        self.encoder = load_encoder()
        self.head = make_head(self.encoder.config.hidden_size)

    def freeze_embeddings(self) -> None:
        freeze_embeddings(self)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(mean_pool(states, attention_mask))

    def save_weights(self, folder: Path) -> None:
        save_finetuned(self, folder / WEIGHTS_FILE)

    def load_weights(self, folder: Path) -> PooledModel:
        """Fill this model (already holding the base encoder) from an artifact folder; eval mode."""
        return load_finetuned(self, folder / WEIGHTS_FILE)
