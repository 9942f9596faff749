"""The turn-emotion recipe (``affectlab train turns``): one model for several registers of conversation.

all-MiniLM-L6-v2 (embeddings frozen) reads block-causal windows of turns (:mod:`affectlab.dialogue.packing`)
from DailyDialog, MELD, GoEmotions and EmpatheticDialogues' openings (each after a few unlabelled turns of
another conversation; :mod:`affectlab.train.turn_data`), and each turn's pooled vector is joined by the text
model's reading of that turn (its Ekman and sentiment probabilities, :mod:`affectlab.dialogue.text_readings`;
read once per run and cached in the run folder) before a linear head. Cross-entropy on every labelled turn's
7-way label. With ``register_heads``, every register has a linear head of its own: a turn's loss is taken on its
corpus's head and on ``general``'s, so each corpus head learns that corpus's habits (how often it calls a turn
neutral, say) while ``general`` learns from every turn (:func:`affectlab.dialogue.registers.register_logits`).
Each epoch sees every DailyDialog window, MELD's windows ``meld_repeat`` times and every opening, and the
GoEmotions comments as one-turn windows in batches of their own (larger, since they are short); all batches are
shuffled together.

After each epoch every register's neutral bias and the weight of the text model's Ekman evidence are tuned on the
dev splits (:mod:`affectlab.train.register_calibration`; ``calibrate_turns`` redoes only this for a trained
run). The kept epoch is the one whose ``general`` register scores best on
the mean of the dev metrics; the artifact is written whenever an epoch improves on it. A checkpoint every
``checkpoint_every`` steps (:mod:`affectlab.train.checkpoint`) lets an interrupted run resume where it stopped and
end with the weights of one never stopped. With ``bf16`` the forward passes run in bfloat16 (weights, optimizer
and loss in float32). Test splits and MELD's held-out part are never read here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from affectlab.datasets import DEFAULT_DATA_DIR, MELD_HELDOUT_SEED, MELD_HELDOUT_SHARE, Dialogue
from affectlab.dialogue.artifact import TURN_MODEL, DialogueConfig
from affectlab.dialogue.cause_task import tokenize_dialogues
from affectlab.dialogue.models import TurnEmotionModel
from affectlab.dialogue.packing import Packed, TurnTokenizer, pack_turns
from affectlab.dialogue.predict import turn_emotion_logits, turn_inputs
from affectlab.dialogue.registers import CORPORA, GENERAL, REGISTERS
from affectlab.dialogue.text_readings import TextModelMismatch, ekman_evidence, text_features_record
from affectlab.encoders.finetuned import freeze_embeddings, save_finetuned
from affectlab.registry import WEIGHTS_FILE
from affectlab.taxonomy import EKMAN
from affectlab.train.checkpoint import Checkpoints
from affectlab.train.optim import Optimizer, bucketed_batches, provenance, seed_everything
from affectlab.train.register_calibration import calibrate_registers
from affectlab.train.turn_data import CONTEXT_ONLY, TurnCorpus, turn_corpora
from affectlab.train.turn_readings import cached_readings

ONE_TURN = ("goemotions",)  # the corpora of one-turn conversations, batched on their own


@dataclass
class TurnsRecipe:
    data_dir: Path = DEFAULT_DATA_DIR
    out_dir: Path | None = None  # default: runs/<name>
    seed: int = 13
    epochs: int = 2
    batch_size: int = 16  # windows of DailyDialog and MELD turns, and openings in their context
    one_turn_batch_size: int = 64  # GoEmotions comments (one short turn each)
    meld_repeat: int = 2  # times each MELD window is seen per epoch
    goemotions: int = 15_000  # GoEmotions train comments (of one Ekman class) sampled
    text_features: bool = True  # join the text model's reading of each turn to its pooled vector
    register_heads: bool = False  # a head per register: each corpus's own, and general's trained on every turn
    turn_tokens: int = 96
    window_tokens: int = 320
    context_turns: int = 4
    lr_encoder: float = 5e-5
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    checkpoint_every: int = 300  # steps
    bf16: bool = False  # forward passes in bfloat16 (faster on CPUs with AVX512-BF16)
    threads: int = 2
    limit: int | None = None  # first N conversations of each split only (smoke runs)

    @property
    def name(self) -> str:
        return TURN_MODEL

    @property
    def heads(self) -> list[str]:
        return list(REGISTERS) if self.register_heads else []


@dataclass(frozen=True)
class TurnExample:
    packed: Packed
    labels: list[int]  # per slot; -100 for context-only turns (at the start of a window, or unlabelled)
    features: np.ndarray | None  # [slots, readings]
    corpus: str


def _split(readings: np.ndarray | None, dialogues: list[Dialogue]) -> list[np.ndarray] | list[None]:
    if readings is None:
        return [None] * len(dialogues)
    return np.split(readings, np.cumsum([len(d.texts) for d in dialogues])[:-1])


def _examples(corpus: TurnCorpus, tokenized, readings, recipe: TurnsRecipe, tokenizer) -> list[TurnExample]:
    label_index = {CONTEXT_ONLY: -100} | {label: i for i, label in enumerate(EKMAN)}
    examples = []
    for d, (tokens, letters), numbers in zip(corpus.train, tokenized, readings):
        for packed, skip in pack_turns(tokens, letters, tokenizer, recipe.window_tokens, recipe.context_turns):
            labels = [-100] * skip + [label_index[d.emotions[t]] for t in packed.turns[skip:]]
            examples.append(TurnExample(packed, labels, None if numbers is None else numbers[packed.turns],
                                        corpus.name))
    return examples


def epoch_batches(examples: list[TurnExample], recipe: TurnsRecipe, rng: random.Random) -> list[list[int]]:
    """One epoch's batches of example indices: conversation windows (MELD's repeated) bucketed by length in
    batches of ``batch_size``, one-turn conversations in batches of ``one_turn_batch_size``, all shuffled."""
    batches = []
    for one_turn, size in ((False, recipe.batch_size), (True, recipe.one_turn_batch_size)):
        pool = [i for i, e in enumerate(examples) if (e.corpus in ONE_TURN) == one_turn
                for _ in range(recipe.meld_repeat if e.corpus == "meld" else 1)]
        lengths = [len(examples[i].packed.ids) for i in pool]
        batches += [[pool[j] for j in batch] for batch in bucketed_batches(lengths, size, rng)]
    rng.shuffle(batches)
    return batches


def _loss(model, batch: list[TurnExample], heads: list[str], bf16: bool = False) -> torch.Tensor:
    features = None if batch[0].features is None else [e.features for e in batch]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(**turn_inputs([e.packed for e in batch], features)).float()
    labels = torch.full(logits.shape[:2], -100, dtype=torch.long)
    for row, example in enumerate(batch):
        labels[row, : len(example.labels)] = torch.tensor(example.labels)
    if not heads:
        return nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
    per_head = logits.unflatten(-1, (len(heads), -1))
    own = per_head[torch.arange(len(batch)), :, torch.tensor([heads.index(e.corpus) for e in batch])]
    return sum(nn.functional.cross_entropy(found.flatten(0, 1), labels.flatten(), ignore_index=-100)
               for found in (own, per_head[:, :, heads.index(GENERAL)]))


def _dev_logits(model, tokenizer, corpora, dev_inputs, recipe: TurnsRecipe) -> dict[str, np.ndarray]:
    logits = {}
    for corpus, (tokenized, readings) in zip(corpora, dev_inputs):
        size = recipe.one_turn_batch_size if corpus.name in ONE_TURN else recipe.batch_size
        per_dialogue, _ = turn_emotion_logits(model, tokenizer, tokenized, recipe.window_tokens, recipe.context_turns,
                                              size, readings)
        logits[corpus.name] = np.concatenate(per_dialogue)
    return logits


def _calibrated(model, tokenizer, corpora, dev_inputs, gold, recipe: TurnsRecipe,
                heads: list[str]) -> tuple[dict, dict, dict]:
    """Every register's neutral bias, text weight and dev scores for ``model`` as it is now."""
    labelled = {name: np.array([label != CONTEXT_ONLY for label in labels]) for name, labels in gold.items()}
    evidence = None
    if dev_inputs[0][1] is not None:
        evidence = {c.name: ekman_evidence(np.concatenate(readings))[labelled[c.name]]
                    for c, (_, readings) in zip(corpora, dev_inputs)}
    model.eval()
    logits = {name: found[labelled[name]] for name, found in _dev_logits(model, tokenizer, corpora, dev_inputs,
                                                                         recipe).items()}
    model.train()
    return calibrate_registers(logits, {name: [label for label in labels if label != CONTEXT_ONLY]
                                        for name, labels in gold.items()}, evidence, heads)


def _readings(corpora: list[TurnCorpus], recipe: TurnsRecipe, out_dir: Path, on_progress) -> tuple[list, dict | None]:
    """Per corpus, the readings of its (train, dev) turns split by conversation, and the record of the text model
    (None without text features)."""
    if not recipe.text_features:
        return [(_split(None, c.train), _split(None, c.dev)) for c in corpora], None
    from affectlab.text import Analyzer

    analyzer = Analyzer(threads=recipe.threads, on_long="truncate")
    if on_progress is not None:
        on_progress({"task": f"reading the turns with {analyzer.model_name}", "step": 0, "total": None})
    texts = [t for c in corpora for dialogues in (c.train, c.dev) for d in dialogues for t in d.texts]
    flat = cached_readings(out_dir, texts, analyzer)
    parts, start = [], 0
    for c in corpora:
        split = []
        for dialogues in (c.train, c.dev):
            stop = start + sum(len(d.texts) for d in dialogues)
            split.append(_split(flat[start:stop], dialogues))
            start = stop
        parts.append(tuple(split))
    return parts, text_features_record(analyzer)


def _prepared(recipe: TurnsRecipe, out_dir: Path, on_progress) -> tuple:
    """The corpora, the text model's record, the tokenizer, the training examples, the dev inputs and gold."""
    corpora = turn_corpora(recipe.data_dir, recipe.goemotions, recipe.seed, recipe.limit)
    readings, record = _readings(corpora, recipe, out_dir, on_progress)
    tokenizer = TurnTokenizer(recipe.turn_tokens)
    examples, dev_inputs = [], []
    for corpus, (train_readings, dev_readings) in zip(corpora, readings):
        examples += _examples(corpus, tokenize_dialogues(corpus.train, tokenizer), train_readings, recipe, tokenizer)
        dev_inputs.append((tokenize_dialogues(corpus.dev, tokenizer), dev_readings if record else None))
    gold = {c.name: [e for d in c.dev for e in d.emotions] for c in corpora}
    return corpora, record, tokenizer, examples, dev_inputs, gold


def calibrate_turns(out_dir: Path, threads: int = 2,
                    on_progress: Callable[[dict], None] | None = None) -> DialogueConfig:
    """Tune every register's neutral bias and text weight again for the trained turn model in ``out_dir`` (on the
    dev splits of its own recipe), without training: for a run made before a calibration change."""
    from affectlab.encoders.finetuned import load_finetuned

    out_dir = Path(out_dir)
    config = DialogueConfig.load(out_dir)
    fields = dict(config.trained["recipe"], out_dir=out_dir, data_dir=Path(config.trained["recipe"]["data_dir"]),
                  threads=threads)
    recipe = TurnsRecipe(**fields)
    seed_everything(recipe.seed, recipe.threads)
    corpora, record, tokenizer, _, dev_inputs, gold = _prepared(recipe, out_dir, on_progress)
    if record != config.text_features:
        raise TextModelMismatch(f"{out_dir} was trained on the readings of another text model than the one "
                                "installed: train it again (affectlab train turns)")
    model = load_finetuned(TurnEmotionModel(len(EKMAN), config.n_features, n_heads=config.n_heads),
                           out_dir / WEIGHTS_FILE)
    biases, weights, scores = _calibrated(model, tokenizer, corpora, dev_inputs, gold, recipe, config.heads)
    config.neutral_bias, config.text_weight = biases, weights
    config.trained["calibration"] = {"date": provenance(recipe, 0, [])["date"], "neutral_bias": biases,
                                     "text_weight": weights, "dev": scores}
    config.save(out_dir)
    if on_progress is not None:
        on_progress({"task": "dev", "epoch": config.trained.get("kept_epoch"), "step": 0, "total": None,
                     **{f"{corpus} (own register)": scores[corpus][corpus] for corpus in CORPORA},
                     **{corpus: scores[GENERAL][corpus] for corpus in CORPORA}})
    return config


def train_turns(recipe: TurnsRecipe, on_progress: Callable[[dict], None] | None = None) -> DialogueConfig:
    started = time.time()
    rng = seed_everything(recipe.seed, recipe.threads)
    out_dir = Path(recipe.out_dir or Path("runs") / recipe.name)
    corpora, record, tokenizer, examples, dev_inputs, gold = _prepared(recipe, out_dir, on_progress)

    config = DialogueConfig(recipe.name, "turn-emotions", list(EKMAN), turn_tokens=recipe.turn_tokens,
                            window_tokens=recipe.window_tokens, context_turns=recipe.context_turns,
                            text_features=record, heads=recipe.heads)
    model = TurnEmotionModel(len(EKMAN), config.n_features, n_heads=config.n_heads)
    freeze_embeddings(model)
    model.train()
    batches = epoch_batches(examples, recipe, rng)
    total = len(batches) * recipe.epochs
    optimizer = Optimizer(model, recipe.lr_encoder, recipe.lr_head, recipe.weight_decay, total, recipe.warmup)
    data = {c.name: c.summary() for c in corpora}
    data["meld"]["heldout_left_out"] = {"share": MELD_HELDOUT_SHARE, "seed": MELD_HELDOUT_SEED}
    checkpoints = Checkpoints(out_dir, recipe.checkpoint_every, recipe)
    resume_at, history = checkpoints.restore(model, optimizer)
    step = 0
    for epoch in range(1, recipe.epochs + 1):
        if epoch > 1:  # drawn even when the epoch is skipped, so a resumed run sees the same order
            batches = epoch_batches(examples, recipe, rng)
        for rows in batches:
            step += 1
            if step <= resume_at:
                continue
            loss = _loss(model, [examples[r] for r in rows], config.heads, recipe.bf16)
            optimizer.step(loss)
            checkpoints.reached(step, model, optimizer, history)
            if on_progress is not None:
                on_progress({"epoch": epoch, "step": step, "total": total, "task": "turn-emotions",
                             "loss": loss.item()})
        if len(history) >= epoch:  # calibrated before the run was resumed
            continue
        biases, weights, scores = _calibrated(model, tokenizer, corpora, dev_inputs, gold, recipe, config.heads)
        selection = float(np.mean(list(scores[GENERAL].values())))
        history.append({"epoch": epoch, "seconds": round(time.time() - started, 1), "selection": selection,
                        "neutral_bias": biases, "text_weight": weights, "dev": scores})
        if on_progress is not None:
            on_progress({"epoch": epoch, "step": step, "total": total, "task": "dev", "selection": selection,
                         **{corpus: scores[GENERAL][corpus] for corpus in CORPORA},
                         **{f"{corpus} (own register)": scores[corpus][corpus] for corpus in CORPORA}})
        out_dir.mkdir(parents=True, exist_ok=True)
        kept = 1 + max(range(len(history)), key=lambda i: (history[i]["selection"], -i))  # the first best
        if kept == epoch:
            save_finetuned(model, out_dir / WEIGHTS_FILE, config.base_model)
        config.neutral_bias, config.text_weight = history[kept - 1]["neutral_bias"], history[kept - 1]["text_weight"]
        config.trained = {**provenance(recipe, epoch, history, kept_epoch=kept), "data": data}
        config.save(out_dir)
        if epoch < recipe.epochs:
            checkpoints.save(step, model, optimizer, history)
    checkpoints.clear()
    return config
