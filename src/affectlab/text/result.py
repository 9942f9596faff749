"""Result types of text analysis: frozen, JSON-serializable."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD


@dataclass(frozen=True)
class WordAttribution:
    """A word of the input and how much it pushed one emotion's score up (positive) or down."""

    word: str
    score: float
    start: int  # character offsets in the analyzed text
    end: int


@dataclass(frozen=True)
class TextAffect:
    """The affect of one text.

    ``emotions``, ``ekman`` and ``sentiment`` are independent sigmoid probabilities (several can be
    high at once); ``labels`` are the GoEmotions labels at or above their dev-tuned thresholds, or
    ``["neutral"]`` when none is. ``vad`` is on EmoBank's 1-5 scale. ``chunks`` is the number of
    encoder windows the text was split into (more than one: scores are averaged over windows,
    weighted by their length). ``truncated`` is true when the text was over the analyzer's ``max_chars``
    or ``max_windows`` and only its beginning was read (``on_long="truncate"``). ``evidence`` maps each
    top emotion to the words that drive it (integrated gradients), present only when asked for.
    ``error`` is set, and the scores are empty, when the input row could not be analyzed.
    """

    emotions: dict[str, float]
    labels: list[str]
    ekman: dict[str, float]
    sentiment: dict[str, float]
    vad: dict[str, float]
    chunks: int = 1
    evidence: dict[str, list[WordAttribution]] | None = None
    error: str | None = None
    truncated: bool = False

    @property
    def top(self) -> str | None:
        """The single most probable GoEmotions label."""
        return max(self.emotions, key=self.emotions.__getitem__) if self.emotions else None

    def to_dict(self) -> dict:
        return asdict(self)

    def to_row(self) -> dict:
        """A flat record for tables: one column per score (``emotion_joy``, ``ekman_joy``, ...)."""
        row: dict = {"labels": self.labels, "top": self.top}
        for prefix, names, scores in (
            ("emotion", GOEMOTIONS, self.emotions),
            ("ekman", EKMAN, self.ekman),
            ("sentiment", SENTIMENT, self.sentiment),
        ):
            row.update({f"{prefix}_{name}": scores.get(name) for name in names})
        row.update({name: self.vad.get(name) for name in VAD})
        row["chunks"] = self.chunks
        row["truncated"] = self.truncated
        if self.evidence is not None:
            row["evidence"] = {label: [w.word for w in words] for label, words in self.evidence.items()}
        row["error"] = self.error
        return row

    @classmethod
    def failed(cls, error: str) -> TextAffect:
        return cls(emotions={}, labels=[], ekman={}, sentiment={}, vad={}, chunks=0, error=error)
