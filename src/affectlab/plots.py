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


def literal(text: object) -> str:
    """``text`` escaped so that matplotlib draws it as written: a pair of ``$`` would start math mode.

    Use it for every user-given string in a label, title, legend or tick (group names, terms, model
    names): ``$\\frac{$`` would crash the drawing, ``$AAPL and $TSLA`` would come out as italic math.

    >>> literal("$AAPL and $TSLA")
    '\\\\$AAPL and \\\\$TSLA'
    """
    return str(text).replace("$", r"\$")


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
