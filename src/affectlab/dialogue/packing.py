"""Turning conversations into encoder inputs: one sequence holds many turns, and each turn is pooled
from its own tokens ("slots"), so a whole window of turns costs one forward pass.

Two layouts share the tokenized turns:
- turn emotions: ``[CLS] A: turn₀ [SEP] B: turn₁ [SEP] …`` with a block-causal attention mask, so each
  turn sees itself and the turns before it, never later ones;
- causes: ``[CLS] emotion [SEP] target [SEP] A: turnᵢ [SEP] … A: target [SEP]`` with full attention over
  the target and the candidate turns up to it; slot 0 is the target, slots 1… the candidates.
Long conversations are cut into windows that fit ``window_tokens``; nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affectlab.encoders import load_tokenizer
from affectlab.heads.layout import DISTANCE_BUCKETS

PAD = 0  # padded positions are masked out, so any id every vocabulary has will do


@dataclass(frozen=True)
class TurnTokens:
    ids: list[int]
    offsets: list[tuple[int, int]]  # character span of each token in the turn's text
    truncated: bool


class TurnTokenizer:
    """Tokenizes turn texts (capped at ``turn_tokens``) and speaker prefixes (``A:``, ``B:``, …) with the
    shared encoder's vocabulary, or that of the model in ``model_dir``; ``cls``/``sep`` are its own
    sequence-start and separator ids."""

    def __init__(self, turn_tokens: int, model_dir: Path | None = None) -> None:
        self.tokenizer = load_tokenizer(turn_tokens, model_dir)
        self.cls, self.sep = self.tokenizer.encode("").ids
        self._prefixes: dict[str, list[int]] = {}

    def turns(self, texts: list[str]) -> list[TurnTokens]:
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        return [TurnTokens(e.ids, e.offsets, bool(e.overflowing)) for e in encodings]

    def words(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def prefix(self, speaker_letter: str) -> list[int]:
        if speaker_letter not in self._prefixes:
            self._prefixes[speaker_letter] = self.words(f"{speaker_letter}:")
        return self._prefixes[speaker_letter]


def speaker_letters(speakers: list[str]) -> list[str]:
    """Speakers renamed A, B, C, … by first appearance (the models never see real names)."""
    order: dict[str, str] = {}
    for speaker in speakers:
        if speaker not in order:
            n = len(order)
            order[speaker] = chr(ord("A") + n) if n < 26 else f"S{n + 1}"
    return [order[s] for s in speakers]


def distance_bucket(distance: int) -> int:
    return int(np.searchsorted(DISTANCE_BUCKETS, distance, side="right") - 1)


@dataclass
class Packed:
    """One sequence: token ids, the slot of each token (-1: not pooled), and per-slot extras."""

    ids: list[int]
    slots: list[int]
    segments: list[int]  # turn-emotion layout: which turn block a token belongs to (for the causal mask)
    turns: list[int]  # the conversation turn behind each slot


def turn_windows(lengths: list[int], budget: int, context_turns: int) -> list[tuple[int, int, int]]:
    """Windows ``(start, first_new, stop)`` over turns of the given token lengths: each window predicts
    turns ``first_new..stop-1`` and carries up to ``context_turns`` earlier turns as context."""
    windows, first_new = [], 0
    while first_new < len(lengths):
        start = max(0, first_new - context_turns)
        while start < first_new and sum(lengths[start : first_new + 1]) > budget:
            start += 1
        stop, used = first_new, sum(lengths[start:first_new])
        while stop < len(lengths) and (stop == first_new or used + lengths[stop] <= budget):
            used += lengths[stop]
            stop += 1
        windows.append((start, first_new, stop))
        first_new = stop
    return windows


def pack_turns(tokens: list[TurnTokens], letters: list[str], tokenizer: TurnTokenizer,
               budget: int, context_turns: int) -> list[tuple[Packed, int]]:
    """Turn-emotion layout: windows of whole turns, each with the number of context-only slots first."""
    blocks = [tokenizer.prefix(letter) + t.ids + [tokenizer.sep] for t, letter in zip(tokens, letters)]
    packed = []
    for start, first_new, stop in turn_windows([len(b) for b in blocks], budget - 1, context_turns):
        ids, slots, segments = [tokenizer.cls], [-1], [0]
        for slot, turn in enumerate(range(start, stop)):
            prefix = len(tokenizer.prefix(letters[turn]))
            ids += blocks[turn]
            slots += [-1] * prefix + [slot] * len(tokens[turn].ids) + [-1]
            segments += [slot] * len(blocks[turn])
        packed.append((Packed(ids, slots, segments, list(range(start, stop))), first_new - start))
    return packed


def pack_causes(tokens: list[TurnTokens], letters: list[str], target: int, emotion: str,
                tokenizer: TurnTokenizer, budget: int, first: int = 0) -> list[Packed]:
    """Cause layout for one target turn: windows of candidate turns ``first..target`` (latest first), each
    led by the target."""
    head = [tokenizer.cls] + tokenizer.words(emotion) + [tokenizer.sep]
    lead_ids = head + tokens[target].ids + [tokenizer.sep]
    lead_slots = [-1] * len(head) + [0] * len(tokens[target].ids) + [-1]
    blocks = {i: tokenizer.prefix(letters[i]) + tokens[i].ids + [tokenizer.sep] for i in range(first, target + 1)}
    packed, newest = [], target
    while newest >= first:
        oldest, used = newest, len(lead_ids) + len(blocks[newest])
        while oldest > first and used + len(blocks[oldest - 1]) <= budget:
            oldest -= 1
            used += len(blocks[oldest])
        ids, slots = list(lead_ids), list(lead_slots)
        for slot, turn in enumerate(range(oldest, newest + 1), 1):
            prefix = len(tokenizer.prefix(letters[turn]))
            ids += blocks[turn]
            slots += [-1] * prefix + [slot] * len(tokens[turn].ids) + [-1]
        packed.append(Packed(ids, slots, [0] * len(ids), list(range(oldest, newest + 1))))
        newest = oldest - 1
    return packed


def block_causal_mask(segments: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``[batch, 1, tokens, tokens]`` additive float32 mask (0 where token i may attend token j, a large
    negative number elsewhere): j's block must not be later than i's. Padding attends only to itself so
    no row is empty. Additive, because that is the one 4-D mask form every attention backend reads alike."""
    allowed = (segments[:, None, :] <= segments[:, :, None]) & valid[:, None, :] & valid[:, :, None]
    allowed |= np.eye(segments.shape[1], dtype=bool)[None] & ~valid[:, :, None]
    return np.where(allowed, 0.0, np.finfo(np.float32).min).astype(np.float32)[:, None]


def pad(rows: list[Packed]) -> dict[str, np.ndarray]:
    """Stack packed sequences: ids, valid mask, slots (-1 padded) and segments."""
    width = max(len(r.ids) for r in rows)
    ids = np.full((len(rows), width), PAD, dtype=np.int64)
    slots = np.full((len(rows), width), -1, dtype=np.int64)
    segments = np.full((len(rows), width), 10_000, dtype=np.int64)
    valid = np.zeros((len(rows), width), dtype=bool)
    for i, r in enumerate(rows):
        n = len(r.ids)
        ids[i, :n], slots[i, :n], segments[i, :n], valid[i, :n] = r.ids, r.slots, r.segments, True
    return {"ids": ids, "slots": slots, "segments": segments, "valid": valid}
