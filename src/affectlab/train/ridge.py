"""Ridge regression in closed form, its penalty chosen on a dev split: the fitted reading blocks' estimator.

One eigendecomposition of the centred training vectors' scatter matrix serves every penalty, so a grid of
penalties costs little more than one fit. Deterministic: no sampling anywhere.

>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(200, 8)); y = x @ np.arange(8.0) + 1.0
>>> fit = choose_ridge(x[:150], y[:150], x[150:], y[150:])
>>> round(fit.bias, 1), fit.dev_pearson > 0.99
(1.0, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from affectlab.metrics import pearson

ALPHAS: tuple[float, ...] = tuple(float(10.0**k) for k in np.arange(-1.0, 5.01, 0.5))  # 0.1 … 100,000


@dataclass(frozen=True)
class RidgeFit:
    weights: np.ndarray  # [features]
    bias: float
    alpha: float  # the penalty chosen on dev
    dev_pearson: float  # Pearson r on dev at that penalty (unrounded weights, unclipped predictions)
    at_edge: bool  # the chosen penalty is the grid's smallest or largest: widen the grid


def choose_ridge(x_train: np.ndarray, y_train: np.ndarray, x_dev: np.ndarray, y_dev: np.ndarray,
                 alphas: Sequence[float] = ALPHAS) -> RidgeFit:
    """Fit ``y ≈ x · w + b`` on train for each penalty in ``alphas`` (the intercept is not penalized) and keep
    the one with the highest Pearson r on dev. The weights come from train alone."""
    if len(x_train) < 2 or len(x_dev) < 2:
        raise ValueError(f"ridge needs at least 2 train and 2 dev rows, got {len(x_train)} and {len(x_dev)}")
    mean_x, mean_y = x_train.mean(0), float(np.mean(y_train))
    centred = x_train - mean_x
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)
    projected = eigenvectors.T @ (centred.T @ (np.asarray(y_train, float) - mean_y))
    best: RidgeFit | None = None
    for position, alpha in enumerate(alphas):
        weights = eigenvectors @ (projected / (eigenvalues + alpha))
        bias = mean_y - float(mean_x @ weights)
        r = pearson(x_dev @ weights + bias, y_dev)
        if not np.isnan(r) and (best is None or r > best.dev_pearson):
            best = RidgeFit(weights, bias, float(alpha), r, position in (0, len(alphas) - 1))
    if best is None:
        raise ValueError("no penalty gave a defined dev correlation (are the dev targets all equal?)")
    return best
