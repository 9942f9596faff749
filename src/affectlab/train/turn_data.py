"""The labelled turns the turn model learns from, corpus by corpus, each with the dev split its neutral bias is
tuned on.

- DailyDialog: train / validation (written everyday chat, two speakers, 83% neutral);
- MELD: train less its held-out 10% (:func:`affectlab.datasets.load_meld_part`) / dev (Friends scenes, up to
  nine speakers);
- GoEmotions: a seeded sample of train comments / all dev comments, each a one-turn conversation, labelled
  through the authors' Ekman mapping; a comment whose labels fall in more than one Ekman class is left out
  (one label a turn).

EmpatheticDialogues and ESConv are not used: they label a conversation (or the seeker's emotion once), not
each turn, and per-turn labels there would be a classifier's guesses, not people's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from affectlab.datasets import Dialogue, load_dailydialog, load_goemotions, load_meld, load_meld_part
from affectlab.taxonomy import GOEMOTIONS_TO_EKMAN, group_labels


@dataclass(frozen=True)
class TurnCorpus:
    name: str  # one of affectlab.dialogue.registers.CORPORA
    train: list[Dialogue]
    dev: list[Dialogue]

    def summary(self) -> dict:
        return {split: {"conversations": len(dialogues), "turns": sum(len(d.texts) for d in dialogues)}
                for split, dialogues in (("train", self.train), ("dev", self.dev))}


def goemotions_conversations(split: str, data_dir: Path, sample: int | None = None, seed: int = 0) -> list[Dialogue]:
    """GoEmotions comments of one Ekman class as one-turn conversations (in file order); with ``sample``, that
    many of them drawn with ``seed``."""
    comments = load_goemotions(split, data_dir)
    single = []
    for number, (text, labels) in enumerate(zip(comments.texts, comments.labels)):
        ekman = group_labels(labels, GOEMOTIONS_TO_EKMAN)
        if len(ekman) == 1:
            single.append(Dialogue(f"goemotions-{split}-{number}", ["A"], [text], ekman))
    if sample is not None and sample < len(single):
        chosen = sorted(random.Random(seed).sample(range(len(single)), sample))
        single = [single[i] for i in chosen]
    return single


def turn_corpora(data_dir: Path, goemotions: int, seed: int, limit: int | None = None) -> list[TurnCorpus]:
    """The three corpora, in the order of :data:`~affectlab.dialogue.registers.CORPORA`; ``limit``: the first that many
    conversations of each split (smoke runs). Test splits and MELD's held-out part are never read."""
    corpora = [
        TurnCorpus("dailydialog", load_dailydialog("train", data_dir), load_dailydialog("validation", data_dir)),
        TurnCorpus("meld", load_meld_part("train", data_dir), load_meld("dev", data_dir)),
        TurnCorpus("goemotions", goemotions_conversations("train", data_dir, goemotions, seed),
                   goemotions_conversations("dev", data_dir)),
    ]
    return [TurnCorpus(c.name, c.train[:limit], c.dev[:limit]) for c in corpora]
