"""Tuning the neutral bias of each register (:mod:`affectlab.dialogue.registers`) on the corpora's dev splits.

Each corpus's register gets the bias that maximizes that corpus's metric on its dev split; ``general`` gets
the one bias that maximizes the mean of the three metrics, so each corpus weighs the same whatever its size.
"""

from __future__ import annotations

import numpy as np

from affectlab.dialogue.registers import CORPORA, GENERAL, corpus_score
from affectlab.taxonomy import EKMAN

NEUTRAL_BIAS_GRID = np.round(np.arange(-3.0, 3.01, 0.1), 2)


def register_biases(logits: dict[str, np.ndarray], gold: dict[str, list[str]]) -> tuple[dict, dict]:
    """Dev logits ``[turns, 7]`` and gold labels of each corpus → the bias of every register, and each
    register's dev score on every corpus at its bias. Ties go to the lowest bias."""
    neutral = EKMAN.index("neutral")
    table = np.zeros((len(NEUTRAL_BIAS_GRID), len(CORPORA)))  # [bias, corpus] → the corpus's metric
    for row, bias in enumerate(NEUTRAL_BIAS_GRID):
        for column, corpus in enumerate(CORPORA):
            shifted = logits[corpus].copy()
            shifted[:, neutral] += bias
            table[row, column] = corpus_score(corpus, [EKMAN[i] for i in shifted.argmax(1)], gold[corpus])
    best = {corpus: int(table[:, column].argmax()) for column, corpus in enumerate(CORPORA)}
    best[GENERAL] = int(table.mean(1).argmax())
    biases = {register: float(NEUTRAL_BIAS_GRID[row]) for register, row in best.items()}
    scores = {register: {corpus: float(table[row, column]) for column, corpus in enumerate(CORPORA)}
              for register, row in best.items()}
    return biases, scores
