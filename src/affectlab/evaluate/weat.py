"""The Word Embedding Association Test and its single-word form, WEFAT (Caliskan, Bryson & Narayanan, 2017),
with permutation p-values.

Every vector is compared by cosine similarity. A word's association with attribute sets A and B is
``s(w) = mean cos(w, a) - mean cos(w, b)``. WEAT's effect size for target sets X and Y is Cohen's d of s over
them, ``(mean_X s - mean_Y s) / std_{X∪Y} s``; its p-value is the share of equal-size re-partitions of X∪Y
whose statistic ``Σ_X s - Σ_Y s`` is at least the observed one (one-sided, X towards A, as in the paper), and
two-sided the share whose statistic is at least as far from zero. WEFAT's score of one word is
``s(w) / std_{A∪B} cos(w, ·)``; its p-values re-partition A∪B instead.

>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=(8, 5)) + 2, rng.normal(size=(8, 5)) - 2
>>> weat(a[:4] + 0.1, b[:4] - 0.1, a[4:], b[4:], permutations=999, seed=0)["effect_size"] > 1.5
True
"""

from __future__ import annotations

import numpy as np


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _p_values(observed: float, null: np.ndarray) -> tuple[float, float]:
    """One- and two-sided permutation p-values, counting the observed partition among the draws."""
    n = len(null)
    one = (1 + np.count_nonzero(null >= observed - 1e-12)) / (n + 1)
    two = (1 + np.count_nonzero(np.abs(null) >= abs(observed) - 1e-12)) / (n + 1)
    return float(one), float(two)


def _random_masks(total: int, chosen: int, permutations: int, seed: int) -> np.ndarray:
    """``permutations`` random boolean masks over ``total`` items, each choosing ``chosen`` of them."""
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((permutations, total)), axis=1)
    masks = np.zeros((permutations, total), dtype=bool)
    np.put_along_axis(masks, order[:, :chosen], True, axis=1)
    return masks


def weat(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, *, permutations: int = 10_000,
         seed: int = 0) -> dict:
    """Effect size and permutation p-values of targets ``x`` vs ``y`` (rows are vectors, same count) towards
    attributes ``a`` vs ``b``."""
    if len(x) != len(y):
        raise ValueError(f"WEAT compares target sets of one size, not {len(x)} and {len(y)}")
    targets = _unit(np.concatenate([x, y]))
    association = targets @ _unit(a).T
    s = association.mean(1) - (targets @ _unit(b).T).mean(1)
    in_x = np.zeros(len(s), dtype=bool)
    in_x[: len(x)] = True
    statistic = s[in_x].sum() - s[~in_x].sum()
    masks = _random_masks(len(s), len(x), permutations, seed)
    null = masks @ s - (~masks) @ s
    one, two = _p_values(statistic, null)
    return {
        "effect_size": float((s[in_x].mean() - s[~in_x].mean()) / s.std(ddof=1)),
        "statistic": float(statistic),
        "p_value": one,
        "p_two_sided": two,
        "mean_association_x": float(s[in_x].mean()),
        "mean_association_y": float(s[~in_x].mean()),
    }


def wefat(words: np.ndarray, a: np.ndarray, b: np.ndarray, *, permutations: int = 10_000, seed: int = 0) -> list[dict]:
    """Each word's normalized association with ``a`` vs ``b`` and its permutation p-values (re-partitioning
    A∪B), in the order of ``words``."""
    attributes = _unit(np.concatenate([a, b]))
    cosines = _unit(words) @ attributes.T  # words × attributes
    in_a = np.zeros(len(attributes), dtype=bool)
    in_a[: len(a)] = True
    masks = _random_masks(len(attributes), len(a), permutations, seed)
    null = cosines @ masks.T / len(a) - cosines @ (~masks).T / len(b)  # words × permutations
    spread = cosines.std(axis=1, ddof=1)
    results = []
    for row, cos in enumerate(cosines):
        s = cos[in_a].mean() - cos[~in_a].mean()
        one, two = _p_values(s, null[row])
        results.append({"score": float(s / spread[row]), "p_value": one, "p_two_sided": two})
    return results


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values, in their order.

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    order = np.argsort(p_values)
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, (len(p_values) - rank) * p_values[index])
        adjusted[index] = min(1.0, running)
    return [round(float(p), 12) for p in adjusted]
