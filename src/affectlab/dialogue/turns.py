"""Conversation input: validating turns given in Python, and reading them from json/jsonl/csv files."""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from affectlab.errors import AffectlabError
from affectlab.io import InputFileError, read_rows
from affectlab.io.readers import codec
from affectlab.io.values import surrogate_problem
from affectlab.taxonomy import EKMAN, to_ekman
from affectlab.text.normalize import DEFAULT_MAX_CHARS, is_blank, length_problem


class InvalidConversation(AffectlabError, ValueError):
    """A conversation, turn or target that cannot be analyzed; the message names the turn or field, ``turn`` is
    the index of the turn at fault (None when it is not one turn's fault) and ``field`` the argument at fault
    when it is not the turns (``listener``, ``situation``)."""

    def __init__(self, message: str, turn: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.turn, self.field = turn, field


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str


def speaker_number_as_text(speaker: object) -> object:
    """A numbered speaker (``1``, as datasets number them) as its text, ``"1"``; anything else as it is."""
    return str(speaker) if isinstance(speaker, int) and not isinstance(speaker, bool) else speaker


def check_turn(index: int, value: object, max_chars: int | None = DEFAULT_MAX_CHARS) -> Turn:
    """One turn (a :class:`Turn` or a mapping with ``speaker`` and ``text``) checked; errors name ``turn {index}``.
    A text over ``max_chars`` characters (None: no bound) or with a lone UTF-16 surrogate (not valid Unicode,
    which no tokenizer takes) is refused, never cut or repaired behind the caller's back."""
    if isinstance(value, Turn):
        speaker, text = value.speaker, value.text
    elif isinstance(value, Mapping):
        speaker, text = value.get("speaker"), value.get("text")
    else:
        raise InvalidConversation(
            f"turn {index}: expected {{'speaker': ..., 'text': ...}}, got {type(value).__name__}", index
        )
    speaker = speaker_number_as_text(speaker)
    if speaker is None or (isinstance(speaker, str) and not speaker.strip()):
        raise InvalidConversation(f"turn {index}: speaker is missing or empty", index)
    if not isinstance(speaker, str):
        raise InvalidConversation(f"turn {index}: speaker must be a string, got {type(speaker).__name__}", index)
    if not isinstance(text, str) or is_blank(text):
        what = ("is missing" if text is None else "is empty" if isinstance(text, str) and not text.strip()
                else "has no readable characters" if isinstance(text, str)
                else f"must be a string, got {type(text).__name__}")
        raise InvalidConversation(f"turn {index}: text {what}", index)
    problem = length_problem(text, max_chars) or surrogate_problem(text) or surrogate_problem(speaker, "speaker")
    if problem:
        raise InvalidConversation(f"turn {index}: {problem}", index)
    return Turn(speaker.strip(), text)


def check_turns(turns: Iterable[object], max_chars: int | None = DEFAULT_MAX_CHARS) -> list[Turn]:
    """Validate a conversation: a non-empty sequence of turns, each with a speaker and a text of at most
    ``max_chars`` characters (None: no bound)."""
    if isinstance(turns, (str, bytes, Mapping)) or not isinstance(turns, Iterable):
        raise InvalidConversation("a conversation is a list of turns, each {'speaker': ..., 'text': ...}")
    checked = [check_turn(i, value, max_chars) for i, value in enumerate(turns)]
    if not checked:
        raise InvalidConversation("the conversation has no turns")
    return checked


def check_target(turns: list[Turn], target: int) -> int:
    try:
        if isinstance(target, bool):
            raise TypeError
        target = operator.index(target)
    except TypeError:
        raise InvalidConversation(f"target must be a turn index (int), got {type(target).__name__}") from None
    if not 0 <= target < len(turns):
        raise InvalidConversation(
            f"target turn {target} is out of range: the conversation has {len(turns)} turns (0-{len(turns) - 1})"
        )
    return target


def check_emotion(emotion: str) -> str:
    """An emotion name in any naming affectlab knows → its Ekman name."""
    try:
        return to_ekman(emotion)
    except (KeyError, AttributeError):
        raise InvalidConversation(
            f"unknown emotion {emotion!r}; use one of {', '.join(EKMAN)}, a GoEmotions label, or the RECCON/IEMOCAP "
            "names (happiness, sadness, anger, surprise, disgust, fear, happy, sad, angry, excited, frustrated)"
        ) from None


CONVERSATION_FORMATS = (".json", ".jsonl", ".ndjson", ".csv", ".tsv")


def read_conversation(path: Path, max_chars: int | None = DEFAULT_MAX_CHARS, encoding: str = "utf-8") -> list[Turn]:
    """A conversation from ``.json`` (a list of turns, or ``{"turns": [...]}``), ``.jsonl`` (a turn a line)
    or ``.csv``/``.tsv`` (``speaker`` and ``text`` columns). Errors name the turn and the line or row; a turn
    over ``max_chars`` characters is one (None: no bound). ``encoding``: the file's (e.g. latin-1)."""
    path = Path(path)
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, not a conversation file")
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    if path.suffix.lower() not in CONVERSATION_FORMATS:
        raise InputFileError(f"{path}: a conversation file is one of {', '.join(CONVERSATION_FORMATS)}")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding=codec(encoding)).lstrip("\ufeff"))
        except OSError as exc:
            raise InputFileError(f"{path}: cannot be read ({exc.strerror})") from None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # Recursion: nested too deeply
            hint = "; one turn a line is read from a .jsonl file" if "Extra data" in str(exc) else ""
            raise InputFileError(f"{path}: not valid {encoding} JSON ({exc}){hint}") from None
        if isinstance(data, Mapping) and "turns" in data:
            data = data["turns"]
        if not isinstance(data, list):
            raise InputFileError(f"{path}: expected a list of turns or {{\"turns\": [...]}}")
        try:
            return check_turns(data, max_chars)
        except InvalidConversation as exc:
            raise InvalidConversation(f"{path}: {exc}") from None
    turns, first_id = [], None
    for block in read_rows(path, text_column="text", encoding=encoding):
        for row in block:
            where = f"{path}: row {row.number} (turn {len(turns)})"
            if row.error:
                raise InvalidConversation(f"{path}: {row.error}")
            conversation_id = row.record.get("conversation_id")
            if turns and conversation_id != first_id:
                raise InvalidConversation(
                    f"{where}: conversation_id {conversation_id!r} after {first_id!r}: the file holds several "
                    "conversations and this reads one (`affectlab conversation` reads a table of many)")
            first_id = conversation_id
            if not turns and "speaker" not in row.record:
                raise InputFileError(f"{path}: no column 'speaker'; a conversation file needs speaker and text")
            try:
                turns.append(check_turn(len(turns), {"speaker": row.record.get("speaker"), "text": row.text},
                                        max_chars))
            except InvalidConversation as exc:
                raise InvalidConversation(f"{where}: {str(exc).split(': ', 1)[1]}") from None
    if not turns:
        raise InvalidConversation(f"{path}: the conversation has no turns")
    return turns
