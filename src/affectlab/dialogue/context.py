"""A conversation so far as one encoder input, newest turns kept when it is too long.

``[CLS] situation: … [SEP] speaker: turn₀ [SEP] listener (question): turn₁ [SEP] … [SEP]`` — each turn
is prefixed with its role (``speaker`` is the one telling or seeking support, ``listener`` the one who
answers) and, where known, the listener's strategy. When the whole does not fit ``max_tokens``, the
oldest tokens go first (the situation, if given, is always kept). Every token remembers its turn and
character span, so attributions can be read back as words of a turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from affectlab.dialogue.packing import TurnTokenizer
from affectlab.errors import AffectlabError

ROLES = ("speaker", "listener")
SITUATION_TOKENS = 48
TOKENIZE_AT_ONCE = 16  # turns tokenized in one call while filling the context from its end


class InvalidContext(AffectlabError, ValueError):
    """Roles, tags and turns that do not line up."""


@dataclass(frozen=True)
class EncodedContext:
    ids: list[int]
    turns: list[int]  # the turn behind each token; -1 for [CLS], [SEP], prefixes and the situation
    offsets: list[tuple[int, int]]  # each token's character span inside its turn's text
    first_turn: int  # the oldest turn that is (at least partly) in ``ids``
    truncated: bool  # something was cut: older turns, or the start of a long turn


def encode_context(tokenizer: TurnTokenizer, texts: list[str], roles: list[str], max_tokens: int,
                   tags: list[str] | None = None, situation: str = "") -> EncodedContext:
    tags = tags or [""] * len(texts)
    if not texts or len(roles) != len(texts) or len(tags) != len(texts):
        raise InvalidContext(f"{len(texts)} turns, {len(roles)} roles and {len(tags)} tags must match and be > 0")
    for i, role in enumerate(roles):
        if role not in ROLES:
            raise InvalidContext(f"turn {i}: role {role!r} is not one of {', '.join(ROLES)}")
    head = [tokenizer.cls]
    if situation.strip():
        head += tokenizer.words(f"situation: {situation}")[:SITUATION_TOKENS] + [tokenizer.sep]
    room = max_tokens - len(head)
    # newest turns first, a few at a time, until the room is full: a long conversation costs its last turns
    blocks: list[tuple[list[int], list[int], list[tuple[int, int]]]] = []
    used, cut_turn, start = 0, False, len(texts)
    while start > 0 and used < room:
        first = max(0, start - TOKENIZE_AT_ONCE)
        for i, tokens in reversed(list(enumerate(tokenizer.turns(list(texts[first:start])), first))):
            prefix = tokenizer.words(f"{roles[i]} ({tags[i].lower()}):" if tags[i] else f"{roles[i]}:")
            blocks.append((prefix + tokens.ids + [tokenizer.sep], [-1] * len(prefix) + [i] * len(tokens.ids) + [-1],
                           [(0, 0)] * len(prefix) + list(tokens.offsets) + [(0, 0)]))
            used += len(blocks[-1][0])
            cut_turn = cut_turn or tokens.truncated
        start = first
    ids = [token for block in reversed(blocks) for token in block[0]]
    owners = [owner for block in reversed(blocks) for owner in block[1]]
    offsets = [offset for block in reversed(blocks) for offset in block[2]]
    dropped = max(0, len(ids) - room)
    ids, owners, offsets = ids[dropped:], owners[dropped:], offsets[dropped:]
    kept = [t for t in owners if t >= 0]
    return EncodedContext(
        head + ids, [-1] * len(head) + owners, [(0, 0)] * len(head) + offsets,
        kept[0] if kept else len(texts) - 1, cut_turn or dropped > 0 or start > 0,
    )
