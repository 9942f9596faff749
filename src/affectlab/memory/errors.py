"""What can go wrong with a memory that is the user's to fix."""

from __future__ import annotations

from affectlab.errors import AffectlabError


class InvalidMemory(AffectlabError, ValueError):
    """A text, speaker, time, metadata or query that cannot be stored or recalled; the message names the row."""


class InvalidRow(InvalidMemory):
    """One of the memories given to add (or texts given to encode) that cannot be stored: ``row`` is its position
    among them, ``field`` the part at fault (text, speaker, time, metadata) and ``reason`` why, so that a caller
    that knows where the rows came from (a file's row) can say so."""

    def __init__(self, field: str, row: int, reason: str) -> None:
        super().__init__(f"{field} {row}: {reason}")
        self.field, self.row, self.reason = field, row, reason


class ModelMismatch(AffectlabError, RuntimeError):
    """The store holds vectors from other models than the ones this memory embeds with: similarities between
    the two would mean nothing, so nothing is added or recalled until the store is re-embedded."""
