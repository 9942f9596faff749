"""How the irony output changes the reading of a window: ironic praise is not praise.

The sentiment and emotion outputs read a text literally: "Oh great, another Monday." has positive words,
so they call it positive. Most ironic texts say something negative through positive words (in the
SemEval-2018 irony data, ironic by polarity contrast is by far the largest kind; Van Hee et al., 2018).
So where a window's irony probability ``i`` reaches the model's ``irony_rule`` threshold, its positive reading
is taken as literal only with probability ``1 - i``:

- every positive output (the GoEmotions labels of the positive sentiment group, Ekman joy, sentiment
  positive) is multiplied by ``1 - i``;
- sentiment negative becomes ``1 - (1 - negative) * (1 - i * positive)``: the ironic share of the literal
  positive reading counts as negative.
Below the threshold nothing changes, so texts the irony output does not flag read as before. The threshold is
chosen on GoEmotions dev, where the rule may cost each class block at most a sliver of macro-F1
(:mod:`affectlab.train.irony_rule`), not at the irony output's best F1 on the tweets it learned from: half of
those are ironic, so that threshold would flag most ordinary comments; a model without one (None) reports
irony and leaves its other outputs alone. The change is made on the window's raw outputs (as logits of the new
probabilities), before windows are combined, so a long text's scores and drivers follow the same rules as any
other.

>>> from affectlab.heads import head_slices
>>> slices = head_slices()
>>> raw = np.zeros((1, slices["irony"].stop), np.float32)
>>> raw[0, slices["irony"]] = 3.0  # irony 0.95
>>> bool(ironic_reading(raw, slices, 0.5)[0, slices["sentiment"]][0] < raw[0, slices["sentiment"]][0])
True
"""

from __future__ import annotations

import numpy as np

from affectlab.taxonomy import EKMAN, GOEMOTIONS, GOEMOTIONS_TO_SENTIMENT, SENTIMENT
from affectlab.text.probabilities import logit, sigmoid

POSITIVE_EMOTIONS = tuple(i for i, name in enumerate(GOEMOTIONS) if GOEMOTIONS_TO_SENTIMENT[name] == "positive")


def ironic_reading(raw: np.ndarray, slices: dict[str, slice], threshold: float) -> np.ndarray:
    """Raw head outputs (one row per window) with the positive reading of ironic windows discounted."""
    irony = sigmoid(raw[:, slices["irony"]].astype(np.float64))[:, 0]
    flagged = irony >= threshold
    if not flagged.any():
        return raw
    out = raw.copy()
    keep = (1.0 - irony[flagged])[:, None]
    sentiment = slices["sentiment"].start
    positive, negative = sentiment + SENTIMENT.index("positive"), sentiment + SENTIMENT.index("negative")
    literal_positive = sigmoid(raw[flagged, positive].astype(np.float64))
    columns = [slices["goemotions"].start + i for i in POSITIVE_EMOTIONS]
    columns += [slices["ekman"].start + EKMAN.index("joy"), positive]
    rows = np.flatnonzero(flagged)
    out[np.ix_(rows, columns)] = logit(sigmoid(raw[np.ix_(rows, columns)].astype(np.float64)) * keep)
    literal_negative = sigmoid(raw[flagged, negative].astype(np.float64))
    out[rows, negative] = logit(1 - (1 - literal_negative) * (1 - irony[flagged] * literal_positive))
    return out
