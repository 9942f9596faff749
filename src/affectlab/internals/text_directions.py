"""Emotion directions from labelled text: how the residual stream of texts that *express* an emotion differs
from that of neutral texts.

The scenario directions (``directions.py``) contrast events that would evoke an emotion; these contrast
people's own emotional writing (GoEmotions comments grouped by Ekman) with their neutral writing, which is
closer to what a steered model should produce. For each emotion and layer: the mean-pooled state of its
texts minus that of the neutral texts. Those six differences share a large part — what any emotional text
has over a neutral one (first person, exclamations, a forum's register) — and a direction that is mostly that
part steers towards emotional text in general, not towards its own emotion (disgust read as joy).
``remove_shared`` takes that share of the six differences' mean out of each: 0 keeps the plain difference,
1 contrasts each emotion with the mean of the emotions' means. Directions with a share removed say so in
their ``method``. Consistency is split-half agreement: the cosine between the directions from two random
halves of each label's texts (seeded), per emotion and layer.

>>> texts, labels = ["I love this!", "ugh, gross", "It opens at nine."], ["joy", "disgust", "neutral"]
>>> dirs = text_directions(llm, texts, labels, emotions=["joy", "disgust"], remove_shared=0.5)
>>> states = text_states(llm, texts, labels)            # capture once, then any share removed
>>> states.directions(remove_shared=0.25)
>>> dirs = dirs.scaled_to(emotion_directions(llm))   # optional: scenario lengths, so strengths compare
>>> with Steering(llm, dirs["joy"], layer=9, strength=4): ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from affectlab.errors import is_finite_number
from affectlab.internals.capture import capture_pooled
from affectlab.internals.directions import EmotionDirections, _cosine
from affectlab.internals.layers import InternalsError


def check_shares(shares: Sequence[float] | Mapping[str, float]) -> None:
    """Shares of the emotions' common part to remove (a list, or one per emotion): each between 0 and 1."""
    named = shares.items() if isinstance(shares, Mapping) else ((None, share) for share in shares)
    for emotion, share in named:
        if not is_finite_number(share) or not 0.0 <= share <= 1.0:
            where = f" (for {emotion})" if emotion else ""
            raise InternalsError(f"remove_shared takes shares between 0 and 1, not {share}{where}")


@dataclass(frozen=True)
class TextStates:
    """What text directions are computed from: the mean-pooled state of every text at every layer, its
    label, and a seeded split of each label's texts into two halves (for consistency)."""

    model: str
    source: str
    layers: tuple[int, ...]
    emotions: list[str]
    neutral: str
    states: np.ndarray  # [text, layer, hidden]
    labels: np.ndarray  # [text], object
    halves: np.ndarray  # [text], bool

    def directions(self, remove_shared: float | Mapping[str, float] = 0.0) -> EmotionDirections:
        """Per emotion and layer: its texts' mean minus the neutral texts' mean, less ``remove_shared`` times
        the mean of those differences over the emotions (one share for all, or one per emotion, 0 for an
        emotion not named); at its own length (``scaled_to`` rescales it)."""
        if isinstance(remove_shared, Mapping):
            unknown = sorted(set(remove_shared) - set(self.emotions))
            if unknown:
                raise InternalsError(f"remove_shared names {', '.join(unknown)}, which these texts have no "
                                     f"direction for ({', '.join(self.emotions)})")
            check_shares(remove_shared)
            shares = {e: float(remove_shared.get(e, 0.0)) for e in self.emotions}
        else:
            check_shares([remove_shared])
            shares = dict.fromkeys(self.emotions, float(remove_shared))

        def differences(rows: np.ndarray) -> dict[str, np.ndarray]:  # emotion -> [layers, hidden]
            neutral = self.states[rows & (self.labels == self.neutral)].mean(0)
            plain = {e: self.states[rows & (self.labels == e)].mean(0) - neutral for e in self.emotions}
            shared = np.mean(list(plain.values()), axis=0)
            return {e: d - shares[e] * shared for e, d in plain.items()}

        every, first, second = (differences(np.ones(len(self.labels), dtype=bool)), differences(self.halves),
                                differences(~self.halves))
        vectors = {e: every[e].astype(np.float32) for e in self.emotions}
        consistency = {e: [_cosine(a, b) for a, b in zip(first[e], second[e])] for e in self.emotions}
        return EmotionDirections(self.model, self._method(shares), self.layers, vectors, consistency)

    def _method(self, shares: dict[str, float]) -> str:
        if len(set(shares.values())) > 1:
            return f"{self.source}, shared part removed per emotion: " + ", ".join(
                f"{e} x{s:g}" for e, s in shares.items())
        share = next(iter(shares.values()))
        return f"{self.source}, shared part x{share:g} removed" if share else self.source


def text_states(llm, texts: Sequence[str], labels: Sequence[str], emotions: Sequence[str] | None = None, *,
                neutral: str = "neutral", source: str = "texts", layers: Sequence[int] | None = None,
                batch_size: int = 16, max_tokens: int = 128, seed: int = 0,
                on_progress: Callable[[int], None] | None = None) -> TextStates:
    """Capture ``texts`` (each read up to ``max_tokens``) for directions of ``emotions`` (default: every
    label but ``neutral``) against ``neutral``. ``source`` names the data in the directions' ``method``
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
    chosen = tuple(range(states.shape[1])) if layers is None else tuple(layers)
    return TextStates(llm.name, source, chosen, emotions, neutral, states, labels, halves)


def text_directions(llm, texts: Sequence[str], labels: Sequence[str], emotions: Sequence[str] | None = None, *,
                    remove_shared: float | Mapping[str, float] = 0.0, **options) -> EmotionDirections:
    """One direction per emotion and layer from labelled texts (``text_states`` options), at its own
    length, with ``remove_shared`` of the shared part taken out (one share, or one per emotion)."""
    return text_states(llm, texts, labels, emotions, **options).directions(remove_shared)

