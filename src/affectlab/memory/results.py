"""What recall returns: the memories chosen, each with both similarities and why it was chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class MemoryHit:
    """One recalled memory. ``semantic`` is the cosine similarity of its meaning to the query's, ``emotion``
    the chance that it and the query would be given the same of EmpatheticDialogues' 32 emotions (both always
    given, whatever ranked it); ``score`` is what the strategy ranked by; ``why`` says so in words.
    ``emotions`` (28 GoEmotions probabilities), ``vad`` (1-5) and ``situations`` (the 32 emotions' distribution)
    are how the memory read when it was stored."""

    id: str
    text: str
    speaker: str | None
    time: datetime
    metadata: dict
    semantic: float
    emotion: float
    score: float
    why: str
    emotions: dict[str, float] = field(repr=False)
    vad: dict[str, float] = field(repr=False)
    situations: dict[str, float] = field(repr=False)

    @property
    def feeling(self) -> str:
        """The memory's strongest GoEmotions emotion."""
        return max(self.emotions, key=self.emotions.__getitem__)

    @property
    def situation(self) -> str:
        """The memory's most likely EmpatheticDialogues emotion (what emotional similarity compares)."""
        return max(self.situations, key=self.situations.__getitem__)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "text": self.text, "speaker": self.speaker, "time": self.time.isoformat(),
            "metadata": self.metadata, "semantic": round(self.semantic, 4), "emotion": round(self.emotion, 4),
            "score": round(self.score, 4), "why": self.why, "feeling": self.feeling, "situation": self.situation,
            "emotions": {k: round(v, 4) for k, v in self.emotions.items()},
            "vad": {k: round(v, 3) for k, v in self.vad.items()},
            "situations": {k: round(v, 4) for k, v in self.situations.items()},
        }


@dataclass(frozen=True)
class Recall:
    """The hits of one :meth:`~affectlab.memory.EmotionalMemory.recall`, best first, with how they were
    ranked and the emotional state of the query (``query_emotions``, ``query_vad``, and ``query_situations``,
    the distribution the memories' emotional similarity was computed against)."""

    query: str
    strategy: str
    hits: list[MemoryHit]
    query_emotions: dict[str, float] = field(repr=False)
    query_vad: dict[str, float] = field(repr=False)
    query_situations: dict[str, float] = field(repr=False)
    emotion_weight: float | None = None  # combined
    candidates: int | None = None  # sequential
    exact: bool = True  # False: an approximate vector index chose the rows searched

    def __iter__(self):
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, index: int) -> MemoryHit:
        return self.hits[index]

    def to_dict(self) -> dict:
        return {
            "query": self.query, "strategy": self.strategy, "emotion_weight": self.emotion_weight,
            "candidates": self.candidates, "exact": self.exact,
            "query_emotions": {k: round(v, 4) for k, v in self.query_emotions.items()},
            "query_vad": {k: round(v, 3) for k, v in self.query_vad.items()},
            "query_situations": {k: round(v, 4) for k, v in self.query_situations.items()},
            "hits": [hit.to_dict() for hit in self.hits],
        }
