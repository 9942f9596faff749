"""Text → vectors: the shared sentence encoder loaded from its package."""

from affectlab.encoders.minilm import (
    BASE_MODEL,
    EncoderNotInstalled,
    base_model_dir,
    load_encoder,
    load_tokenizer,
    mean_pool,
)
from affectlab.encoders.sentence import SentenceEncoder

__all__ = ["BASE_MODEL", "EncoderNotInstalled", "base_model_dir", "load_encoder", "load_tokenizer", "mean_pool",
           "SentenceEncoder"]
