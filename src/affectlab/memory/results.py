"""What recall returns: the memories chosen, each with both similarities and why it was chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class MemoryHit:
    """One recalled memory. ``semantic`` and ``emotion`` are its cosine similarities to the query's meaning
    and emotional state (both always given, whatever ranked it); ``score`` is what the strategy ranked by;
    ``why`` says so in words. ``emotions`` (28 GoEmotions probabilities) and ``vad`` (1-5) are how the
    memory read when it was stored."""

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

    @property
    def feeling(self) -> str:
        """The memory's strongest emotion."""
        return max(self.emotions, key=self.emotions.__getitem__)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "text": self.text, "speaker": self.speaker, "time": self.time.isoformat(),
            "metadata": self.metadata, "semantic": round(self.semantic, 4), "emotion": round(self.emotion, 4),
            "score": round(self.score, 4), "why": self.why, "feeling": self.feeling,
            "emotions": {k: round(v, 4) for k, v in self.emotions.items()},
            "vad": {k: round(v, 3) for k, v in self.vad.items()},
        }


@dataclass(frozen=True)
class Recall:
    """The hits of one :meth:`~affectlab.memory.EmotionalMemory.recall`, best first, with how they were
    ranked and the emotional state they were compared with (``query_emotions``, ``query_vad``)."""

    query: str
    strategy: str
    hits: list[MemoryHit]
    query_emotions: dict[str, float] = field(repr=False)
    query_vad: dict[str, float] = field(repr=False)
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
            "hits": [hit.to_dict() for hit in self.hits],
        }
