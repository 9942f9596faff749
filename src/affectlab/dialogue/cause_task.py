"""RECCON's cause tasks as the data sets pose them, shared by the training recipes (dev metrics) and the evals."""

from __future__ import annotations

import numpy as np

from affectlab.datasets import Dialogue
from affectlab.dialogue.packing import TurnTokenizer, speaker_letters
from affectlab.dialogue.predict import CauseQuery


def tokenize_dialogues(dialogues: list[Dialogue], tokenizer: TurnTokenizer):
    return [(tokenizer.turns(d.texts), speaker_letters(d.speakers)) for d in dialogues]


def cause_queries(dialogues: list[Dialogue], tokenized) -> list[tuple[CauseQuery, Dialogue]]:
    """Every non-neutral turn of every dialogue as a target, with its gold emotion."""
    return [
        (CauseQuery(tokens, letters, target, d.emotions[target]), d)
        for d, (tokens, letters) in zip(dialogues, tokenized)
        for target, emotion in enumerate(d.emotions)
        if emotion != "neutral"
    ]


def cause_pairs(queries, scores) -> tuple[np.ndarray, np.ndarray]:
    """Flatten per-target scores into the entailment task's pairs: (probabilities, gold)."""
    probs = np.concatenate([s.padded_probs() for s in scores])
    gold = np.concatenate([np.isin(np.arange(q.target + 1), d.causes[q.target]) for q, d in queries])
    return probs, gold


def predicted_spans(queries, scores, threshold: float) -> tuple[list[str], list[list[str]]]:
    """Span predictions ("" where the pair is judged not a cause) and gold spans for every pair."""
    predicted, gold = [], []
    for (q, d), s in zip(queries, scores):
        probs = s.padded_probs()
        for turn in range(q.target + 1):
            begin, end = s.span(turn)
            predicted.append(d.texts[turn][begin:end] if probs[turn] >= threshold else "")
            gold.append([span for cause, span in zip(d.causes[q.target], d.spans[q.target]) if cause == turn])
    return predicted, gold
