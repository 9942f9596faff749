"""Heads of one's own: a user's label set read from the text model's pooled sentence vectors.

``affectlab train head`` (:mod:`affectlab.train.head`) fits one on a labelled file and writes an artifact
folder: ``config.json`` (task ``text-labels``: the labels, single- or multi-label, the dev-tuned thresholds,
the text model whose vectors it reads and that model's fingerprints), ``weights.safetensors`` (one linear
layer, float32) and ``MODEL_CARD.md``. ``Analyzer(model=<folder>)`` runs that text model and adds the head's
reading to every result (:attr:`~affectlab.text.result.TextAffect.custom`). numpy only: no torch here.

>>> head = LabelHead.load(Path("runs/tickets-head"))
>>> head.reading(head.probabilities(vectors)[0]).labels
['bug']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from affectlab.errors import AffectlabError, OptionError
from affectlab.registry import CONFIG_FILE, WEIGHTS_FILE, ModelNotFound, fingerprint, read_config, write_config
from affectlab.text.artifact import DEFAULT_PROFILE
from affectlab.text.fingerprints import encoder_fingerprint
from affectlab.text.probabilities import sigmoid, softmax
from affectlab.text.result import CustomLabels

TASK = "text-labels"


class BaseModelMismatch(AffectlabError, ValueError):
    """A head whose text model is not the one installed: its sentence vectors would mean something else."""


@dataclass
class HeadConfig:
    name: str
    labels: list[str]
    multi_label: bool
    base_model: str  # the text model whose pooled vectors the head reads: a shipped name or a folder
    base_fingerprint: str  # registry.fingerprint of that model when the head was trained (for the card)
    encoder_fingerprint: str  # what is checked on loading (see encoder_fingerprint)
    thresholds: list[float] = field(default_factory=list)  # multi-label: one per label, tuned on dev
    task: str = TASK
    trained: dict = field(default_factory=dict)  # recipe, data, date, dev metrics


def check_head_profile(profile: str) -> None:
    """A head reads the accurate profile's sentence vectors: refuse any other profile for it."""
    if profile != DEFAULT_PROFILE:
        raise OptionError(f"a head of one's own reads the {DEFAULT_PROFILE} profile's vectors; profile "
                          f"{profile!r} has none")


def head_folder(model: str | Path | None) -> Path | None:
    """``model`` as a folder if it is the artifact of a head of one's own, else None (a shipped name, a text
    model's folder, nothing)."""
    if model is None or not (Path(model) / CONFIG_FILE).is_file():
        return None
    return Path(model) if read_config(Path(model))["task"] == TASK else None


class LabelHead:
    """One linear layer: pooled vectors ``[n, hidden]`` → a score per label (softmax or sigmoid)."""

    def __init__(self, config: HeadConfig, weight: np.ndarray, bias: np.ndarray) -> None:
        if weight.shape[0] != len(config.labels) or bias.shape != (len(config.labels),):
            raise ModelNotFound(f"head {config.name!r}: weights of shape {weight.shape} do not fit "
                                f"{len(config.labels)} labels")
        self.config, self.weight, self.bias = config, weight.astype(np.float32), bias.astype(np.float32)

    @property
    def labels(self) -> list[str]:
        return self.config.labels

    @classmethod
    def load(cls, folder: Path) -> LabelHead:
        from safetensors.numpy import load_file

        raw = read_config(folder)
        try:
            config = HeadConfig(**raw)
        except TypeError as exc:
            raise ModelNotFound(f"{Path(folder) / CONFIG_FILE} is not a head config ({exc})") from None
        if not (Path(folder) / WEIGHTS_FILE).is_file():
            raise ModelNotFound(f"{folder} has no {WEIGHTS_FILE}")
        tensors = load_file(str(Path(folder) / WEIGHTS_FILE))
        return cls(config, tensors["weight"], tensors["bias"])

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({"weight": self.weight, "bias": self.bias}, str(folder / WEIGHTS_FILE))
        write_config(folder, asdict(self.config))

    def check_base(self, text_model: Path) -> None:
        """Raise :class:`BaseModelMismatch` unless ``text_model`` has the encoder this head was trained on."""
        found = encoder_fingerprint(text_model)
        if found != self.config.encoder_fingerprint:
            raise BaseModelMismatch(
                f"head {self.config.name!r} was trained on the vectors of {self.config.base_model} (encoder "
                f"{self.config.encoder_fingerprint}), but {text_model} has encoder {found}: train the head again "
                "with `affectlab train head`"
            )

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Pooled vectors → ``[n, labels]`` probabilities: softmax for single-label, sigmoid for multi-label."""
        logits = vectors.astype(np.float32) @ self.weight.T + self.bias
        return sigmoid(logits) if self.config.multi_label else softmax(logits)

    def reading(self, probabilities: np.ndarray) -> CustomLabels:
        """One text's probabilities → its :class:`CustomLabels`."""
        order = np.argsort(-probabilities, kind="stable")
        if self.config.multi_label:
            chosen = [self.labels[i] for i in order if probabilities[i] >= self.config.thresholds[i]]
        else:
            chosen = [self.labels[order[0]]]
        scores = {label: round(float(p), 6) for label, p in zip(self.labels, probabilities)}
        return CustomLabels(self.config.name, chosen, scores, self.config.multi_label)


def describe_base(text_model: Path, name: str) -> dict:
    """What a head records of the text model it reads (``base_model`` and both fingerprints)."""
    return {"base_model": name, "base_fingerprint": fingerprint(text_model),
            "encoder_fingerprint": encoder_fingerprint(text_model)}
