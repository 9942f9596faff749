"""The DailyDialog conversations a cause teacher rates (:mod:`affectlab.train.cause_teacher`), and its
ratings read back for the student (``affectlab train causes --teacher DIR``)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from affectlab.datasets import RECCON_SETS, Dialogue, load_dailydialog, load_reccon
from affectlab.dialogue.cause_task import tokenize_dialogues
from affectlab.dialogue.packing import TurnTokenizer
from affectlab.dialogue.predict import CauseQuery
from affectlab.train.text_ratings import TeacherMismatch

RATINGS_FILE = "dailydialog-train-causes.json"


def _opening(dialogue: Dialogue) -> str:
    """The first two turns, letters and digits only: RECCON and DailyDialog space punctuation differently."""
    return re.sub(r"[^a-z0-9]", "", " ".join(dialogue.texts[:2]).lower())


def transfer_targets(data_dir: Path, targets: int) -> list[tuple[Dialogue, int]]:
    """``(conversation, target turn)`` for the first ``targets`` or so non-neutral DailyDialog train turns,
    whole conversations only, skipping every conversation RECCON annotated."""
    annotated = {_opening(d) for name in RECCON_SETS if name.startswith("dailydialog")
                 for d in load_reccon(name, data_dir)}
    chosen: list[tuple[Dialogue, int]] = []
    for dialogue in load_dailydialog("train", data_dir):
        if len(chosen) >= targets:
            break
        if _opening(dialogue) not in annotated:
            chosen += [(dialogue, t) for t, emotion in enumerate(dialogue.emotions) if emotion != "neutral"]
    return chosen


def target_queries(chosen: list[tuple[Dialogue, int]], tokenizer: TurnTokenizer) -> list[CauseQuery]:
    """The chosen targets as cause queries (each conversation tokenized once), in the same order."""
    dialogues = list({d.id: d for d, _ in chosen}.values())
    tokenized = dict(zip([d.id for d in dialogues], tokenize_dialogues(dialogues, tokenizer)))
    return [CauseQuery(*tokenized[d.id], target, d.emotions[target]) for d, target in chosen]


def targets_digest(chosen: list[tuple[Dialogue, int]]) -> str:
    digest = hashlib.sha256()
    for dialogue, target in chosen:
        digest.update(json.dumps([dialogue.id, dialogue.texts, target, dialogue.emotions[target]]).encode("utf-8"))
    return digest.hexdigest()


def load_cause_ratings(folder: Path, data_dir: Path) -> tuple[list[tuple[Dialogue, int]], list[dict], float]:
    """The rated targets, the teacher's rating of each (``probs`` and ``spans`` per turn up to the target)
    and its pair threshold, checked to have been made for exactly these conversations."""
    path = Path(folder) / RATINGS_FILE
    if not path.is_file():
        raise TeacherMismatch(f"{folder} holds no {RATINGS_FILE}: run `affectlab train cause-teacher` first")
    summary = json.loads(path.read_text(encoding="utf-8"))
    chosen = transfer_targets(data_dir, summary["targets"])
    if summary["targets_sha256"] != targets_digest(chosen):
        raise TeacherMismatch(f"{folder} rates other conversations than {data_dir} holds: re-run the teacher recipe")
    return chosen, summary["ratings"], summary["threshold"]
