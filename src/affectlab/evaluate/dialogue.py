"""``affectlab eval dailydialog`` and ``affectlab eval reccon``: the conversation models on held-out splits, and
the per-corpus helpers ``affectlab eval conversation`` shares (:mod:`affectlab.evaluate.conversation`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from affectlab.datasets import (
    DEFAULT_DATA_DIR,
    NEAR_COPY_NGRAM,
    NEAR_COPY_SHARE,
    RECCON_SETS,
    Dialogue,
    load_dailydialog,
    load_reccon,
    overlapping_dialogues,
)
from affectlab.dialogue.analyzer import ConversationAnalyzer, TurnLogits
from affectlab.dialogue.cause_task import cause_pairs, cause_queries, predicted_spans, tokenize_dialogues
from affectlab.dialogue.predict import cause_scores
from affectlab.metrics import binary_f1s, emotion_f1_without, span_scores
from affectlab.registry import fingerprint

# Published test figures (RECCON: Poria et al., 2021, fold 1, RoBERTa-base; KEC: Li et al., 2022).
PUBLISHED_RECCON = {
    "RoBERTa-base, entailment macro-F1, without context": 0.7088,
    "RoBERTa-base, entailment macro-F1, with context": 0.7651,
    "KEC, entailment macro-F1": 0.8125,
    "RoBERTa-base, span F1_pos, with context": 0.5817,
}


def model_info(folder: Path) -> dict:
    return {"name": folder.name, "fingerprint": fingerprint(folder)}


def train_overlap(test: list[Dialogue], train: list[Dialogue]) -> dict[str, set[str]]:
    """The test dialogues to leave out for each de-duplicated variant of the test set."""
    return {"without_copies": set(overlapping_dialogues(test, train)),
            "without_near_copies": set(overlapping_dialogues(test, train, NEAR_COPY_SHARE))}


def _overlap_note(test: list[Dialogue], dropped: dict[str, set[str]], train_name: str) -> dict:
    emotional = sum(e != "neutral" for d in test for e in d.emotions)

    def described(ids: set[str]) -> dict:
        share = sum(e != "neutral" for d in test if d.id in ids for e in d.emotions) / max(emotional, 1)
        return {"dropped_dialogues": len(ids), "of": len(test), "share_of_emotional_turns": round(share, 4)}

    return {
        "compared_with": train_name,
        "without_copies": {**described(dropped["without_copies"]),
                           "definition": "test dialogues left out whose words (lower-cased letters and digits of "
                                         "all turns; case, spacing, punctuation and turn splits ignored) equal a "
                                         "train dialogue's"},
        "without_near_copies": {**described(dropped["without_near_copies"]),
                                "definition": f"copies, and test dialogues of which at least {NEAR_COPY_SHARE:.0%} "
                                              f"of the word {NEAR_COPY_NGRAM}-grams occur in one train dialogue"},
    }


def turn_scores(predicted_by_dialogue: list[list[str]], dialogues: list[Dialogue], labels: list[str]) -> dict:
    """Single-label turn scores: F1 without neutral (DailyDialog's usual figures), weighted-F1 over every class
    (MELD's) and accuracy."""
    predicted = [p for ps in predicted_by_dialogue for p in ps]
    gold = [e for d in dialogues for e in d.emotions]
    scores = emotion_f1_without(predicted, gold, tuple(labels), "neutral")
    with_neutral = emotion_f1_without(predicted, gold, tuple(labels))
    return {
        "dialogues": len(dialogues),
        "turns": len(gold),
        "micro_f1_without_neutral": scores["micro_f1"],
        "weighted_f1_without_neutral": scores["weighted_f1"],
        "weighted_f1_all_classes": with_neutral["weighted_f1"],
        "accuracy": float(np.mean([p == g for p, g in zip(predicted, gold)])),
        "per_label_f1": {k: round(v, 4) for k, v in scores["f1"].items()},
        "support": scores["support"],
    }


def dialogue_logits(analyzer: ConversationAnalyzer, dialogues: list[Dialogue]) -> TurnLogits:
    """Turn-emotion logits (and the text model's readings) of each gold dialogue, before a register's calibration."""
    return analyzer.turn_logits([[{"speaker": s, "text": t} for s, t in zip(d.speakers, d.texts)]
                                 for d in dialogues])


def predicted_emotions(analyzer: ConversationAnalyzer, logits: TurnLogits,
                       register: str | None = None) -> list[list[str]]:
    """Each turn's emotion from :func:`dialogue_logits`, calibrated for ``register`` (default: the
    analyzer's)."""
    labels = analyzer.turns_model.config.labels
    return [[labels[i] for i in p.argmax(1)] for p in analyzer.turn_probabilities(logits, register)]


def dailydialog_figures(predicted: list[list[str]], dialogues: list[Dialogue], labels: list[str],
                        dropped: dict[str, set[str]], name: str = "dailydialog") -> dict:
    """Turn scores on a DailyDialog split and on that split without the dialogues it shares with DailyDialog
    train (``dropped``: :func:`train_overlap`), with a note of what was left out."""
    figures = {name: turn_scores(predicted, dialogues, labels),
               f"{name}_train_overlap": _overlap_note(dialogues, dropped, "DailyDialog train")}
    for variant, ids in dropped.items():
        kept = [i for i, d in enumerate(dialogues) if d.id not in ids]
        figures[f"{name}_{variant}"] = turn_scores([predicted[i] for i in kept], [dialogues[i] for i in kept], labels)
    return figures


def eval_dailydialog(analyzer: ConversationAnalyzer, data_dir: Path = DEFAULT_DATA_DIR, split: str = "test",
                     on_progress: Callable[[int], None] | None = None, limit: int | None = None) -> dict:
    """Turn emotions on DailyDialog ``split`` and, for the same model, on RECCON-IEMOCAP's turns
    (happy/excited → joy, sad → sadness, angry/frustrated → anger)."""
    report = {"model": model_info(analyzer.turns_model.folder), "split": split, "limit": limit,
              "register": analyzer.register, "neutral_bias": analyzer.neutral_bias}
    labels = analyzer.turns_model.config.labels
    for name, dialogues in (("dailydialog", load_dailydialog(split, data_dir)),
                            ("reccon_iemocap", load_reccon("iemocap_test", data_dir))):
        dialogues = dialogues[:limit]
        predicted = predicted_emotions(analyzer, dialogue_logits(analyzer, dialogues))
        if name == "dailydialog" and split != "train":
            dropped = train_overlap(dialogues, load_dailydialog("train", data_dir))
            report.update(dailydialog_figures(predicted, dialogues, labels, dropped))
        else:
            report[name] = turn_scores(predicted, dialogues, labels)
        if on_progress is not None:
            on_progress(len(dialogues))
    return report


def _self_only(queries) -> dict:
    """The positional baseline: the target turn alone is its own cause."""
    predicted = np.concatenate([np.arange(q.target + 1) == q.target for q, _ in queries])
    gold = np.concatenate([np.isin(np.arange(q.target + 1), d.causes[q.target]) for q, d in queries])
    return binary_f1s(predicted, gold)


def _found_spans(queries, scores) -> dict:
    predicted, gold = predicted_spans(queries, scores, threshold=0.0)
    on_causes = span_scores([p for p, g in zip(predicted, gold) if g], [g for g in gold if g])
    return {"em_pos": on_causes["em_pos"], "f1_pos": on_causes["f1_pos"]}


def _cause_figures(dialogues: int, queries, scores, threshold: float) -> dict:
    probs, gold = cause_pairs(queries, scores)
    return {
        "dialogues": dialogues,
        "targets": len(queries),
        "pairs": int(len(gold)),
        "cause_pairs": int(gold.sum()),
        "entailment": binary_f1s(probs >= threshold, gold),
        "spans": span_scores(*predicted_spans(queries, scores, threshold)),
        # diagnostic, not a task figure: span quality alone, as if every gold cause turn had been found
        "spans_if_every_cause_were_found": _found_spans(queries, scores),
        "baseline_target_is_its_own_cause": _self_only(queries),
    }


def _outside_window(queries, lookback: int | None) -> dict:
    """How many gold cause turns lie more than ``lookback`` turns before their target (never scored)."""
    distances = [q.target - cause for q, d in queries for cause in d.causes[q.target]]
    outside = sum(lookback is not None and distance > lookback for distance in distances)
    return {"lookback": lookback, "gold_causes": len(distances), "outside": outside,
            "share_outside": round(outside / max(len(distances), 1), 4)}


def eval_reccon(analyzer: ConversationAnalyzer, data_dir: Path = DEFAULT_DATA_DIR,
                sets: tuple[str, ...] = ("dailydialog_test", "iemocap_test"),
                on_progress: Callable[[int], None] | None = None, limit: int | None = None) -> dict:
    """Causal emotion entailment (every target × turn-up-to-target pair, gold emotion given) and causal span
    extraction (span predicted where the pair is judged a cause, "" elsewhere). Candidates are the target and
    the analyzer's ``lookback`` turns before it, as in use: pairs further back count as judged not a cause.
    With a lookback, ``{set}_every_turn`` holds the figures of scoring every earlier turn, for comparison."""
    loaded = analyzer.causes_model
    report = {"model": model_info(loaded.folder), "limit": limit, "threshold": loaded.config.threshold,
              "lookback": analyzer.lookback, "published": PUBLISHED_RECCON}
    lookbacks = {"": analyzer.lookback} if analyzer.lookback is None else {"": analyzer.lookback, "_every_turn": None}
    for name in sets:
        dialogues = load_reccon(name, data_dir)[:limit]
        queries = cause_queries(dialogues, tokenize_dialogues(dialogues, loaded.tokenizer))
        report[f"{name}_outside_lookback"] = _outside_window(queries, analyzer.lookback)
        train_name = name.replace("_test", "_train")
        dropped = {}
        if name.endswith("_test") and train_name in RECCON_SETS:
            dropped = train_overlap(dialogues, load_reccon(train_name, data_dir))
            report[f"{name}_train_overlap"] = _overlap_note(dialogues, dropped, f"RECCON {train_name}")
        for suffix, lookback in lookbacks.items():
            scores = cause_scores(loaded.network(analyzer.threads), loaded.tokenizer, [q for q, _ in queries],
                                  loaded.config.window_tokens, analyzer.batch_size, lookback)
            report[name + suffix] = _cause_figures(len(dialogues), queries, scores, loaded.config.threshold)
            for variant, ids in dropped.items():
                kept = [i for i, (_, d) in enumerate(queries) if d.id not in ids]
                report[f"{name}_{variant}{suffix}"] = _cause_figures(
                    len(dialogues) - len(ids), [queries[i] for i in kept], [scores[i] for i in kept],
                    loaded.config.threshold)
        if on_progress is not None:
            on_progress(len(dialogues))
    return report
