"""The encoders a recipe can name: ``minilm`` (every shipped model) and ``mpnet`` (teachers, training only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from affectlab.encoders.minilm import BASE_MODEL, base_model_dir, load_encoder
from affectlab.encoders.mpnet import TEACHER_MODEL, load_teacher_encoder, teacher_model_dir

if TYPE_CHECKING:
    from transformers import PreTrainedModel

ENCODERS = {
    "minilm": (BASE_MODEL, load_encoder, base_model_dir),
    "mpnet": (TEACHER_MODEL, load_teacher_encoder, teacher_model_dir),
}


def _entry(name: str):
    try:
        return ENCODERS[name]
    except KeyError:
        raise ValueError(f"unknown encoder {name!r}; choose one of {', '.join(ENCODERS)}") from None


def load_named_encoder(name: str) -> PreTrainedModel:
    return _entry(name)[1]()


def named_model_dir(name: str) -> Path:
    """The folder holding the encoder's weights and ``tokenizer.json``."""
    return _entry(name)[2]()


def named_base_model(name: str) -> str:
    """The encoder's Hub name, recorded in the weights files trained from it."""
    return _entry(name)[0]
