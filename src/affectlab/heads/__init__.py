"""Vectors → affect. The torch module lives in :mod:`affectlab.heads.affect` (imported on demand)."""

from affectlab.heads.layout import HEAD_LAYOUT, HEAD_SIZE, head_slices

__all__ = ["HEAD_LAYOUT", "HEAD_SIZE", "head_slices"]
