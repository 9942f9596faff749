"""Registers: the kinds of conversation a turn model was calibrated for, each with its own share of neutral turns.

A turn model trained on several corpora adds a bias to its neutral logit, tuned on each corpus's dev split for
that corpus's usual metric; ``general`` is the one bias that does best on all of them at once (the mean of
their metrics). The user picks the register closest to their conversations:

>>> ConversationAnalyzer(register="meld")       # TV-series talk, several speakers
>>> neutral_bias({"general": -0.4, "meld": -0.9}, "meld")
-0.9
"""

from __future__ import annotations

from affectlab.errors import OptionError
from affectlab.metrics import emotion_f1_without
from affectlab.taxonomy import EKMAN

GENERAL = "general"
CORPORA = ("dailydialog", "meld", "goemotions")
REGISTERS = (GENERAL, *CORPORA)
DEFAULT_REGISTER = GENERAL

# Each corpus's metric as the papers on it report turn emotions.
METRICS = {
    "dailydialog": "micro-F1 without neutral",
    "meld": "weighted-F1 over the 7 classes",
    "goemotions": "macro-F1 over the 7 classes",
}


def check_register(register: object) -> str:
    if register not in REGISTERS:
        raise OptionError(f"register must be one of {', '.join(REGISTERS)}, not {register!r}")
    return register  # type: ignore[return-value]


def neutral_bias(tuned: float | dict[str, float], register: str) -> float:
    """The bias a model's config holds for ``register``: one number (a model tuned on one corpus) serves every
    register; a table must hold the register."""
    register = check_register(register)
    if isinstance(tuned, dict):
        if register not in tuned:
            raise OptionError(f"this turn model has no neutral bias for register {register!r}; "
                              f"it has {', '.join(tuned)}")
        return float(tuned[register])
    return float(tuned)


def corpus_score(corpus: str, predicted: list[str], gold: list[str]) -> float:
    """``corpus``'s metric (:data:`METRICS`) of single-label predictions."""
    if corpus == "dailydialog":
        return emotion_f1_without(predicted, gold, EKMAN, "neutral")["micro_f1"]
    scores = emotion_f1_without(predicted, gold, EKMAN)
    if corpus == "meld":
        return scores["weighted_f1"]
    if corpus == "goemotions":
        return sum(scores["f1"].values()) / len(scores["f1"])
    raise OptionError(f"corpus must be one of {', '.join(CORPORA)}, not {corpus!r}")
