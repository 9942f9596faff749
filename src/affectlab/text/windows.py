"""How the scores of a long text's encoder windows become the text's scores.

Two rules, one per kind of output:

- **Presence** (:func:`strongest`): an emotion is in a text if some part of it expresses it, so a text takes
  each emotion's score from the window that scores it highest. Neutral is the absence of emotion: a text is
  only as neutral as its least neutral window, so neutral takes the lowest score instead.
- **Overall tone** (:func:`length_weighted_mean`): sentiment and valence/arousal/dominance describe the text
  as a whole, so each window counts in proportion to the tokens it read.

A text read in one window keeps that window's scores exactly under both rules.

>>> bounds = np.array([0, 1, 3])  # text 0: window 0; text 1: windows 1 and 2
>>> strongest(np.array([[0.1, 2.0], [0.5, 3.0], [-1.0, -4.0]]), bounds, inverted=[1])
array([[0, 0],
       [0, 1]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from affectlab.taxonomy import EKMAN, GOEMOTIONS

PRESENCE_BLOCKS: dict[str, tuple[str, ...]] = {"goemotions": GOEMOTIONS, "ekman": EKMAN}  # each has a neutral
TONE_BLOCKS: tuple[str, ...] = ("sentiment", "vad")


def text_bounds(owner: np.ndarray, n_texts: int) -> np.ndarray:
    """Where each text's windows begin in a window list ordered by text (``n_texts + 1`` entries, the last
    one past the end): text ``t`` owns windows ``bounds[t]`` to ``bounds[t + 1]``."""
    return np.searchsorted(owner, np.arange(n_texts + 1))


def strongest(logits: np.ndarray, bounds: np.ndarray, inverted: Sequence[int] = ()) -> np.ndarray:
    """For each text and class, which of the text's windows (0-based, in reading order) gives the text its
    score: the one with the highest logit, or, for the ``inverted`` classes (neutral), the lowest.

    Chosen on logits rather than probabilities: a sigmoid saturates in float32, and two windows tied at 1.0
    would leave the choice to their order. The first window wins a true tie.
    """
    signed = logits.astype(np.float64)
    signed[:, list(inverted)] *= -1
    return np.stack([signed[lo:hi].argmax(axis=0) for lo, hi in zip(bounds[:-1], bounds[1:])])


def length_weighted_mean(block: np.ndarray, owner: np.ndarray, weights: np.ndarray, n_texts: int) -> np.ndarray:
    """Per text, the mean of its windows' rows of ``block`` weighted by ``weights`` (tokens read)."""
    totals = np.bincount(owner, weights=weights, minlength=n_texts)
    summed = np.zeros((n_texts, block.shape[1]))
    np.add.at(summed, owner, block * weights[:, None])
    return summed / totals[:, None]
