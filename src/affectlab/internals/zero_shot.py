"""The LM's own answer to "which emotion is this?", scored rather than generated (a base model rarely
answers in the label set): the log-likelihood of each label after the question, minus its score for an
empty text (content-free calibration, Zhao et al. 2021). The baseline a probe should beat."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from affectlab.internals.layers import InternalsError

QUESTION = "Text: {text}\nThe emotion in this text ({choices}) is:"
EMPTY_TEXT = "N/A"


def zero_shot_scores(llm, texts: Sequence[str], labels: Sequence[str], *,
                     on_progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Calibrated label scores, ``[len(texts), len(labels)]``; the argmax is the LM's answer."""
    if not len(texts) or not len(labels):
        raise InternalsError(f"zero-shot scoring needs texts and labels, not {len(texts)} texts and "
                             f"{len(labels)} labels")
    choices = ", ".join(labels)
    continuations = [f" {label}" for label in labels]

    def score(text: str) -> np.ndarray:
        return np.array(llm.score(QUESTION.format(text=text, choices=choices), continuations))

    prior = score(EMPTY_TEXT)
    rows = []
    for text in texts:
        rows.append(score(text) - prior)
        if on_progress is not None:
            on_progress(1)
    return np.stack(rows)
