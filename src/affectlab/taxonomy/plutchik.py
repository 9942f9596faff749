"""Plutchik's wheel (1980, 2001): eight primary emotions, three intensities of each, and the primary dyads,
with how each GoEmotions label is placed on it.

Placement, in order of precedence:

1. a GoEmotions label that is a word of the wheel goes where the wheel puts it: a primary emotion to its
   petal, an intensity word to its petal at that intensity (annoyance is mild anger, grief intense sadness,
   admiration intense trust), a primary dyad to both its petals (love is joy and trust, optimism
   anticipation and joy, remorse sadness and disgust);
2. a few labels go where their GoEmotions definition puts them on the wheel (each has a note);
3. every other label follows the GoEmotions authors' Ekman group, whose six emotions are six of
   Plutchik's eight petals.
"""

from __future__ import annotations

from affectlab.taxonomy.demszky import EKMAN_GROUPS
from affectlab.taxonomy.labels import GOEMOTIONS, PLUTCHIK
from affectlab.taxonomy.mapping import LabelMapping

PETALS: tuple[str, ...] = PLUTCHIK[:-1]  # the eight primaries, without affectlab's neutral

# Each petal's words from mild to intense (Plutchik 2001, the wheel's rings).
INTENSITY_WORDS: dict[str, tuple[str, str, str]] = {
    "joy": ("serenity", "joy", "ecstasy"),
    "trust": ("acceptance", "trust", "admiration"),
    "fear": ("apprehension", "fear", "terror"),
    "surprise": ("distraction", "surprise", "amazement"),
    "sadness": ("pensiveness", "sadness", "grief"),
    "disgust": ("boredom", "disgust", "loathing"),
    "anger": ("annoyance", "anger", "rage"),
    "anticipation": ("interest", "anticipation", "vigilance"),
}
MILD, BASIC, INTENSE = 0, 1, 2

# The primary dyads: two neighbouring petals felt together (Plutchik 2001).
PRIMARY_DYADS: dict[str, tuple[str, str]] = {
    "love": ("joy", "trust"),
    "submission": ("trust", "fear"),
    "awe": ("fear", "surprise"),
    "disapproval": ("surprise", "sadness"),
    "remorse": ("sadness", "disgust"),
    "contempt": ("disgust", "anger"),
    "aggressiveness": ("anger", "anticipation"),
    "optimism": ("anticipation", "joy"),
}

# GoEmotions label → its petals (rules 1 and 2); every other label follows its Ekman group (rule 3).
_ON_THE_WHEEL: dict[str, tuple[str, ...]] = {
    "admiration": ("trust",),
    "annoyance": ("anger",),
    "grief": ("sadness",),
    "love": PRIMARY_DYADS["love"],
    "optimism": PRIMARY_DYADS["optimism"],
    "remorse": PRIMARY_DYADS["remorse"],
    "approval": ("trust",),
    "nervousness": ("fear",),
    "curiosity": ("anticipation",),
    "desire": ("anticipation",),
    "relief": ("joy",),
}

# The intensity a GoEmotions label expresses on its petal, where it is not the petal's basic one.
INTENSITY: dict[str, int] = {
    "admiration": INTENSE, "annoyance": MILD, "grief": INTENSE,
    "approval": MILD, "nervousness": MILD, "curiosity": MILD, "relief": MILD,
}

NOTES: dict[str, str] = {
    "admiration": "the wheel's intense trust",
    "annoyance": "the wheel's mild anger",
    "grief": "the wheel's intense sadness",
    "love": "the primary dyad of joy and trust",
    "optimism": "the primary dyad of anticipation and joy",
    "remorse": "the primary dyad of sadness and disgust",
    "approval": "a favourable opinion is the wheel's acceptance, mild trust (Ekman group: joy)",
    "nervousness": "GoEmotions defines it as apprehension, the wheel's mild fear",
    "curiosity": "wanting to know is the wheel's interest, mild anticipation (Ekman group: surprise)",
    "desire": "wanting something to happen looks ahead: anticipation (Ekman group: joy)",
    "relief": "calm after distress is the wheel's serenity, mild joy",
    "disapproval": "GoEmotions uses the word for an unfavourable opinion, not for the wheel's dyad of surprise and "
                   "sadness: it follows its Ekman group, anger",
}

_EKMAN_OF = {label: group for group, members in EKMAN_GROUPS.items() for label in members}


def _petals(label: str) -> tuple[str, ...]:
    return _ON_THE_WHEEL.get(label, (_EKMAN_OF[label],))


PLUTCHIK_MAPPING = LabelMapping(
    "plutchik", PLUTCHIK,
    {petal: tuple(g for g in GOEMOTIONS if petal in _petals(g)) for petal in PLUTCHIK},
    ("plutchik1980", "plutchik2001", "demszky2020"),
    "a wheel word goes where the wheel puts it (a dyad to both petals); a label whose GoEmotions definition "
    "names a wheel place goes there; every other label follows its Ekman group; neutral is kept as its own group",
    notes=NOTES,
)


def intensity_word(petal: str, labels: list[str]) -> str:
    """The wheel's word for ``petal`` at the most intense of the intensities its GoEmotions ``labels`` express.

    >>> intensity_word("anger", ["annoyance"]), intensity_word("sadness", ["sadness", "grief"])
    ('annoyance', 'grief')
    """
    return INTENSITY_WORDS[petal][max((INTENSITY.get(label, BASIC) for label in labels), default=BASIC)]
