"""Calibrating each register (:mod:`affectlab.dialogue.registers`) on the corpora's dev splits: the bias on the
neutral logit and the weight of the text model's Ekman evidence.

Each corpus's register gets the pair that maximizes that corpus's metric on its dev split; ``general`` gets the
one pair that maximizes the mean of the metrics, so each corpus weighs the same whatever its size. A turn
model that reads no text model has weight 0 everywhere. A turn model with a head per register is calibrated on
each register's own logits (:func:`~affectlab.dialogue.registers.register_logits`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from affectlab.dialogue.registers import CORPORA, GENERAL, calibrate, corpus_score, register_logits
from affectlab.taxonomy import EKMAN

# Down to -6: a corpus with no neutral turns (EmpatheticDialogues' openings) is best served by never calling a turn
# neutral, and a turn model trained mostly on DailyDialog can lean to neutral by more than 3 (runs/turns-support of
# 2026-12-05 hit the old edge, -3.0, on `support`).
NEUTRAL_BIAS_GRID = np.round(np.arange(-6.0, 3.01, 0.1), 2)
TEXT_WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)


def calibrate_registers(logits: dict[str, np.ndarray], gold: dict[str, list[str]],
                        evidence: dict[str, np.ndarray] | None = None,
                        heads: Sequence[str] = ()) -> tuple[dict, dict, dict]:
    """Dev logits ``[turns, heads × 7]``, gold labels and (optionally) text evidence of each corpus → the neutral
    bias and the text weight of every register, and each register's dev score on every corpus with them. Ties go
    to the smallest weight, then the lowest bias."""
    weights = TEXT_WEIGHT_GRID if evidence is not None else (0.0,)
    grid = [(w, b) for w in weights for b in NEUTRAL_BIAS_GRID]

    def score(register: str, corpus: str, row: int) -> float:
        weight, bias = grid[row]
        found = None if evidence is None else evidence[corpus]
        predicted = calibrate(register_logits(logits[corpus], heads, register), found, float(bias), weight).argmax(1)
        return corpus_score(corpus, [EKMAN[i] for i in predicted], gold[corpus])

    rows = range(len(grid))
    # [(weight, bias), corpus] → the corpus's metric, with `general`'s logits (every register's, with one head)
    shared = np.array([[score(GENERAL, corpus, row) for corpus in CORPORA] for row in rows])
    best = {GENERAL: int(shared.mean(1).argmax())}
    for column, corpus in enumerate(CORPORA):
        own = shared[:, column] if corpus not in heads else [score(corpus, corpus, row) for row in rows]
        best[corpus] = int(np.argmax(own))
    biases = {register: float(grid[row][1]) for register, row in best.items()}
    text_weights = {register: float(grid[row][0]) for register, row in best.items()}
    scores = {register: {corpus: float(shared[row, column]) if register not in heads else score(register, corpus, row)
                         for column, corpus in enumerate(CORPORA)}
              for register, row in best.items()}
    return biases, text_weights, scores
