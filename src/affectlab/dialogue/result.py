"""Result types of conversation analysis: frozen, JSON-serializable."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Cause:
    """A turn that causes a target turn's emotion: its 0-based index, the causing span inside it (with
    character offsets in that turn's text) and the model's probability that the turn is a cause."""

    turn: int
    span: str
    score: float
    start: int
    end: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TurnAffect:
    """One turn in context. ``emotions`` are Ekman-7 probabilities (softmax, they sum to 1) from this turn
    and the turns before it; ``emotion`` is the predicted one. ``causes`` (most likely first) are given for
    non-neutral turns. ``truncated`` says the turn was longer than the model's turn budget, or than the
    analyzer's ``max_chars`` with ``on_long="truncate"`` (``text`` is then that beginning), and only its
    beginning was read. ``read_alone``: the text model's Ekman probabilities for the turn by itself, without the
    turns before it (its literal reading: each label's own probability, so they need not sum to 1); the turn model
    weighs them with the context, so the two can differ. None for a turn model that reads no text model."""

    index: int
    speaker: str
    text: str
    emotion: str
    emotions: dict[str, float]
    causes: list[Cause]
    truncated: bool = False
    read_alone: dict[str, float] | None = None

    @property
    def alone_emotion(self) -> tuple[str, float] | None:
        """The strongest label of ``read_alone`` and its probability (None without a reading)."""
        if not self.read_alone:
            return None
        label = max(self.read_alone, key=self.read_alone.__getitem__)
        return label, self.read_alone[label]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ConversationAffect:
    """Every turn's emotion and causes. ``windows`` counts the encoder windows the turns were split into
    (more than one: long conversation, each window carrying earlier turns as context)."""

    turns: list[TurnAffect]
    windows: int

    def to_dict(self) -> dict:
        return asdict(self)
