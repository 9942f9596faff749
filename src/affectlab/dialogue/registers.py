"""Registers: the kinds of conversation a turn model was calibrated for, each with its own share of neutral turns.

A turn model trained on several corpora adds a bias to its neutral logit and, when it reads the text model's view
of each turn, that view's Ekman log-odds with a weight; both are tuned on each corpus's dev split for that
corpus's usual metric. ``general`` is the pair that does best on all of them at once (the mean of their
metrics). A turn model may also have a head of its own for every register (its config's ``heads``): each corpus's
head learns from that corpus's turns only, ``general``'s from every turn. The user picks the register closest to
their conversations:

>>> ConversationAnalyzer(register="meld")       # TV-series talk, several speakers
>>> ConversationAnalyzer(register="support")    # people telling what happened to them (turn models from 2026-12-05 on)
>>> register_value({"general": -0.4, "meld": -0.9}, "meld")
-0.9
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from affectlab.errors import OptionError
from affectlab.metrics import emotion_f1_without
from affectlab.taxonomy import EKMAN

GENERAL = "general"
CORPORA = ("dailydialog", "meld", "goemotions", "support")
REGISTERS = (GENERAL, *CORPORA)
DEFAULT_REGISTER = GENERAL

# Each corpus's metric as the papers on it report turn emotions.
METRICS = {
    "dailydialog": "micro-F1 without neutral",
    "meld": "weighted-F1 over the 7 classes",
    "goemotions": "macro-F1 over the 7 classes",
    "support": "micro-F1 without neutral (no opening is neutral)",
}


def check_register(register: object) -> str:
    if register not in REGISTERS:
        raise OptionError(f"register must be one of {', '.join(REGISTERS)}, not {register!r}")
    return register  # type: ignore[return-value]


def register_value(tuned: float | dict[str, float], register: str, what: str = "neutral bias") -> float:
    """The bias (or text weight) a model's config holds for ``register``: one number (a model tuned on one
    corpus) serves every register; a table must hold the register."""
    register = check_register(register)
    if isinstance(tuned, dict):
        if register not in tuned:
            raise OptionError(f"this turn model has no {what} for register {register!r}; "
                              f"it has {', '.join(tuned)}")
        return float(tuned[register])
    return float(tuned)


def check_head(heads: Sequence[str], register: str) -> None:
    """Refuse ``register`` for a turn model with a head per register (``heads`` not empty) that has none for it."""
    if heads and register not in heads:
        raise OptionError(f"this turn model has no head for register {register!r}; it has {', '.join(heads)}")


def register_logits(logits: np.ndarray, heads: Sequence[str], register: str) -> np.ndarray:
    """A register's ``[turns, 7]`` logits from a turn model's output ``[turns, heads × 7]``: a model with one head
    (``heads`` empty) serves every register with it; else the register's own head."""
    if not heads:
        return logits
    check_head(heads, register)
    return logits.reshape(len(logits), len(heads), -1)[:, list(heads).index(register)]


def calibrate(logits: np.ndarray, evidence: np.ndarray | None, bias: float, weight: float) -> np.ndarray:
    """A register's logits: the turn model's ``[turns, 7]`` logits, plus ``weight`` × the text model's Ekman
    log-odds (``evidence``, same shape; None for a turn model that reads no text model), plus ``bias`` on
    neutral."""
    calibrated = logits + weight * evidence if evidence is not None and weight else logits.copy()
    calibrated[:, EKMAN.index("neutral")] += bias
    return calibrated


def corpus_score(corpus: str, predicted: list[str], gold: list[str]) -> float:
    """``corpus``'s metric (:data:`METRICS`) of single-label predictions."""
    if corpus in ("dailydialog", "support"):
        return emotion_f1_without(predicted, gold, EKMAN, "neutral")["micro_f1"]
    scores = emotion_f1_without(predicted, gold, EKMAN)
    if corpus == "meld":
        return scores["weighted_f1"]
    if corpus == "goemotions":
        return sum(scores["f1"].values()) / len(scores["f1"])
    raise OptionError(f"corpus must be one of {', '.join(CORPORA)}, not {corpus!r}")
