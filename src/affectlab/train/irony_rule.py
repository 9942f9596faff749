"""Where the irony rule (:mod:`affectlab.text.irony`) starts: chosen on GoEmotions dev, not on the irony tweets.

The irony output is trained on SemEval-2018 tweets, half of them ironic. The threshold that gives the best F1 of
the ironic class there is low (about 0.25 for a probe on MiniLM sentence vectors) and, on ordinary comments,
where irony is rare, it flags most texts: 80% of GoEmotions dev for that probe. The rule would then discount the
positive reading of most positive comments. So the detection threshold (``thresholds["irony"]``, for
``affectlab eval irony`` and for users who threshold ``TextAffect.irony`` themselves) and the rule's threshold
(``irony_rule`` in the model's config) are chosen apart:

- the rule's threshold is the lowest on :data:`RULE_GRID` at which applying the rule costs GoEmotions dev at most
  :data:`MAX_COST` macro-F1 in each class block (GoEmotions 28, Ekman, sentiment; thresholds re-tuned with the
  rule applied, as the analyzer applies it before its thresholds);
- None when no threshold keeps that bound: the model then reports irony without changing its other outputs.

>>> rule = choose_irony_rule(dev_raw, dev_targets, slices)
>>> rule.threshold, rule.report["cost"]   # macro-F1 lost per block at that threshold (negative: gained)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from affectlab.text.irony import ironic_reading
from affectlab.text.probabilities import sigmoid
from affectlab.train.class_blocks import tuned_blocks

RULE_GRID = tuple(round(t, 2) for t in np.arange(0.5, 0.96, 0.05))
MAX_COST = 0.005


@dataclass(frozen=True)
class IronyRule:
    """The rule's threshold (None: no rule), what choosing it cost on dev, and the class blocks' thresholds and
    macro-F1 tuned on the dev outputs as the analyzer reads them with that rule."""

    threshold: float | None
    report: dict
    thresholds: dict[str, list[float]]
    macro_f1: dict[str, float]


def choose_irony_rule(raw: np.ndarray, targets: np.ndarray, slices: dict[str, slice]) -> IronyRule:
    """The rule for a model whose GoEmotions dev outputs are ``raw`` (with their gold ``targets``)."""
    plain_thresholds, plain_f1 = tuned_blocks(raw, targets, slices)
    flagged = sigmoid(raw[:, slices["irony"]][:, 0])
    for threshold in RULE_GRID:
        thresholds, macro_f1 = tuned_blocks(ironic_reading(raw, slices, threshold), targets, slices)
        cost = {name: round(plain_f1[name] - macro_f1[name], 4) for name in macro_f1}
        if max(cost.values()) <= MAX_COST:
            report = {"threshold": threshold, "cost": cost,
                      "flagged_share": round(float((flagged >= threshold).mean()), 4)}
            return IronyRule(threshold, report, thresholds, macro_f1)
    return IronyRule(None, {"threshold": None, "max_cost": MAX_COST}, plain_thresholds, plain_f1)
