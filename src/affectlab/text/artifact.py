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
from affectlab.encoders.named import ENCODERS
from affectlab.errors import OptionError, is_whole_number
from affectlab.heads.layout import BLOCKS_BEFORE_IRONY, LAYOUT_BLOCKS, check_blocks, head_layout, head_size
from affectlab.registry import (
    CONFIG_FILE,
    DEFAULTS,
    WEIGHTS_FILE,
    ModelNotFound,
    check_fields,
    is_number_list,
    open_weights,
    read_config,
    resolve,
    write_config,
)
from affectlab.taxonomy import VAD

DEFAULT_MODEL = DEFAULTS["text"]
TASK = "text"
STATIC_TASK = "text-static"
PROFILES = {"accurate": TASK, "fast": STATIC_TASK}  # profile → the task of the models it runs
DEFAULT_PROFILE = "accurate"
# Tokens per window: from room for two special tokens and the analyzer's default overlap of 32 (under half a
# window), to the encoders' 512 positions.
MAX_LENGTHS = (66, 512)

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
        """The config in ``folder``, checked: :class:`ModelNotFound` naming the file and field of a value the
        analyzer cannot use."""
        try:
            config = cls(**read_config(folder))
        except TypeError as exc:
            raise ModelNotFound(f"{Path(folder)} is not a text model config ({exc})") from None
        config.check(Path(folder) / CONFIG_FILE)
        return config

    def check(self, path: Path) -> None:
        low, high = MAX_LENGTHS
        check_fields(path, self, {
            "name": (isinstance(self.name, str), "text"),
            "task": (self.task in PROFILES.values(), " or ".join(PROFILES.values())),
            "base_model": (isinstance(self.base_model, str), "text"),
            "encoder": (isinstance(self.encoder, str) and self.encoder in ENCODERS, f"one of {', '.join(ENCODERS)}"),
            "blocks": (_known_blocks(self.blocks), f"a list of output blocks in the order {', '.join(LAYOUT_BLOCKS)}, "
                                                   f"starting with {', '.join(BLOCKS_BEFORE_IRONY)}"),
            "max_length": (is_whole_number(self.max_length) and low <= self.max_length <= high,
                           f"a whole number from {low} to {high}"),
            "thresholds": (isinstance(self.thresholds, dict), "an object of lists, one per class block"),
            "irony_rule": (self.irony_rule is None or is_number_list([self.irony_rule], 1, 0, 1),
                           "a number from 0 to 1, or null"),
            "vad_mean": (is_number_list(self.vad_mean, len(VAD)), f"a list of {len(VAD)} numbers"),
            "vad_std": (is_number_list(self.vad_std, len(VAD)) and min(self.vad_std) > 0,
                        f"a list of {len(VAD)} positive numbers"),
            "trained": (isinstance(self.trained, dict), "an object"),
        })
        classes = {name: labels for name, labels, kind in head_layout(tuple(self.blocks)) if kind == "sigmoid"}
        for block, values in self.thresholds.items():
            if block not in classes:
                raise ModelNotFound(f"{path}: thresholds has {block!r}, which is not a class block of the model "
                                    f"({', '.join(classes)})")
            if not is_number_list(values, len(classes[block]), 0, 1):
                raise ModelNotFound(f"{path}: thresholds[{block!r}] must be a list of {len(classes[block])} numbers "
                                    f"from 0 to 1 (one per label), not {values!r}")


def _known_blocks(blocks: object) -> bool:
    if not isinstance(blocks, list) or not all(isinstance(name, str) for name in blocks):
        return False
    try:
        check_blocks(tuple(blocks))
    except ValueError:
        return False
    return tuple(blocks[: len(BLOCKS_BEFORE_IRONY)]) == BLOCKS_BEFORE_IRONY


def resolve_artifact(model: str | Path | None = None, profile: str = DEFAULT_PROFILE) -> Path:
    """The folder of a text model of ``profile`` (``accurate``: a transformer, ``fast``: static token vectors):
    a shipped name (``text-minilm``, ``text-static-minilm``), a path to a model folder, or None for the
    profile's shipped model. Checked to be one the analyzer can run: its config (:meth:`ArtifactConfig.load`)
    with the thresholds of each class block, and a transformer's head with one row per output of its blocks."""
    if profile not in PROFILES:
        raise OptionError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    task = PROFILES[profile]
    folder = resolve(DEFAULTS[task] if model is None else model, task)
    config = ArtifactConfig.load(folder)
    missing = [name for name, _, kind in head_layout(tuple(config.blocks))
               if kind == "sigmoid" and name not in config.thresholds]
    if missing:
        raise ModelNotFound(f"{folder / CONFIG_FILE}: thresholds has no list for the block {missing[0]!r}")
    if task == TASK:
        from affectlab.text.fingerprints import HEAD_WEIGHT  # not above: fingerprints reads ArtifactConfig from here

        with open_weights(folder / WEIGHTS_FILE) as weights:
            if HEAD_WEIGHT not in weights.keys():  # noqa: SIM118 (not a dict)
                raise ModelNotFound(f"{folder / WEIGHTS_FILE} has no tensor {HEAD_WEIGHT!r} (the head)")
            rows = weights.get_slice(HEAD_WEIGHT).get_shape()[0]
        if rows != head_size(tuple(config.blocks)):
            raise ModelNotFound(f"{folder / WEIGHTS_FILE} has a head of {rows} rows, but the blocks in its "
                                f"{CONFIG_FILE} have {head_size(tuple(config.blocks))} outputs")
    return folder
