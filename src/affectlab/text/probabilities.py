"""Raw head outputs to probabilities and back, in numpy (the ONNX path never imports torch).

>>> sigmoid(np.array([0.0]))
array([0.5])
>>> round(float(logit(sigmoid(np.array([2.0])))[0]), 6)
2.0
"""

from __future__ import annotations

import numpy as np


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Each logit's probability, elementwise."""
    return 1.0 / (1.0 + np.exp(-logits))


def logit(p: np.ndarray) -> np.ndarray:
    """The inverse of :func:`sigmoid`, with ``p`` clipped just inside (0, 1)."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities over the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
