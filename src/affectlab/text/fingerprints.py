"""Short hashes of the parts of a text model that something built on it depends on.

:func:`affectlab.registry.fingerprint` hashes a whole artifact (weights and config): right for copies derived
from all of it (ONNX exports). Models built on one part should not be orphaned by a change elsewhere:

- a head of one's own reads the sentence vector, so it depends on the encoder alone
  (:func:`encoder_fingerprint`);
- a memory stores the GoEmotions and VAD outputs as the analyzer gives them, so they depend on the encoder,
  those blocks' head rows, the irony rows and where the irony rule starts (it discounts positive outputs), and
  the input length (:func:`outputs_fingerprint`);
- a turn model reads the literal Ekman and sentiment probabilities (the irony rule off), so the irony rows and
  rule are left out (``literal=True``).

Reading blocks fitted later (``affectlab train readings``) are new rows elsewhere in the head and leave all of
them unchanged; a refitted irony row (``affectlab train irony``) leaves the encoder's and the literal ones
unchanged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from affectlab.heads.layout import head_slices
from affectlab.registry import WEIGHTS_FILE
from affectlab.text.artifact import ArtifactConfig

HEAD_PREFIX = "head."
HEAD_WEIGHT, HEAD_BIAS = "head.linear.weight", "head.linear.bias"
# Blocks whose rows change other blocks' probabilities: the irony rule discounts positive outputs.
INFLUENCING = ("irony",)


def _digest_encoder(digest, weights) -> None:
    for name in sorted(weights.keys()):
        if not name.startswith(HEAD_PREFIX):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(weights.get_tensor(name)).tobytes())


def encoder_fingerprint(text_model: Path) -> str:
    """A short hash of a text model's encoder weights alone (its head's rows left out)."""
    from safetensors import safe_open

    digest = hashlib.sha256()
    with safe_open(str(Path(text_model) / WEIGHTS_FILE), framework="numpy") as weights:
        _digest_encoder(digest, weights)
    return digest.hexdigest()[:16]


def outputs_fingerprint(text_model: Path, blocks: tuple[str, ...], *, literal: bool = False) -> str:
    """A short hash of what a text model's ``blocks`` outputs depend on: the encoder, those blocks' head rows,
    the input length, and (unless ``literal``: outputs read with the irony rule off,
    ``analyze_batch(..., literal=True)``) the irony rows and where the irony rule starts.

    Raises ValueError when the model has no such block.
    """
    from safetensors import safe_open

    config = ArtifactConfig.load(Path(text_model))
    present = tuple(config.blocks)
    missing = [name for name in blocks if name not in present]
    if missing:
        raise ValueError(f"text model {text_model} has no output block {missing[0]!r} (it has {list(present)})")
    slices = head_slices(present)
    rows = [name for name in present if name in blocks or (name in INFLUENCING and not literal)]
    digest = hashlib.sha256()
    with safe_open(str(Path(text_model) / WEIGHTS_FILE), framework="numpy") as weights:
        _digest_encoder(digest, weights)
        weight, bias = weights.get_tensor(HEAD_WEIGHT), weights.get_tensor(HEAD_BIAS)
    for name in rows:
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(weight[slices[name]]).tobytes())
        digest.update(np.ascontiguousarray(bias[slices[name]]).tobytes())
    settings = {"max_length": config.max_length}
    if not literal:
        settings["irony"] = config.irony_rule
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:16]
