"""A base-size text teacher (``affectlab train text-teacher``) whose ratings the default text model learns from.

all-mpnet-base-v2 is fine-tuned by the text model's own recipe (:mod:`affectlab.train.text`: GoEmotions
labels and their groupings, EmoBank VAD; no irony block), then rates GoEmotions train, so the student
learns the teacher's graded reading beside the gold labels, and texts of other registers that carry no
GoEmotions labels (:mod:`affectlab.train.text_ratings`), so the student sees more than Reddit. The run
folder holds the teacher's weights (training only, never shipped) and its ratings. A finished teacher
is not trained again: re-running the command only rates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from affectlab.datasets import DEFAULT_DATA_DIR
from affectlab.encoders import load_tokenizer
from affectlab.encoders.named import named_model_dir
from affectlab.heads.layout import BLOCKS_BEFORE_IRONY
from affectlab.text.artifact import ArtifactConfig
from affectlab.text.normalize import token_ids
from affectlab.text.runtime import TorchRuntime, run_sorted
from affectlab.train.name_fill import fill_names
from affectlab.train.optim import provenance, seed_everything
from affectlab.train.text import TextRecipe, train_text
from affectlab.train.text_ratings import RATED_SOURCES, RatedSource, rated_texts, save_text_ratings

TEACHER_NAME = "text-teacher-mpnet"


@dataclass
class TextTeacherRecipe:
    data_dir: Path = DEFAULT_DATA_DIR
    out_dir: Path = Path("runs/text-teacher-mpnet")
    seed: int = 13
    epochs: int = 2
    lr_encoder: float = 4e-5
    per_source: int = 10_000  # at most this many texts rated from each register other than GoEmotions
    bf16: bool = False  # training's forward passes in bfloat16 (TextRecipe.bf16)
    threads: int = 2
    limit: int | None = None  # first N texts of each set only (smoke runs)

    def training(self) -> TextRecipe:
        return TextRecipe(data_dir=self.data_dir, out_dir=self.out_dir, name=TEACHER_NAME, seed=self.seed,
                          epochs=self.epochs, lr_encoder=self.lr_encoder, encoder="mpnet",
                          blocks=BLOCKS_BEFORE_IRONY, bf16=self.bf16, threads=self.threads, limit=self.limit)


def _finished(recipe: TextTeacherRecipe) -> bool:
    if not (Path(recipe.out_dir) / "config.json").exists():
        return False
    return ArtifactConfig.load(recipe.out_dir).trained.get("epochs_done") == recipe.epochs


def train_text_teacher(recipe: TextTeacherRecipe, on_progress: Callable[[dict], None] | None = None) -> dict:
    """Train the teacher (unless its run folder already holds a finished one), then rate every source."""
    from affectlab.text.model import AffectModel

    started = time.time()
    if not _finished(recipe):
        train_text(recipe.training(), on_progress)
    seed_everything(recipe.seed, recipe.threads)
    config = ArtifactConfig.load(recipe.out_dir)
    # the teacher's head has no irony block, whatever its config says (early runs did not record blocks)
    model = AffectModel("mpnet", BLOCKS_BEFORE_IRONY).load_weights(recipe.out_dir)
    tokenizer = load_tokenizer(config.max_length, named_model_dir("mpnet"))
    runtime = TorchRuntime(model)
    rated = {}
    for source in RATED_SOURCES:
        texts = rated_texts(source, recipe.data_dir, recipe.per_source, recipe.seed)[: recipe.limit]
        done = 0

        def tick(n: int, source: str = source, total: int = len(texts)) -> None:
            nonlocal done
            done += n
            if on_progress is not None:
                on_progress({"task": f"rate {source}", "step": done, "total": total})

        read = fill_names(texts, recipe.seed) if source == "goemotions" else texts  # as the student reads them
        raw = run_sorted(runtime, token_ids(tokenizer, read), 64, tick)
        rated[source] = RatedSource(texts, raw)
    history = config.trained.get("dev_history", [])
    summary = {
        "teacher": f"{TEACHER_NAME}: all-mpnet-base-v2 fine-tuned by `affectlab train text` (no irony block)",
        "vad_mean": config.vad_mean,
        "vad_std": config.vad_std,
        "rating_seconds": round(time.time() - started, 1),
        **provenance(recipe, recipe.epochs, history),
    }
    return save_text_ratings(recipe.out_dir, rated, summary)
