"""Where shipped text models live and what their ``config.json`` holds (no torch needed to read it).

An artifact folder holds ``config.json`` (labels, thresholds, VAD scaling, provenance),
``weights.safetensors`` (the fine-tuned layers and head, fp16) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from affectlab.encoders import BASE_MODEL
from affectlab.errors import AffectlabError

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "artifacts"
DEFAULT_MODEL = "text-minilm"
WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "config.json"


class ModelNotFound(AffectlabError, FileNotFoundError):
    """No artifact folder by that name or path."""


@dataclass
class ArtifactConfig:
    name: str
    base_model: str = BASE_MODEL
    max_length: int = 128
    thresholds: dict[str, list[float]] = field(default_factory=dict)  # block name → one per label
    vad_mean: list[float] = field(default_factory=lambda: [3.0, 3.0, 3.0])
    vad_std: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    trained: dict = field(default_factory=dict)  # recipe arguments, date, machine, dev metrics

    def save(self, folder: Path) -> None:
        (folder / CONFIG_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> ArtifactConfig:
        return cls(**json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")))


def resolve_artifact(model: str | Path = DEFAULT_MODEL) -> Path:
    """A shipped artifact name (``text-minilm``) or a path to an artifact folder."""
    candidate = Path(model)
    folder = candidate if (candidate / CONFIG_FILE).exists() else ARTIFACTS_DIR / str(model)
    if not _is_text_model(folder) or not (folder / WEIGHTS_FILE).exists():
        shipped = sorted(p.name for p in ARTIFACTS_DIR.iterdir() if _is_text_model(p))
        raise ModelNotFound(f"no text model {str(model)!r}; shipped: {', '.join(shipped) or 'none'}")
    return folder


def _is_text_model(folder: Path) -> bool:
    """Conversation models share the folder layout but say which task they do."""
    try:
        return "task" not in json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def fingerprint(folder: Path) -> str:
    """A short hash of an artifact's weights and config: the key for anything derived from it."""
    digest = hashlib.sha256()
    for name in (WEIGHTS_FILE, CONFIG_FILE):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:16]
