"""Metrics for multi-label classification and regression, and per-label threshold tuning."""

from __future__ import annotations

import numpy as np

THRESHOLD_GRID = np.round(np.arange(0.02, 0.96, 0.01), 2)


def f1_per_label(predicted: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Boolean ``[n, labels]`` predictions and gold → F1 of each label (0 where a label never occurs)."""
    predicted = predicted.astype(bool)
    gold = gold.astype(bool)
    tp = (predicted & gold).sum(0).astype(float)
    fp = (predicted & ~gold).sum(0)
    fn = (~predicted & gold).sum(0)
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)


def micro_f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    predicted = predicted.astype(bool)
    gold = gold.astype(bool)
    tp = float((predicted & gold).sum())
    denom = 2 * tp + float((predicted & ~gold).sum()) + float((~predicted & gold).sum())
    return 2 * tp / denom if denom else 0.0


def tune_thresholds(probs: np.ndarray, gold: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> np.ndarray:
    """For each label, the threshold on ``grid`` that maximizes that label's F1 (ties: the lowest)."""
    gold = gold.astype(bool)
    best = np.empty(probs.shape[1])
    for label in range(probs.shape[1]):
        scores = [f1_per_label(probs[:, [label]] >= t, gold[:, [label]])[0] for t in grid]
        best[label] = grid[int(np.argmax(scores))]
    return best


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(np.asarray(x, float), np.asarray(y, float))[0, 1])


def multi_hot(label_lists: list[list[str]], names: tuple[str, ...]) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    out = np.zeros((len(label_lists), len(names)), dtype=np.float32)
    for row, labels in enumerate(label_lists):
        for label in labels:
            out[row, index[label]] = 1.0
    return out
