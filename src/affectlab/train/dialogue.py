"""The recipe of the cause model (``affectlab train causes``; the turn-emotion recipe is
:mod:`affectlab.train.turns`).

all-MiniLM-L6-v2 (embeddings frozen) over target-led windows of RECCON-DD train: binary cross-entropy on every
(target, candidate) pair plus cross-entropy on the start and end token of each cause span; after each
epoch the pair threshold is tuned on RECCON-DD valid for macro-F1. With ``teacher``, the targets a cause
teacher rated (:mod:`affectlab.train.cause_teacher`) join the training windows: its probabilities are
the pair targets, its spans the span targets wherever it judged the pair a cause.

It keeps the epoch that scores best on the dev split (the mean of entailment macro-F1 and span F1_pos) and
writes the artifact whenever an epoch improves on it, so an interrupted run keeps the best finished one. Test
splits are never read here.
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

from affectlab.datasets import DEFAULT_DATA_DIR, load_reccon
from affectlab.dialogue.artifact import CAUSE_MODEL, DialogueConfig
from affectlab.dialogue.cause_task import cause_pairs, cause_queries, predicted_spans, tokenize_dialogues
from affectlab.dialogue.models import CauseModel
from affectlab.dialogue.packing import TurnTokenizer, pack_causes
from affectlab.dialogue.predict import cause_inputs, cause_scores
from affectlab.encoders import BASE_MODEL
from affectlab.encoders.finetuned import freeze_embeddings, save_finetuned
from affectlab.encoders.mpnet import TEACHER_MODEL, load_teacher_encoder, teacher_model_dir
from affectlab.metrics import binary_f1s, span_scores
from affectlab.registry import WEIGHTS_FILE
from affectlab.taxonomy import EKMAN
from affectlab.train.cause_ratings import load_cause_ratings, target_queries
from affectlab.train.optim import Optimizer, bucketed_batches, provenance, seed_everything

CAUSE_TEACHER = "cause-teacher-mpnet"
PAIR_THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)


@dataclass
class DialogueRecipe:
    data_dir: Path = DEFAULT_DATA_DIR
    out_dir: Path | None = None  # default: runs/<name>
    seed: int = 13
    epochs: int = 3
    batch_size: int = 16  # windows
    turn_tokens: int = 96
    window_tokens: int = 320
    context_turns: int = 4
    lr_encoder: float = 5e-5
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    span_weight: float = 1.0
    encoder: str = "minilm"  # "mpnet" trains the cause teacher (see train/cause_teacher.py)
    teacher: Path | None = None  # a `train cause-teacher` run whose ratings are learned too
    threads: int = 2
    limit: int | None = None  # first N dialogues of each split only (smoke runs)

    @property
    def name(self) -> str:
        return CAUSE_TEACHER if self.encoder == "mpnet" else CAUSE_MODEL


def _char_span_tokens(begin: int, finish: int, offsets: list[tuple[int, int]]) -> tuple[int, int] | None:
    inside = [k for k, (s, e) in enumerate(offsets) if e > begin and s < finish]
    return (inside[0], inside[-1]) if inside else None


def _span_tokens(text: str, span: str, offsets: list[tuple[int, int]]) -> tuple[int, int] | None:
    begin = text.find(span)
    if begin < 0 or not span:
        return None
    return _char_span_tokens(begin, begin + len(span), offsets)


def _cause_examples(queries, tokenizer, recipe):
    examples = []
    for query, d in queries:
        gold = dict(zip(d.causes[query.target], d.spans[query.target]))
        for packed in pack_causes(query.tokens, query.letters, query.target, query.emotion, tokenizer,
                                  recipe.window_tokens):
            labels = [float(turn in gold) for turn in packed.turns]
            spans = []  # (slot, first token, last token) inside the slot
            for slot, turn in enumerate(packed.turns, 1):
                if turn in gold:
                    found = _span_tokens(d.texts[turn], gold[turn], query.tokens[turn].offsets)
                    if found:
                        spans.append((slot, *found))
            examples.append((packed, query, labels, spans))
    return examples


def _teacher_examples(folder: Path, tokenizer, recipe):
    chosen, ratings, threshold = load_cause_ratings(folder, recipe.data_dir)
    examples = []
    for query, rating in zip(target_queries(chosen, tokenizer), ratings):
        for packed in pack_causes(query.tokens, query.letters, query.target, query.emotion, tokenizer,
                                  recipe.window_tokens):
            labels = [rating["probs"][turn] for turn in packed.turns]
            spans = []
            for slot, turn in enumerate(packed.turns, 1):
                found = _char_span_tokens(*rating["spans"][turn], query.tokens[turn].offsets)
                if rating["probs"][turn] >= threshold and found:
                    spans.append((slot, *found))
            examples.append((packed, query, labels, spans))
    return examples


def _span_loss(start: torch.Tensor, end: torch.Tensor, slots: torch.Tensor, batch) -> torch.Tensor:
    losses = []
    for row, (_, _, _, spans) in enumerate(batch):
        for slot, first, last in spans:
            positions = torch.nonzero(slots[row] == slot).squeeze(-1)
            losses.append(nn.functional.cross_entropy(start[row, positions][None], torch.tensor([first])))
            losses.append(nn.functional.cross_entropy(end[row, positions][None], torch.tensor([last])))
    return torch.stack(losses).mean() if losses else start.sum() * 0.0


def tune_threshold(probs: np.ndarray, gold: np.ndarray) -> tuple[float, dict]:
    best = max(PAIR_THRESHOLD_GRID, key=lambda t: (binary_f1s(probs >= t, gold)["macro_f1"], -t))
    return float(best), binary_f1s(probs >= best, gold)


def train_dialogue(recipe: DialogueRecipe, on_progress: Callable[[dict], None] | None = None) -> DialogueConfig:
    started = time.time()
    rng = seed_everything(recipe.seed, recipe.threads)
    teacher = recipe.encoder == "mpnet"
    tokenizer = TurnTokenizer(recipe.turn_tokens, teacher_model_dir() if teacher else None)
    train = load_reccon("dailydialog_train", recipe.data_dir)[: recipe.limit]
    dev = load_reccon("dailydialog_valid", recipe.data_dir)[: recipe.limit]
    model = CauseModel(load_teacher_encoder() if teacher else None)
    train_tokens, dev_tokens = tokenize_dialogues(train, tokenizer), tokenize_dialogues(dev, tokenizer)
    dev_queries = cause_queries(dev, dev_tokens)
    examples = _cause_examples(cause_queries(train, train_tokens), tokenizer, recipe)
    if recipe.teacher is not None:
        examples += _teacher_examples(recipe.teacher, tokenizer, recipe)
    freeze_embeddings(model)
    model.train()
    total = math.ceil(len(examples) / recipe.batch_size) * recipe.epochs
    optimizer = Optimizer(model, recipe.lr_encoder, recipe.lr_head, recipe.weight_decay, total, recipe.warmup)
    lengths = [len(e[0].ids) for e in examples]
    history, step, kept = [], 0, None
    config = DialogueConfig(recipe.name, "causes", list(EKMAN), turn_tokens=recipe.turn_tokens,
                            window_tokens=recipe.window_tokens, context_turns=recipe.context_turns,
                            base_model=TEACHER_MODEL if teacher else BASE_MODEL)
    out_dir = Path(recipe.out_dir or Path("runs") / recipe.name)
    for epoch in range(1, recipe.epochs + 1):
        for rows in bucketed_batches(lengths, recipe.batch_size, rng):
            batch = [examples[r] for r in rows]
            inputs = cause_inputs([(p, q) for p, q, _, _ in batch])
            out = model(**inputs)
            labels = torch.full(out.pair.shape, -1.0)
            for row, (_, _, gold, _) in enumerate(batch):
                labels[row, : len(gold)] = torch.tensor(gold)
            known = labels >= 0
            pair_loss = nn.functional.binary_cross_entropy_with_logits(out.pair[known], labels[known])
            span_loss = _span_loss(out.start, out.end, inputs["slots"], batch)
            loss = pair_loss + recipe.span_weight * span_loss
            optimizer.step(loss)
            step += 1
            if on_progress is not None:
                on_progress({"epoch": epoch, "step": step, "total": total, "task": "causes",
                             "loss": pair_loss.item(), "span_loss": span_loss.item()})
        model.eval()
        scores = cause_scores(model, tokenizer, [q for q, _ in dev_queries], recipe.window_tokens)
        threshold, entail = tune_threshold(*cause_pairs(dev_queries, scores))
        spans = span_scores(*predicted_spans(dev_queries, scores, threshold))
        metrics = {**entail, "threshold": threshold, "span_f1_pos": spans["f1_pos"],
                   "span_f1_pos_nested": spans["f1_pos_nested"], "span_f1": spans["f1"]}
        selection = (entail["macro_f1"] + spans["f1_pos"]) / 2  # the two RECCON subtasks, equally
        model.train()
        history.append({"epoch": epoch, "seconds": round(time.time() - started, 1), "selection": selection, **metrics})
        if on_progress is not None:
            on_progress({"epoch": epoch, "step": step, "total": total, "task": "dev", **metrics})
        out_dir.mkdir(parents=True, exist_ok=True)
        if kept is None or selection > history[kept - 1]["selection"]:
            kept = epoch
            config.threshold = threshold
            save_finetuned(model, out_dir / WEIGHTS_FILE, config.base_model)
        config.trained = provenance(recipe, epoch, history, kept_epoch=kept)
        config.save(out_dir)
    return config
