"""Shipped conversation models: ``config.json`` (labels, packing sizes, tuned decision values,
provenance) beside ``weights.safetensors`` and ``MODEL_CARD.md``, as for text models."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from affectlab.encoders import BASE_MODEL
from affectlab.text.artifact import ARTIFACTS_DIR, CONFIG_FILE, WEIGHTS_FILE, ModelNotFound

TURN_MODEL = "dialogue-turns-minilm"
CAUSE_MODEL = "dialogue-causes-minilm"
EMOTION_CONTEXT_MODEL = "empathy-emotions-minilm"
STRATEGY_MODEL = "support-strategies-minilm"
SHIPPED = {"turn-emotions": TURN_MODEL, "causes": CAUSE_MODEL, "speaker-emotion": EMOTION_CONTEXT_MODEL,
           "next-strategy": STRATEGY_MODEL}


@dataclass
class DialogueConfig:
    name: str
    task: str  # one of SHIPPED's keys
    labels: list[str] = field(default_factory=list)
    base_model: str = BASE_MODEL
    turn_tokens: int = 96  # tokens kept from one turn; longer turns are flagged truncated
    window_tokens: int = 320  # tokens in one packed window (one whole context, for context classifiers)
    context_turns: int = 4  # turn emotions: earlier turns carried into a new window
    neutral_bias: float = 0.0  # turn emotions: added to the neutral logit, tuned on validation
    threshold: float = 0.5  # causes: pair probability at or above which a turn is a cause, tuned on dev
    label_bias: list[float] = field(default_factory=list)  # context classifiers: added to the logits (prior correction)
    trained: dict = field(default_factory=dict)

    def save(self, folder: Path) -> None:
        (folder / CONFIG_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> DialogueConfig:
        try:
            return cls(**json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise ModelNotFound(f"{folder / CONFIG_FILE} is not a conversation model config ({exc})") from None


def resolve_dialogue_model(model: str | Path, task: str) -> Path:
    """A shipped model name or an artifact folder holding a conversation model for ``task``."""
    candidate = Path(model)
    folder = candidate if (candidate / CONFIG_FILE).exists() else ARTIFACTS_DIR / str(model)
    shipped = SHIPPED[task]
    if not (folder / CONFIG_FILE).exists() or not (folder / WEIGHTS_FILE).exists():
        raise ModelNotFound(f"no {task} model {str(model)!r}; shipped: {shipped}")
    found = DialogueConfig.load(folder).task
    if found != task:
        raise ModelNotFound(f"{folder} is a {found} model, not a {task} model; shipped: {shipped}")
    return folder
