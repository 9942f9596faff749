"""Hidden states of a local causal LM: the residual stream after each decoder block, pooled per text.

>>> from affectlab.llm import load_llm
>>> states = capture(load_llm(backend="transformers"), ["I am so happy today.", "Leave me alone."], pooling="mean")
>>> states.shape            # (texts, layers, hidden size): (2, 18, 640) for Gemma 3 270M

The begin-of-text token is left out of mean pooling: its residual norm is hundreds of times larger than the
other positions' (about 7,000 on Gemma 3 270M) and would swamp every average. Texts run in batches and only
the pooled vectors are kept, so memory grows with texts x layers x hidden size, not with their length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from affectlab.errors import check_count
from affectlab.internals.layers import InternalsError, check_layer, decoder_layers
from affectlab.io.values import surrogate_problem

POOLINGS = ("mean", "last")


def _block_output(output):
    return output[0] if isinstance(output, tuple) else output


def capture(llm, texts: Sequence[str], *, layers: Sequence[int] | None = None, pooling: str = "mean",
            batch_size: int = 16, max_tokens: int = 256,
            on_progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Pooled residual-stream vectors, ``float32 [len(texts), len(layers), hidden]``; ``layers`` default all.
    Texts longer than ``max_tokens`` keep their beginning (for ``last`` pooling, pass shorter texts)."""
    return capture_pooled(llm, texts, layers=layers, poolings=(pooling,), batch_size=batch_size,
                          max_tokens=max_tokens, on_progress=on_progress)[pooling]


def _checked_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list, once each is a string the tokenizer can read (no lone surrogate)."""
    if isinstance(texts, (str, bytes)):
        raise InternalsError("texts must be a list of texts, not one text (pass [text])")
    texts = list(texts)
    if not texts:
        raise InternalsError("no texts to capture")
    for number, text in enumerate(texts):
        if not isinstance(text, str):
            raise InternalsError(f"text {number} is a {type(text).__name__}, not a string")
        problem = surrogate_problem(text, f"text {number}")
        if problem:
            raise InternalsError(problem)
    return texts


def _weights(encoded, pooling: str, bos: int | None):
    import torch

    mask = encoded["attention_mask"].float()
    if pooling == "mean":
        weight = mask.clone()
        if bos is not None:
            weight[encoded["input_ids"] == bos] = 0.0
        return weight / weight.sum(1, keepdim=True).clamp(min=1.0)
    weight = torch.zeros_like(mask)
    weight[torch.arange(len(mask)), mask.sum(1).long() - 1] = 1.0
    return weight


def capture_pooled(llm, texts: Sequence[str], *, layers: Sequence[int] | None = None,
                   poolings: Sequence[str] = ("mean",), batch_size: int = 16, max_tokens: int = 256,
                   on_progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """:func:`capture` with several poolings from one forward pass: ``{pooling: [texts, layers, hidden]}``."""
    import torch

    unknown = [p for p in poolings if p not in POOLINGS]
    if unknown or not poolings:
        raise InternalsError(f"pooling must be one of {', '.join(POOLINGS)}, not {', '.join(map(repr, unknown))}")
    check_count("batch_size", batch_size)
    check_count("max_tokens", max_tokens)
    blocks = decoder_layers(llm)
    chosen = list(range(len(blocks))) if layers is None else [check_layer(llm, k) for k in layers]
    if not chosen:
        raise InternalsError("no layers to capture")
    texts = _checked_texts(texts)
    tokenizer = llm.tokenizer
    # the decoder without the LM head: on Gemma 3 270M the head (640 x 262k) costs more than all 18 blocks
    body = llm.model.get_decoder() if hasattr(llm.model, "get_decoder") else llm.model
    results: dict[str, list[np.ndarray]] = {p: [] for p in poolings}
    current: dict[tuple[str, int], torch.Tensor] = {}
    weights: dict[str, torch.Tensor] = {}

    def hook_for(slot: int):
        def hook(module, inputs, output):
            hidden = _block_output(output).float()
            for pooling, weight in weights.items():
                current[pooling, slot] = (hidden * weight.unsqueeze(-1)).sum(1)
        return hook

    handles = [blocks[k].register_forward_hook(hook_for(slot)) for slot, k in enumerate(chosen)]
    try:
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start:start + batch_size])
            encoded = tokenizer(batch, return_tensors="pt", padding=True, padding_side="right", truncation=True,
                                max_length=max_tokens)
            weights.update({p: _weights(encoded, p, tokenizer.bos_token_id) for p in poolings})
            with torch.inference_mode():
                body(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"], use_cache=False)
            for pooling in poolings:
                results[pooling].append(torch.stack([current[pooling, slot] for slot in range(len(chosen))], 1).numpy())
            if on_progress is not None:
                on_progress(len(batch))
    finally:
        for handle in handles:
            handle.remove()
    return {pooling: np.concatenate(parts) for pooling, parts in results.items()}
