"""A linear classifier on fixed vectors, in numpy: softmax regression (single-label) or one logistic regression
per label (multi-label), with an L2 penalty, fitted to convergence by L-BFGS.

Features are standardized on the training rows and the scaling folded back into the weights, so the result
reads raw vectors. The loss is convex, so the fit depends only on the data and the penalty (no seed).
:func:`fit_path` fits several penalties, strongest first, each starting from the previous solution (they lie
close together, so the later fits take few steps).

>>> weight, bias = fit_linear(vectors, targets, multi_label=False, l2=1e-3)
>>> probabilities = softmax(vectors @ weight.T + bias)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from affectlab.text.probabilities import sigmoid, softmax

MAX_STEPS = 500
TOLERANCE = 1e-5  # stop once the gradient's largest entry is below this
MEMORY = 10  # L-BFGS: how many recent steps shape the next direction


def fit_linear(vectors: np.ndarray, targets: np.ndarray, *, multi_label: bool, l2: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """``vectors [n, d]`` and 0/1 ``targets [n, labels]`` → ``weight [labels, d]`` and ``bias [labels]``
    minimizing the mean cross-entropy plus ``l2 / 2`` times the squared weights (the bias is not penalized)."""
    return fit_path(vectors, targets, multi_label=multi_label, l2s=(l2,))[0]


def fit_path(vectors: np.ndarray, targets: np.ndarray, *, multi_label: bool, l2s: Sequence[float]
             ) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`fit_linear` for each penalty in ``l2s``, in that order, each warm-started from the one before."""
    x = vectors.astype(np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    x = (x - mean) / scale
    y = targets.astype(np.float64)
    n, d = x.shape
    k = y.shape[1]
    # the largest curvature: a logit's (1/2 softmax, 1/4 sigmoid) times the data's; standardized columns have
    # mean 0, so the bias direction (eigenvalue 1) is orthogonal to the rest
    lipschitz = (0.25 if multi_label else 0.5) * max(float(np.linalg.eigvalsh(x.T @ x / n)[-1]), 1.0)

    def objective(params: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
        w, b = params[: k * d].reshape(k, d), params[k * d :]
        logits = x @ w.T + b
        if multi_label:
            loss = np.sum(np.logaddexp(0.0, logits) - y * logits) / n
            error = (sigmoid(logits) - y) / n
        else:
            top = logits.max(axis=1, keepdims=True)
            log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
            loss = float(np.sum(log_norm) - np.sum(y * logits)) / n
            error = (softmax(logits) - y) / n
        loss += l2 / 2 * float(np.sum(w * w))
        return loss, np.concatenate([(error.T @ x + l2 * w).ravel(), error.sum(axis=0)])

    params = np.zeros(k * d + k)
    fitted = []
    for l2 in l2s:
        params = _lbfgs(lambda p, l2=l2: objective(p, l2), params, 1.0 / (lipschitz + l2))
        weight = params[: k * d].reshape(k, d) / scale
        bias = params[k * d :] - weight @ mean
        fitted.append((weight.astype(np.float32), bias.astype(np.float32)))
    return fitted


def _lbfgs(objective: Callable[[np.ndarray], tuple[float, np.ndarray]], start: np.ndarray, first_step: float
           ) -> np.ndarray:
    """Minimize a smooth convex ``objective`` (value and gradient) from ``start``: L-BFGS directions, each step
    halved until it decreases the objective enough (Armijo); ``first_step`` scales the first direction."""
    params = start
    value, gradient = objective(params)
    steps: list[tuple[np.ndarray, np.ndarray]] = []  # (params change, gradient change), oldest first
    for _ in range(MAX_STEPS):
        if np.abs(gradient).max() < TOLERANCE:
            break
        direction = -_inverse_hessian_times(gradient, steps, first_step)
        slope = float(gradient @ direction)
        if slope >= 0:  # not a descent direction (rounding): restart from the gradient
            steps.clear()
            direction, slope = -first_step * gradient, -first_step * float(gradient @ gradient)
        size = 1.0
        while True:
            candidate = params + size * direction
            new_value, new_gradient = objective(candidate)
            if new_value <= value + 1e-4 * size * slope or size < 1e-8:
                break
            size /= 2
        change, turn = candidate - params, new_gradient - gradient
        if float(change @ turn) > 1e-12:
            steps = [*steps[-(MEMORY - 1) :], (change, turn)]
        params, value, gradient = candidate, new_value, new_gradient
    return params


def _inverse_hessian_times(gradient: np.ndarray, steps: list[tuple[np.ndarray, np.ndarray]], first_step: float
                           ) -> np.ndarray:
    """The L-BFGS two-loop recursion: the recent steps' estimate of the inverse Hessian applied to ``gradient``."""
    q = gradient.copy()
    kept = []
    for change, turn in reversed(steps):
        rho = 1.0 / float(turn @ change)
        alpha = rho * float(change @ q)
        q -= alpha * turn
        kept.append((rho, alpha, change, turn))
    if steps:
        change, turn = steps[-1]
        q *= float(change @ turn) / float(turn @ turn)
    else:
        q *= first_step
    for rho, alpha, change, turn in reversed(kept):
        q += change * (alpha - rho * float(turn @ q))
    return q
