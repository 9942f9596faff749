"""Text clean-up before tokenization, with a map back to the caller's character offsets.

MiniLM's WordPiece vocabulary has no emoji, so each pictographic symbol would become ``[UNK]``.
Spelling a symbol out keeps its meaning: by the words of :data:`GLOSSES` where its Unicode name hides the
feeling it carries (``emoji_glosses.tsv``, written for affectlab: "😤" → " frustrated huffing face ", where
its name is "face with look of triumph"), else by its Unicode name ("🦀" → " crab "). Skin-tone modifiers
become a space. A letter stretched for emphasis ("whyyy", "sooo") is cut to two of it, a spelling the
vocabulary has pieces for.

Two checks every user text passes before any tokenizer sees it:
- :func:`~affectlab.io.values.surrogate_problem`: a lone UTF-16 surrogate (``"x \\ud83d"`` in JSON, half of an
  emoji cut in two) is not valid Unicode, and the Rust tokenizers refuse the whole batch that holds it.
  affectlab refuses that one text instead of repairing it, as the file readers do with undecodable bytes: its
  row gets an ``error`` naming the character, and the others go on.
- :func:`length_problem`: a text longer than ``max_chars`` (default :data:`DEFAULT_MAX_CHARS`) is refused
  or cut to its beginning (``on_long``), before it costs any memory.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from importlib.resources import files

from affectlab.errors import OptionError, check_count

DEFAULT_MAX_CHARS = 100_000  # no tweet, review or chapter comes near; a 50 MB line would cost gigabytes
ON_LONG = ("error", "truncate")


@dataclass(frozen=True)
class Normalized:
    source: str
    text: str
    origin: list[int]  # origin[i]: index in the original text of normalized character i

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A non-empty normalized ``[start, end)`` span → the original text's span."""
        return self.origin[start], self.origin[end - 1] + 1


def _glosses() -> dict[str, str]:
    lines = files(__package__).joinpath("emoji_glosses.tsv").read_text("utf-8").splitlines()
    return dict(line.split("\t") for line in lines if line and not line.startswith("#"))


GLOSSES = _glosses()
SKIN_TONES = {chr(code) for code in range(0x1F3FB, 0x1F400)}  # emoji modifiers: a tone, not a feeling


def _spelled(char: str) -> str | None:
    if char in SKIN_TONES:
        return " "
    if char in GLOSSES:
        return f" {GLOSSES[char]} "
    if unicodedata.category(char) != "So":
        return None
    name = unicodedata.name(char, "")
    return f" {name.lower()} " if name else None


def _stretched(text: str, index: int) -> bool:
    """Whether ``text[index]`` is inside a run of three or more of the same letter, not its first or last: the
    middle of "sooo" or "whyyy", which a WordPiece vocabulary splits into pieces it rarely saw."""
    char = text[index]
    return char.isalpha() and 0 < index < len(text) - 1 and text[index - 1] == char == text[index + 1]


def normalize(text: str) -> Normalized:
    """Emoji and other symbols spelled out, and letters stretched for emphasis cut to two ("sooo" → "soo": the
    first and the last of the run, so a span still covers the whole word)."""
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if _stretched(text, index):
            continue
        piece = _spelled(char) or char
        pieces.append(piece)
        origin.extend([index] * len(piece))
    return Normalized(text, "".join(pieces), origin)


def token_ids(tokenizer, texts: list[str]) -> list[list[int]]:
    """The token ids of ``texts`` as the analyzer reads them (normalized first). Training code encodes with
    this, so a model learns from the inputs it will be given (a symbol spelled out, not ``[UNK]``)."""
    return [encoding.ids for encoding in tokenizer.encode_batch([normalize(text).text for text in texts])]


def is_blank(text: str) -> bool:
    """Whether ``text`` has nothing to read: only whitespace, control characters and format characters (zero-width
    spaces and joiners, direction marks, the soft hyphen, a byte-order mark), none of which ``str.strip`` removes
    all of.

    >>> is_blank(" \u200b\u200f\u00ad "), is_blank("so\u200bhappy")
    (True, False)
    """
    return all(char.isspace() or unicodedata.category(char) in ("Cc", "Cf") for char in text)


def length_problem(text: str, max_chars: int | None) -> str | None:
    """Why ``text`` is too long to read whole (over ``max_chars`` characters; None: no bound), or None."""
    if max_chars is None or len(text) <= max_chars:
        return None
    return f"text is {len(text):,} characters, over the limit of {max_chars:,} (max_chars)"


def check_on_long(max_chars: int | None, on_long: str) -> None:
    """Raise :class:`OptionError` for a bound or an action affectlab does not know."""
    if on_long not in ON_LONG:
        raise OptionError(f"on_long (--on-long) must be one of {', '.join(ON_LONG)}, not {on_long!r}")
    check_count("max_chars", max_chars, "no bound; 0 on the command line")
