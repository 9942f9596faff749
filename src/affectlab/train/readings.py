"""Recipe for the fitted reading blocks (``affectlab train readings``): more readings from a trained text model
at no extra cost per text.

1. **Vectors**: every text of the reading data sets through the text model ``model`` as the analyzer reads it
   (:meth:`affectlab.text.analyzer.Analyzer.sentence_vectors` with ``bounded``: normalized, cut into the usual
   windows, each mean-pooled by the model's own frozen encoder, the windows averaged weighted by their tokens).
2. **Fit**, one ridge regression per output (:func:`affectlab.train.ridge.choose_ridge`), on train, its penalty
   chosen by Pearson r on dev:

   - ``intensity``: EmoInt (WASSA-2017) anger, fear, joy and sadness intensity, 0-1; each emotion on its own
     tweets (``train``; ``devgold`` for the penalty);
   - ``vad_writer``, ``vad_reader``: EmoBank's writer and reader ratings (``writer.csv``, ``reader.csv``) of the
     sentences in its train split; its dev split for the penalty;
   - ``empathy``, ``distress``: WASSA-22 essays, train; the dev essays with their gold for the penalty.

3. **Grow the head**: the fitted weights and biases (fp16, as the head is shipped) become rows of the model's
   linear head, the blocks are named in ``config.json`` (:mod:`affectlab.heads.layout`), and the copy is written
   to ``out_dir`` with the recipe, the source model's fingerprint and the dev figures under
   ``trained["readings"]``, and the source's model card plus a section on the new blocks. The source model's
   own blocks and weights are copied unchanged, so every other output stays exactly as it was.

Test splits are never read here. Nothing is sampled except with ``limit`` (a seeded sample of each set, for
smoke runs), so a rerun on the same model and data gives the same weights.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from affectlab.datasets import DEFAULT_DATA_DIR, load_emobank_perspectives, load_emoint, load_wassa22
from affectlab.heads.layout import (
    BLOCK_SCALES,
    EMOINT_EMOTIONS,
    FITTED_BLOCKS,
    HEAD_LAYOUT,
    LAYOUT_BLOCKS,
    head_slices,
)
from affectlab.metrics import pearson
from affectlab.registry import DEFAULTS, check_output_folder
from affectlab.taxonomy import VAD
from affectlab.text.analyzer import Analyzer
from affectlab.text.artifact import TASK, ArtifactConfig, resolve_artifact
from affectlab.train.head_rows import as_shipped, refit_record, source_head, write_refitted
from affectlab.train.readings_card import CARD_SECTION, readings_section
from affectlab.train.ridge import ALPHAS, choose_ridge


@dataclass
class ReadingsRecipe:
    model: str = DEFAULTS["text"]  # the text model whose sentence vectors are read: a shipped name or a folder
    out_dir: Path = Path("runs/text-minilm-readings")
    data_dir: Path = DEFAULT_DATA_DIR
    name: str | None = None  # of the new artifact; None: the source model's (it is meant to replace it)
    alphas: tuple[float, ...] = ALPHAS
    seed: int = 13  # of the ``limit`` samples
    threads: int = 2
    batch_size: int = 64
    limit: int | None = None  # at most this many texts of each set, a seeded sample (smoke runs)


@dataclass(frozen=True)
class Rated:
    """Texts of one data set with gold for some outputs of a block: ``columns`` are their places in the block."""

    key: str
    texts: list[str]
    columns: tuple[int, ...]
    targets: np.ndarray  # [texts, len(columns)]


def rated_sets(block: str, split: str, data_dir: Path) -> list[Rated]:
    """The gold of ``block`` on ``split`` (train or dev), one :class:`Rated` per data set it comes from."""
    if block == "intensity":
        sets = []
        for column, emotion in enumerate(EMOINT_EMOTIONS):
            data = load_emoint(emotion, split, data_dir)
            sets.append(Rated(f"emoint-{emotion}", data.texts, (column,), np.array(data.intensity)[:, None]))
        return sets
    if block in ("vad_writer", "vad_reader"):
        data = load_emobank_perspectives(split, data_dir)
        gold = data.writer if block == "vad_writer" else data.reader
        return [Rated("emobank", data.texts, tuple(range(len(VAD))), np.array(gold))]
    if block in ("empathy", "distress"):
        data = load_wassa22(split, data_dir)
        return [Rated("wassa22", data.texts, (0,), np.array(getattr(data, block))[:, None])]
    raise ValueError(f"no reading data for block {block!r}; fitted blocks: {', '.join(FITTED_BLOCKS)}")


def sampled(rated: Rated, limit: int | None, seed: int, split: str) -> Rated:
    """``rated`` cut to a seeded sample of ``limit`` texts (the same one for the same seed, set and split), in
    file order; whole without a limit. EmoInt's files are sorted by intensity, so the first N would not do."""
    if limit is None or len(rated.texts) <= limit:
        return rated
    rows = sorted(random.Random(f"{seed}-{rated.key}-{split}").sample(range(len(rated.texts)), limit))
    return Rated(rated.key, [rated.texts[i] for i in rows], rated.columns, rated.targets[rows])


@dataclass
class BlockFit:
    weights: np.ndarray  # [labels, hidden], as shipped (fp16 values)
    bias: np.ndarray  # [labels]
    record: dict = field(default_factory=dict)  # per label: penalty, dev r and MAE, set sizes


def fit_block(block: str, train: list[Rated], dev: list[Rated], vectors: Callable[[Rated, str], np.ndarray],
              alphas: tuple[float, ...], labels: tuple[str, ...]) -> BlockFit:
    """Ridge per output of ``block``; dev figures are those of the weights as shipped (fp16), clipped to scale."""
    hidden = None
    rows: dict[int, tuple[np.ndarray, float]] = {}
    record: dict = {}
    for train_set, dev_set in zip(train, dev):
        x_train, x_dev = vectors(train_set, "train"), vectors(dev_set, "dev")
        hidden = x_train.shape[1]
        for k, column in enumerate(train_set.columns):
            fit = choose_ridge(x_train, train_set.targets[:, k], x_dev, dev_set.targets[:, k], alphas)
            weights, bias = as_shipped(fit.weights), float(as_shipped(np.array(fit.bias)))
            shipped = np.clip(x_dev @ weights + bias, *BLOCK_SCALES[block])
            rows[column] = (weights, bias)
            record[labels[column]] = {
                "data": train_set.key, "train_texts": len(train_set.texts), "dev_texts": len(dev_set.texts),
                "alpha": fit.alpha, "alpha_at_grid_edge": fit.at_edge,
                "dev_pearson": pearson(shipped, dev_set.targets[:, k]),
                "dev_mae": float(np.abs(shipped - dev_set.targets[:, k]).mean()),
            }
    missing = [labels[c] for c in range(len(labels)) if c not in rows]
    if missing or hidden is None:
        raise ValueError(f"block {block}: no data for {missing}")
    weights = np.stack([rows[c][0] for c in range(len(labels))])
    return BlockFit(weights, np.array([rows[c][1] for c in range(len(labels))]), record)


def grown_head(weight: np.ndarray, bias: np.ndarray, blocks: tuple[str, ...],
               fitted: dict[str, BlockFit]) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The head's rows with the ``fitted`` blocks put in their layout places (replacing any earlier fit of the
    same block); the other blocks' rows unchanged. Returns weight, bias and the new block list."""
    slices = head_slices(blocks)
    new_blocks = tuple(name for name in LAYOUT_BLOCKS if name in fitted or name in blocks)
    parts = [(fitted[name].weights, fitted[name].bias) if name in fitted
             else (weight[slices[name]], bias[slices[name]]) for name in new_blocks]
    return np.concatenate([w for w, _ in parts]), np.concatenate([b for _, b in parts]), new_blocks


def train_readings(recipe: ReadingsRecipe, on_progress: Callable[[dict], None] | None = None) -> ArtifactConfig:
    """Fit the reading blocks on ``recipe.model``'s sentence vectors and write the grown artifact to ``out_dir``."""
    source = resolve_artifact(recipe.model)
    out_dir = Path(recipe.out_dir)
    check_output_folder(out_dir, TASK, source)
    config = ArtifactConfig.load(source)
    analyzer = Analyzer(source, runtime="torch", threads=recipe.threads, batch_size=recipe.batch_size)
    labels_of = {name: labels for name, labels, _ in HEAD_LAYOUT}
    sets = {split: {block: [sampled(r, recipe.limit, recipe.seed, split)
                            for r in rated_sets(block, split, recipe.data_dir)] for block in FITTED_BLOCKS}
            for split in ("train", "dev")}
    texts_to_read = {(r.key, split) for split in sets for block_sets in sets[split].values() for r in block_sets}
    cache: dict[tuple[str, str], np.ndarray] = {}

    def vectors(rated: Rated, split: str) -> np.ndarray:
        if (rated.key, split) not in cache:
            cache[(rated.key, split)] = analyzer.sentence_vectors(rated.texts, bounded=True).astype(np.float64)
            if on_progress:
                on_progress({"task": f"vectors of {rated.key} {split}", "step": len(cache),
                             "total": len(texts_to_read)})
        return cache[(rated.key, split)]

    fitted = {block: fit_block(block, sets["train"][block], sets["dev"][block], vectors, recipe.alphas,
                               labels_of[block]) for block in FITTED_BLOCKS}
    tensors, metadata, weight, bias = source_head(source)
    weight, bias, blocks = grown_head(weight, bias, tuple(config.blocks), fitted)
    readings = refit_record(recipe, source, config)
    readings["blocks"] = {block: fit.record for block, fit in fitted.items()}
    if on_progress:
        for block, fit in fitted.items():
            on_progress({"task": "dev", "block": block,
                         **{label: round(r["dev_pearson"], 4) for label, r in fit.record.items()}})
    grown = ArtifactConfig(**{**asdict(config), "name": recipe.name or config.name, "blocks": list(blocks),
                              "trained": {**config.trained, "readings": readings}})
    write_refitted(out_dir, source, (tensors, metadata), (weight, bias), grown, CARD_SECTION,
                   readings_section(readings))
    return grown

