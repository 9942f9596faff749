"""Matplotlib set-up shared by every report: files only (no window), PNGs written atomically."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from affectlab.extras import require
from affectlab.io.writers import atomic_target


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, never a window)."""
    matplotlib = require("matplotlib", "plots")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path, dpi: int = 110) -> bytes:
    """Write ``fig`` to ``path`` atomically, close it, and return the PNG bytes (for inlining in HTML)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    pyplot().close(fig)
    data = buffer.getvalue()
    with atomic_target(Path(path)) as tmp:
        tmp.write_bytes(data)
    return data


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
