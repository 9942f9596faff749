"""Steering: add an emotion direction to one decoder block's output while the model runs.

>>> dirs = emotion_directions(llm)
>>> with Steering(llm, dirs["joy"], layer=9, strength=3):
...     llm.generate("Q: Tell me about your weekend.\\nA:", max_new_tokens=30, temperature=0.7, seed=0)

``strength`` multiplies the direction as computed (a mean difference of activations), so 1 moves the
residual stream by one neutral-to-emotional step; every position gets it, the prompt's and each new token's.
A ``[rows, hidden]`` matrix steers each row of a batch its own way (rows in the order of the prompts).
"""

from __future__ import annotations

import numpy as np

from affectlab.internals.directions import EmotionVector
from affectlab.internals.layers import InternalsError, check_layer, decoder_layers, hidden_size


class Steering:
    def __init__(self, llm, direction: EmotionVector | np.ndarray, layer: int, strength: float = 4.0) -> None:
        self.llm, self.layer, self.strength = llm, check_layer(llm, layer), float(strength)
        vector = direction.at(layer) if isinstance(direction, EmotionVector) else np.asarray(direction, np.float32)
        hidden = hidden_size(llm)
        if vector.shape[-1] != hidden or vector.ndim not in (1, 2):
            raise InternalsError(f"a direction of shape {list(vector.shape)} does not fit {llm.name} "
                                 f"(hidden size {hidden})")
        self.vector = vector
        self._handle = None

    def __enter__(self) -> Steering:
        import torch

        shift = torch.tensor(self.vector * self.strength, dtype=torch.float32)
        shift = shift[None, None, :] if shift.ndim == 1 else shift[:, None, :]

        def hook(module, inputs, output):
            if isinstance(output, tuple):
                return (output[0] + shift.to(output[0].dtype), *output[1:])
            return output + shift.to(output.dtype)

        self._handle = decoder_layers(self.llm)[self.layer].register_forward_hook(hook)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
