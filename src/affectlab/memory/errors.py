"""What can go wrong with a memory that is the user's to fix."""

from __future__ import annotations

from affectlab.errors import AffectlabError


class InvalidMemory(AffectlabError, ValueError):
    """A text, speaker, time, metadata or query that cannot be stored or recalled; the message names the row."""


class ModelMismatch(AffectlabError, RuntimeError):
    """The store holds vectors from other models than the ones this memory embeds with: similarities between
    the two would mean nothing, so nothing is added or recalled until the store is re-embedded."""
