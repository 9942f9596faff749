"""The fast profile's network: static token vectors → one vector per text → a small head → the text model's
raw outputs (the same blocks as :mod:`affectlab.heads.layout`), with numpy alone.

Each vocabulary token has one fixed vector (distilled from the fine-tuned encoder and trained further, see
:mod:`affectlab.train.static`). A text's vector is the sum of its tokens' vectors scaled to unit length,
so a text of any length is read whole in one pass: no windows, no attention, no torch or ONNX Runtime.
The head is two layers: ``tanh``-approximated GELU over ``hidden`` units, then the output blocks.

The weights file holds ``vectors`` (int8, ``[vocabulary, dims]``) with one ``scales`` value per token
(a token's vector is ``vectors[t] * scales[t]``), or ``vectors`` in fp16 without scales, and the head's
``hidden.weight``, ``hidden.bias``, ``output.weight``, ``output.bias``. The vectors are widened to float32
once, on loading.

>>> model = StaticModel.load(folder, tokenizer)  # the analyzer builds it: Analyzer(profile="fast")
>>> model.run(["so happy for you!"]).shape
(1, 42)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from affectlab.registry import WEIGHTS_FILE, ModelNotFound

TEXTS_PER_BLOCK = 2048  # texts tokenized and scored together (bounds the memory of one pass)
TEXTS_PER_SUM = 128  # texts whose token vectors are gathered and summed at once: a few MB, so it stays in cache
HEAD_TENSORS = ("hidden.weight", "hidden.bias", "output.weight", "output.bias")


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU in its tanh form (what the head was trained with: ``nn.GELU(approximate="tanh")``), in ``x``'s dtype."""
    inner = x * x
    inner *= x.dtype.type(0.044715 * 0.7978845608028654)
    inner += x.dtype.type(0.7978845608028654)
    inner *= x
    np.tanh(inner, out=inner)
    inner += 1.0
    inner *= x
    inner *= 0.5
    return inner


class StaticModel:
    """Static token vectors and the head of a ``text-static`` artifact; :meth:`run` maps texts to raw outputs."""

    def __init__(self, tensors: dict[str, np.ndarray], tokenizer: Tokenizer, source: str = "weights") -> None:
        missing = [name for name in ("vectors", *HEAD_TENSORS) if name not in tensors]
        if missing:
            raise ModelNotFound(f"{source} is not a static text model (no {', '.join(missing)})")
        # held as float32 (vocabulary × dims × 4 bytes, about 31 MB): a text's tokens are then one gather and one sum
        self.vectors = tensors["vectors"].astype(np.float32)
        if "scales" in tensors:
            self.vectors *= tensors["scales"].astype(np.float32)[:, None]
        # the head in float64: a text's scores then do not move with the batch size (float32 matrix products sum
        # in an order that depends on it)
        self.hidden_weight, self.hidden_bias, self.output_weight, self.output_bias = (
            tensors[name].astype(np.float64) for name in HEAD_TENSORS
        )
        if tokenizer.get_vocab_size() > len(self.vectors):
            raise ModelNotFound(f"{source} has {len(self.vectors):,} token vectors, fewer than the tokenizer's "
                                f"{tokenizer.get_vocab_size():,} tokens")
        self.tokenizer = tokenizer

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer) -> StaticModel:
        """The model in an artifact folder (its ``weights.safetensors``)."""
        path = Path(folder) / WEIGHTS_FILE
        try:
            tensors = load_file(str(path))
        except (OSError, ValueError) as exc:
            raise ModelNotFound(f"{path} is not a readable weights file ({exc})") from None
        return cls(tensors, tokenizer, str(path))

    @property
    def dims(self) -> int:
        return self.vectors.shape[1]

    def text_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """``[texts, dims]`` unit vectors: each text's token vectors summed (a text without tokens: zeros)."""
        ids = [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
        ends = np.cumsum(lengths)
        summed = np.zeros((len(ids), self.dims), dtype=np.float32)
        for first in range(0, len(ids), TEXTS_PER_SUM):
            rows = np.arange(first, min(first + TEXTS_PER_SUM, len(ids)))
            rows = rows[lengths[rows] > 0]  # reduceat over texts with tokens only: their token runs are contiguous
            if len(rows):
                low = ends[rows[0]] - lengths[rows[0]]
                tokens = self.vectors[flat[low : ends[rows[-1]]]]
                summed[rows] = np.add.reduceat(tokens, ends[rows] - lengths[rows] - low, axis=0)
        norms = np.linalg.norm(summed, axis=1, keepdims=True)
        return np.divide(summed, norms, out=np.zeros_like(summed), where=norms > 0)

    def head(self, vectors: np.ndarray) -> np.ndarray:
        hidden = gelu(vectors.astype(np.float64) @ self.hidden_weight.T + self.hidden_bias)
        return hidden @ self.output_weight.T + self.output_bias

    def run(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Texts (already normalized) → float32 ``[texts, outputs]`` raw head outputs, in input order."""
        out = np.empty((len(texts), len(self.output_bias)), dtype=np.float32)
        for start in range(0, len(texts), TEXTS_PER_BLOCK):
            block = texts[start : start + TEXTS_PER_BLOCK]
            out[start : start + len(block)] = self.head(self.text_vectors(block))
            if on_progress is not None:
                on_progress(len(block))
        return out
