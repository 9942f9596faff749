"""``affectlab eval head-curve``: how the ``train head`` recipe learns a label set affectlab does not ship, as a
learning curve on EmpatheticDialogues' 32 emotions read from single utterances.

Each conversation gives one example: the speaker's first utterance (the situation prompt is left out), labelled
with the conversation's emotion. For each training size the recipe sees a seeded, class-balanced subsample of
ED train (round robin over the emotions, so 100 examples are 3 or 4 of each), chooses its L2 penalty on ED
valid, and is scored once on ED test: accuracy and macro-F1 over the 32 emotions. Sentence vectors are computed
once per split and kept in a temporary file, so a re-run only fits heads.

>>> report = head_curve(Analyzer(), Path("../shared/data"), sizes=(100, 1000, None), seeds=(13, 14, 15))
>>> [(p["train_examples"], round(p["test_macro_f1_mean"], 3)) for p in report["points"]]
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from affectlab.datasets import load_empathetic_dialogues
from affectlab.errors import OptionError
from affectlab.registry import fingerprint
from affectlab.taxonomy import ED_EMOTIONS
from affectlab.text.analyzer import Analyzer
from affectlab.train.head import L2_GRID, dev_metrics, fit_head, targets

TEXT = "the speaker's first utterance"
SPLITS = ("train", "valid", "test")


def first_utterances(split: str, data_dir: Path) -> tuple[list[str], list[str]]:
    """ED ``split``: each conversation's first speaker utterance and its emotion."""
    examples = load_empathetic_dialogues(split, data_dir)
    return [e.texts[e.roles.index("speaker")] for e in examples], [e.label for e in examples]


def cached_vectors(analyzer: Analyzer, texts: list[str], on_progress: Callable[[int], None] | None = None
                   ) -> np.ndarray:
    """:meth:`Analyzer.sentence_vectors` of ``texts``, kept in a temporary file keyed by the model, runtime and
    texts (vectors are the same on every run, so a second run reads them back)."""
    key = hashlib.sha256("\n".join(texts).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / (f"affectlab-vectors-{analyzer.model_name}-{fingerprint(analyzer.folder)}-"
                                          f"{analyzer.runtime_name}-{key}.npy")
    if path.exists():
        if on_progress is not None:
            on_progress(len(texts))
        return np.load(path)
    vectors = analyzer.sentence_vectors(texts, on_progress)
    partial = path.with_suffix(f".{random.getrandbits(32):08x}.part.npy")
    np.save(partial, vectors)
    partial.replace(path)
    return vectors


def balanced_subsample(labels: list[str], size: int, seed: int) -> list[int]:
    """``size`` row indices drawn round robin over the labels (each label's rows in a seeded order), so that every
    label gets ``size // labels`` rows or one more, or all it has when it has fewer."""
    shuffle = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    queues = []
    for label in sorted(by_label):
        rows = by_label[label][:]
        shuffle.shuffle(rows)
        queues.append(rows)
    shuffle.shuffle(queues)  # which labels get the one extra row
    chosen: list[int] = []
    depth = 0
    while len(chosen) < size and any(depth < len(q) for q in queues):
        chosen += [q[depth] for q in queues if depth < len(q)][: size - len(chosen)]
        depth += 1
    return sorted(chosen)


def head_curve(analyzer: Analyzer, data_dir: Path, sizes: tuple[int | None, ...] = (100, 1000, None),
               seeds: tuple[int, ...] = (13, 14, 15), on_progress: Callable[[int], None] | None = None) -> dict:
    """The learning curve as a report: one point per size (None: all of ED train), each the mean over ``seeds``
    of a subsample's test figures (one run for all of train: the fit has no randomness)."""
    if not seeds or any(size is not None and size < len(ED_EMOTIONS) for size in sizes):
        raise OptionError(f"give at least one seed and sizes of at least {len(ED_EMOTIONS)} (one per emotion)")
    started = time.monotonic()
    names = list(ED_EMOTIONS)
    data = {split: first_utterances(split, data_dir) for split in SPLITS}
    vectors = {split: cached_vectors(analyzer, data[split][0], on_progress) for split in SPLITS}
    gold = {split: targets([[label] for label in data[split][1]], names) for split in SPLITS}
    points = []
    for size in sizes:
        runs = []
        for seed in seeds if size is not None else seeds[:1]:
            rows = balanced_subsample(data["train"][1], size, seed) if size is not None else \
                list(range(len(data["train"][1])))
            fitted = fit_head(vectors["train"][rows], gold["train"][rows], vectors["valid"], gold["valid"], names,
                              multi_label=False)
            logits = vectors["test"] @ fitted.weight.T + fitted.bias
            test = dev_metrics(logits, gold["test"], names, multi_label=False)  # argmax: logits rank as softmax
            runs.append({"seed": seed if size is not None else None, "l2": fitted.l2,
                         "valid_macro_f1": round(fitted.dev["macro_f1"], 4),
                         "test_accuracy": round(test["accuracy"], 4), "test_macro_f1": round(test["macro_f1"], 4)})
        count = len(rows)
        points.append({
            "train_examples": count, "per_emotion": _per_label_range(data["train"][1], rows),
            "runs": runs,
            "test_accuracy_mean": round(float(np.mean([r["test_accuracy"] for r in runs])), 4),
            "test_macro_f1_mean": round(float(np.mean([r["test_macro_f1"] for r in runs])), 4),
            "test_macro_f1_range": [min(r["test_macro_f1"] for r in runs), max(r["test_macro_f1"] for r in runs)],
        })
    test_labels = data["test"][1]
    majority = max(set(test_labels), key=test_labels.count)
    return {
        "dataset": "EmpatheticDialogues (32 emotions)",
        "text": TEXT,
        "model": {"name": analyzer.model_name, "fingerprint": fingerprint(analyzer.folder),
                  "runtime": analyzer.runtime_name},
        "recipe": "affectlab train head (softmax regression on frozen pooled vectors; L2 chosen on ED valid from "
                  f"{list(L2_GRID)})",
        "rows": {split: len(data[split][1]) for split in SPLITS},
        "seeds": list(seeds),
        "chance": {"uniform_accuracy": round(1 / len(names), 4),
                   "majority_accuracy": round(test_labels.count(majority) / len(test_labels), 4)},
        "points": points,
        "seconds": round(time.monotonic() - started, 1),  # vectors (unless cached) and every fit
    }


def _per_label_range(labels: list[str], rows: list[int]) -> list[int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[labels[row]] = counts.get(labels[row], 0) + 1
    return [min(counts.values()), max(counts.values())]
