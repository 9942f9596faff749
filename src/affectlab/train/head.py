"""``affectlab train head``: a head for one's own labels on the text model's frozen sentence vectors.

The recipe: read and check the labelled file (:mod:`.head_data`); carve a seeded, stratified dev split (or
take the user's dev file); compute every text's pooled sentence vector once through the shipped runtime
(ONNX by default, :meth:`Analyzer.sentence_vectors`); fit a softmax (single-label) or per-label logistic
(multi-label) regression for each L2 strength of :data:`L2_GRID` and keep the best on dev (macro-F1, ties to
the stronger penalty); tune each label's threshold on dev (multi-label); write the artifact folder with a
generated ``MODEL_CARD.md``. ``Analyzer(model=<folder>)`` then reads the labels (:mod:`affectlab.text.label_head`).

>>> recipe = HeadRecipe(data=Path("tickets.csv"), text_column="body", label_column="topic",
...                     out_dir=Path("runs/tickets-head"))
>>> config = train_head(recipe)
>>> config.trained["dev"]["macro_f1"]
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from affectlab.errors import OptionError
from affectlab.metrics import THRESHOLD_GRID, f1_per_label, micro_f1
from affectlab.registry import check_output_folder, shipped_entry
from affectlab.text.analyzer import RUNTIMES, Analyzer
from affectlab.text.artifact import DEFAULT_MODEL, resolve_artifact
from affectlab.text.label_head import TASK, HeadConfig, LabelHead, describe_base, head_folder
from affectlab.text.probabilities import sigmoid, softmax
from affectlab.train.head_card import model_card
from affectlab.train.head_data import Labelled, carve_dev, check_dev, check_trainable, read_labelled
from affectlab.train.linear_head import fit_path

L2_GRID = (1.0, 1e-1, 1e-2, 1e-3, 1e-4)  # strongest first: a tie keeps the stronger penalty


@dataclass
class HeadRecipe:
    data: Path
    text_column: str
    label_column: str
    out_dir: Path
    separator: str | None = None  # set: multi-label, the cell holds labels joined by it
    dev: Path | None = None  # a dev file of one's own; else dev_share of the rows are carved out
    dev_share: float = 0.2
    seed: int = 13
    base_model: str = DEFAULT_MODEL
    runtime: str = "onnx"
    threads: int | None = None
    encoding: str = "utf-8"

    def check(self) -> None:
        if not 0 < self.dev_share < 1:
            raise OptionError(f"dev_share must be between 0 and 1, not {self.dev_share}")
        if self.runtime not in RUNTIMES:
            raise OptionError(f"runtime must be one of {', '.join(RUNTIMES)}, not {self.runtime!r}")
        if self.separator == "":
            raise OptionError("separator must not be empty (leave it out for single-label data)")


@dataclass(frozen=True)
class FittedHead:
    weight: np.ndarray
    bias: np.ndarray
    l2: float
    thresholds: list[float]  # multi-label only
    dev: dict  # dev metrics at the kept l2
    search: list[dict]  # dev macro-F1 of each l2 tried


def targets(labels: list[list[str]], names: list[str]) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    out = np.zeros((len(labels), len(names)), dtype=np.float32)
    for row, row_labels in enumerate(labels):
        out[row, [index[label] for label in row_labels]] = 1.0
    return out


def dev_metrics(probabilities: np.ndarray, gold: np.ndarray, names: list[str], multi_label: bool,
                thresholds: np.ndarray | None = None) -> dict:
    """Single-label: accuracy and macro-F1 of the top label. Multi-label: macro- and micro-F1 at ``thresholds``
    (and macro-F1 at 0.5). Macro-F1 averages the labels that occur in ``gold``; per-label F1 comes too."""
    present = gold.any(axis=0)
    if multi_label:
        chosen = probabilities >= (0.5 if thresholds is None else thresholds)
        per_label = f1_per_label(chosen, gold)
        return {"macro_f1": float(per_label[present].mean()), "micro_f1": micro_f1(chosen, gold),
                "macro_f1_at_0.5": float(f1_per_label(probabilities >= 0.5, gold)[present].mean()),
                "per_label_f1": {n: round(float(f), 4) for n, f in zip(names, per_label)}}
    top = np.eye(len(names), dtype=bool)[probabilities.argmax(axis=1)]
    per_label = f1_per_label(top, gold)
    return {"accuracy": float((top & gold.astype(bool)).any(axis=1).mean()),
            "macro_f1": float(per_label[present].mean()),
            "per_label_f1": {n: round(float(f), 4) for n, f in zip(names, per_label)}}


def tuned_thresholds(probabilities: np.ndarray, gold: np.ndarray) -> list[float]:
    """Per label, the middle of the thresholds on :data:`THRESHOLD_GRID` that give the best dev F1 (a small dev set
    often ties over a wide range; its middle keeps a margin on both sides); 0.5 for a label without dev rows."""
    chosen = []
    for label in range(gold.shape[1]):
        if not gold[:, label].any():
            chosen.append(0.5)
            continue
        f1s = np.array([f1_per_label(probabilities[:, [label]] >= t, gold[:, [label]])[0] for t in THRESHOLD_GRID])
        best = THRESHOLD_GRID[np.isclose(f1s, f1s.max())]
        chosen.append(round(float(best[len(best) // 2]), 2))
    return chosen


def fit_head(train_x: np.ndarray, train_y: np.ndarray, dev_x: np.ndarray, dev_y: np.ndarray, names: list[str],
             multi_label: bool, grid: tuple[float, ...] = L2_GRID) -> FittedHead:
    """Fit one head per L2 strength on train, keep the one with the best dev macro-F1 (thresholds tuned on dev
    first, for multi-label); labels without a dev example keep the threshold 0.5."""
    best: tuple | None = None
    search = []
    for l2, (weight, bias) in zip(grid, fit_path(train_x, train_y, multi_label=multi_label, l2s=grid)):
        logits = dev_x @ weight.T + bias
        thresholds: list[float] = []
        if multi_label:
            probabilities = sigmoid(logits)
            thresholds = tuned_thresholds(probabilities, dev_y)
        else:
            probabilities = softmax(logits)
        metrics = dev_metrics(probabilities, dev_y, names, multi_label, np.array(thresholds) if thresholds else None)
        search.append({"l2": l2, "dev_macro_f1": round(metrics["macro_f1"], 4)})
        if best is None or metrics["macro_f1"] > best[-1]["macro_f1"]:
            best = (weight, bias, l2, thresholds, metrics)
    return FittedHead(*best, search=search)


def train_head(recipe: HeadRecipe, on_progress: Callable[[dict], None] | None = None) -> HeadConfig:
    """Train and write the head; returns its config (``trained`` holds the data, recipe and dev metrics)."""
    recipe.check()
    if head_folder(recipe.base_model) is not None:
        raise OptionError(f"{recipe.base_model} is a head of one's own; the base model must be a text model")
    check_output_folder(recipe.out_dir, TASK, resolve_artifact(recipe.base_model))
    report = on_progress or (lambda record: None)
    multi_label = recipe.separator is not None
    data = read_labelled(recipe.data, recipe.text_column, recipe.label_column, recipe.separator, recipe.encoding)
    names = check_trainable(data)
    if recipe.dev is None:
        train, dev = carve_dev(data, recipe.dev_share, recipe.seed)
    else:
        train = data
        dev = read_labelled(recipe.dev, recipe.text_column, recipe.label_column, recipe.separator, recipe.encoding)
        check_dev(dev, names)
    analyzer = Analyzer(recipe.base_model, runtime=recipe.runtime, threads=recipe.threads)
    total = len(train.texts) + len(dev.texts)
    done = 0

    def tick(texts: int) -> None:
        nonlocal done
        done += texts
        report({"task": "sentence vectors", "step": done, "total": total})

    # the runtime counts encoder windows: a text over one window moves the bar by more than one
    vectors = analyzer.sentence_vectors(train.texts + dev.texts, tick)
    report({"task": "fitting", "step": 0, "total": None})
    fitted = fit_head(vectors[: len(train.texts)], targets(train.labels, names), vectors[len(train.texts):],
                      targets(dev.labels, names), names, multi_label)
    report({"task": "dev", "l2": fitted.l2, **{k: v for k, v in fitted.dev.items() if k != "per_label_f1"}})
    config = HeadConfig(
        name=recipe.out_dir.name, labels=names, multi_label=multi_label, thresholds=fitted.thresholds,
        **describe_base(analyzer.folder, _base_name(recipe.base_model)),
        trained=_provenance(recipe, train, dev, fitted, analyzer),
    )
    LabelHead(config, fitted.weight, fitted.bias).save(recipe.out_dir, model_card(config))
    return config


def _base_name(model: str) -> str:
    """A shipped name as it is; a folder as an absolute path, so the head finds it from anywhere."""
    return model if shipped_entry(model) else str(Path(model).resolve())


def _provenance(recipe: HeadRecipe, train: Labelled, dev: Labelled, fitted: FittedHead, analyzer: Analyzer) -> dict:
    return {
        "recipe": {**{k: str(v) if isinstance(v, Path) else v for k, v in asdict(recipe).items()},
                   "l2_grid": list(L2_GRID)},
        "data": {"file": Path(recipe.data).name, "dev_file": Path(recipe.dev).name if recipe.dev else None,
                 "train_rows": len(train.texts), "dev_rows": len(dev.texts),
                 "train_label_counts": train.label_counts(), "dev_label_counts": dev.label_counts()},
        "l2": fitted.l2,
        "l2_search": fitted.search,
        "dev": fitted.dev,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, runtime {analyzer.runtime_name}",
    }
