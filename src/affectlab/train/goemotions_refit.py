"""Recipe for the GoEmotions refit (``affectlab train goemotions``): the 28 label rows learn from the gold labels
alone, on the trained model's frozen sentence vectors.

``affectlab train text --teacher`` fits its class outputs to a mix of gold labels and the teacher's probabilities.
That mix helps the student's encoder (it sees the teacher's view of other registers), but for the 28 fine-grained
labels the teacher is the weaker reader (GoEmotions test macro-F1 0.484 against the student's 0.508 on 2026-12-06),
and rows fitted towards its soft probabilities stay timid on rare labels. Refitting only those rows on the gold
labels, with the encoder the distillation shaped left as it is, keeps what the teacher gave the encoder and drops
what it took from the labels:

1. **Vectors** (:meth:`affectlab.text.analyzer.Analyzer.sentence_vectors`) of GoEmotions train and dev, ``[NAME]``
   filled with first names as in training.
2. **Fit** one logistic regression per label on train (gold multi-hot), for each penalty in ``l2s``.
3. **Name gate**: the dev comments that had a ``[NAME]`` are read with ``name_fills`` other name draws; a label
   whose refitted probability moves by more than :data:`NAME_MOVE` between two draws more often than the
   source's most name-sensitive label does keeps its source row. Sharper rows read a name's trace in the
   sentence vector more loudly, and users' texts hold names: the bias audit's name swaps (``affectlab eval
   bias``) failed their bound with every row refitted (neutral moved by over 0.1 in 8.6% of swaps, against 4.45%
   for the most moved output before).
4. **Choice**: the penalty whose rows (after the gate) have the lowest mean cross-entropy on dev (weights rounded
   to fp16 first, as shipped).
5. **Thresholds**: the 28 labels' thresholds are tuned on dev as the analyzer reads the new rows (with the
   model's irony rule, if it has one).

Only the 28 rows and their thresholds change: the encoder, the Ekman, sentiment, VAD and irony rows and the
readings are copied as they are, so a turn model trained beside the source (it reads Ekman and sentiment) and a
head of one's own (it reads the encoder) keep working. Memories store GoEmotions outputs, so they ask to be
re-read. Run it before ``affectlab train irony``, whose rule is chosen with every class row in place. Test splits
are not read.

>>> config = train_goemotions(GoEmotionsRecipe(model="runs/text-minilm-student-readings",
...                                            out_dir=Path("runs/text-minilm-goemotions")))
>>> config.trained["goemotions_refit"]["dev"]["l2"]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from affectlab.datasets import DEFAULT_DATA_DIR, load_goemotions
from affectlab.errors import OptionError, is_whole_number
from affectlab.heads.layout import head_slices
from affectlab.metrics import f1_per_label, multi_hot, tune_thresholds
from affectlab.registry import DEFAULTS, check_output_folder
from affectlab.taxonomy import GOEMOTIONS
from affectlab.text.analyzer import Analyzer
from affectlab.text.artifact import TASK, ArtifactConfig, resolve_artifact
from affectlab.text.irony import ironic_reading
from affectlab.text.probabilities import sigmoid
from affectlab.train.head_rows import as_shipped, frozen_vectors, refit_record, source_head, write_refitted
from affectlab.train.linear_head import fit_path
from affectlab.train.name_fill import MASK, fill_names

CARD_SECTION = "## GoEmotions refit"
BLOCK = "goemotions"
NAME_MOVE = 0.1  # the bias audit's threshold (affectlab.evaluate.bias_swaps.BOUND)


@dataclass
class GoEmotionsRecipe:
    model: str = DEFAULTS["text"]  # a text model with a GoEmotions block: a shipped name or a folder
    out_dir: Path = Path("runs/text-minilm-goemotions")
    data_dir: Path = DEFAULT_DATA_DIR
    l2s: tuple[float, ...] = (1e-2, 5e-3, 3e-3, 2e-3, 1e-3)
    name_fills: int = 4  # name draws of each dev comment that had a [NAME], for the name gate
    seed: int = 13
    threads: int = 2
    batch_size: int = 64
    limit: int | None = None  # at most this many train and dev comments (smoke runs)


def train_goemotions(recipe: GoEmotionsRecipe, on_progress: Callable[[dict], None] | None = None) -> ArtifactConfig:
    """Refit ``recipe.model``'s 28 GoEmotions rows on gold labels and write the copy to ``recipe.out_dir``."""
    source = resolve_artifact(recipe.model)
    out_dir = Path(recipe.out_dir)
    check_output_folder(out_dir, TASK, source)
    if not recipe.l2s:
        raise OptionError("l2s: give at least one penalty to try")
    if not is_whole_number(recipe.name_fills) or recipe.name_fills < 2:
        raise OptionError(f"name_fills must be a whole number of at least 2 (draws to compare), not "
                          f"{recipe.name_fills!r}")
    if recipe.limit is not None and (not is_whole_number(recipe.limit) or recipe.limit < 2):
        raise OptionError(f"limit must be a whole number of at least 2, not {recipe.limit!r}")
    config = ArtifactConfig.load(source)
    if BLOCK not in config.blocks:
        raise OptionError(f"text model {recipe.model} has no {BLOCK} block (it has {list(config.blocks)})")
    train, dev = load_goemotions("train", recipe.data_dir), load_goemotions("dev", recipe.data_dir)
    train = replace(train, texts=train.texts[: recipe.limit], labels=train.labels[: recipe.limit])
    dev = replace(dev, texts=dev.texts[: recipe.limit], labels=dev.labels[: recipe.limit])
    analyzer = Analyzer(source, runtime="torch", threads=recipe.threads, batch_size=recipe.batch_size)
    named = [i for i, text in enumerate(dev.texts) if MASK in text]
    draws = [recipe.seed + 1 + k for k in range(recipe.name_fills)]
    to_read = {"goemotions train": fill_names(list(train.texts), recipe.seed),
               "goemotions dev": fill_names(list(dev.texts), recipe.seed)}
    for draw in draws:
        filled = fill_names(list(dev.texts), draw)
        to_read[f"goemotions dev names {draw}"] = [filled[i] for i in named]
    vectors = frozen_vectors(analyzer, to_read, on_progress)
    name_vectors = [vectors[f"goemotions dev names {draw}"] for draw in draws]
    gold = {"train": multi_hot(train.labels, GOEMOTIONS), "dev": multi_hot(dev.labels, GOEMOTIONS)}

    tensors, metadata, head_weight, head_bias = source_head(source)
    slices = head_slices(tuple(config.blocks))
    rows = slices[BLOCK]
    source_rows = head_weight[rows].copy(), head_bias[rows].copy()
    source_moves = name_moves(name_vectors, *source_rows)
    bound = float(source_moves.max(initial=0.0))
    before = {**_dev_figures(vectors["goemotions dev"] @ source_rows[0].T + source_rows[1], gold["dev"]),
              "name_moves_worst": round(bound, 4)}
    candidates = []
    for l2, (weight, bias) in zip(recipe.l2s, fit_path(vectors["goemotions train"], gold["train"], multi_label=True,
                                                       l2s=recipe.l2s)):
        weight, bias = as_shipped(weight), as_shipped(bias)
        moves = name_moves(name_vectors, weight, bias)
        kept = moves > bound
        weight[kept], bias[kept] = source_rows[0][kept], source_rows[1][kept]
        candidates.append({"l2": l2, **_dev_figures(vectors["goemotions dev"] @ weight.T + bias, gold["dev"]),
                           "source_rows_kept": [GOEMOTIONS[i] for i in np.flatnonzero(kept)],
                           "name_moves_worst": round(float(np.where(kept, source_moves, moves).max(initial=0.0)), 4),
                           "rows": (weight, bias)})
        if on_progress:
            on_progress({"task": "dev", "l2": l2, "cross_entropy": round(candidates[-1]["cross_entropy"], 5)})
    best = min(candidates, key=lambda c: c["cross_entropy"])  # ties: the first in l2s

    head_weight[rows], head_bias[rows] = best["rows"]
    raw = vectors["goemotions dev"] @ head_weight.T + head_bias
    if config.irony_rule is not None:
        raw = ironic_reading(raw, slices, config.irony_rule)
    probs = sigmoid(raw[:, rows])
    thresholds = tune_thresholds(probs, gold["dev"])

    record = refit_record(recipe, source, config)
    record["data"] = {"goemotions_train": len(train.texts), "goemotions_dev": len(dev.texts),
                      "dev_with_names": len(named), "name_draws": draws}
    record["dev"] = {"before": before, "candidates": [{k: v for k, v in c.items() if k != "rows"} for c in candidates],
                     "l2": best["l2"], "cross_entropy": best["cross_entropy"],
                     "source_rows_kept": best["source_rows_kept"], "name_moves_worst": best["name_moves_worst"],
                     "macro_f1_tuned": float(f1_per_label(probs >= thresholds, gold["dev"]).mean()),
                     "macro_f1_at_0.5": float(f1_per_label(probs >= 0.5, gold["dev"]).mean())}
    refitted = ArtifactConfig(**{**asdict(config),
                                 "thresholds": {**config.thresholds, BLOCK: [float(t) for t in thresholds]},
                                 "trained": {**config.trained, "goemotions_refit": record}})
    write_refitted(out_dir, source, (tensors, metadata), (head_weight, head_bias), refitted, CARD_SECTION,
                   goemotions_section(record))
    return refitted


def name_moves(draws: list[np.ndarray], weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Per label: the share of (pair of name draws, text) whose probability differs by more than
    :data:`NAME_MOVE`; ``draws`` holds one ``[texts, d]`` array of sentence vectors per draw of the same texts
    (no texts: no moves).

    >>> draws = [np.array([[0.0, 1.0]]), np.array([[0.0, -1.0]])]   # one text, its name's trace flipped
    >>> name_moves(draws, np.array([[1.0, 0.0], [0.0, 3.0]]), np.zeros(2)).tolist()
    [0.0, 1.0]
    """
    if not len(draws[0]):
        return np.zeros(len(bias))
    probs = [sigmoid(vectors @ weight.T + bias) for vectors in draws]
    pairs = [np.abs(a - b) > NAME_MOVE for i, a in enumerate(probs) for b in probs[i + 1:]]
    return np.concatenate(pairs).mean(axis=0)


def _dev_figures(logits: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """Mean cross-entropy of the 28 outputs on dev, and macro-F1 at 0.5 and with thresholds tuned in sample."""
    probs = sigmoid(logits)
    return {"cross_entropy": float(np.mean(np.logaddexp(0.0, logits) - gold * logits)),
            "macro_f1_in_sample": float(f1_per_label(probs >= tune_thresholds(probs, gold), gold).mean()),
            "macro_f1_at_0.5": float(f1_per_label(probs >= 0.5, gold).mean())}


def goemotions_section(record: dict) -> str:
    """The model card section for refitted GoEmotions rows (``record``: ``trained["goemotions_refit"]``)."""
    dev, data, recipe = record["dev"], record["data"], record["recipe"]
    before = dev["before"]
    chosen = next(c for c in dev["candidates"] if c["l2"] == dev["l2"])
    kept = dev["source_rows_kept"]
    if not data["dev_with_names"]:
        gate = "No dev comment had a [NAME], so no row was checked for moving with names."
    else:
        named = (f"Name gate on the {data['dev_with_names']:,} dev comments that had a [NAME], each read with "
                 f"{len(data['name_draws'])} name draws: the source's most moved row changed by more than {NAME_MOVE} "
                 f"between two draws in {before['name_moves_worst']:.2%} of the pairs; ")
        gate = named + (f"the refitted {' and '.join(kept)} moved more often, so "
                        f"{'it keeps its' if len(kept) == 1 else 'they keep their'} source "
                        f"row{'s' * (len(kept) > 1)}." if kept else "no refitted row moved more often.")
    return (f"{CARD_SECTION}\n\nRefitted {record['date'][:10]} by `affectlab train goemotions --model "
            f"{recipe['model']} -o {recipe['out_dir']}` (source fingerprint `{record['source']['fingerprint']}`; "
            "see `affectlab.train.goemotions_refit`). The GoEmotions rows are logistic regressions on the "
            f"model's frozen sentence vectors of the {data['goemotions_train']:,} train comments, against their "
            "gold labels alone (the rows the student learned were fitted to a mix of gold labels and the "
            f"teacher's probabilities). {gate.strip()} Penalty {dev['l2']:g}, "
            f"chosen by the mean cross-entropy on the {data['goemotions_dev']:,} dev comments: "
            f"{dev['cross_entropy']:.4f} against the source rows' {before['cross_entropy']:.4f}. Dev macro-F1 of the "
            f"rows alone: {chosen['macro_f1_at_0.5']:.3f} at 0.5 (source {before['macro_f1_at_0.5']:.3f}), "
            f"{chosen['macro_f1_in_sample']:.3f} with thresholds tuned in sample (source "
            f"{before['macro_f1_in_sample']:.3f}). The encoder and every other row are the source's.\n")
