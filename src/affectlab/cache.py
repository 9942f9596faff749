"""Where affectlab keeps what it derives on first use (ONNX copies, converted language models)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir


def cache_root() -> Path:
    """``$AFFECTLAB_CACHE``, else the user's cache folder for affectlab."""
    return Path(os.environ.get("AFFECTLAB_CACHE", user_cache_dir("affectlab")))
