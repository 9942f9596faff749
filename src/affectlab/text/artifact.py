"""What a text model's ``config.json`` holds (no torch needed to read it); finding and writing it is the
registry's (:mod:`affectlab.registry`).

A text model's folder holds ``config.json`` (thresholds, VAD scaling, provenance), ``weights.safetensors``
(the fine-tuned layers and head, fp16) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from affectlab.encoders import BASE_MODEL
from affectlab.registry import DEFAULTS, ModelNotFound, read_config, resolve, write_config

DEFAULT_MODEL = DEFAULTS["text"]
TASK = "text"

__all__ = ["DEFAULT_MODEL", "ArtifactConfig", "ModelNotFound", "resolve_artifact"]


@dataclass
class ArtifactConfig:
    name: str
    task: str = TASK
    base_model: str = BASE_MODEL
    max_length: int = 128
    thresholds: dict[str, list[float]] = field(default_factory=dict)  # block name → one per label
    vad_mean: list[float] = field(default_factory=lambda: [3.0, 3.0, 3.0])
    vad_std: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    trained: dict = field(default_factory=dict)  # recipe arguments, date, machine, dev metrics

    def save(self, folder: Path) -> None:
        write_config(folder, asdict(self))

    @classmethod
    def load(cls, folder: Path) -> ArtifactConfig:
        try:
            return cls(**read_config(folder))
        except TypeError as exc:
            raise ModelNotFound(f"{Path(folder)} is not a text model config ({exc})") from None


def resolve_artifact(model: str | Path = DEFAULT_MODEL) -> Path:
    """A shipped text model name (``text-minilm``) or a path to a text model folder."""
    return resolve(model, TASK)
