"""Linear probes, one per layer: can a logistic regression read the emotion off the residual stream?

>>> x = capture(llm, texts)                              # [n, layers, hidden]
>>> probes = train_probes(x, labels, dev=(capture(llm, dev_texts), dev_labels))
>>> [s.accuracy for s in score_probes(probes, capture(llm, test_texts), test_labels)]
>>> best_layer(score_probes(probes, capture(llm, dev_texts), dev_labels))   # the layer to report, picked on dev
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from affectlab.extras import require
from affectlab.internals.layers import InternalsError
from affectlab.metrics import macro_f1_single

C_GRID = (0.01, 0.1, 1.0)  # inverse L2 strength, chosen per layer on dev


@dataclass(frozen=True)
class LayerScore:
    layer: int
    accuracy: float
    macro_f1: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LayerProbes:
    layers: list[int]
    probes: list  # one fitted scikit-learn pipeline (standardize, then logistic regression) per layer
    c: list[float]
    n_labels: int

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predicted label ids, ``[n, layers]``."""
        _check(features, len(self.layers), self.probes[0].n_features_in_)
        return np.stack([p.predict(features[:, i]) for i, p in enumerate(self.probes)], 1)


def _check(features: np.ndarray, layers: int | None = None, hidden: int | None = None) -> None:
    if (features.ndim != 3 or (layers is not None and features.shape[1] != layers)
            or (hidden is not None and features.shape[2] != hidden)):
        raise InternalsError(f"features must be [texts, {layers or 'layers'}, {hidden or 'hidden'}], not "
                             f"{list(features.shape)}")


def _label_ids(labels: Sequence[int], rows: int) -> np.ndarray:
    """``labels`` as an array of class ids (whole numbers from 0), one per feature row."""
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != rows:
        raise InternalsError(f"{rows} feature rows but {len(y) if y.ndim == 1 else list(y.shape)} labels")
    if not rows:
        raise InternalsError("no texts to train or score probes on")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise InternalsError(f"labels must be class ids (whole numbers from 0); the first are {y[:3].tolist()}")
    return y


def _fit(x: np.ndarray, y: np.ndarray, c: float, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000, random_state=seed)).fit(x, y)


def train_probes(features: np.ndarray, labels: Sequence[int], *, layers: Sequence[int] | None = None,
                 dev: tuple[np.ndarray, Sequence[int]] | None = None, c_grid: Sequence[float] = C_GRID,
                 seed: int = 0) -> LayerProbes:
    """A probe per layer of ``features``; with ``dev`` the regularization is chosen per layer by dev
    accuracy, else the middle of ``c_grid`` is used."""
    require("sklearn", "train", package="scikit-learn")
    _check(features)
    y = _label_ids(labels, len(features))
    if len(np.unique(y)) < 2:
        raise InternalsError(f"probes need texts of at least two labels, not only {sorted(set(y.tolist()))}")
    if not np.isfinite(features).all():
        raise InternalsError("features hold NaN or infinite values")
    names = list(range(features.shape[1])) if layers is None else list(layers)
    probes, chosen = [], []
    for i in range(features.shape[1]):
        if dev is None:
            c = c_grid[len(c_grid) // 2]
            probe = _fit(features[:, i], y, c, seed)
        else:
            fitted = [(c, _fit(features[:, i], y, c, seed)) for c in c_grid]
            c, probe = max(fitted, key=lambda cp: (cp[1].predict(dev[0][:, i]) == np.asarray(dev[1])).mean())
        probes.append(probe)
        chosen.append(float(c))
    return LayerProbes(names, probes, chosen, int(y.max()) + 1)


def score_probes(probes: LayerProbes, features: np.ndarray, labels: Sequence[int]) -> list[LayerScore]:
    gold = _label_ids(labels, len(features))
    if gold.max(initial=0) >= probes.n_labels:
        raise InternalsError(f"label id {gold.max()} is not one of the probes' {probes.n_labels} labels")
    predicted = probes.predict(features)
    return [LayerScore(layer, float((predicted[:, i] == gold).mean()),
                       macro_f1_single(predicted[:, i], gold, probes.n_labels))
            for i, layer in enumerate(probes.layers)]


def best_layer(dev_scores: Sequence[LayerScore]) -> int:
    """The layer whose probe reads the dev items best (ties: the earlier layer); report test at this layer,
    never the layer that scores best on test.

    >>> best_layer([LayerScore(0, 0.4, 0.4), LayerScore(1, 0.6, 0.5), LayerScore(2, 0.6, 0.6)])
    1
    """
    if not dev_scores:
        raise InternalsError("no dev scores to pick a layer from")
    return max(dev_scores, key=lambda s: (s.accuracy, -s.layer)).layer
