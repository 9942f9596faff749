"""Running the conversation models over tokenized conversations: batched windows in, per-turn numbers out.
Training (dev metrics), evaluation and the analyzer all go through here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from affectlab.allocator import release_freed_memory
from affectlab.dialogue.packing import (
    Packed,
    TurnTokenizer,
    TurnTokens,
    block_causal_mask,
    distance_bucket,
    pack_causes,
    pack_turns,
    pad,
)

QUERY_CHUNK = 256  # cause queries packed at a time


@dataclass(frozen=True)
class CauseQuery:
    """One target turn of one tokenized conversation, with the emotion whose causes are asked for."""

    tokens: list[TurnTokens]
    letters: list[str]
    target: int
    emotion: str  # EKMAN name


def turn_inputs(batch: list[Packed], features: list[np.ndarray] | None = None) -> dict:
    """Model inputs of packed turn windows; ``features``: for each window, ``[its turns, n]`` numbers per turn
    (zero-padded to the batch's widest window)."""
    arrays = pad(batch)
    n_slots = max(len(p.turns) for p in batch)
    inputs = {
        "ids": torch.from_numpy(arrays["ids"]),
        "mask": torch.from_numpy(block_causal_mask(arrays["segments"], arrays["valid"])),
        "slots": torch.from_numpy(arrays["slots"]),
        "n_slots": n_slots,
    }
    if features is not None:
        stacked = np.zeros((len(batch), n_slots, features[0].shape[-1]), dtype=np.float32)
        for row, numbers in enumerate(features):
            stacked[row, : len(numbers)] = numbers
        inputs["features"] = torch.from_numpy(stacked)
    return inputs


def cause_features(packed: Packed, target: int, letters: list[str]) -> tuple[list[int], list[int]]:
    distance = [distance_bucket(target - turn) for turn in packed.turns]
    same = [int(letters[turn] == letters[target]) for turn in packed.turns]
    return distance, same


def cause_inputs(batch: list[tuple[Packed, CauseQuery]]) -> dict:
    arrays = pad([p for p, _ in batch])
    width = max(len(p.turns) for p, _ in batch)
    distance = np.zeros((len(batch), width), dtype=np.int64)
    same = np.zeros((len(batch), width), dtype=np.int64)
    for row, (packed, query) in enumerate(batch):
        d, s = cause_features(packed, query.target, query.letters)
        distance[row, : len(d)], same[row, : len(s)] = d, s
    return {
        "ids": torch.from_numpy(arrays["ids"]),
        "valid": torch.from_numpy(arrays["valid"]),
        "slots": torch.from_numpy(arrays["slots"]),
        "n_slots": width + 1,
        "distance": torch.from_numpy(distance),
        "same_speaker": torch.from_numpy(same),
    }


def _by_length(items: list, length, batch_size: int):
    order = sorted(range(len(items)), key=lambda i: length(items[i]))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def turn_emotion_logits(model, tokenizer: TurnTokenizer, conversations: list[tuple[list[TurnTokens], list[str]]],
                        budget: int, context_turns: int, batch_size: int = 16,
                        features: list[np.ndarray] | None = None) -> tuple[list[np.ndarray], list[int]]:
    """``[turns, heads × labels]`` logits for each conversation (every turn predicted once, with its context), and
    the number of windows read for each. ``features``: ``[turns, n]`` numbers per turn of each conversation,
    for a model that reads them (:class:`~affectlab.dialogue.models.TurnEmotionModel` ``n_features``)."""
    windows = []  # (conversation, packed, context-only slots)
    for c, (tokens, letters) in enumerate(conversations):
        windows += [(c, packed, skip) for packed, skip in pack_turns(tokens, letters, tokenizer, budget, context_turns)]
    parts: list[list[tuple[int, np.ndarray]]] = [[] for _ in conversations]
    with torch.inference_mode():
        for rows in _by_length(windows, lambda w: len(w[1].ids), batch_size):
            batch = [windows[r] for r in rows]
            numbers = None if features is None else [features[c][packed.turns] for c, packed, _ in batch]
            logits = model(**turn_inputs([packed for _, packed, _ in batch], numbers)).float().numpy()
            for row, (c, packed, skip) in enumerate(batch):
                for slot in range(skip, len(packed.turns)):
                    parts[c].append((packed.turns[slot], logits[row, slot]))
            release_freed_memory()  # else a long conversation's many batch shapes grow the process
    logits = [np.stack([logit for _, logit in sorted(found, key=lambda x: x[0])]) for found in parts]
    counts = np.bincount(np.array([c for c, _, _ in windows], dtype=np.int64), minlength=len(conversations))
    return logits, counts.tolist()


@dataclass(frozen=True)
class CauseScores:
    """One query's scored candidates, turns ``first..target``: turns before ``first`` (outside the lookback)
    were never scored, so a long conversation costs memory in its window, not in its length."""

    first: int
    probs: np.ndarray  # [target + 1 - first]: probability that each candidate causes the target's emotion
    spans: list[tuple[int, int]]  # per candidate: the best span's character range in that turn's text

    @property
    def turns(self) -> range:
        return range(self.first, self.first + len(self.probs))

    def padded_probs(self) -> np.ndarray:
        """``[target + 1]``: every turn up to the target, 0 for those not scored (the entailment task's pairs)."""
        return np.concatenate([np.zeros(self.first, np.float32), self.probs])

    def span(self, turn: int) -> tuple[int, int]:
        return self.spans[turn - self.first] if turn >= self.first else (0, 0)


def best_span(start: np.ndarray, end: np.ndarray) -> tuple[int, int]:
    """Token indices ``(s, e)``, ``s <= e``, maximizing ``start[s] + end[e]``."""
    scores = start[:, None] + end[None, :]
    scores[np.tril_indices(len(start), -1)] = -np.inf
    s, e = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(s), int(e)


def cause_scores(model, tokenizer: TurnTokenizer, queries: list[CauseQuery], budget: int,
                 batch_size: int = 16, lookback: int | None = None) -> list[CauseScores]:
    """Cause probability and best span of every candidate turn of each query: the target and the ``lookback``
    turns before it (``None``: every earlier turn). Queries are packed a chunk at a time, so the windows
    held at once are bounded by the chunk, not by the number of queries."""
    scores: list[CauseScores] = []
    for start in range(0, len(queries), QUERY_CHUNK):
        scores += _chunk_scores(model, tokenizer, queries[start : start + QUERY_CHUNK], budget, batch_size, lookback)
    return scores


def _chunk_scores(model, tokenizer: TurnTokenizer, queries: list[CauseQuery], budget: int, batch_size: int,
                  lookback: int | None) -> list[CauseScores]:
    firsts = [0 if lookback is None else max(0, q.target - lookback) for q in queries]
    windows = [
        (q, packed) for q, query in enumerate(queries)
        for packed in pack_causes(query.tokens, query.letters, query.target, query.emotion, tokenizer, budget,
                                  firsts[q])
    ]
    probs = [np.zeros(query.target + 1 - first, np.float32) for query, first in zip(queries, firsts)]
    spans: list[list[tuple[int, int]]] = [[(0, 0)] * len(p) for p in probs]
    with torch.inference_mode():
        for rows in _by_length(windows, lambda w: len(w[1].ids), batch_size):
            batch = [(windows[r][1], queries[windows[r][0]]) for r in rows]
            inputs = cause_inputs(batch)
            out = model(**inputs)
            pair = torch.sigmoid(out.pair).float().numpy()
            start, end = out.start.float().numpy(), out.end.float().numpy()
            slots = inputs["slots"].numpy()
            for row, (packed, query) in enumerate(batch):
                q = windows[rows[row]][0]
                for slot, turn in enumerate(packed.turns, 1):
                    probs[q][turn - firsts[q]] = pair[row, slot - 1]
                    positions = np.flatnonzero(slots[row] == slot)
                    offsets = query.tokens[turn].offsets
                    if len(positions) == 0 or not offsets:
                        continue
                    s, e = best_span(start[row, positions], end[row, positions])
                    spans[q][turn - firsts[q]] = (offsets[s][0], offsets[e][1])
            release_freed_memory()
    return [CauseScores(first, p, s) for first, p, s in zip(firsts, probs, spans)]
