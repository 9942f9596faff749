"""Texts → what a memory stores of them: a semantic vector (what was said) and emotion readings (how it felt).

Two readings are kept: the text model's 28 GoEmotions probabilities with its valence, arousal and dominance
(shown with every hit), and the small empathetic model's distribution over EmpatheticDialogues' 32 emotions,
reading the text as what someone tells (``situations``). Emotional similarity is computed on the second: the
dot product of two distributions, the chance that the two texts would be given the same of the 32 emotions
(0-1). On EmpatheticDialogues valid it recalled far more memories of the query's emotion than the cosine of
the 28 GoEmotions probabilities and VAD did, at the same cost in meaning (docs/memory.md).

:attr:`AffectEncoder.model_id` names the three models, a hash of the weights each reading comes from, and the
emotion format, so a store knows what wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

import numpy as np

from affectlab.memory.errors import InvalidMemory, InvalidRow
from affectlab.taxonomy import ED_EMOTIONS, GOEMOTIONS, VAD
from affectlab.taxonomy.conversion import convert_scores

if TYPE_CHECKING:
    from affectlab.text import Analyzer, TextAffect

EMOTION_FORMAT = "emotion-v2"  # change whenever the emotion part of the vectors changes: stores then re-embed
EMOTION_DIMENSION = len(ED_EMOTIONS)
CHUNK = 256  # texts encoded at a time (the unit of progress)


@dataclass(frozen=True)
class Encoded:
    """The vectors of ``n`` texts: ``semantic`` (n, d) unit rows, ``emotions`` (n, 28) probabilities in
    GoEmotions order, ``vad`` (n, 3) on the 1-5 scale, ``situations`` (n, 32) distributions over
    EmpatheticDialogues' emotions, and the ``model_id`` of what computed them."""

    semantic: np.ndarray
    emotions: np.ndarray
    vad: np.ndarray
    situations: np.ndarray
    model_id: str

    def __post_init__(self) -> None:
        n = len(self.semantic)
        shapes = {"emotions": (n, len(GOEMOTIONS)), "vad": (n, len(VAD)), "situations": (n, EMOTION_DIMENSION)}
        if any(getattr(self, name).shape != shape for name, shape in shapes.items()):
            raise InvalidMemory(f"encoded rows do not line up: semantic {self.semantic.shape}, "
                                + ", ".join(f"{name} {getattr(self, name).shape}" for name in shapes))

    def __len__(self) -> int:
        return len(self.semantic)

    def take(self, rows) -> Encoded:
        return Encoded(self.semantic[rows], self.emotions[rows], self.vad[rows], self.situations[rows],
                       self.model_id)

    @property
    def joint(self) -> np.ndarray:
        """What the store indexes: the semantic vector, then the situation distribution, (n, d + 32) float32."""
        return np.hstack([self.semantic, self.situations]).astype(np.float32)

    @classmethod
    def concat(cls, parts: Sequence[Encoded]) -> Encoded:
        ids = {p.model_id for p in parts}
        if len(ids) != 1:
            raise InvalidMemory(f"cannot join vectors of different models: {sorted(ids)}")
        fields = ("semantic", "emotions", "vad", "situations")
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields), ids.pop())


def distribution(scores: np.ndarray) -> np.ndarray:
    """Non-negative scores (rows, or one) → distributions summing to 1; all zeros → uniform (no emotion
    preferred, so every memory is equally close in feeling)."""
    scores = np.clip(np.asarray(scores, dtype=np.float32), 0.0, None)
    totals = scores.sum(-1, keepdims=True)
    uniform = np.full_like(scores, 1.0 / scores.shape[-1])
    return np.where(totals > 0, scores / np.where(totals > 0, totals, 1.0), uniform)


def reading(emotion: TextAffect | Mapping[str, float] | str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A given emotional state → (28 GoEmotions probabilities, 3 VAD, 32 situation emotions): a
    :class:`~affectlab.TextAffect`, a mapping of GoEmotions or EmpatheticDialogues names (not both) and
    optionally valence, arousal, dominance on 1-5 (unnamed: 0 and 3), or one such name (probability 1). The
    other label set is read through affectlab's documented mapping between the two (``taxonomy``).

    >>> probs, vad, situations = reading("lonely")
    >>> float(situations[ED_EMOTIONS.index("lonely")])
    1.0
    >>> _, _, situations = reading("fear")
    >>> sorted(ED_EMOTIONS[i] for i in np.flatnonzero(situations))
    ['afraid', 'terrified']
    """
    if isinstance(emotion, str):
        emotion = {emotion: 1.0}
    elif not isinstance(emotion, Mapping):
        from affectlab.text import TextAffect

        if not isinstance(emotion, TextAffect):
            raise InvalidMemory(f"emotion: expected a TextAffect, a mapping of emotion names to numbers or one "
                                f"emotion name, not {type(emotion).__name__}")
        if emotion.error:
            raise InvalidMemory(f"the given emotion reading failed: {emotion.error}")
        emotion = {**emotion.emotions, **emotion.vad}
    unknown = sorted(map(repr, set(emotion) - set(GOEMOTIONS) - set(ED_EMOTIONS) - set(VAD)))
    if unknown:
        raise InvalidMemory(f"unknown emotion {', '.join(unknown)}; use GoEmotions names "
                            f"({', '.join(GOEMOTIONS[:3])}, ...), EmpatheticDialogues names "
                            f"({', '.join(ED_EMOTIONS[:3])}, ...) or {', '.join(VAD)}")
    named_situations = set(emotion) & set(ED_EMOTIONS) - set(GOEMOTIONS)
    if named_situations and set(emotion) & set(GOEMOTIONS) - set(ED_EMOTIONS):
        raise InvalidMemory("give the emotions as GoEmotions names or as EmpatheticDialogues names, not both")
    values = {}
    for name, value in emotion.items():
        try:
            if isinstance(value, bool):
                raise TypeError
            values[name] = float(value)
        except (TypeError, ValueError):
            raise InvalidMemory(f"emotion {name!r}: expected a number, not {value!r}"[:200]) from None
    scores = [values.get(e, 0.0) for e in (*GOEMOTIONS, *ED_EMOTIONS)]
    if not np.isfinite(scores).all() or min(scores) < 0 or max(scores) > 1:
        raise InvalidMemory("emotion probabilities must be numbers between 0 and 1")
    vad = np.array([values.get(d, 3.0) for d in VAD], dtype=np.float32)
    if not np.isfinite(vad).all() or (vad < 1).any() or (vad > 5).any():
        raise InvalidMemory("valence, arousal and dominance must be numbers between 1 and 5")
    if named_situations:
        told = {e: values.get(e, 0.0) for e in ED_EMOTIONS}
        goemotions = convert_scores(told, "goemotions", source="empathetic_dialogues")
    else:
        goemotions = {e: values.get(e, 0.0) for e in GOEMOTIONS}
        told = convert_scores(goemotions, "empathetic_dialogues")
    probs = np.array([goemotions.get(e, 0.0) for e in GOEMOTIONS], dtype=np.float32)
    return probs, vad, distribution(np.array([told.get(e, 0.0) for e in ED_EMOTIONS], dtype=np.float32))


class MemoryEncoder(Protocol):
    """What turns texts into :class:`Encoded` (:class:`AffectEncoder`, or a stand-in in tests)."""

    dimension: int  # of the semantic vectors

    @property
    def model_id(self) -> str: ...

    def encode(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> Encoded: ...


class AffectEncoder:
    """The default encoder: all-MiniLM-L6-v2 sentence embeddings for meaning, the default text model
    (:class:`~affectlab.Analyzer`) for the 28 emotions and VAD, and the small empathetic model
    (:func:`~affectlab.empathy.load_emotion_model`) for the 32 situation emotions. That model learned from
    EmpatheticDialogues (CC BY-NC 4.0): the same non-commercial terms hold for memories it reads.

    >>> encoded = AffectEncoder().encode(["We finally adopted the puppy!"])
    >>> encoded.semantic.shape, encoded.emotions.shape, encoded.situations.shape
    ((1, 384), (1, 28), (1, 32))
    """

    dimension = 384

    def __init__(self, *, analyzer: Analyzer | None = None, threads: int | None = None) -> None:
        from affectlab.dialogue.context_classifier import load_emotion_model
        from affectlab.encoders import SentenceEncoder
        from affectlab.text import Analyzer

        self.sentences = SentenceEncoder(threads=threads)
        self.analyzer = analyzer or Analyzer(threads=threads)
        self.situation_model = load_emotion_model(threads=threads)
        if self.situation_model.labels != ED_EMOTIONS:
            raise InvalidMemory(f"{self.situation_model.folder}: expected the 32 EmpatheticDialogues emotions")

    @cached_property
    def model_id(self) -> str:
        from affectlab.registry import fingerprint
        from affectlab.text.fingerprints import outputs_fingerprint

        read = outputs_fingerprint(self.analyzer.folder, ("goemotions", "vad"))
        situations = f"{self.situation_model.config.name}@{fingerprint(self.situation_model.folder)[:12]}"
        return f"{self.sentences.model_id}+{self.analyzer.model_name}@{read[:12]}+{situations}+{EMOTION_FORMAT}"

    def encode(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> Encoded:
        texts = list(texts)
        parts = []
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            readings = self.analyzer.analyze_batch(chunk)
            for offset, affect in enumerate(readings):
                if affect.error is not None:
                    raise InvalidRow("text", start + offset, affect.error)
            parts.append(Encoded(
                self.sentences.encode(chunk),
                np.array([[r.emotions[e] for e in GOEMOTIONS] for r in readings], dtype=np.float32),
                np.array([[r.vad[d] for d in VAD] for r in readings], dtype=np.float32),
                self.situation_model.read_told(chunk),
                self.model_id,
            ))
            if on_progress is not None:
                on_progress(len(chunk))
        if not parts:
            return Encoded(*(np.zeros((0, width), np.float32)
                             for width in (self.dimension, len(GOEMOTIONS), len(VAD), EMOTION_DIMENSION)),
                           self.model_id)
        return Encoded.concat(parts)
