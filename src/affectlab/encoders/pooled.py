"""The shape every affectlab classifier of one sequence shares: encoder → mean pooling → head.
Subclasses choose the head; only the fine-tuned layers and the head are saved (see :mod:`.finetuned`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from affectlab.encoders.finetuned import freeze_embeddings, load_finetuned, save_finetuned
from affectlab.encoders.minilm import mean_pool
from affectlab.encoders.named import load_named_encoder, named_base_model
from affectlab.registry import WEIGHTS_FILE


class PooledModel(nn.Module):
    def __init__(self, make_head: Callable[[int], nn.Module], encoder: str = "minilm") -> None:
        super().__init__()
        self.encoder_name = encoder
        self.encoder = load_named_encoder(encoder)
        self.head = make_head(self.encoder.config.hidden_size)

    @classmethod
    def loaded(cls, folder: Path, *args, **kwargs) -> PooledModel:
        """``cls(*args, **kwargs)`` filled from an artifact folder, in eval mode. Building the network draws its
        random start from torch's generator; loading must not move the caller's (a seeded training run that
        reads its data with a model first would otherwise start elsewhere, and only on a cold ONNX cache)."""
        with torch.random.fork_rng(devices=[]):
            return cls(*args, **kwargs).load_weights(folder)

    def freeze_embeddings(self) -> None:
        freeze_embeddings(self)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(mean_pool(states, attention_mask))

    def save_weights(self, folder: Path) -> None:
        save_finetuned(self, folder / WEIGHTS_FILE, named_base_model(self.encoder_name))

    def load_weights(self, folder: Path) -> PooledModel:
        """Fill this model (already holding the base encoder) from an artifact folder; eval mode."""
        return load_finetuned(self, folder / WEIGHTS_FILE)
