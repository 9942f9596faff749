"""Running the conversation models over tokenized conversations: batched windows in, per-turn numbers out.
Training (dev metrics), evaluation and the analyzer all go through here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

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


@dataclass(frozen=True)
class CauseQuery:
    """One target turn of one tokenized conversation, with the emotion whose causes are asked for."""

    tokens: list[TurnTokens]
    letters: list[str]
    target: int
    emotion: str  # EKMAN name


def turn_inputs(batch: list[Packed]) -> dict:
    arrays = pad(batch)
    return {
        "ids": torch.from_numpy(arrays["ids"]),
        "mask": torch.from_numpy(block_causal_mask(arrays["segments"], arrays["valid"])),
        "slots": torch.from_numpy(arrays["slots"]),
        "n_slots": max(len(p.turns) for p in batch),
    }


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
                        budget: int, context_turns: int, batch_size: int = 16) -> tuple[list[np.ndarray], list[int]]:
    """``[turns, labels]`` logits for each conversation (every turn predicted once, with its context), and
    the number of windows read for each."""
    windows = []  # (conversation, packed, context-only slots)
    for c, (tokens, letters) in enumerate(conversations):
        windows += [(c, packed, skip) for packed, skip in pack_turns(tokens, letters, tokenizer, budget, context_turns)]
    parts: list[list[tuple[int, np.ndarray]]] = [[] for _ in conversations]
    with torch.inference_mode():
        for rows in _by_length(windows, lambda w: len(w[1].ids), batch_size):
            logits = model(**turn_inputs([windows[r][1] for r in rows])).float().numpy()
            for row, r in enumerate(rows):
                c, packed, skip = windows[r]
                for slot in range(skip, len(packed.turns)):
                    parts[c].append((packed.turns[slot], logits[row, slot]))
    logits = [np.stack([logit for _, logit in sorted(found, key=lambda x: x[0])]) for found in parts]
    counts = np.bincount(np.array([c for c, _, _ in windows], dtype=np.int64), minlength=len(conversations))
    return logits, counts.tolist()


@dataclass(frozen=True)
class CauseScores:
    probs: np.ndarray  # [target + 1]: probability that each turn up to the target causes its emotion
    spans: list[tuple[int, int]]  # per turn: the best span's character range in that turn's text


def best_span(start: np.ndarray, end: np.ndarray) -> tuple[int, int]:
    """Token indices ``(s, e)``, ``s <= e``, maximizing ``start[s] + end[e]``."""
    scores = start[:, None] + end[None, :]
    scores[np.tril_indices(len(start), -1)] = -np.inf
    s, e = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(s), int(e)


def cause_scores(model, tokenizer: TurnTokenizer, queries: list[CauseQuery], budget: int,
                 batch_size: int = 16, lookback: int | None = None) -> list[CauseScores]:
    """Cause probability and best span of every turn up to each query's target (turns more than
    ``lookback`` before it are not scored: probability 0)."""
    windows = [
        (q, packed) for q, query in enumerate(queries)
        for packed in pack_causes(query.tokens, query.letters, query.target, query.emotion, tokenizer, budget,
                                  0 if lookback is None else max(0, query.target - lookback))
    ]
    probs = [np.zeros(query.target + 1, np.float32) for query in queries]
    spans: list[list[tuple[int, int]]] = [[(0, 0)] * (query.target + 1) for query in queries]
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
                    probs[q][turn] = pair[row, slot - 1]
                    positions = np.flatnonzero(slots[row] == slot)
                    offsets = query.tokens[turn].offsets
                    if len(positions) == 0 or not offsets:
                        continue
                    s, e = best_span(start[row, positions], end[row, positions])
                    spans[q][turn] = (offsets[s][0], offsets[e][1])
    return [CauseScores(p, s) for p, s in zip(probs, spans)]
