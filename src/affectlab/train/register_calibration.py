"""Calibrating each register (:mod:`affectlab.dialogue.registers`) on the corpora's dev splits: the bias on the
neutral logit and the weight of the text model's Ekman evidence.

Each corpus's register gets the pair that maximizes that corpus's metric on its dev split; ``general`` gets the
one pair that maximizes the mean of the three metrics, so each corpus weighs the same whatever its size. A turn
model that reads no text model has weight 0 everywhere.
"""

from __future__ import annotations

import numpy as np

from affectlab.dialogue.registers import CORPORA, GENERAL, calibrate, corpus_score
from affectlab.taxonomy import EKMAN

# Down to -6: a corpus with no neutral turns (EmpatheticDialogues' openings) is best served by never calling a turn
# neutral, and a turn model trained mostly on DailyDialog can lean to neutral by more than 3 (runs/turns-support of
# 2026-12-05 hit the old edge, -3.0, on `support`).
NEUTRAL_BIAS_GRID = np.round(np.arange(-6.0, 3.01, 0.1), 2)
TEXT_WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)


def calibrate_registers(logits: dict[str, np.ndarray], gold: dict[str, list[str]],
                        evidence: dict[str, np.ndarray] | None = None) -> tuple[dict, dict, dict]:
    """Dev logits ``[turns, 7]``, gold labels and (optionally) text evidence of each corpus → the neutral bias
    and the text weight of every register, and each register's dev score on every corpus with them. Ties go to
    the smallest weight, then the lowest bias."""
    weights = TEXT_WEIGHT_GRID if evidence is not None else (0.0,)
    grid = [(w, b) for w in weights for b in NEUTRAL_BIAS_GRID]
    table = np.zeros((len(grid), len(CORPORA)))  # [(weight, bias), corpus] → the corpus's metric
    for row, (weight, bias) in enumerate(grid):
        for column, corpus in enumerate(CORPORA):
            found = None if evidence is None else evidence[corpus]
            predicted = calibrate(logits[corpus], found, float(bias), weight).argmax(1)
            table[row, column] = corpus_score(corpus, [EKMAN[i] for i in predicted], gold[corpus])
    best = {corpus: int(table[:, column].argmax()) for column, corpus in enumerate(CORPORA)}
    best[GENERAL] = int(table.mean(1).argmax())
    biases = {register: float(grid[row][1]) for register, row in best.items()}
    text_weights = {register: float(grid[row][0]) for register, row in best.items()}
    scores = {register: {corpus: float(table[row, column]) for column, corpus in enumerate(CORPORA)}
              for register, row in best.items()}
    return biases, text_weights, scores
