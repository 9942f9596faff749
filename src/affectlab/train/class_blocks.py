"""The three class blocks a text model learns from GoEmotions gold labels (the 28 emotions, and the authors'
Ekman and sentiment groupings of them): their targets, and their thresholds tuned on dev.

>>> targets = class_targets([["joy"], ["anger", "annoyance"]])
>>> targets.shape                      # 28 + 7 + 4 columns, side by side
(2, 39)
>>> thresholds, macro_f1 = tuned_blocks(dev_raw, dev_targets, head_slices())
"""

from __future__ import annotations

import numpy as np

from affectlab.metrics import f1_per_label, multi_hot, tune_thresholds
from affectlab.taxonomy import (
    EKMAN,
    GOEMOTIONS,
    GOEMOTIONS_TO_EKMAN,
    GOEMOTIONS_TO_SENTIMENT,
    SENTIMENT,
    group_labels,
)
from affectlab.text.probabilities import sigmoid

CLASS_BLOCKS = (("goemotions", GOEMOTIONS, None), ("ekman", EKMAN, GOEMOTIONS_TO_EKMAN),
                ("sentiment", SENTIMENT, GOEMOTIONS_TO_SENTIMENT))


def class_targets(label_lists: list[list[str]]) -> np.ndarray:
    """Gold GoEmotions labels → the concatenated 28 + Ekman + sentiment multi-hot targets."""
    blocks = []
    for _, names, mapping in CLASS_BLOCKS:
        grouped = label_lists if mapping is None else [group_labels(ls, mapping) for ls in label_lists]
        blocks.append(multi_hot(grouped, names))
    return np.concatenate(blocks, axis=1)


def tuned_blocks(raw: np.ndarray, targets: np.ndarray, slices: dict[str, slice]) -> tuple[dict, dict]:
    """Per class block: thresholds tuned on ``raw`` head outputs against ``targets`` (:func:`class_targets`), and
    the macro-F1 they give there."""
    thresholds, macro_f1, offset = {}, {}, 0
    for name, names, _ in CLASS_BLOCKS:
        probs = sigmoid(raw[:, slices[name]])
        gold = targets[:, offset : offset + len(names)]
        offset += len(names)
        tuned = tune_thresholds(probs, gold)
        thresholds[name] = [float(t) for t in tuned]
        macro_f1[name] = float(f1_per_label(probs >= tuned, gold).mean())
    return thresholds, macro_f1
