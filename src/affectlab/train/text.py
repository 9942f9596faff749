"""Recipe for the default text model (``affectlab train text``).

Multi-task fine-tuning of all-MiniLM-L6-v2 with its embedding layer frozen:
- GoEmotions train: binary cross-entropy on the 28 labels and on the authors' Ekman and sentiment
  groupings of the same gold labels (one head, three sigmoid blocks);
- EmoBank train: mean squared error on standardized valence, arousal and dominance, one EmoBank batch
  after every ``emobank_every`` GoEmotions batches;
- optionally (``teacher``): mean squared error against a base-size teacher's VAD ratings of the same
  GoEmotions batch (:mod:`affectlab.train.vad_teacher`), so VAD is learned from 43k texts, not 8k.
Batches are bucketed by length; AdamW with linear warm-up and decay. After each epoch the per-label
thresholds are tuned on GoEmotions dev and the artifact is written, so an interrupted run keeps the
last finished epoch. Test splits are never read here.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from affectlab.datasets import DEFAULT_DATA_DIR, load_emobank, load_goemotions
from affectlab.encoders import load_tokenizer
from affectlab.heads import head_slices
from affectlab.metrics import f1_per_label, multi_hot, pearson, tune_thresholds
from affectlab.taxonomy import (
    EKMAN,
    GOEMOTIONS,
    GOEMOTIONS_TO_EKMAN,
    GOEMOTIONS_TO_SENTIMENT,
    SENTIMENT,
    group_labels,
)
from affectlab.text.artifact import ArtifactConfig
from affectlab.text.model import AffectModel
from affectlab.text.runtime import TorchRuntime, pad_batch, run_sorted
from affectlab.train.optim import Optimizer, bucketed_batches, provenance, seed_everything
from affectlab.train.vad_teacher import load_ratings

CLASS_BLOCKS = (("goemotions", GOEMOTIONS, None), ("ekman", EKMAN, GOEMOTIONS_TO_EKMAN),
                ("sentiment", SENTIMENT, GOEMOTIONS_TO_SENTIMENT))


@dataclass
class TextRecipe:
    data_dir: Path = DEFAULT_DATA_DIR
    out_dir: Path = Path("runs/text-minilm")
    name: str = "text-minilm"
    seed: int = 13
    epochs: int = 3
    batch_size: int = 32
    max_length: int = 128
    lr_encoder: float = 8e-5
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    emobank_every: int = 4
    vad_weight: float = 1.0
    teacher: Path | None = None  # a `train vad-teacher` run: its VAD ratings of GoEmotions train become targets too
    teacher_weight: float = 0.5
    threads: int = 2
    limit: int | None = None  # train on the first N texts of each set only (smoke runs)


def class_targets(label_lists: list[list[str]]) -> np.ndarray:
    """Gold GoEmotions labels → the concatenated 28 + Ekman + sentiment multi-hot targets."""
    blocks = []
    for _, names, mapping in CLASS_BLOCKS:
        grouped = label_lists if mapping is None else [group_labels(ls, mapping) for ls in label_lists]
        blocks.append(multi_hot(grouped, names))
    return np.concatenate(blocks, axis=1)


def _cycle(lengths: list[int], batch_size: int, rng: random.Random) -> Iterator[list[int]]:
    while True:
        yield from bucketed_batches(lengths, batch_size, rng)


def _encode(tokenizer, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tokenizer.encode_batch(texts)]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def dev_metrics(model: AffectModel, ge_ids, ge_targets, eb_ids, eb_vad, vad_mean, vad_std, batch_size):
    """Tune thresholds on GoEmotions dev and measure there; EmoBank dev Pearson r."""
    model.eval()
    runtime = TorchRuntime(model)
    slices = head_slices()
    ge_out = run_sorted(runtime, ge_ids, batch_size * 4)
    thresholds, metrics = {}, {}
    offset = 0
    for name, names, _ in CLASS_BLOCKS:
        probs = _sigmoid(ge_out[:, slices[name]])
        gold = ge_targets[:, offset : offset + len(names)]
        offset += len(names)
        tuned = tune_thresholds(probs, gold)
        thresholds[name] = [float(t) for t in tuned]
        metrics[f"{name}_macro_f1_tuned"] = float(f1_per_label(probs >= tuned, gold).mean())
    vad = run_sorted(runtime, eb_ids, batch_size * 4)[:, slices["vad"]] * vad_std + vad_mean
    for i, dim in enumerate(("valence", "arousal", "dominance")):
        metrics[f"{dim}_pearson"] = pearson(vad[:, i], eb_vad[:, i])
    model.train()
    return thresholds, metrics


def train_text(recipe: TextRecipe, on_progress: Callable[[dict], None] | None = None) -> ArtifactConfig:
    """Train, tune thresholds on dev, and write the artifact to ``recipe.out_dir``."""
    started = time.time()
    rng = seed_everything(recipe.seed, recipe.threads)
    tokenizer = load_tokenizer(recipe.max_length)

    ge_train = load_goemotions("train", recipe.data_dir)
    eb_train = load_emobank("train", recipe.data_dir)
    ge_texts, ge_labels = ge_train.texts[: recipe.limit], ge_train.labels[: recipe.limit]
    eb_texts, eb_vad = eb_train.texts[: recipe.limit], np.array(eb_train.vad[: recipe.limit], np.float32)
    ge_ids, ge_targets = _encode(tokenizer, ge_texts), class_targets(ge_labels)
    eb_ids = _encode(tokenizer, eb_texts)
    vad_mean, vad_std = eb_vad.mean(0), eb_vad.std(0)
    eb_z = (eb_vad - vad_mean) / vad_std
    teacher_z = None
    if recipe.teacher is not None:
        teacher_z = (load_ratings(recipe.teacher, ge_texts) - vad_mean) / vad_std

    ge_dev, eb_dev = load_goemotions("dev", recipe.data_dir), load_emobank("dev", recipe.data_dir)
    dev_ge_ids, dev_ge_targets = _encode(tokenizer, ge_dev.texts), class_targets(ge_dev.labels)
    dev_eb_ids, dev_eb_vad = _encode(tokenizer, eb_dev.texts), np.array(eb_dev.vad, np.float32)

    model = AffectModel()
    model.freeze_embeddings()
    model.train()
    ge_per_epoch = math.ceil(len(ge_ids) / recipe.batch_size)
    steps_per_epoch = ge_per_epoch + ge_per_epoch // recipe.emobank_every
    total = steps_per_epoch * recipe.epochs
    optimizer = Optimizer(model, recipe.lr_encoder, recipe.lr_head, recipe.weight_decay, total, recipe.warmup)
    bce, mse = nn.BCEWithLogitsLoss(), nn.MSELoss()
    n_class = ge_targets.shape[1]
    vad_slice = head_slices()["vad"]
    eb_batches = _cycle([len(s) for s in eb_ids], recipe.batch_size, rng)
    history, step = [], 0

    for epoch in range(1, recipe.epochs + 1):
        for i, rows in enumerate(bucketed_batches([len(s) for s in ge_ids], recipe.batch_size, rng), 1):
            ids, mask = pad_batch([ge_ids[r] for r in rows])
            out = model(torch.from_numpy(ids), torch.from_numpy(mask))
            loss = bce(out[:, :n_class], torch.from_numpy(ge_targets[rows]))
            if teacher_z is not None:
                loss = loss + recipe.teacher_weight * mse(out[:, vad_slice], torch.from_numpy(teacher_z[rows]))
            optimizer.step(loss)
            step += 1
            record = {"epoch": epoch, "step": step, "total": total, "task": "goemotions", "loss": loss.item()}
            if i % recipe.emobank_every == 0:
                eb_rows = next(eb_batches)
                ids, mask = pad_batch([eb_ids[r] for r in eb_rows])
                out = model(torch.from_numpy(ids), torch.from_numpy(mask))
                vad_loss = recipe.vad_weight * mse(out[:, vad_slice], torch.from_numpy(eb_z[eb_rows]))
                optimizer.step(vad_loss)
                step += 1
                record.update(step=step, vad_loss=vad_loss.item())
            if on_progress is not None:
                on_progress(record)
        thresholds, metrics = dev_metrics(
            model, dev_ge_ids, dev_ge_targets, dev_eb_ids, dev_eb_vad, vad_mean, vad_std, recipe.batch_size
        )
        history.append({"epoch": epoch, "seconds": round(time.time() - started, 1), **metrics})
        if on_progress is not None:
            on_progress({"epoch": epoch, "step": step, "total": total, "task": "dev", **metrics})
        config = ArtifactConfig(
            name=recipe.name,
            max_length=recipe.max_length,
            thresholds=thresholds,
            vad_mean=[float(v) for v in vad_mean],
            vad_std=[float(v) for v in vad_std],
            trained=provenance(recipe, epoch, history),
        )
        out_dir = Path(recipe.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        model.save_weights(out_dir)
        config.save(out_dir)
    return config
