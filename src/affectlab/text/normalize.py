"""Text clean-up before tokenization, with a map back to the caller's character offsets.

MiniLM's WordPiece vocabulary has no emoji, so each pictographic symbol would become ``[UNK]``.
Spelling a symbol out by its Unicode name ("😂" → " face with tears of joy ") keeps its meaning.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Normalized:
    source: str
    text: str
    origin: list[int]  # origin[i]: index in the original text of normalized character i

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A non-empty normalized ``[start, end)`` span → the original text's span."""
        return self.origin[start], self.origin[end - 1] + 1


def _spelled(char: str) -> str | None:
    if unicodedata.category(char) != "So":
        return None
    name = unicodedata.name(char, "")
    return f" {name.lower()} " if name else None


def normalize(text: str) -> Normalized:
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = _spelled(char) or char
        pieces.append(piece)
        origin.extend([index] * len(piece))
    return Normalized(text, "".join(pieces), origin)
