"""Shipped conversation models: ``config.json`` (labels, packing sizes, tuned decision values,
provenance) beside ``weights.safetensors`` and ``MODEL_CARD.md``, as for text models."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from affectlab.encoders import BASE_MODEL
from affectlab.registry import DEFAULTS, ModelNotFound, read_config, resolve, write_config

TURN_MODEL = DEFAULTS["turn-emotions"]
CAUSE_MODEL = DEFAULTS["causes"]
EMOTION_CONTEXT_MODEL = DEFAULTS["speaker-emotion"]
STRATEGY_MODEL = DEFAULTS["next-strategy"]


@dataclass
class DialogueConfig:
    name: str
    task: str  # a task of affectlab.registry.TASKS
    labels: list[str] = field(default_factory=list)
    base_model: str = BASE_MODEL
    turn_tokens: int = 96  # tokens kept from one turn; longer turns are flagged truncated
    window_tokens: int = 320  # tokens in one packed window (one whole context, for context classifiers)
    context_turns: int = 4  # turn emotions: earlier turns carried into a new window
    # turn emotions: added to the neutral logit, tuned on dev splits; one number (tuned on one corpus) or one per
    # register (affectlab.dialogue.registers)
    neutral_bias: float | dict[str, float] = 0.0
    # turn emotions with text_features: weight of the text model's Ekman log-odds added to the logits, per register,
    # tuned on dev beside the neutral bias (0: the turn model's own logits)
    text_weight: float | dict[str, float] = 0.0
    # turn emotions: the text model whose readings of each turn are an input (text_readings.text_features_record),
    # None for a model that reads the turns alone
    text_features: dict | None = None
    # turn emotions: the registers with a head of their own, in the order of the model's outputs; empty: one head
    # for every register (affectlab.dialogue.registers.register_logits)
    heads: list[str] = field(default_factory=list)
    threshold: float = 0.5  # causes: pair probability at or above which a turn is a cause, tuned on dev
    label_bias: list[float] = field(default_factory=list)  # context classifiers: added to the logits (prior correction)
    trained: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        """Numbers joined to each turn's pooled vector (the text model's readings), 0 without them."""
        return len(self.text_features["readings"]) if self.text_features else 0

    @property
    def n_heads(self) -> int:
        return max(1, len(self.heads))

    def save(self, folder: Path) -> None:
        write_config(folder, asdict(self))

    @classmethod
    def load(cls, folder: Path) -> DialogueConfig:
        try:
            return cls(**read_config(folder))
        except TypeError as exc:
            raise ModelNotFound(f"{Path(folder)} is not a conversation model config ({exc})") from None


def resolve_dialogue_model(model: str | Path, task: str) -> Path:
    """A shipped model name or an artifact folder holding a conversation model for ``task``."""
    return resolve(model, task)
