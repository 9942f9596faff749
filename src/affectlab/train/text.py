"""Recipe for the default text model (``affectlab train text``).

Multi-task fine-tuning of all-MiniLM-L6-v2 with its embedding layer frozen:
- GoEmotions train: binary cross-entropy on the 28 labels and on the authors' Ekman and sentiment
  groupings of the same gold labels (one head, sigmoid blocks);
- EmoBank train: mean squared error on standardized valence, arousal and dominance, one EmoBank batch
  after every ``emobank_every`` GoEmotions batches;
- optionally (``teacher``, :mod:`affectlab.train.text_teacher`): a base-size teacher's ratings. On each
  GoEmotions batch the class loss is ``(1 - soft_weight)`` × gold + ``soft_weight`` × the teacher's
  probabilities, and VAD is pulled towards the teacher's; after every ``rated_every`` GoEmotions batches,
  one batch of texts from other registers is learned from the teacher's ratings alone;
- the irony block (when ``blocks`` has it): one batch of SemEval-2018 irony tweets after every
  ``irony_every`` GoEmotions batches, binary cross-entropy on the irony output only;
- optionally (``vad_teacher``, :mod:`affectlab.train.vad_teacher`): VAD ratings of GoEmotions train by a
  base-size EmoBank model (the recipe of the model shipped on 2026-12-02).
With ``bf16`` the forward passes run in bfloat16 (the weights and the losses stay float32).
Every text is normalized as the analyzer will read it (:func:`~affectlab.text.normalize.token_ids`: emoji and
other symbols spelled out), so a symbol the tokenizer does not know is learned by its name, not as ``[UNK]``
(models trained before 2026-12-05 saw ``[UNK]``), and GoEmotions' ``[NAME]`` masks are filled with real first
names of many origins (``fill_names``, :mod:`affectlab.train.name_fill`). Batches are bucketed by length;
AdamW with linear warm-up and decay. After each epoch the per-label thresholds are tuned on the dev splits and
the artifact is written. Every ``checkpoint_every`` steps the run is checkpointed
(:mod:`affectlab.train.checkpoint`): running the same command again resumes it.
Test splits are never read here.
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

from affectlab.datasets import DEFAULT_DATA_DIR, load_emobank, load_goemotions, load_irony
from affectlab.encoders import load_tokenizer
from affectlab.encoders.named import named_base_model, named_model_dir
from affectlab.heads import BLOCKS, head_slices
from affectlab.metrics import f1_per_label, pearson, tune_thresholds
from affectlab.taxonomy import VAD
from affectlab.text.artifact import ArtifactConfig
from affectlab.text.model import AffectModel
from affectlab.text.normalize import token_ids
from affectlab.text.probabilities import sigmoid
from affectlab.text.runtime import TorchRuntime, pad_batch, run_sorted
from affectlab.train.checkpoint import Checkpoints
from affectlab.train.class_blocks import class_targets, tuned_blocks
from affectlab.train.irony_rule import choose_irony_rule
from affectlab.train.name_fill import fill_names
from affectlab.train.optim import Optimizer, bucketed_batches, provenance, seed_everything
from affectlab.train.text_ratings import load_text_ratings
from affectlab.train.vad_teacher import load_ratings


@dataclass
class TextRecipe:
    data_dir: Path = DEFAULT_DATA_DIR
    out_dir: Path = Path("runs/text-minilm")
    name: str = "text-minilm"
    encoder: str = "minilm"  # "mpnet": the base-size teacher (`affectlab train text-teacher`)
    blocks: tuple[str, ...] = BLOCKS
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
    teacher: Path | None = None  # a `train text-teacher` run: its ratings become targets too
    soft_weight: float = 0.5  # share of the class loss on GoEmotions given to the teacher's probabilities
    rated_every: int = 2  # one batch of other registers' teacher-rated texts after every N GoEmotions batches
    irony_every: int = 8
    vad_teacher: Path | None = None  # a `train vad-teacher` run: its VAD ratings of GoEmotions train become targets
    teacher_weight: float = 0.5  # weight of the mean squared error to a teacher's VAD
    fill_names: bool = True  # GoEmotions' [NAME] masks read as real first names (affectlab.train.name_fill)
    checkpoint_every: int = 300  # steps; an interrupted run resumes from its last checkpoint
    # the network's forward pass in bfloat16 (torch.autocast; weights, optimizer and losses stay float32): faster
    # training on CPUs with bfloat16 instructions (AVX512-BF16), slower on CPUs without them
    bf16: bool = False
    threads: int = 2
    limit: int | None = None  # the first N texts of each train and dev set only (smoke runs)


def _cycle(lengths: list[int], batch_size: int, rng: random.Random) -> Iterator[list[int]]:
    while True:
        yield from bucketed_batches(lengths, batch_size, rng)


@dataclass
class Rated:
    """Texts of other registers with the teacher's class probabilities and standardized VAD."""

    ids: list[list[int]]
    probs: np.ndarray
    vad_z: np.ndarray


def _teacher_targets(raw: np.ndarray, n_class: int, vad_mean, vad_std, teacher_vad_mean, teacher_vad_std):
    """Teacher head outputs → class probabilities and VAD standardized on the student's scale."""
    vad = raw[:, n_class : n_class + 3] * teacher_vad_std + teacher_vad_mean
    return sigmoid(raw[:, :n_class]).astype(np.float32), ((vad - vad_mean) / vad_std).astype(np.float32)


def dev_metrics(model: AffectModel, dev: dict, vad_mean, vad_std, batch_size) -> tuple[dict, float | None, dict]:
    """Tune thresholds on GoEmotions dev (and irony dev) and measure there; EmoBank dev Pearson r. With an irony
    block, also the irony rule's threshold (:mod:`affectlab.train.irony_rule`), and the class thresholds are
    tuned on the outputs with the rule applied, as the analyzer reads them. Returns thresholds, the rule's
    threshold (None without one) and the dev metrics."""
    model.eval()
    runtime = TorchRuntime(model)
    slices = head_slices(model.blocks)
    ge_out = run_sorted(runtime, dev["ge_ids"], batch_size * 4)
    thresholds, metrics, irony_rule = {}, {}, None
    if "irony" in slices:
        probs = sigmoid(run_sorted(runtime, dev["irony_ids"], batch_size * 4)[:, slices["irony"]])
        tuned = tune_thresholds(probs, dev["irony_gold"])
        thresholds["irony"] = [float(t) for t in tuned]
        metrics["irony_f1_tuned"] = float(f1_per_label(probs >= tuned, dev["irony_gold"])[0])
        rule = choose_irony_rule(ge_out, dev["ge_targets"], slices)
        irony_rule, metrics["irony_rule"] = rule.threshold, rule.report
        tuned_classes, macro_f1 = rule.thresholds, rule.macro_f1
    else:
        tuned_classes, macro_f1 = tuned_blocks(ge_out, dev["ge_targets"], slices)
    thresholds.update(tuned_classes)
    metrics.update({f"{name}_macro_f1_tuned": f1 for name, f1 in macro_f1.items()})
    vad = run_sorted(runtime, dev["eb_ids"], batch_size * 4)[:, slices["vad"]] * vad_std + vad_mean
    for i, dim in enumerate(VAD):
        metrics[f"{dim}_pearson"] = pearson(vad[:, i], dev["eb_vad"][:, i])
    model.train()
    return thresholds, irony_rule, metrics


def _load_rated(recipe: TextRecipe, tokenizer, n_class: int, vad_mean, vad_std) -> tuple[np.ndarray, Rated]:
    """The teacher's targets for GoEmotions train (probabilities, then VAD), and every other register's
    rated texts pooled."""
    ratings = load_text_ratings(recipe.teacher, recipe.data_dir, recipe.limit)
    rated = dict(ratings.sources)
    scale = (vad_mean, vad_std, ratings.vad_mean, ratings.vad_std)
    ge_soft = _teacher_targets(rated.pop("goemotions").raw, n_class, *scale)
    targets = [_teacher_targets(r.raw, n_class, *scale) for r in rated.values()]
    ids = [seq for r in rated.values() for seq in token_ids(tokenizer, r.texts)]
    pooled = Rated(ids, np.concatenate([p for p, _ in targets]), np.concatenate([v for _, v in targets]))
    return np.concatenate(ge_soft, axis=1), pooled


def train_text(recipe: TextRecipe, on_progress: Callable[[dict], None] | None = None) -> ArtifactConfig:
    """Train, tune thresholds on dev, and write the artifact to ``recipe.out_dir``."""
    started = time.time()
    rng = seed_everything(recipe.seed, recipe.threads)
    tokenizer = load_tokenizer(recipe.max_length, named_model_dir(recipe.encoder))
    with_irony = "irony" in recipe.blocks

    ge_train = load_goemotions("train", recipe.data_dir)
    eb_train = load_emobank("train", recipe.data_dir)
    ge_texts, ge_labels = ge_train.texts[: recipe.limit], ge_train.labels[: recipe.limit]
    eb_texts, eb_vad = eb_train.texts[: recipe.limit], np.array(eb_train.vad[: recipe.limit], np.float32)
    named = (lambda texts: fill_names(texts, recipe.seed)) if recipe.fill_names else list
    ge_ids, ge_targets = token_ids(tokenizer, named(ge_texts)), class_targets(ge_labels)
    eb_ids = token_ids(tokenizer, eb_texts)
    vad_mean, vad_std = eb_vad.mean(0), eb_vad.std(0)
    eb_z = (eb_vad - vad_mean) / vad_std
    n_class = ge_targets.shape[1]
    teacher_z = soft = rated = None
    if recipe.vad_teacher is not None:
        teacher_z = (load_ratings(recipe.vad_teacher, ge_texts) - vad_mean) / vad_std
    if recipe.teacher is not None:
        soft_and_vad, rated = _load_rated(recipe, tokenizer, n_class, vad_mean, vad_std)
        soft, teacher_z = soft_and_vad[:, :n_class], soft_and_vad[:, n_class:]
    if with_irony:
        irony = load_irony("train", recipe.data_dir)
        irony_ids = token_ids(tokenizer, irony.texts[: recipe.limit])
        irony_gold = np.array(irony.ironic[: recipe.limit], np.float32)[:, None]

    ge_dev, eb_dev = load_goemotions("dev", recipe.data_dir), load_emobank("dev", recipe.data_dir)
    n = recipe.limit  # smoke runs are measured on as few dev texts as they train on
    dev = {"ge_ids": token_ids(tokenizer, named(ge_dev.texts[:n])), "ge_targets": class_targets(ge_dev.labels[:n]),
           "eb_ids": token_ids(tokenizer, eb_dev.texts[:n]), "eb_vad": np.array(eb_dev.vad[:n], np.float32)}
    if with_irony:
        irony_dev = load_irony("dev", recipe.data_dir)
        dev.update(irony_ids=token_ids(tokenizer, irony_dev.texts[:n]),
                   irony_gold=np.array(irony_dev.ironic[:n], np.float32)[:, None])

    model = AffectModel(recipe.encoder, recipe.blocks)
    model.freeze_embeddings()
    model.train()
    ge_per_epoch = math.ceil(len(ge_ids) / recipe.batch_size)
    steps_per_epoch = ge_per_epoch + ge_per_epoch // recipe.emobank_every
    if rated is not None:
        steps_per_epoch += ge_per_epoch // recipe.rated_every
    if with_irony:
        steps_per_epoch += ge_per_epoch // recipe.irony_every
    total = steps_per_epoch * recipe.epochs
    optimizer = Optimizer(model, recipe.lr_encoder, recipe.lr_head, recipe.weight_decay, total, recipe.warmup)
    bce, mse = nn.BCEWithLogitsLoss(), nn.MSELoss()
    slices = head_slices(recipe.blocks)
    vad_slice = slices["vad"]
    eb_batches = _cycle([len(s) for s in eb_ids], recipe.batch_size, rng)
    rated_batches = None if rated is None else _cycle([len(s) for s in rated.ids], recipe.batch_size, rng)
    irony_batches = _cycle([len(s) for s in irony_ids], recipe.batch_size, rng) if with_irony else None
    checkpoints = Checkpoints(Path(recipe.out_dir), recipe.checkpoint_every, recipe)
    resume_at, history = checkpoints.restore(model, optimizer)
    step = 0

    def forward(seqs: list[list[int]]) -> torch.Tensor:
        ids, mask = pad_batch(seqs)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=recipe.bf16):
            return model(torch.from_numpy(ids), torch.from_numpy(mask)).float()

    def goemotions_loss(rows: list[int]) -> torch.Tensor:
        out = forward([ge_ids[r] for r in rows])
        loss = bce(out[:, :n_class], torch.from_numpy(ge_targets[rows]))
        if soft is not None:
            loss = (1 - recipe.soft_weight) * loss + recipe.soft_weight * bce(
                out[:, :n_class], torch.from_numpy(soft[rows]))
        if teacher_z is not None:
            loss = loss + recipe.teacher_weight * mse(out[:, vad_slice], torch.from_numpy(teacher_z[rows]))
        return loss

    def emobank_loss(rows: list[int]) -> torch.Tensor:
        out = forward([eb_ids[r] for r in rows])
        return recipe.vad_weight * mse(out[:, vad_slice], torch.from_numpy(eb_z[rows]))

    def rated_loss(rows: list[int]) -> torch.Tensor:
        out = forward([rated.ids[r] for r in rows])
        return bce(out[:, :n_class], torch.from_numpy(rated.probs[rows])) + recipe.teacher_weight * mse(
            out[:, vad_slice], torch.from_numpy(rated.vad_z[rows]))

    def irony_loss(rows: list[int]) -> torch.Tensor:
        out = forward([irony_ids[r] for r in rows])
        return bce(out[:, slices["irony"]], torch.from_numpy(irony_gold[rows]))

    # task → (its loss, the name its loss has in progress records)
    tasks = {"goemotions": (goemotions_loss, "loss"), "emobank": (emobank_loss, "vad_loss"),
             "rated": (rated_loss, "rated_loss"), "irony": (irony_loss, "irony_loss")}
    for epoch in range(1, recipe.epochs + 1):
        for i, rows in enumerate(bucketed_batches([len(s) for s in ge_ids], recipe.batch_size, rng), 1):
            # every batch is drawn even when it is skipped, so a resumed run sees the same order
            batches = [("goemotions", rows)]
            if i % recipe.emobank_every == 0:
                batches.append(("emobank", next(eb_batches)))
            if rated_batches is not None and i % recipe.rated_every == 0:
                batches.append(("rated", next(rated_batches)))
            if irony_batches is not None and i % recipe.irony_every == 0:
                batches.append(("irony", next(irony_batches)))
            record = {"epoch": epoch, "task": "goemotions"}
            for task, task_rows in batches:
                step += 1
                if step <= resume_at:
                    continue
                loss_of, key = tasks[task]
                loss = loss_of(task_rows)
                optimizer.step(loss)
                record[key] = loss.item()
                checkpoints.reached(step, model, optimizer, history)
            if on_progress is not None and step > resume_at:
                on_progress({**record, "step": step, "total": total})
        if len(history) >= epoch:  # evaluated before the run was resumed
            continue
        thresholds, irony_rule, metrics = dev_metrics(model, dev, vad_mean, vad_std, recipe.batch_size)
        history.append({"epoch": epoch, "seconds": round(time.time() - started, 1), **metrics})
        if on_progress is not None:
            on_progress({"epoch": epoch, "step": step, "total": total, "task": "dev", **metrics})
        config = ArtifactConfig(
            name=recipe.name,
            base_model=named_base_model(recipe.encoder),
            encoder=recipe.encoder,
            blocks=list(recipe.blocks),
            max_length=recipe.max_length,
            thresholds=thresholds,
            irony_rule=irony_rule,
            vad_mean=[float(v) for v in vad_mean],
            vad_std=[float(v) for v in vad_std],
            trained=provenance(recipe, epoch, history),
        )
        out_dir = Path(recipe.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        model.save_weights(out_dir)
        config.save(out_dir)
        if epoch < recipe.epochs:
            checkpoints.save(step, model, optimizer, history)
    checkpoints.clear()
    return config
