"""Vectors → affect."""

from affectlab.heads.affect import HEAD_LAYOUT, AffectHead, head_slices

__all__ = ["HEAD_LAYOUT", "AffectHead", "head_slices"]
