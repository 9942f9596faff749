"""Recipes for the two context classifiers the empathetic responder uses.

``affectlab train sem`` — the small empathetic model (SEM): the speaker's emotion, 32 EmpatheticDialogues
labels, from the conversation up to the speaker's last turn. A quarter of the training examples (drawn
anew each epoch, for both models) also carry the written situation, so one model serves both settings;
dev accuracy is measured without it.

``affectlab train strategies`` — the supporter's next strategy, 8 ESConv labels, from the dialogue
before that supporter turn. Earlier supporter turns carry their strategy as a tag (as in the ESConv
baselines); a quarter of the examples that do not show the situation drop the tags, so the model also
works on conversations nobody annotated.

The strategy model also gets a prior correction (logit adjustment, Menon et al. 2021): its logits are
shifted by −τ·log(train label share), with τ tuned on valid for macro-F1 among the values that keep
accuracy within 0.005 of the uncorrected model's. Frequent strategies (Question, Others) lose their pull,
which lowers the preference bias that Kang et al. (2024) measure.

Both: all-MiniLM-L6-v2 with frozen embeddings, mean pooling, one linear layer, cross-entropy with label
smoothing, length-bucketed batches, AdamW with warm-up and decay. The artifact is written after every
epoch (the best dev epoch is kept); test splits are never read here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from affectlab.datasets import DEFAULT_DATA_DIR, ContextExample, load_empathetic_dialogues, load_esconv
from affectlab.dialogue.artifact import DialogueConfig
from affectlab.dialogue.context import encode_context
from affectlab.dialogue.context_model import ContextModel
from affectlab.dialogue.packing import TurnTokenizer
from affectlab.metrics import macro_f1_single
from affectlab.registry import DEFAULTS
from affectlab.taxonomy import ED_EMOTIONS, ESCONV_STRATEGIES
from affectlab.text.runtime import TorchRuntime, pad_batch, run_sorted
from affectlab.train.optim import Optimizer, bucketed_batches, provenance, seed_everything

TASKS = {
    "speaker-emotion": (ED_EMOTIONS, load_empathetic_dialogues, "valid"),
    "next-strategy": (ESCONV_STRATEGIES, load_esconv, "valid"),
}


@dataclass
class ContextRecipe:
    task: str  # "speaker-emotion" or "next-strategy"
    data_dir: Path = DEFAULT_DATA_DIR
    out_dir: Path | None = None  # default: runs/<name>
    seed: int = 13
    epochs: int = 2
    batch_size: int = 32
    turn_tokens: int = 96
    max_tokens: int = 160
    situation_rate: float = 0.25  # share of training examples that also show the situation
    untagged_rate: float = 0.25  # share of training examples whose strategy tags are dropped
    label_smoothing: float = 0.1
    prior_correction: bool = False  # tune τ for logit adjustment on valid (the strategy model)
    lr_encoder: float = 8e-5
    lr_head: float = 2e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    threads: int = 2
    limit: int | None = None  # first N examples of each split only (smoke runs)

    @property
    def name(self) -> str:
        return DEFAULTS[self.task]


def encode_examples(tokenizer: TurnTokenizer, examples: list[ContextExample], max_tokens: int,
                    situation: bool = False, tags: bool = True) -> list[list[int]]:
    return [
        encode_context(tokenizer, e.texts, e.roles, max_tokens, e.tags if tags else None,
                       e.situation if situation else "").ids
        for e in examples
    ]


def accuracy_report(scores: np.ndarray, gold: np.ndarray, n_labels: int) -> dict[str, float]:
    ranked = np.argsort(-scores, axis=1)
    return {
        "accuracy": float((ranked[:, 0] == gold).mean()),
        "top3_accuracy": float((ranked[:, :3] == gold[:, None]).any(1).mean()),
        "macro_f1": macro_f1_single(ranked[:, 0], gold, n_labels),
    }


PRIOR_CORRECTION_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
ACCURACY_TOLERANCE = 0.005


def label_log_prior(gold: np.ndarray, n_labels: int) -> np.ndarray:
    counts = np.bincount(gold, minlength=n_labels) + 1.0
    return np.log(counts / counts.sum())


def tune_prior_correction(logits: np.ndarray, gold: np.ndarray, log_prior: np.ndarray) -> float:
    """τ from the grid with the best macro-F1 among those within ``ACCURACY_TOLERANCE`` of τ = 0's accuracy."""
    scored = []
    for tau in PRIOR_CORRECTION_GRID:
        predicted = (logits - tau * log_prior).argmax(1)
        scored.append((tau, float((predicted == gold).mean()), macro_f1_single(predicted, gold, len(log_prior))))
    floor = scored[0][1] - ACCURACY_TOLERANCE
    return max((s for s in scored if s[1] >= floor), key=lambda s: s[2])[0]


def predict_logits(model: ContextModel, sequences: list[list[int]], batch_size: int) -> np.ndarray:
    return run_sorted(TorchRuntime(model), sequences, batch_size)


def train_context(recipe: ContextRecipe, on_progress: Callable[[dict], None] | None = None) -> DialogueConfig:
    started = time.time()
    rng = seed_everything(recipe.seed, recipe.threads)
    labels, load, dev_split = TASKS[recipe.task]
    index = {label: i for i, label in enumerate(labels)}
    tokenizer = TurnTokenizer(recipe.turn_tokens)
    train = load("train", recipe.data_dir)[: recipe.limit]
    dev = load(dev_split, recipe.data_dir)[: recipe.limit]
    gold = np.array([index[e.label] for e in train])
    dev_gold = np.array([index[e.label] for e in dev])
    plain = encode_examples(tokenizer, train, recipe.max_tokens)
    with_situation = encode_examples(tokenizer, train, recipe.max_tokens, situation=True)
    untagged = encode_examples(tokenizer, train, recipe.max_tokens, tags=False)
    dev_ids = encode_examples(tokenizer, dev, recipe.max_tokens)

    model = ContextModel(len(labels))
    model.freeze_embeddings()
    model.train()
    per_epoch = math.ceil(len(train) / recipe.batch_size)
    total = per_epoch * recipe.epochs
    optimizer = Optimizer(model, recipe.lr_encoder, recipe.lr_head, recipe.weight_decay, total, recipe.warmup)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    out_dir = Path(recipe.out_dir or Path("runs") / recipe.name)
    history, step, best = [], 0, -1.0
    for epoch in range(1, recipe.epochs + 1):
        variant = [
            with_situation[i] if rng.random() < recipe.situation_rate
            else untagged[i] if rng.random() < recipe.untagged_rate else plain[i]
            for i in range(len(train))
        ]
        for rows in bucketed_batches([len(s) for s in variant], recipe.batch_size, rng):
            ids, mask = pad_batch([variant[r] for r in rows])
            loss = loss_fn(model(torch.from_numpy(ids), torch.from_numpy(mask)), torch.from_numpy(gold[rows]))
            optimizer.step(loss)
            step += 1
            if on_progress is not None:
                on_progress({"epoch": epoch, "step": step, "total": total, "loss": loss.item()})
        model.eval()
        logits = predict_logits(model, dev_ids, recipe.batch_size * 2)
        model.train()
        metrics = accuracy_report(logits, dev_gold, len(labels))
        label_bias = []
        if recipe.prior_correction:
            log_prior = label_log_prior(gold, len(labels))
            tau = tune_prior_correction(logits, dev_gold, log_prior)
            label_bias = [float(-tau * v) for v in log_prior]
            corrected = accuracy_report(logits + np.array(label_bias), dev_gold, len(labels))
            metrics.update(prior_correction_tau=tau, **{f"corrected_{k}": v for k, v in corrected.items()})
        history.append({"epoch": epoch, "seconds": round(time.time() - started, 1), **metrics})
        if on_progress is not None:
            on_progress({"epoch": epoch, "step": step, "total": total, "task": "dev", **metrics})
        if metrics["accuracy"] <= best:
            continue
        best = metrics["accuracy"]
        config = DialogueConfig(
            name=recipe.name, task=recipe.task, labels=list(labels), turn_tokens=recipe.turn_tokens,
            window_tokens=recipe.max_tokens, label_bias=label_bias,
            trained=provenance(recipe, epoch, history),
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        model.save_weights(out_dir)
        config.save(out_dir)
    return DialogueConfig.load(out_dir)
