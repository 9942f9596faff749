"""Steering: add an emotion direction to decoder blocks' outputs while the model runs.

>>> dirs = emotion_directions(llm)
>>> with Steering(llm, dirs["joy"], layer=9, strength=3):
...     llm.generate("Q: Tell me about your weekend.\\nA:", max_new_tokens=30, temperature=0.7, seed=0)
>>> with Steering(llm, dirs["joy"], layer=(8, 9, 10), strength=3):    # the same push, spread over three blocks
...     ...

``strength`` multiplies the direction as computed (a mean difference of activations), so 1 moves the
residual stream by one neutral-to-emotional step; every position gets it, the prompt's and each new token's.
With several layers each block gets its own layer's direction (from an ``EmotionVector`` or a mapping; a
plain array is added as it is at every block) at ``strength / len(layers)``: the residual
stream carries every shift forward, so the total push stays comparable to one block at ``strength``.
A ``[rows, hidden]`` matrix steers each row of a batch its own way (rows in the order of the prompts); a
mapping ``{layer: vector or matrix}`` gives each layer its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from affectlab.errors import is_finite_number, is_whole_number
from affectlab.internals.directions import EmotionVector
from affectlab.internals.layers import InternalsError, check_layer, decoder_layers, hidden_size

Direction = EmotionVector | np.ndarray | Mapping[int, np.ndarray]
# the most a steering hook may add to one hidden value: far past any useful push (the shipped directions' values
# reach about 1e3, their strengths stay below 10), far below float32's overflow, which turns sampling into NaN
MAX_SHIFT = 1e12
# the shipped directions are steered at strengths below 10; a thousand times that is far past any use
MAX_STRENGTH = 1e4


def steering_layers(layer: int | Sequence[int]) -> tuple[int, ...]:
    """One layer or several, as a tuple (an empty or repeated list, or a layer that is no whole number, is an
    error)."""
    if isinstance(layer, (str, bytes)):
        raise InternalsError(f"layer must be a number or a sequence of numbers, not the text {layer!r}")
    layers = (layer,) if is_whole_number(layer) else tuple(layer) if isinstance(layer, Iterable) else None
    if layers is None or not all(is_whole_number(x) for x in layers):
        raise InternalsError(f"layer must be a whole number or a sequence of them, not {layer!r}")
    layers = tuple(int(x) for x in layers)
    if not layers or len(set(layers)) != len(layers):
        raise InternalsError(f"steer at one layer or several distinct ones, not {list(layers)}")
    return layers


def check_strength(strength: object) -> float:
    """``strength`` as a float, if it is a number within ±:data:`MAX_STRENGTH`; else :class:`InternalsError`."""
    if not is_finite_number(strength):
        raise InternalsError(f"strength must be a finite number, not {strength!r}")
    if abs(strength) > MAX_STRENGTH:
        raise InternalsError(f"strength must be between -{MAX_STRENGTH:g} and {MAX_STRENGTH:g}, not {strength:g}")
    return float(strength)


def _vector_at(direction: Direction, layer: int) -> np.ndarray:
    if isinstance(direction, EmotionVector):
        return direction.at(layer)
    if isinstance(direction, Mapping):
        if layer not in direction:
            raise InternalsError(f"no direction given for layer {layer} (given: {sorted(direction)})")
        direction = direction[layer]
    try:
        vector = np.asarray(direction, np.float32)
    except (TypeError, ValueError):
        raise InternalsError(f"a direction must be numbers (a vector, a [rows, hidden] matrix or an "
                             f"EmotionVector), not {type(direction).__name__}") from None
    if not np.isfinite(vector).all():
        raise InternalsError(f"the direction for layer {layer} holds NaN or infinite values")
    return vector


class Steering:
    def __init__(self, llm, direction: Direction, layer: int | Sequence[int], strength: float = 4.0) -> None:
        self.llm, self.strength = llm, check_strength(strength)
        self.layers = tuple(check_layer(llm, x) for x in steering_layers(layer))
        hidden = hidden_size(llm)
        self.vectors = {}
        for at in self.layers:
            vector = _vector_at(direction, at)
            if vector.ndim not in (1, 2) or vector.shape[-1] != hidden or not vector.size:
                raise InternalsError(f"a direction of shape {list(vector.shape)} does not fit {llm.name} "
                                     f"(hidden size {hidden})")
            self._check_shift(vector, at)
            self.vectors[at] = vector
        self._handles = []

    def _check_shift(self, vector: np.ndarray, layer: int) -> None:
        peak = float(np.abs(vector).max()) * abs(self.strength) / len(self.layers)
        if peak > MAX_SHIFT:
            raise InternalsError(f"strength {self.strength:g} is too large for this direction: it would add up to "
                                 f"{peak:.3g} to a hidden value at layer {layer} (at most {MAX_SHIFT:g})")

    def __enter__(self) -> Steering:
        import torch

        blocks = decoder_layers(self.llm)
        for at, vector in self.vectors.items():
            shift = torch.tensor(vector * self.strength / len(self.layers), dtype=torch.float32)
            shift = shift[None, None, :] if shift.ndim == 1 else shift[:, None, :]
            self._handles.append(blocks[at].register_forward_hook(_adder(shift)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def _adder(shift):
    def hook(module, inputs, output):
        rows = (output[0] if isinstance(output, tuple) else output).shape[0]
        if shift.shape[0] not in (1, rows):
            raise InternalsError(f"a [rows, hidden] direction steers one prompt per row: {shift.shape[0]} rows "
                                 f"for a batch of {rows}")
        if isinstance(output, tuple):
            return (output[0] + shift.to(output[0].dtype), *output[1:])
        return output + shift.to(output.dtype)

    return hook
