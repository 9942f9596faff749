"""Sentence embeddings of a text model's encoder, before and after affectlab fine-tuned it: mean-pooled token
states, as the model itself pools them (all-MiniLM-L6-v2 pools the same way)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from affectlab.encoders import load_tokenizer, mean_pool
from affectlab.encoders.named import load_named_encoder, named_model_dir
from affectlab.text.analyzer import Analyzer
from affectlab.text.runtime import pad_batch


def encoders(analyzer: Analyzer) -> dict[str, tuple[object, object]]:
    """``{"base": ..., "fine-tuned": ...}``: each an (encoder module, tokenizer) pair. The base is the encoder
    package the model was trained from (all-MiniLM-L6-v2 for every shipped model); the fine-tuned one is the
    model's own encoder."""
    tokenizer = load_tokenizer(analyzer.config.max_length, named_model_dir(analyzer.config.encoder))
    return {
        "base": (load_named_encoder(analyzer.config.encoder).eval(), tokenizer),
        "fine-tuned": (analyzer.torch_model.encoder, tokenizer),
    }


def embed(texts: Sequence[str], encoder, tokenizer, batch_size: int = 64) -> np.ndarray:
    """One mean-pooled vector per text, float32 ``[texts, hidden]``."""
    import torch

    ids = [encoding.ids for encoding in tokenizer.encode_batch(list(texts))]
    vectors = []
    with torch.inference_mode():
        for start in range(0, len(ids), batch_size):
            input_ids, mask = (torch.from_numpy(a) for a in pad_batch(ids[start : start + batch_size]))
            states = encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state
            vectors.append(mean_pool(states, mask).float().numpy())
    return np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32)
