"""The text affect model: encoder → mean pooling → affect head, as a torch module.

Only the fine-tuned transformer layers and the head are saved (fp16). The embedding layer stays frozen
during training, so it is read from the base encoder package instead of being shipped.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from affectlab.encoders import BASE_MODEL, load_encoder, mean_pool
from affectlab.heads.affect import AffectHead
from affectlab.text.artifact import WEIGHTS_FILE

FROZEN_PREFIX = "encoder.embeddings."


class AffectModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = load_encoder()
        self.head = AffectHead(self.encoder.config.hidden_size)

    def freeze_embeddings(self) -> None:
        for param in self.encoder.embeddings.parameters():
            param.requires_grad_(False)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(mean_pool(states, attention_mask))

    def save_weights(self, folder: Path) -> None:
        shipped = {
            name: tensor.detach().to(torch.float16).contiguous()
            for name, tensor in self.state_dict().items()
            if not name.startswith(FROZEN_PREFIX)
        }
        save_file(shipped, str(folder / WEIGHTS_FILE), metadata={"base_model": BASE_MODEL})

    @classmethod
    def from_artifact(cls, folder: Path) -> AffectModel:
        model = cls()
        shipped = {k: v.to(torch.float32) for k, v in load_file(str(folder / WEIGHTS_FILE)).items()}
        missing, unexpected = model.load_state_dict(shipped, strict=False)
        not_frozen = [name for name in missing if not name.startswith(FROZEN_PREFIX)]
        if not_frozen or unexpected:
            raise ValueError(
                f"{folder / WEIGHTS_FILE} does not fit the model: missing {not_frozen}, unexpected {unexpected}"
            )
        return model.eval()
