"""Saving and loading models built on the encoder: only what training changed is shipped.

The embedding layer stays frozen during every affectlab fine-tune, so it is read from the base encoder
package; the transformer layers and heads are stored in fp16.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from affectlab.encoders.minilm import BASE_MODEL
from affectlab.errors import AffectlabError

FROZEN_PREFIX = "encoder.embeddings."


class ArtifactMismatch(AffectlabError, ValueError):
    """A weights file that does not belong to the model it is loaded into."""


def freeze_embeddings(model: nn.Module) -> None:
    for name, param in model.named_parameters():
        if name.startswith(FROZEN_PREFIX):
            param.requires_grad_(False)


def save_finetuned(model: nn.Module, path: Path, base_model: str = BASE_MODEL) -> None:
    shipped = {
        name: tensor.detach().to(torch.float16).contiguous()
        for name, tensor in model.state_dict().items()
        if not name.startswith(FROZEN_PREFIX)
    }
    save_file(shipped, str(path), metadata={"base_model": base_model})


def load_finetuned(model: nn.Module, path: Path) -> nn.Module:
    """Fill ``model`` (already holding the base encoder) with the shipped weights; eval mode."""
    shipped = {k: v.to(torch.float32) for k, v in load_file(str(path)).items()}
    missing, unexpected = model.load_state_dict(shipped, strict=False)
    not_frozen = [name for name in missing if not name.startswith(FROZEN_PREFIX)]
    if not_frozen or unexpected:
        raise ArtifactMismatch(f"{path} does not fit the model: missing {not_frozen}, unexpected {unexpected}")
    return model.eval()
