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
from affectlab.registry import (
    CARD_FILE,
    CONFIG_FILE,
    WEIGHTS_FILE,
    ModelNotFound,
    atomic_folder,
    check_fields,
    fingerprint,
    is_number_list,
    open_weights,
    read_config,
    shipped_entry,
    write_config,
)
from affectlab.text.artifact import DEFAULT_PROFILE
from affectlab.text.fingerprints import HEAD_WEIGHT, encoder_fingerprint
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

    def check(self, path: Path) -> None:
        labels = self.labels
        count = len(labels) if isinstance(labels, list) else 0
        check_fields(path, self, {
            "name": (isinstance(self.name, str), "text"),
            "labels": (count >= 2 and all(isinstance(label, str) and label for label in labels)
                       and len(set(labels)) == count, "a list of at least two different label names"),
            "multi_label": (isinstance(self.multi_label, bool), "true or false"),
            "base_model": (isinstance(self.base_model, str) and self.base_model != "", "a text model's name or folder"),
            "base_fingerprint": (isinstance(self.base_fingerprint, str), "text"),
            "encoder_fingerprint": (isinstance(self.encoder_fingerprint, str), "text"),
            "thresholds": (is_number_list(self.thresholds, count, 0, 1) if self.multi_label
                           else isinstance(self.thresholds, list),
                           f"a list of {count} numbers from 0 to 1 (one per label)" if self.multi_label else "a list"),
            "task": (self.task == TASK, TASK),
            "trained": (isinstance(self.trained, dict), "an object"),
        })


def check_head_profile(profile: str) -> None:
    """A head reads the accurate profile's sentence vectors: refuse any other profile for it."""
    if profile != DEFAULT_PROFILE:
        raise OptionError(f"a head of one's own reads the {DEFAULT_PROFILE} profile's vectors; profile "
                          f"{profile!r} has none")


def head_folder(model: str | Path | None) -> Path | None:
    """``model`` as a folder if it is the artifact of a head of one's own, else None (a shipped name, a text
    model's folder, nothing)."""
    if model is None or shipped_entry(model) is not None or not (Path(model) / CONFIG_FILE).is_file():
        return None
    return Path(model) if read_config(Path(model))["task"] == TASK else None


class LabelHead:
    """One linear layer: pooled vectors ``[n, hidden]`` → a score per label (softmax or sigmoid)."""

    def __init__(self, config: HeadConfig, weight: np.ndarray, bias: np.ndarray) -> None:
        if weight.ndim != 2 or weight.shape[0] != len(config.labels) or bias.shape != (len(config.labels),):
            raise ModelNotFound(f"head {config.name!r}: weights of shape {weight.shape} do not fit "
                                f"{len(config.labels)} labels")
        self.config, self.weight, self.bias = config, weight.astype(np.float32), bias.astype(np.float32)

    @property
    def labels(self) -> list[str]:
        return self.config.labels

    @classmethod
    def load(cls, folder: Path) -> LabelHead:
        path = Path(folder) / CONFIG_FILE
        try:
            config = HeadConfig(**read_config(folder))
        except TypeError as exc:
            raise ModelNotFound(f"{path} is not a head config ({exc})") from None
        config.check(path)
        weights = Path(folder) / WEIGHTS_FILE
        if not weights.is_file():
            raise ModelNotFound(f"{folder} has no {WEIGHTS_FILE}")
        with open_weights(weights) as tensors:
            missing = [name for name in ("weight", "bias") if name not in tensors.keys()]  # noqa: SIM118 (not a dict)
            if missing:
                raise ModelNotFound(f"{weights} has no tensor {missing[0]!r}")
            return cls(config, tensors.get_tensor("weight"), tensors.get_tensor("bias"))

    def save(self, folder: Path, card: str) -> None:
        """Write the head's artifact to ``folder`` whole: weights, config and ``card`` (its MODEL_CARD.md). An
        earlier head there is replaced; an interrupted save leaves it as it was."""
        from safetensors.numpy import save_file

        with atomic_folder(folder, TASK) as partial:
            save_file({"weight": self.weight, "bias": self.bias}, str(partial / WEIGHTS_FILE))
            write_config(partial, asdict(self.config))
            (partial / CARD_FILE).write_text(card, encoding="utf-8")

    def check_base(self, text_model: Path) -> None:
        """Raise :class:`BaseModelMismatch` unless ``text_model`` has the encoder this head was trained on, and
        :class:`ModelNotFound` unless the head's rows are as wide as that model's sentence vectors."""
        found = encoder_fingerprint(text_model)
        if found != self.config.encoder_fingerprint:
            raise BaseModelMismatch(
                f"head {self.config.name!r} was trained on the vectors of {self.config.base_model} (encoder "
                f"{self.config.encoder_fingerprint}), but {text_model} has encoder {found}: train the head again "
                "with `affectlab train head`"
            )
        with open_weights(Path(text_model) / WEIGHTS_FILE) as weights:
            width = weights.get_slice(HEAD_WEIGHT).get_shape()[1]
        if self.weight.shape[1] != width:
            raise ModelNotFound(f"head {self.config.name!r}: weights of shape {self.weight.shape} do not fit the "
                                f"{width}-wide sentence vectors of {text_model}")

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
