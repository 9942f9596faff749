"""The labelled turns the turn model learns from, corpus by corpus, each with the dev split its neutral bias is
tuned on.

- DailyDialog: train / validation (written everyday chat, two speakers, 83% neutral);
- MELD: train less its held-out 10% (:func:`affectlab.datasets.load_meld_part`) / dev (Friends scenes, up to
  nine speakers);
- GoEmotions: a seeded sample of train comments / all dev comments, each a one-turn conversation, labelled
  through the authors' Ekman mapping; a comment whose labels fall in more than one Ekman class is left out
  (one label a turn). Their ``[NAME]`` masks are filled with first names, as the text model's training does;
- support: EmpatheticDialogues' opening turns, train / valid, each a one-turn conversation. The speaker was
  asked to write about a situation in which they felt the conversation's emotion and opens by telling it, so
  the opening carries a person's label; the 32 emotions become Ekman's through affectlab's documented
  mapping to GoEmotions (:data:`~affectlab.taxonomy.corpora.EMPATHETIC_DIALOGUES_MAPPING`) and the
  GoEmotions authors' Ekman grouping, and an emotion that does not land in exactly one Ekman class
  (nostalgic, prepared, ...) is left out. No opening is neutral: this is the register of people telling
  what happened to them, where a worried turn is worry. Each opening is placed after 0-3 consecutive turns of a
  DailyDialog or MELD conversation of the same split (:func:`in_context`), turns that are context only (no label):
  in those corpora a turn's emotion seldom differs from its scene's, and a model that learns only them lets a
  cheerful start outweigh a later turn's plain worry. Here the context says nothing about the opening's emotion,
  so the turn's own words must decide it.

Later EmpatheticDialogues turns and ESConv are not used: their labels are the conversation's (or the
seeker's, once), and per-turn labels there would be a classifier's guesses, not people's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from affectlab.datasets import (
    Dialogue,
    load_dailydialog,
    load_empathetic_dialogues,
    load_goemotions,
    load_meld,
    load_meld_part,
)
from affectlab.taxonomy import GOEMOTIONS_TO_EKMAN, group_labels
from affectlab.taxonomy.corpora import EMPATHETIC_DIALOGUES_MAPPING
from affectlab.train.name_fill import fill_names

CONTEXT_ONLY = ""  # the emotion of a turn that is there as context, with no label of its own
MAX_CONTEXT_TURNS = 3


@dataclass(frozen=True)
class TurnCorpus:
    name: str  # one of affectlab.dialogue.registers.CORPORA
    train: list[Dialogue]
    dev: list[Dialogue]

    def summary(self) -> dict:
        return {split: {"conversations": len(dialogues), "turns": sum(len(d.texts) for d in dialogues),
                        "labelled_turns": sum(e != CONTEXT_ONLY for d in dialogues for e in d.emotions)}
                for split, dialogues in (("train", self.train), ("dev", self.dev))}


def goemotions_conversations(split: str, data_dir: Path, sample: int | None = None, seed: int = 0) -> list[Dialogue]:
    """GoEmotions comments of one Ekman class as one-turn conversations (in file order); with ``sample``, that
    many of them drawn with ``seed``."""
    comments = load_goemotions(split, data_dir)
    single = []
    for number, (text, labels) in enumerate(zip(fill_names(comments.texts, seed), comments.labels)):
        ekman = group_labels(labels, GOEMOTIONS_TO_EKMAN)
        if len(ekman) == 1:
            single.append(Dialogue(f"goemotions-{split}-{number}", ["A"], [text], ekman))
    if sample is not None and sample < len(single):
        chosen = sorted(random.Random(seed).sample(range(len(single)), sample))
        single = [single[i] for i in chosen]
    return single


def ekman_of_situation(emotion: str) -> str | None:
    """An EmpatheticDialogues emotion's Ekman class, or None where it has none or more than one."""
    goemotions = EMPATHETIC_DIALOGUES_MAPPING.groups.get(emotion) or EMPATHETIC_DIALOGUES_MAPPING.folds.get(emotion)
    ekman = group_labels(list(goemotions), GOEMOTIONS_TO_EKMAN) if goemotions else []
    return ekman[0] if len(ekman) == 1 else None


def support_openings(split: str, data_dir: Path) -> list[Dialogue]:
    """The speaker's opening turn of each EmpatheticDialogues conversation of ``split`` whose emotion has one Ekman
    class, as a one-turn conversation labelled with it (in file order)."""
    openings = []
    for example in load_empathetic_dialogues(split, data_dir):
        ekman = ekman_of_situation(example.label)
        if ekman is not None and example.roles[0] == "speaker" and example.texts[0].strip():
            openings.append(Dialogue(f"support-{example.id}", ["A"], [example.texts[0]], [ekman]))
    return openings


def in_context(dialogues: list[Dialogue], contexts: list[Dialogue], seed: int) -> list[Dialogue]:
    """Each one-turn conversation after 0-:data:`MAX_CONTEXT_TURNS` consecutive turns drawn (with ``seed``) from
    ``contexts``, which stay unlabelled (:data:`CONTEXT_ONLY`). The labelled turn is the last; after two or more
    context turns it is said by the speaker of the turn before last (as people take turns), so the same person
    can start cheerful and then tell something that worries them; after one, by someone else."""
    rng = random.Random(seed)
    placed = []
    for dialogue in dialogues:
        source = contexts[rng.randrange(len(contexts))]
        n = min(rng.randint(0, MAX_CONTEXT_TURNS), len(source.texts))
        start = rng.randint(0, len(source.texts) - n)
        speakers = [f"context-{s}" for s in source.speakers[start:start + n]]
        speaker = speakers[-2] if n >= 2 else "opening"
        placed.append(Dialogue(dialogue.id, [*speakers, speaker], [*source.texts[start:start + n], dialogue.texts[-1]],
                               [CONTEXT_ONLY] * n + [dialogue.emotions[-1]]))
    return placed


def turn_corpora(data_dir: Path, goemotions: int, seed: int, limit: int | None = None) -> list[TurnCorpus]:
    """The corpora, in the order of :data:`~affectlab.dialogue.registers.CORPORA`; ``limit``: the first that many
    conversations of each split (smoke runs). Test splits and MELD's held-out part are never read."""
    dailydialog = TurnCorpus("dailydialog", load_dailydialog("train", data_dir)[:limit],
                             load_dailydialog("validation", data_dir)[:limit])
    meld = TurnCorpus("meld", load_meld_part("train", data_dir)[:limit], load_meld("dev", data_dir)[:limit])
    goemotions_corpus = TurnCorpus("goemotions", goemotions_conversations("train", data_dir, goemotions, seed)[:limit],
                                   goemotions_conversations("dev", data_dir, seed=seed)[:limit])
    support = TurnCorpus(
        "support",
        in_context(support_openings("train", data_dir)[:limit], dailydialog.train + meld.train, seed),
        in_context(support_openings("valid", data_dir)[:limit], dailydialog.dev + meld.dev, seed),
    )
    return [dailydialog, meld, goemotions_corpus, support]
