"""What a text model's ``config.json`` holds (no torch needed to read it); finding and writing it is the
registry's (:mod:`affectlab.registry`).

A text model's folder holds ``config.json`` (thresholds, VAD scaling, provenance), ``weights.safetensors``
(the fine-tuned layers and head, fp16) and ``MODEL_CARD.md``. The fast profile's models (task ``text-static``,
:mod:`affectlab.text.static`) have the same config and hold static token vectors and their head instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from affectlab.encoders import BASE_MODEL
from affectlab.errors import OptionError
from affectlab.heads.layout import BLOCKS_BEFORE_IRONY
from affectlab.registry import DEFAULTS, ModelNotFound, read_config, resolve, write_config

DEFAULT_MODEL = DEFAULTS["text"]
TASK = "text"
STATIC_TASK = "text-static"
PROFILES = {"accurate": TASK, "fast": STATIC_TASK}  # profile → the task of the models it runs
DEFAULT_PROFILE = "accurate"

__all__ = ["DEFAULT_MODEL", "DEFAULT_PROFILE", "PROFILES", "ArtifactConfig", "ModelNotFound", "resolve_artifact"]


@dataclass
class ArtifactConfig:
    name: str
    task: str = TASK
    base_model: str = BASE_MODEL
    encoder: str = "minilm"  # affectlab.encoders.named: minilm for shipped models, mpnet for teachers
    blocks: list[str] = field(default_factory=lambda: list(BLOCKS_BEFORE_IRONY))  # the head's output blocks
    max_length: int = 128
    thresholds: dict[str, list[float]] = field(default_factory=dict)  # block name → one per label
    irony_rule: float | None = None  # irony probability from which positive outputs are discounted (text.irony)
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


def resolve_artifact(model: str | Path | None = None, profile: str = DEFAULT_PROFILE) -> Path:
    """The folder of a text model of ``profile`` (``accurate``: a transformer, ``fast``: static token vectors):
    a shipped name (``text-minilm``, ``text-static-minilm``), a path to a model folder, or None for the
    profile's shipped model."""
    if profile not in PROFILES:
        raise OptionError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    task = PROFILES[profile]
    return resolve(DEFAULTS[task] if model is None else model, task)
