"""Recipe for the fast profile's model (``affectlab train text-static``): static token vectors with their own head.

1. **Distil** (model2vec's method, written out here: model2vec's own distillation needs ``transformers<5.4``):
   every vocabulary token alone, ``[CLS] token [SEP]``, through the encoder of ``source`` (the fine-tuned text
   model; ``base``: the plain all-MiniLM-L6-v2), its token states mean-pooled; the vectors centred and reduced
   to ``dims`` by PCA, then scaled by a smooth-inverse-frequency weight ``sif / (sif + p)``, where ``p`` is the
   Zipf probability of the token's rank in the vocabulary.
2. **Rate**: the ``teacher`` text model's outputs on GoEmotions train (the texts as the analyzer normalizes
   them, the first 128-token window): its class probabilities and VAD.
3. **Train** the vectors and a two-layer head together (a text is the sum of its token vectors scaled to unit
   length, as :mod:`affectlab.text.static` reads it): on each GoEmotions batch, binary cross-entropy on the
   28 + Ekman + sentiment outputs against ``(1 - distill_weight)`` × gold + ``distill_weight`` × the teacher's
   probabilities, plus ``vad_weight`` × mean squared error to the teacher's standardized VAD; after every
   ``emobank_every`` GoEmotions batches, one EmoBank train batch, ``vad_weight`` × mean squared error on gold
   standardized VAD. AdamW at a constant rate (``lr_vectors`` for the vectors, ``lr_head`` for the head).
4. After each epoch, the weights as shipped (``precision``: int8 vectors with one scale per token, or fp16)
   are read by the runtime itself on GoEmotions dev: per-label thresholds tuned there, macro-F1 of each block.
   The epoch with the best mean of the three macro-F1s is kept. Test splits are never read here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save
from torch import nn

from affectlab.datasets import DEFAULT_DATA_DIR, load_emobank, load_goemotions
from affectlab.encoders import load_encoder, load_tokenizer, mean_pool
from affectlab.encoders.named import named_model_dir
from affectlab.errors import OptionError
from affectlab.heads import head_slices
from affectlab.metrics import pearson
from affectlab.registry import DEFAULTS, WEIGHTS_FILE, fingerprint
from affectlab.taxonomy import VAD
from affectlab.text.artifact import STATIC_TASK, ArtifactConfig, resolve_artifact
from affectlab.text.model import AffectModel
from affectlab.text.normalize import normalize
from affectlab.text.probabilities import sigmoid
from affectlab.text.runtime import TorchRuntime, run_sorted
from affectlab.text.static import StaticModel
from affectlab.train.class_blocks import CLASS_BLOCKS, class_targets, tuned_blocks
from affectlab.train.optim import bucketed_batches, provenance, seed_everything

BLOCKS = ("goemotions", "ekman", "sentiment", "vad")
PRECISIONS = ("int8", "fp16")
BASE_SOURCE = "base"


@dataclass
class StaticRecipe:
    data_dir: Path = DEFAULT_DATA_DIR
    out_dir: Path = Path("runs/text-static-minilm")
    name: str = DEFAULTS[STATIC_TASK]
    source: str = DEFAULTS["text"]  # the text model whose encoder the vectors come from; "base": all-MiniLM-L6-v2
    teacher: str = DEFAULTS["text"]  # the text model whose outputs are soft targets
    dims: int = 256
    sif: float = 1e-4
    hidden: int = 512
    dropout: float = 0.2
    seed: int = 13
    epochs: int = 6
    batch_size: int = 64
    lr_vectors: float = 1e-3
    lr_head: float = 3e-3
    distill_weight: float = 0.7  # share of the class targets given to the teacher's probabilities
    vad_weight: float = 0.3  # chosen on dev: 1.0 cost the class outputs about 0.01 macro-F1 at the same valence r
    emobank_every: int = 4
    precision: str = "int8"
    threads: int = 1
    limit: int | None = None  # the first N texts of each split only (smoke runs)


class StaticNet(nn.Module):
    """The training twin of :class:`~affectlab.text.static.StaticModel`: the same tensors, trainable."""

    def __init__(self, vectors: np.ndarray, hidden: int, outputs: int, dropout: float) -> None:
        super().__init__()
        self.vectors = nn.EmbeddingBag.from_pretrained(torch.from_numpy(vectors), freeze=False, mode="sum")
        self.hidden = nn.Linear(vectors.shape[1], hidden)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden, outputs)

    def forward(self, ids: list[list[int]]) -> torch.Tensor:
        flat = torch.tensor([t for seq in ids for t in seq], dtype=torch.long)
        offsets = torch.tensor(np.cumsum([0] + [len(seq) for seq in ids[:-1]]), dtype=torch.long)
        summed = self.vectors(flat, offsets)
        pooled = summed / summed.norm(dim=1, keepdim=True).clamp(min=1e-9)
        return self.output(self.dropout(nn.functional.gelu(self.hidden(pooled), approximate="tanh")))

    def export(self, precision: str) -> dict[str, np.ndarray]:
        """The tensors of a weights file: vectors in ``precision``, the head in fp32 (it is small)."""
        vectors = self.vectors.weight.detach().numpy()
        tensors = {name: tensor.detach().numpy().astype(np.float32)
                   for name, tensor in self.state_dict().items() if not name.startswith("vectors.")}
        if precision == "fp16":
            return {"vectors": vectors.astype(np.float16), **tensors}
        scales = np.maximum(np.abs(vectors).max(axis=1), 1e-12) / 127.0
        quantized = np.clip(np.round(vectors / scales[:, None]), -127, 127).astype(np.int8)
        return {"vectors": quantized, "scales": scales.astype(np.float32), **tensors}


def distill_vectors(encoder, vocabulary: int, cls_id: int, sep_id: int, batch: int = 512) -> np.ndarray:
    """Each token id alone between ``[CLS]`` and ``[SEP]`` through ``encoder``, its three states mean-pooled."""
    out = np.empty((vocabulary, encoder.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, vocabulary, batch):
            ids = torch.arange(start, min(start + batch, vocabulary))
            input_ids = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1)
            mask = torch.ones_like(input_ids)
            states = encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state
            out[start : start + len(ids)] = mean_pool(states, mask).numpy()
    return out


def reduce_vectors(raw: np.ndarray, dims: int, sif: float) -> np.ndarray:
    """Centre, PCA to ``dims``, then weight each token by ``sif / (sif + p)``, ``p`` its Zipf probability by rank."""
    centred = raw - raw.mean(axis=0)
    _, vectors = np.linalg.eigh(centred.T @ centred / (len(raw) - 1))
    reduced = centred @ vectors[:, ::-1][:, :dims]
    inverse_rank = 1.0 / np.arange(2, len(raw) + 2)
    weights = sif / (sif + inverse_rank / inverse_rank.sum())
    return (reduced * weights[:, None]).astype(np.float32)


def _source_encoder(source: str):
    if source == BASE_SOURCE:
        return load_encoder().eval()
    return AffectModel.from_artifact(resolve_artifact(source)).encoder.eval()


def _teacher_targets(teacher: str, texts: list[str], vad_mean: np.ndarray, vad_std: np.ndarray):
    """The teacher's class probabilities and VAD (standardized on the student's scale) for ``texts``."""
    folder = resolve_artifact(teacher)
    config = ArtifactConfig.load(folder)
    tokenizer = load_tokenizer(config.max_length, named_model_dir(config.encoder))
    ids = [e.ids for e in tokenizer.encode_batch(texts)]
    raw = run_sorted(TorchRuntime(AffectModel.from_artifact(folder)), ids, 128)
    slices = head_slices(tuple(config.blocks))
    logits = np.concatenate([raw[:, slices[name]] for name, _, _ in CLASS_BLOCKS], axis=1)
    vad = raw[:, slices["vad"]] * np.array(config.vad_std) + np.array(config.vad_mean)
    return sigmoid(logits), ((vad - vad_mean) / vad_std).astype(np.float32)


def _dev_metrics(model: StaticModel, ge_texts, ge_targets, eb_texts, eb_vad, vad_mean, vad_std):
    """Thresholds tuned on GoEmotions dev and the figures there; EmoBank dev Pearson r."""
    slices = head_slices(BLOCKS)
    raw = model.run(ge_texts)
    thresholds, macro_f1 = tuned_blocks(raw, ge_targets, slices)
    metrics = {f"{name}_macro_f1_tuned": f1 for name, f1 in macro_f1.items()}
    metrics["mean_macro_f1_tuned"] = float(np.mean([metrics[f"{name}_macro_f1_tuned"] for name, _, _ in CLASS_BLOCKS]))
    vad = model.run(eb_texts)[:, slices["vad"]] * vad_std + vad_mean
    for i, dim in enumerate(VAD):
        metrics[f"{dim}_pearson"] = pearson(vad[:, i], eb_vad[:, i])
    return thresholds, metrics


def train_static(recipe: StaticRecipe, on_progress: Callable[[dict], None] | None = None) -> ArtifactConfig:
    """Distil, rate, train, keep the best dev epoch, and write the artifact to ``recipe.out_dir``."""
    if recipe.precision not in PRECISIONS:
        raise OptionError(f"precision must be one of {', '.join(PRECISIONS)}, not {recipe.precision!r}")
    started = time.time()
    rng = seed_everything(recipe.seed, recipe.threads)
    tokenizer = load_tokenizer(512)
    tokenizer.no_truncation()

    def report(record: dict) -> None:
        if on_progress is not None:
            on_progress(record)

    ge_train, eb_train = load_goemotions("train", recipe.data_dir), load_emobank("train", recipe.data_dir)
    ge_dev, eb_dev = load_goemotions("dev", recipe.data_dir), load_emobank("dev", recipe.data_dir)
    ge_texts = [normalize(t).text for t in ge_train.texts[: recipe.limit]]
    eb_texts = [normalize(t).text for t in eb_train.texts[: recipe.limit]]
    eb_vad = np.array(eb_train.vad[: recipe.limit], np.float32)
    vad_mean, vad_std = eb_vad.mean(0), eb_vad.std(0)
    dev = (
        [normalize(t).text for t in ge_dev.texts[: recipe.limit]], class_targets(ge_dev.labels[: recipe.limit]),
        [normalize(t).text for t in eb_dev.texts[: recipe.limit]], np.array(eb_dev.vad[: recipe.limit], np.float32),
        vad_mean, vad_std,
    )

    report({"epoch": 0, "step": 0, "total": None, "task": "distilling token vectors"})
    raw = distill_vectors(_source_encoder(recipe.source), tokenizer.get_vocab_size(),
                          tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"))
    vectors = reduce_vectors(raw, recipe.dims, recipe.sif)
    report({"epoch": 0, "step": 0, "total": None, "task": "rating GoEmotions train with the teacher"})
    teacher_probs, teacher_vad = _teacher_targets(recipe.teacher, ge_texts, vad_mean, vad_std)
    gold = class_targets(ge_train.labels[: recipe.limit])
    class_soft = torch.from_numpy(((1 - recipe.distill_weight) * gold + recipe.distill_weight * teacher_probs)
                                  .astype(np.float32))
    teacher_vad_z, eb_z = torch.from_numpy(teacher_vad), torch.from_numpy((eb_vad - vad_mean) / vad_std)
    ge_ids = [e.ids for e in tokenizer.encode_batch(ge_texts, add_special_tokens=False)]
    eb_ids = [e.ids for e in tokenizer.encode_batch(eb_texts, add_special_tokens=False)]

    slices = head_slices(BLOCKS)
    n_class = slices["vad"].start
    net = StaticNet(vectors, recipe.hidden, slices["vad"].stop, recipe.dropout)
    optimizer = torch.optim.AdamW([
        {"params": net.vectors.parameters(), "lr": recipe.lr_vectors, "weight_decay": 0.0},
        {"params": [p for n, p in net.named_parameters() if not n.startswith("vectors.")], "lr": recipe.lr_head},
    ])
    bce, mse = nn.BCEWithLogitsLoss(), nn.MSELoss()
    ge_batches_per_epoch = -(-len(ge_ids) // recipe.batch_size)
    total = recipe.epochs * (ge_batches_per_epoch + ge_batches_per_epoch // recipe.emobank_every)
    eb_order = _endless(len(eb_ids), recipe.batch_size, rng)
    history, best, step = [], None, 0

    def learn(loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for epoch in range(1, recipe.epochs + 1):
        net.train()
        for i, rows in enumerate(bucketed_batches([len(s) for s in ge_ids], recipe.batch_size, rng), 1):
            out = net([ge_ids[r] for r in rows])
            loss = bce(out[:, :n_class], class_soft[rows]) + recipe.vad_weight * mse(out[:, slices["vad"]],
                                                                                        teacher_vad_z[rows])
            learn(loss)
            step += 1
            record = {"epoch": epoch, "step": step, "total": total, "task": "goemotions", "loss": loss.item()}
            if i % recipe.emobank_every == 0:
                eb_rows = next(eb_order)
                vad_loss = recipe.vad_weight * mse(net([eb_ids[r] for r in eb_rows])[:, slices["vad"]], eb_z[eb_rows])
                learn(vad_loss)
                step += 1
                record.update(step=step, vad_loss=vad_loss.item())
            report(record)
        net.eval()
        tensors = net.export(recipe.precision)
        thresholds, metrics = _dev_metrics(StaticModel(tensors, tokenizer), *dev)
        history.append({"epoch": epoch, "seconds": round(time.time() - started, 1), **metrics})
        report({"epoch": epoch, "step": step, "total": total, "task": "dev", **metrics})
        if best is None or metrics["mean_macro_f1_tuned"] > best[0]:
            best = (metrics["mean_macro_f1_tuned"], epoch, tensors, thresholds)

    _, kept, tensors, thresholds = best
    out_dir = Path(recipe.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / WEIGHTS_FILE).write_bytes(save(tensors, metadata={"source": recipe.source, "format": "static-vectors"}))
    trained = provenance(recipe, recipe.epochs, history, kept_epoch=kept)
    trained["sources"] = {name: _described(name) for name in {recipe.source, recipe.teacher}}
    config = ArtifactConfig(name=recipe.name, task=STATIC_TASK, blocks=list(BLOCKS), thresholds=thresholds,
                            vad_mean=[float(v) for v in vad_mean], vad_std=[float(v) for v in vad_std],
                            trained=trained)
    config.save(out_dir)
    return config


def _endless(n: int, batch_size: int, rng: random.Random):
    while True:
        order = list(range(n))
        rng.shuffle(order)
        yield from (order[i : i + batch_size] for i in range(0, n, batch_size))


def _described(model: str) -> dict:
    """Which model a recipe read: the base encoder, or a text model and its weights' fingerprint."""
    if model == BASE_SOURCE:
        return {"model": "sentence-transformers/all-MiniLM-L6-v2"}
    folder = resolve_artifact(model)
    return {"model": ArtifactConfig.load(folder).name, "fingerprint": fingerprint(folder)}
