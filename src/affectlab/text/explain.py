"""Evidence words by integrated gradients (Sundararajan et al., 2017) on the input word embeddings.

The path runs from a baseline of [PAD] tokens (same length, same [CLS]/[SEP]) to the text's own word
embeddings; each token's attribution is (input − baseline) · mean gradient of the target emotion's
logit along that path. WordPiece pieces are summed back into the words they came from.
"""

from __future__ import annotations

import numpy as np
from tokenizers import Tokenizer

from affectlab.text.chunking import Chunk
from affectlab.text.normalize import Normalized
from affectlab.text.result import WordAttribution

APOSTROPHES = ("'", "\u2019")


def token_attributions(model, ids: list[int], target: int, steps: int = 24) -> np.ndarray:
    """Attribution of each token in ``ids`` (with [CLS]/[SEP]) to output ``target`` of the head."""
    import torch

    from affectlab.encoders import mean_pool

    embed = model.encoder.embeddings.word_embeddings
    with torch.no_grad():
        tokens = torch.tensor([ids])
        baseline_ids = torch.zeros_like(tokens)
        baseline_ids[0, 0], baseline_ids[0, -1] = ids[0], ids[-1]
        x, base = embed(tokens), embed(baseline_ids)
    alphas = (torch.arange(1, steps + 1, dtype=x.dtype) / steps).view(-1, 1, 1)
    path = (base + alphas * (x - base)).requires_grad_(True)
    mask = torch.ones(path.shape[:2], dtype=torch.long)
    states = model.encoder(inputs_embeds=path, attention_mask=mask).last_hidden_state
    logits = model.head(mean_pool(states, mask))[:, target]
    (grads,) = torch.autograd.grad(logits.sum(), path)
    return ((x - base)[0] * grads.mean(0)).sum(-1).detach().numpy()


def continues_word(token: str, word_end: int, start: int, text: str) -> bool:
    """Whether a token starting at ``start`` belongs to the word ending at ``word_end``: a WordPiece
    continuation, or a contraction ("can't" is tokenized as can / ' / t)."""
    if token.startswith("##"):
        return True
    return start == word_end and (token in APOSTROPHES or text[word_end - 1] in APOSTROPHES)


def evidence_words(
    model, tokenizer: Tokenizer, chunk: Chunk, target: int, normalized: Normalized, top_k: int = 5
) -> list[WordAttribution]:
    """The ``top_k`` words of a chunk that raise output ``target`` most, offsets in the original text."""
    scores = token_attributions(model, chunk.ids, target)[1:-1]
    words: list[tuple[float, int, int]] = []
    for token_id, score, (start, end) in zip(chunk.ids[1:-1], scores, chunk.offsets):
        if words and continues_word(tokenizer.id_to_token(token_id), words[-1][2], start, normalized.text):
            total, word_start, _ = words[-1]
            words[-1] = (total + float(score), word_start, end)
        else:
            words.append((float(score), start, end))
    by_span: dict[tuple[int, int], float] = {}  # a spelled-out emoji's name words fold back into it
    for score, start, end in words:
        if any(c.isalnum() for c in normalized.text[start:end]):
            span = normalized.span(start, end)
            by_span[span] = by_span.get(span, 0.0) + score
    ranked = sorted(((s, span) for span, s in by_span.items() if s > 0), key=lambda item: -item[0])
    return [
        WordAttribution(normalized.source[start:end], round(score, 4), start, end)
        for score, (start, end) in ranked[:top_k]
    ]
