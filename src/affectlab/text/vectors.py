"""A text's pooled sentence vector as the text model reads it: the text normalized and cut into the analyzer's
encoder windows, each window mean-pooled by the model's own encoder, and the windows' vectors averaged weighted
by their length in tokens.

This is the input the affect head sees, one window at a time. A head row fitted on these vectors (the fitted
reading blocks, :mod:`affectlab.train.readings`) gives, through the analyzer, exactly its prediction on the
vector: the head is linear, so the length-weighted mean of its outputs over the windows equals its output on
the length-weighted mean of their vectors.

>>> analyzer = Analyzer(runtime="torch")
>>> text_vectors(analyzer, ["so happy for you", "this is awful"]).shape
(2, 384)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from affectlab.text.analyzer import Analyzer, check_text
from affectlab.text.chunking import chunk_texts
from affectlab.text.normalize import normalize
from affectlab.text.runtime import TorchRuntime, run_sorted
from affectlab.text.windows import length_weighted_mean


class _PooledEncoder:
    """(ids, mask) → the mean-pooled last hidden states of a text model's encoder (its head left out)."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder

    def __call__(self, input_ids, attention_mask):
        from affectlab.encoders import mean_pool

        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(states, attention_mask)


def text_vectors(analyzer: Analyzer, texts: Sequence[str],
                 on_progress: Callable[[int], None] | None = None) -> np.ndarray:
    """float64 ``[texts, hidden]``: each text's length-weighted mean of its windows' pooled vectors, with the
    analyzer's window size, overlap and ``max_windows`` (a longer text is read from its beginning). A text that
    cannot be analyzed raises :class:`~affectlab.text.analyzer.InvalidText` naming its position."""
    normalized = []
    for position, text in enumerate(texts):
        try:
            normalized.append(normalize(check_text(text, analyzer.max_chars)).text)
        except ValueError as exc:
            raise type(exc)(f"text {position}: {exc}") from None
    chunks, _ = chunk_texts(analyzer.tokenizer, normalized, analyzer.config.max_length, analyzer.overlap,
                            analyzer.max_windows)
    pooled = run_sorted(TorchRuntime(_PooledEncoder(analyzer.torch_model.encoder)), [c.ids for c in chunks],
                        analyzer.batch_size, on_progress)
    owner = np.array([c.text_index for c in chunks])
    weights = np.array([max(1, c.weight) for c in chunks], dtype=np.float64)
    return length_weighted_mean(pooled.astype(np.float64), owner, weights, len(normalized))
