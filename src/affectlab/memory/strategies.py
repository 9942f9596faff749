"""How recall ranks memories (Emotional RAG, Huang et al. 2024): by what they said, by how they felt, or both.

- ``semantic``: cosine similarity of the sentence embeddings;
- ``emotion``: the chance that memory and query would be given the same of EmpatheticDialogues' 32 emotions, the
  dot product of their distributions (mood-congruent recall);
- ``combined``: ``(1 - w) · semantic + w · emotion`` with ``w = emotion_weight``;
- ``semantic-then-emotion``: the ``candidates`` closest in meaning, re-ranked by emotion;
- ``emotion-then-semantic``: the ``candidates`` closest in emotion, re-ranked by meaning.

The defaults (``DEFAULT_EMOTION_WEIGHT``, ``DEFAULT_CANDIDATES``) are the values ``affectlab eval memory``
chose on EmpatheticDialogues' valid split (see docs/memory.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from affectlab.errors import is_finite_number
from affectlab.memory.errors import InvalidMemory

STRATEGIES = ("semantic", "emotion", "combined", "semantic-then-emotion", "emotion-then-semantic")
SEQUENTIAL = {"semantic-then-emotion": ("semantic", "emotion"), "emotion-then-semantic": ("emotion", "semantic")}
DEFAULT_STRATEGY = "combined"
DEFAULT_EMOTION_WEIGHT = 0.5
DEFAULT_CANDIDATES = {"semantic-then-emotion": 20, "emotion-then-semantic": 100}
MAX_RANKED = 10_000  # the most memories one recall may return or rank (k, candidates): each comes with its vectors


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Ranked:
    row: int  # index into the rows the search returned
    score: float
    why: str


@dataclass(frozen=True)
class Strategy:
    """A strategy with its parameter: ``emotion_weight`` (combined) or ``candidates`` (sequential)."""

    name: str
    emotion_weight: float | None = None
    candidates: int | None = None

    @classmethod
    def of(cls, name: str, k: int, emotion_weight: float | None = None, candidates: int | None = None) -> Strategy:
        """Check the name and parameters against ``k`` (the number of memories asked for); fill defaults."""
        if name not in STRATEGIES:
            raise InvalidMemory(f"strategy must be one of {', '.join(STRATEGIES)}, not {name!r}")
        if not _whole(k) or not 1 <= k <= MAX_RANKED:
            raise InvalidMemory(f"k must be a whole number from 1 to {MAX_RANKED:,}, not {k!r}")
        if emotion_weight is not None and name != "combined":
            raise InvalidMemory(f"emotion_weight applies to the combined strategy, not {name}")
        if candidates is not None and name not in SEQUENTIAL:
            raise InvalidMemory(f"candidates applies to the sequential strategies, not {name}")
        if name == "combined":
            weight = DEFAULT_EMOTION_WEIGHT if emotion_weight is None else emotion_weight
            if not is_finite_number(weight) or not 0.0 <= weight <= 1.0:
                raise InvalidMemory(f"emotion_weight must be a number between 0 and 1, not {weight!r}")
            return cls(name, emotion_weight=float(weight))
        if name in SEQUENTIAL:
            pool = DEFAULT_CANDIDATES[name] if candidates is None else candidates
            if not _whole(pool) or not k <= pool <= MAX_RANKED:
                raise InvalidMemory(f"candidates must be a whole number from k={k} to {MAX_RANKED:,}, not {pool!r}")
            return cls(name, candidates=pool)
        return cls(name)

    @property
    def search_weights(self) -> tuple[float, float]:
        """The weights of the query's semantic and emotion parts in the database search."""
        first = SEQUENTIAL.get(self.name, (self.name,))[0]
        if self.name == "combined":
            return 1.0 - self.emotion_weight, self.emotion_weight
        return (1.0, 0.0) if first == "semantic" else (0.0, 1.0)

    def search_limit(self, k: int) -> int:
        return self.candidates if self.name in SEQUENTIAL else k

    def rank(self, semantic: np.ndarray, emotion: np.ndarray, k: int) -> list[Ranked]:
        """The top ``k`` of the rows the search returned, each with its score and why it was chosen."""
        sims = {"semantic": semantic, "emotion": emotion}
        if self.name in SEQUENTIAL:
            first, second = SEQUENTIAL[self.name]
            stage = np.argsort(-sims[first], kind="stable")
            first_rank = np.empty(len(stage), dtype=int)
            first_rank[stage] = np.arange(1, len(stage) + 1)
            chosen = stage[np.argsort(-sims[second][stage], kind="stable")][:k]
            return [Ranked(int(r), float(sims[second][r]),
                           f"{_ordinal(int(first_rank[r]))} of the {len(stage)} closest in {first} "
                           f"({first} {sims[first][r]:.2f}), re-ranked {_ordinal(place)} by {second} "
                           f"({second} {sims[second][r]:.2f})")
                    for place, r in enumerate(chosen, 1)]
        ws, we = self.search_weights
        scores = ws * semantic + we * emotion
        chosen = np.argsort(-scores, kind="stable")[:k]
        if self.name == "combined":
            return [Ranked(int(r), float(scores[r]), f"{ws:.2f}·semantic {semantic[r]:.2f} + {we:.2f}·emotion "
                                                     f"{emotion[r]:.2f} = {scores[r]:.2f}") for r in chosen]
        other = "emotion" if self.name == "semantic" else "semantic"
        return [Ranked(int(r), float(scores[r]), f"{_ordinal(place)} closest in {self.name} ({self.name} "
                                                 f"{scores[r]:.2f}; {other} {sims[other][r]:.2f})")
                for place, r in enumerate(chosen, 1)]
