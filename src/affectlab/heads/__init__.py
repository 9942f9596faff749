"""Vectors → affect. The torch module lives in :mod:`affectlab.heads.affect` (imported on demand)."""

from affectlab.heads.layout import BLOCKS, BLOCKS_BEFORE_IRONY, HEAD_LAYOUT, head_layout, head_size, head_slices

__all__ = ["BLOCKS", "BLOCKS_BEFORE_IRONY", "HEAD_LAYOUT", "head_layout", "head_size", "head_slices"]
