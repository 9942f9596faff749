"""Texts → what a memory stores of them: a semantic vector (what was said) and an emotion reading (how it
felt: the text model's 28 GoEmotions probabilities and its valence, arousal and dominance).

The emotion vector that similarities use is those 31 numbers (square roots of the probabilities; VAD centred
and scaled from EmoBank's 1-5 scale to -1..1) normalized to unit length (:func:`emotion_vectors`).
:attr:`AffectEncoder.model_id` names both models, a hash of the weights each reading comes from (for the text
model, of what its emotion and VAD outputs depend on) and the emotion vector's format, so a store knows what
wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

import numpy as np

from affectlab.memory.errors import InvalidMemory
from affectlab.taxonomy import GOEMOTIONS, VAD

if TYPE_CHECKING:
    from affectlab.text import Analyzer, TextAffect

EMOTION_FORMAT = "emotion-v1"  # change whenever emotion_vectors changes: stored vectors then need re-embedding
EMOTION_DIMENSION = len(GOEMOTIONS) + len(VAD)
CHUNK = 256  # texts encoded at a time (the unit of progress)


@dataclass(frozen=True)
class Encoded:
    """The vectors of ``n`` texts: ``semantic`` (n, d) unit rows, ``emotions`` (n, 28) probabilities in
    GoEmotions order, ``vad`` (n, 3) on the 1-5 scale, and the ``model_id`` of what computed them."""

    semantic: np.ndarray
    emotions: np.ndarray
    vad: np.ndarray
    model_id: str

    def __post_init__(self) -> None:
        n = len(self.semantic)
        if self.emotions.shape != (n, len(GOEMOTIONS)) or self.vad.shape != (n, len(VAD)):
            raise InvalidMemory(f"encoded rows do not line up: semantic {self.semantic.shape}, emotions "
                                f"{self.emotions.shape}, vad {self.vad.shape}")

    def __len__(self) -> int:
        return len(self.semantic)

    def take(self, rows) -> Encoded:
        return Encoded(self.semantic[rows], self.emotions[rows], self.vad[rows], self.model_id)

    @property
    def emotion(self) -> np.ndarray:
        """The unit emotion vectors, (n, 31)."""
        return emotion_vectors(self.emotions, self.vad)

    @property
    def joint(self) -> np.ndarray:
        """What the store indexes: the semantic vector, then the emotion vector, (n, d + 31) float32."""
        return np.hstack([self.semantic, self.emotion]).astype(np.float32)

    @classmethod
    def concat(cls, parts: Sequence[Encoded]) -> Encoded:
        ids = {p.model_id for p in parts}
        if len(ids) != 1:
            raise InvalidMemory(f"cannot join vectors of different models: {sorted(ids)}")
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("semantic", "emotions", "vad")),
                   ids.pop())


def emotion_vectors(emotions: np.ndarray, vad: np.ndarray) -> np.ndarray:
    """Probabilities and 1-5 VAD → unit vectors (a row of zeros stays zeros). The probabilities enter as
    square roots, so their part of the cosine is a Bhattacharyya-like overlap in which a weak second emotion
    still counts (on EmpatheticDialogues valid it recalled slightly more same-emotion memories than raw
    probabilities at the same semantic cost)."""
    probs = np.sqrt(np.clip(np.asarray(emotions, dtype=np.float32), 0.0, 1.0))
    raw = np.hstack([probs, (np.asarray(vad, dtype=np.float32) - 3.0) / 2.0])
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    return raw / np.where(norms > 0, norms, 1.0)


def reading(emotion: TextAffect | Mapping[str, float] | str) -> tuple[np.ndarray, np.ndarray]:
    """A given emotional state → (28 probabilities, 3 VAD): a :class:`~affectlab.TextAffect`, a mapping of
    GoEmotions names (and optionally valence, arousal, dominance on 1-5; unnamed ones are 0 and 3), or one
    GoEmotions name (probability 1).

    >>> reading("sadness")[0][GOEMOTIONS.index("sadness")]
    1.0
    """
    if isinstance(emotion, str):
        emotion = {emotion: 1.0}
    elif not isinstance(emotion, Mapping):
        if getattr(emotion, "error", None):
            raise InvalidMemory(f"the given emotion reading failed: {emotion.error}")
        emotion = {**emotion.emotions, **emotion.vad}
    unknown = sorted(set(emotion) - set(GOEMOTIONS) - set(VAD))
    if unknown:
        raise InvalidMemory(f"unknown emotion {', '.join(map(repr, unknown))}; use GoEmotions names "
                            f"({', '.join(GOEMOTIONS[:3])}, ...) or {', '.join(VAD)}")
    probs = np.array([float(emotion.get(e, 0.0)) for e in GOEMOTIONS], dtype=np.float32)
    vad = np.array([float(emotion.get(d, 3.0)) for d in VAD], dtype=np.float32)
    if not np.isfinite(probs).all() or (probs < 0).any() or (probs > 1).any():
        raise InvalidMemory("emotion probabilities must be numbers between 0 and 1")
    if not np.isfinite(vad).all() or (vad < 1).any() or (vad > 5).any():
        raise InvalidMemory("valence, arousal and dominance must be numbers between 1 and 5")
    return probs, vad


class MemoryEncoder(Protocol):
    """What turns texts into :class:`Encoded` (:class:`AffectEncoder`, or a stand-in in tests)."""

    dimension: int  # of the semantic vectors

    @property
    def model_id(self) -> str: ...

    def encode(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> Encoded: ...


class AffectEncoder:
    """The default encoder: all-MiniLM-L6-v2 sentence embeddings for meaning, and the default text model
    (:class:`~affectlab.Analyzer`) for the emotions and VAD.

    >>> encoded = AffectEncoder().encode(["We finally adopted the puppy!"])
    >>> encoded.semantic.shape, encoded.emotions.shape
    ((1, 384), (1, 28))
    """

    dimension = 384

    def __init__(self, *, analyzer: Analyzer | None = None, threads: int | None = None) -> None:
        from affectlab.encoders import SentenceEncoder
        from affectlab.text import Analyzer

        self.sentences = SentenceEncoder(threads=threads)
        self.analyzer = analyzer or Analyzer(threads=threads)

    @cached_property
    def model_id(self) -> str:
        from affectlab.text.fingerprints import outputs_fingerprint

        read = outputs_fingerprint(self.analyzer.folder, ("goemotions", "vad"))
        emotion_model = f"{self.analyzer.model_name}@{read[:12]}"
        return f"{self.sentences.model_id}+{emotion_model}+{EMOTION_FORMAT}"

    def encode(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> Encoded:
        texts = list(texts)
        parts = []
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            readings = self.analyzer.analyze_batch(chunk)
            for offset, affect in enumerate(readings):
                if affect.error is not None:
                    raise InvalidMemory(f"text {start + offset}: {affect.error}")
            parts.append(Encoded(
                self.sentences.encode(chunk),
                np.array([[r.emotions[e] for e in GOEMOTIONS] for r in readings], dtype=np.float32),
                np.array([[r.vad[d] for d in VAD] for r in readings], dtype=np.float32),
                self.model_id,
            ))
            if on_progress is not None:
                on_progress(len(chunk))
        if not parts:
            return Encoded(np.zeros((0, self.dimension), np.float32), np.zeros((0, len(GOEMOTIONS)), np.float32),
                           np.zeros((0, len(VAD)), np.float32), self.model_id)
        return Encoded.concat(parts)
