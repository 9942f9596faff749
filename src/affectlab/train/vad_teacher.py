"""A base-size valence/arousal/dominance teacher whose predictions the text model learns from.

all-mpnet-base-v2 (12 layers, 768 wide) is fine-tuned on EmoBank train; the epoch with the best
valence r on EmoBank dev is kept, and it rates every GoEmotions train comment. Those ratings give the
student (``affectlab train text --teacher …``) a VAD target on 43k texts instead of EmoBank's 8k.
Nothing of the teacher ships: the run folder holds the ratings and the dev history only.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from affectlab.datasets import DEFAULT_DATA_DIR, load_emobank, load_goemotions
from affectlab.encoders.finetuned import freeze_embeddings
from affectlab.encoders.minilm import load_tokenizer, mean_pool
from affectlab.encoders.mpnet import TEACHER_MODEL, load_teacher_encoder, teacher_model_dir
from affectlab.errors import OptionError
from affectlab.io.writers import atomic_target, atomic_write_text
from affectlab.metrics import pearson
from affectlab.text.runtime import TorchRuntime, pad_batch, run_sorted
from affectlab.train.optim import Optimizer, bucketed_batches, provenance, seed_everything
from affectlab.train.text_ratings import TeacherMismatch, texts_digest

RATINGS_FILE = "goemotions-train-vad.npy"
SUMMARY_FILE = "teacher.json"
DIMENSIONS = ("valence", "arousal", "dominance")


@dataclass
class TeacherRecipe:
    data_dir: Path = DEFAULT_DATA_DIR
    out_dir: Path = Path("runs/vad-teacher")
    seed: int = 13
    epochs: int = 3
    batch_size: int = 16
    max_length: int = 128
    lr_encoder: float = 3e-5
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    threads: int = 2
    limit: int | None = None  # first N texts of each set only (smoke runs)


class VadTeacher(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = load_teacher_encoder()
        self.head = nn.Linear(self.encoder.config.hidden_size, len(DIMENSIONS))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(mean_pool(states, attention_mask))


def load_ratings(folder: Path, texts: list[str]) -> np.ndarray:
    """The teacher's VAD ratings (1–5 scale) for ``texts``, checked to have been made for exactly them."""
    summary = json.loads((Path(folder) / SUMMARY_FILE).read_text())
    if summary["texts_sha256"] != texts_digest(texts):
        raise TeacherMismatch(f"{folder} rates other texts than these {len(texts)}: re-run the teacher recipe")
    return np.load(Path(folder) / RATINGS_FILE)


def train_vad_teacher(recipe: TeacherRecipe, on_progress: Callable[[dict], None] | None = None) -> dict:
    """Fine-tune, keep the best dev epoch, rate GoEmotions train; returns the summary written beside."""
    started = time.time()
    rng = seed_everything(recipe.seed, recipe.threads)
    tokenizer = load_tokenizer(recipe.max_length, teacher_model_dir())
    train, dev = load_emobank("train", recipe.data_dir), load_emobank("dev", recipe.data_dir)
    train_ids = [e.ids for e in tokenizer.encode_batch(train.texts[: recipe.limit])]
    dev_ids = [e.ids for e in tokenizer.encode_batch(dev.texts[: recipe.limit])]
    vad = np.array(train.vad[: recipe.limit], np.float32)
    dev_vad = np.array(dev.vad[: recipe.limit], np.float32)
    mean, std = vad.mean(0), vad.std(0)
    z = (vad - mean) / std

    model = VadTeacher()
    freeze_embeddings(model)
    per_epoch = -(-len(train_ids) // recipe.batch_size)
    total = per_epoch * recipe.epochs
    optimizer = Optimizer(model, recipe.lr_encoder, recipe.lr_head, recipe.weight_decay, total, recipe.warmup)
    mse = nn.MSELoss()
    history, best, best_state, step = [], -math.inf, None, 0
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        for rows in bucketed_batches([len(s) for s in train_ids], recipe.batch_size, rng):
            ids, mask = pad_batch([train_ids[r] for r in rows])
            loss = mse(model(torch.from_numpy(ids), torch.from_numpy(mask)), torch.from_numpy(z[rows]))
            optimizer.step(loss)
            step += 1
            if on_progress is not None:
                on_progress({"epoch": epoch, "step": step, "total": total, "task": "emobank", "loss": loss.item()})
        model.eval()
        predicted = run_sorted(TorchRuntime(model), dev_ids, 64) * std + mean
        metrics = {f"{d}_pearson": pearson(predicted[:, i], dev_vad[:, i]) for i, d in enumerate(DIMENSIONS)}
        history.append({"epoch": epoch, "seconds": round(time.time() - started, 1), **metrics})
        if on_progress is not None:
            on_progress({"epoch": epoch, "step": step, "total": total, "task": "dev", **metrics})
        if math.isfinite(metrics["valence_pearson"]) and metrics["valence_pearson"] > best:
            best, best_state = metrics["valence_pearson"], copy.deepcopy(model.state_dict())

    if best_state is None:
        raise OptionError(f"dev valence r was not a number after any of the {recipe.epochs} epochs (training "
                          "diverged, or the model gives every sentence the same rating), so there is none to keep")
    model.load_state_dict(best_state)
    model.eval()
    goemotions = load_goemotions("train", recipe.data_dir).texts[: recipe.limit]
    ids = [e.ids for e in tokenizer.encode_batch(goemotions)]
    ratings = run_sorted(TorchRuntime(model), ids, 64) * std + mean
    out_dir = Path(recipe.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_target(out_dir / RATINGS_FILE) as tmp, tmp.open("wb") as handle:
        np.save(handle, ratings.astype(np.float32))
    summary = {
        "teacher": TEACHER_MODEL,
        "rated": "GoEmotions train",
        "texts": len(goemotions),
        "texts_sha256": texts_digest(goemotions),
        "best_dev_valence_pearson": best,
        **provenance(recipe, recipe.epochs, history),
    }
    atomic_write_text(out_dir / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
    return summary
