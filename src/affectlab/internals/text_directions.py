"""Emotion directions from labelled text: how the residual stream of texts that *express* an emotion differs
from that of neutral texts.

The scenario directions (``directions.py``) contrast events that would evoke an emotion; these contrast
people's own emotional writing (GoEmotions comments grouped by Ekman) with their neutral writing, which is
closer to what a steered model should produce. For each emotion and layer: the mean-pooled state of its
texts minus that of the neutral texts. Consistency is split-half agreement: the cosine between the
directions from two random halves of each label's texts (seeded), per emotion and layer.

>>> texts, labels = ["I love this!", "ugh, gross", "It opens at nine."], ["joy", "disgust", "neutral"]
>>> dirs = text_directions(llm, texts, labels, emotions=["joy", "disgust"])
>>> dirs = dirs.scaled_to(emotion_directions(llm))   # optional: scenario lengths, so strengths compare
>>> with Steering(llm, dirs["joy"], layer=9, strength=4): ...
>>> packaged_directions(llm)      # the shipped GoEmotions directions of the default LM
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import resources

import numpy as np

from affectlab.internals.capture import capture_pooled
from affectlab.internals.directions import EmotionDirections, _cosine
from affectlab.internals.layers import InternalsError

PACKAGED = "gemma3-270m-goemotions-directions"  # artifacts/<this>/directions.safetensors


def text_directions(llm, texts: Sequence[str], labels: Sequence[str], emotions: Sequence[str] | None = None, *,
                    neutral: str = "neutral", source: str = "texts", layers: Sequence[int] | None = None,
                    batch_size: int = 16, max_tokens: int = 128, seed: int = 0,
                    on_progress: Callable[[int], None] | None = None) -> EmotionDirections:
    """One direction per emotion and layer: mean state of the emotion's texts minus the neutral texts' mean,
    at its own length (``scaled_to`` rescales it). ``source`` names the data in the result's ``method``
    (e.g. ``"goemotions"``)."""
    if len(texts) != len(labels):
        raise InternalsError(f"{len(texts)} texts but {len(labels)} labels")
    labels = np.asarray(labels, dtype=object)
    emotions = list(emotions or sorted({str(x) for x in labels} - {neutral}))
    for label in (neutral, *emotions):
        if (labels == label).sum() < 2:
            raise InternalsError(f"text directions need at least two {label!r} texts "
                                 f"(got {int((labels == label).sum())})")
    states = capture_pooled(llm, list(texts), layers=layers, batch_size=batch_size, max_tokens=max_tokens,
                            on_progress=on_progress)["mean"]
    rng, halves = np.random.default_rng(seed), np.zeros(len(texts), dtype=bool)
    for label in sorted({str(x) for x in labels}):  # each label split evenly, so both halves have every label
        halves[rng.permutation(np.flatnonzero(labels == label))[::2]] = True

    def difference(emotion: str, rows: np.ndarray) -> np.ndarray:  # [layers, hidden]
        return states[rows & (labels == emotion)].mean(0) - states[rows & (labels == neutral)].mean(0)

    everything = np.ones(len(texts), dtype=bool)
    vectors, consistency = {}, {}
    for emotion in emotions:
        vectors[emotion] = difference(emotion, everything).astype(np.float32)
        first, second = difference(emotion, halves), difference(emotion, ~halves)
        consistency[emotion] = [_cosine(a, b) for a, b in zip(first, second)]
    chosen = tuple(range(states.shape[1])) if layers is None else tuple(layers)
    return EmotionDirections(llm.name, source, chosen, vectors, consistency)


def packaged_directions(llm) -> EmotionDirections:
    """The GoEmotions directions shipped for the default LM (Gemma 3 270M); any model of its shape takes them."""
    path = resources.files("affectlab").joinpath("artifacts", PACKAGED, "directions.safetensors")
    found = EmotionDirections.load(str(path))
    try:
        found.check_fits(llm)
    except InternalsError as error:
        raise InternalsError(f"{error}; for this model compute directions (`affectlab directions --method "
                             "goemotions`, or `steer --method mean_diff`) or pass saved ones") from None
    return found
