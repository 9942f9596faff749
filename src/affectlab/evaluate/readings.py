"""``affectlab eval emoint | wassa22 | emobank-perspectives``: the fitted reading blocks on held-out data.

Each takes ``limit``: an evenly spread subset of at most that many texts per set (smoke runs; a figure on a
subset is not comparable with the published ones).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from affectlab.datasets import DEFAULT_DATA_DIR, load_emobank_perspectives, load_emoint, load_wassa22
from affectlab.errors import OptionError
from affectlab.heads.layout import EMOINT_EMOTIONS
from affectlab.metrics import f1_per_label, macro_f1_single, pearson
from affectlab.registry import fingerprint
from affectlab.taxonomy import EKMAN, VAD
from affectlab.text.analyzer import Analyzer
from affectlab.text.perspectives import READER_VALENCE_MAX, WRITER_AROUSAL_MAX, WRITER_VALENCE_MIN, hidden_anger

# Mean Pearson r over the four emotions on EmoInt test (Mohammad & Bravo-Marquez, WASSA-2017).
PUBLISHED_EMOINT = {"Prayas (best WASSA-2017 EmoInt system)": 0.747}
# Mean Pearson r of empathy and distress on the WASSA-22 test gold, which is not public here.
PUBLISHED_WASSA22 = {"best WASSA-22 empathy/distress systems (test, about)": 0.54}
EXAMPLES = 5


def _model_info(analyzer: Analyzer) -> dict:
    return {"name": analyzer.model_name, "fingerprint": fingerprint(analyzer.folder), "runtime": analyzer.runtime_name}


def _needs(analyzer: Analyzer, *blocks: str) -> None:
    missing = [block for block in blocks if block not in analyzer.config.blocks]
    if missing:
        raise OptionError(f"{analyzer.model_name} has no {', '.join(missing)} output; fit the reading blocks with "
                          f"`affectlab train readings --model {analyzer.folder}`")


def _spread(n: int, limit: int | None) -> np.ndarray:
    """Row numbers of an evenly spread subset of ``n`` rows (all of them without ``limit``)."""
    if limit is None or limit >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def eval_emoint(analyzer: Analyzer, data_dir: Path = DEFAULT_DATA_DIR, split: str = "test",
                on_progress: Callable[[int], None] | None = None, limit: int | None = None) -> dict:
    """Pearson r of each emotion's intensity on its own EmoInt tweets, their mean, and the shared task's second
    figure: r on the tweets whose gold intensity is at least 0.5."""
    _needs(analyzer, "intensity")
    emotions = {}
    for emotion in EMOINT_EMOTIONS:
        data = load_emoint(emotion, split, data_dir)
        rows = _spread(len(data.texts), limit)
        results = analyzer.analyze_batch([data.texts[i] for i in rows], on_progress=on_progress)
        predicted = np.array([r.intensity[emotion] for r in results])
        gold = np.array(data.intensity)[rows]
        high = gold >= 0.5
        emotions[emotion] = {"tweets": len(rows), "pearson": pearson(predicted, gold),
                             "pearson_gold_0.5_1": pearson(predicted[high], gold[high]),
                             "mae": float(np.abs(predicted - gold).mean())}
    return {
        "model": _model_info(analyzer),
        "dataset": f"emoint/{split}",
        "emotions": emotions,
        "mean_pearson": float(np.mean([e["pearson"] for e in emotions.values()])),
        "mean_pearson_gold_0.5_1": float(np.mean([e["pearson_gold_0.5_1"] for e in emotions.values()])),
        "published_mean_pearson": PUBLISHED_EMOINT,
    }


def eval_wassa22(analyzer: Analyzer, data_dir: Path = DEFAULT_DATA_DIR, split: str = "dev",
                 on_progress: Callable[[int], None] | None = None, limit: int | None = None) -> dict:
    """Pearson r of empathy and distress against the WASSA-22 gold, and the essay's emotion as the Ekman
    block's top label (neutral included) against the gold emotion: macro-F1 over the seven and accuracy."""
    _needs(analyzer, "empathy", "distress")
    data = load_wassa22(split, data_dir)
    rows = _spread(len(data.texts), limit)
    results = analyzer.analyze_batch([data.texts[i] for i in rows], on_progress=on_progress)
    scores = {}
    for reading in ("empathy", "distress"):
        predicted = np.array([getattr(r, reading) for r in results])
        gold = np.array(getattr(data, reading))[rows]
        scores[reading] = {"pearson": pearson(predicted, gold), "mae": float(np.abs(predicted - gold).mean())}
    top = np.array([EKMAN.index(max(r.ekman, key=r.ekman.__getitem__)) for r in results])
    gold_emotion = np.array([EKMAN.index(data.emotions[i]) for i in rows])
    eye = np.eye(len(EKMAN), dtype=bool)
    per_label = f1_per_label(eye[top], eye[gold_emotion])
    return {
        "model": _model_info(analyzer),
        "dataset": f"wassa22/{split}",
        "essays": len(rows),
        "windows_per_essay": float(np.mean([r.chunks for r in results])),
        **scores,
        "mean_pearson": float(np.mean([scores["empathy"]["pearson"], scores["distress"]["pearson"]])),
        "essay_emotion": {
            "macro_f1": macro_f1_single(top, gold_emotion, len(EKMAN)),
            "accuracy": float((top == gold_emotion).mean()),
            "per_label_f1": {name: round(float(v), 4) for name, v in zip(EKMAN, per_label)},
            "gold_counts": {name: int((gold_emotion == i).sum()) for i, name in enumerate(EKMAN)},
        },
        "published_mean_pearson": PUBLISHED_WASSA22,
    }


def eval_emobank_perspectives(analyzer: Analyzer, data_dir: Path = DEFAULT_DATA_DIR, split: str = "test",
                              on_progress: Callable[[int], None] | None = None, limit: int | None = None) -> dict:
    """Pearson r of ``vad_writer`` and ``vad_reader`` per dimension against EmoBank's writer and reader ratings
    (and of the combined ``vad`` output against each, for comparison), r of the predicted reader-minus-writer
    gap against the gold gap, and the hidden-anger rule (:mod:`affectlab.text.perspectives`) on gold and on
    predictions, with examples; and, as a ranking, how many of the rule's gold texts are among as many texts
    taken by the most negative predicted valence gap (chance: the base rate times that number)."""
    _needs(analyzer, "vad_writer", "vad_reader")
    data = load_emobank_perspectives(split, data_dir)
    rows = _spread(len(data.texts), limit)
    texts = [data.texts[i] for i in rows]
    results = analyzer.analyze_batch(texts, on_progress=on_progress)
    gold = {"writer": np.array(data.writer)[rows], "reader": np.array(data.reader)[rows]}
    predicted = {"writer": np.array([[r.vad_writer[d] for d in VAD] for r in results]),
                 "reader": np.array([[r.vad_reader[d] for d in VAD] for r in results])}
    combined = np.array([[r.vad[d] for d in VAD] for r in results])
    pearsons = {side: {d: pearson(predicted[side][:, i], gold[side][:, i]) for i, d in enumerate(VAD)}
                for side in gold}
    combined_r = {side: {d: pearson(combined[:, i], gold[side][:, i]) for i, d in enumerate(VAD)} for side in gold}
    gap_r = {d: pearson(predicted["reader"][:, i] - predicted["writer"][:, i],
                        gold["reader"][:, i] - gold["writer"][:, i]) for i, d in enumerate(VAD)}

    def flags(side_values: dict[str, np.ndarray]) -> np.ndarray:
        return np.array([hidden_anger(dict(zip(VAD, w)), dict(zip(VAD, r)))
                         for w, r in zip(side_values["writer"], side_values["reader"])])

    gold_flags, predicted_flags = flags(gold), flags(predicted)
    both = gold_flags & predicted_flags
    valence_gap = predicted["reader"][:, 0] - predicted["writer"][:, 0]
    most_negative = np.argsort(valence_gap, kind="stable")[: int(gold_flags.sum())]

    def example(i: int) -> dict:
        return {"text": texts[i], "gold_writer": dict(zip(VAD, gold["writer"][i].tolist())),
                "gold_reader": dict(zip(VAD, gold["reader"][i].tolist())),
                "predicted_writer": results[i].vad_writer, "predicted_reader": results[i].vad_reader}

    return {
        "model": _model_info(analyzer),
        "dataset": f"emobank/{split} (writer.csv, reader.csv)",
        "texts": len(rows),
        "pearson": pearsons,
        "mae": {side: {d: float(np.abs(predicted[side][:, i] - gold[side][:, i]).mean()) for i, d in enumerate(VAD)}
                for side in gold},
        "combined_vad_output_pearson": combined_r,
        "gap_pearson": gap_r,
        "writer_reader_valence_pearson": {"gold": pearson(gold["writer"][:, 0], gold["reader"][:, 0]),
                                          "predicted": pearson(predicted["writer"][:, 0], predicted["reader"][:, 0])},
        "hidden_anger": {
            "rule": f"writer valence >= {WRITER_VALENCE_MIN}, writer arousal <= {WRITER_AROUSAL_MAX}, "
                    f"reader valence <= {READER_VALENCE_MAX}",
            "gold": int(gold_flags.sum()),
            "flagged": int(predicted_flags.sum()),
            "flagged_and_gold": int(both.sum()),
            "precision": float(both.sum() / max(1, predicted_flags.sum())),
            "recall": float(both.sum() / max(1, gold_flags.sum())),
            "base_rate": float(gold_flags.mean()),
            # the rule's texts among as many texts as it finds, taken by the most negative predicted valence gap
            "gold_among_most_negative_gaps": int(gold_flags[most_negative].sum()),
            "gold_examples": [example(i) for i in np.flatnonzero(gold_flags)[:EXAMPLES]],
            "flagged_examples": [example(i) for i in np.flatnonzero(predicted_flags)[:EXAMPLES]],
        },
    }
