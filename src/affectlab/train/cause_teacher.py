"""A base-size cause teacher whose judgments the shipped cause model learns from.

all-mpnet-base-v2 is trained by the cause recipe itself (:func:`affectlab.train.dialogue.train_dialogue`
with ``encoder="mpnet"``) on RECCON-DD train, its pair threshold tuned on RECCON-DD valid. It then reads
DailyDialog train conversations that RECCON did not annotate: every non-neutral turn (with DailyDialog's
own emotion label) is a target, and every turn up to it gets a cause probability and its best span.
``affectlab train causes --teacher DIR`` learns from those ratings beside RECCON's gold pairs.

DailyDialog repeats conversations across its splits, and RECCON's valid and test sets come partly from
DailyDialog train, so a conversation whose opening matches any RECCON conversation is never rated.
Nothing of the teacher ships: the run folder holds its weights, the ratings and the dev history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from affectlab.datasets import DEFAULT_DATA_DIR, Dialogue
from affectlab.dialogue.artifact import DialogueConfig
from affectlab.dialogue.models import CauseModel
from affectlab.dialogue.packing import TurnTokenizer
from affectlab.dialogue.predict import cause_scores
from affectlab.encoders.finetuned import load_finetuned
from affectlab.encoders.mpnet import TEACHER_MODEL, load_teacher_encoder, teacher_model_dir
from affectlab.io.writers import atomic_write_text
from affectlab.registry import WEIGHTS_FILE
from affectlab.train.cause_ratings import RATINGS_FILE, target_queries, targets_digest, transfer_targets
from affectlab.train.dialogue import DialogueRecipe, train_dialogue
from affectlab.train.optim import provenance, seed_everything

RATING_CHUNK = 256  # targets rated between two progress reports


@dataclass
class CauseTeacherRecipe:
    data_dir: Path = DEFAULT_DATA_DIR
    out_dir: Path = Path("runs/cause-teacher-mpnet")
    seed: int = 13
    epochs: int = 1
    lr_encoder: float = 3e-5
    targets: int = 8000  # DailyDialog train targets to rate (whole conversations, in file order)
    threads: int = 2
    limit: int | None = None  # smoke runs: first N RECCON dialogues of each split, N targets rated


def rate_targets(model: CauseModel, tokenizer: TurnTokenizer, chosen: list[tuple[Dialogue, int]], budget: int,
                 on_progress: Callable[[int], None] | None = None) -> list[dict]:
    queries = target_queries(chosen, tokenizer)
    ratings = []
    for start in range(0, len(queries), RATING_CHUNK):
        part = queries[start : start + RATING_CHUNK]
        for (dialogue, target), scores in zip(chosen[start : start + RATING_CHUNK],
                                              cause_scores(model, tokenizer, part, budget)):
            ratings.append({"dialogue": dialogue.id, "target": target,
                            "probs": [round(float(p), 4) for p in scores.probs], "spans": scores.spans})
        if on_progress is not None:
            on_progress(len(part))
    return ratings


def train_cause_teacher(recipe: CauseTeacherRecipe, on_progress: Callable[[dict], None] | None = None) -> dict:
    """Train the teacher (its best dev epoch kept), rate the DailyDialog targets; returns the summary written."""
    config = train_dialogue(DialogueRecipe(
        encoder="mpnet", data_dir=recipe.data_dir, out_dir=recipe.out_dir, seed=recipe.seed,
        epochs=recipe.epochs, lr_encoder=recipe.lr_encoder, threads=recipe.threads, limit=recipe.limit,
    ), on_progress)
    return write_ratings(recipe, config, on_progress)


def write_ratings(recipe: CauseTeacherRecipe, config: DialogueConfig,
                  on_progress: Callable[[dict], None] | None = None) -> dict:
    """The second half of the recipe: the trained teacher in ``recipe.out_dir`` rates the DailyDialog targets."""
    seed_everything(recipe.seed, recipe.threads)
    model = load_finetuned(CauseModel(load_teacher_encoder()), Path(recipe.out_dir) / WEIGHTS_FILE)
    tokenizer = TurnTokenizer(config.turn_tokens, teacher_model_dir())
    targets = recipe.targets if recipe.limit is None else recipe.limit
    chosen = transfer_targets(recipe.data_dir, targets)
    step = 0

    def rated(n: int) -> None:
        nonlocal step
        step += n
        if on_progress is not None:
            on_progress({"epoch": recipe.epochs, "step": step, "total": len(chosen), "task": "rating"})

    ratings = rate_targets(model, tokenizer, chosen, config.window_tokens, rated)
    summary = {
        "teacher": TEACHER_MODEL,
        "rated": "DailyDialog train conversations outside RECCON, every non-neutral turn",
        "targets": targets,
        "targets_rated": len(chosen),
        "targets_sha256": targets_digest(chosen),
        "threshold": config.threshold,
        "dev": config.trained["dev_history"][config.trained["kept_epoch"] - 1],
        **provenance(recipe, recipe.epochs, config.trained["dev_history"], config.trained["kept_epoch"]),
        "ratings": ratings,
    }
    atomic_write_text(Path(recipe.out_dir) / RATINGS_FILE, json.dumps(summary) + "\n")
    return {k: v for k, v in summary.items() if k != "ratings"}
