"""Metrics for classification and regression, per-label threshold tuning, reply overlap (BLEU, ROUGE-L) and
bootstrap intervals."""

from __future__ import annotations

import math
import re
import string
from collections import Counter

import numpy as np

THRESHOLD_GRID = np.round(np.arange(0.02, 0.96, 0.01), 2)


def f1_per_label(predicted: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Boolean ``[n, labels]`` predictions and gold → F1 of each label (0 where a label never occurs)."""
    predicted = predicted.astype(bool)
    gold = gold.astype(bool)
    tp = (predicted & gold).sum(0).astype(float)
    fp = (predicted & ~gold).sum(0)
    fn = (~predicted & gold).sum(0)
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)


def micro_f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    predicted = predicted.astype(bool)
    gold = gold.astype(bool)
    tp = float((predicted & gold).sum())
    denom = 2 * tp + float((predicted & ~gold).sum()) + float((~predicted & gold).sum())
    return 2 * tp / denom if denom else 0.0


def tune_thresholds(probs: np.ndarray, gold: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> np.ndarray:
    """For each label, the threshold on ``grid`` that maximizes that label's F1 (ties: the lowest)."""
    gold = gold.astype(bool)
    best = np.empty(probs.shape[1])
    for label in range(probs.shape[1]):
        scores = [f1_per_label(probs[:, [label]] >= t, gold[:, [label]])[0] for t in grid]
        best[label] = grid[int(np.argmax(scores))]
    return best


def cross_fitted_macro_f1(probs: np.ndarray, gold: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Macro-F1 of per-label thresholds that never saw the rows they judge: the rows are cut into ``folds``
    seeded parts, each part is judged with the thresholds :func:`tune_thresholds` picks on the others (a label
    with no positives there is never predicted), and F1 is counted over all rows at once. Scoring thresholds on
    the split they were tuned on overstates them.

    >>> rng = np.random.default_rng(0)
    >>> gold = rng.random((400, 2)) < 0.3
    >>> round(cross_fitted_macro_f1(np.where(gold, 0.8, 0.2), gold), 2)
    1.0
    """
    part = np.random.default_rng(seed).permutation(len(probs)) % folds
    predicted = np.zeros(probs.shape, dtype=bool)
    for k in range(folds):
        thresholds = tune_thresholds(probs[part != k], gold[part != k])
        thresholds[~gold[part != k].any(0)] = np.inf
        predicted[part == k] = probs[part == k] >= thresholds
    return float(f1_per_label(predicted, gold).mean())


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(np.asarray(x, float), np.asarray(y, float))[0, 1])


def multi_hot(label_lists: list[list[str]], names: tuple[str, ...]) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    out = np.zeros((len(label_lists), len(names)), dtype=np.float32)
    for row, labels in enumerate(label_lists):
        for label in labels:
            out[row, index[label]] = 1.0
    return out


def emotion_f1_without(predicted: list[str], gold: list[str], labels: tuple[str, ...],
                       left_out: str | None = None) -> dict:
    """Single-label emotion scores, optionally with one class (neutral) left out, as DailyDialog papers
    report them: micro-F1 counts a hit only on the other classes; weighted-F1 averages their F1 by gold
    support."""
    kept = [label for label in labels if label != left_out]
    tp = sum(p == g != left_out for p, g in zip(predicted, gold))
    predicted_n = sum(p != left_out for p in predicted)
    gold_n = sum(g != left_out for g in gold)
    micro = 2 * tp / (predicted_n + gold_n) if predicted_n + gold_n else 0.0
    per_label, support = {}, {}
    for label in kept:
        hit = sum(p == g == label for p, g in zip(predicted, gold))
        denom = sum(p == label for p in predicted) + sum(g == label for g in gold)
        per_label[label] = 2 * hit / denom if denom else 0.0
        support[label] = sum(g == label for g in gold)
    total = sum(support.values())
    weighted = sum(per_label[k] * support[k] for k in kept) / total if total else 0.0
    return {"micro_f1": micro, "weighted_f1": weighted, "f1": per_label, "support": support}


def binary_f1s(predicted: np.ndarray, gold: np.ndarray) -> dict:
    """F1 of the positive class, of the negative class, and their mean (RECCON's entailment metrics)."""
    predicted, gold = predicted.astype(bool), gold.astype(bool)
    scores = f1_per_label(np.stack([predicted, ~predicted], 1), np.stack([gold, ~gold], 1))
    return {"pos_f1": float(scores[0]), "neg_f1": float(scores[1]), "macro_f1": float(scores.mean())}


def _answer_tokens(text: str) -> list[str]:
    """SQuAD's answer normalization: lower case, punctuation deleted, articles dropped, split on spaces."""
    text = "".join(c for c in text.lower() if c not in string.punctuation)
    return [t for t in text.split() if t not in ("a", "an", "the")]


def span_f1(predicted: str, gold: str) -> float:
    """Token-overlap F1 between two spans after SQuAD-style normalization; two empty spans score 1."""
    p, g = _answer_tokens(predicted), _answer_tokens(gold)
    if not p or not g:
        return float(p == g)
    common = sum(min(p.count(t), g.count(t)) for t in set(p))
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def _mean(values: list) -> float:
    return float(np.mean(values)) if values else 0.0


def span_scores(predicted: list[str], gold: list[list[str]]) -> dict:
    """RECCON span-extraction scores over (target, candidate) pairs. ``gold`` holds each pair's annotated
    spans (several where annotators marked more than one; the best-matching one counts, as in SQuAD), or
    ``[]`` where the turn is not a cause: exact match and F1 on the cause pairs, F1 on the other pairs
    (an empty prediction scores 1), and F1 over all pairs. ``f1_pos_nested`` is F1_pos as the RECCON
    authors' scoring script (``eval_qa.py``) counts it: a span that neither contains the gold span nor lies
    inside it scores 0 instead of its token overlap."""
    exact = [any(_answer_tokens(p) == _answer_tokens(g) for g in golds or [""]) for p, golds in zip(predicted, gold)]
    f1 = [max(span_f1(p, g) for g in golds or [""]) for p, golds in zip(predicted, gold)]
    nested = [max((span_f1(p, g) if p.strip() and (p.strip() in g or g.strip() in p) else 0.0) for g in golds)
              if golds else 0.0 for p, golds in zip(predicted, gold)]
    pos = [i for i, golds in enumerate(gold) if golds]
    neg = [i for i, golds in enumerate(gold) if not golds]
    return {
        "em_pos": _mean([exact[i] for i in pos]),
        "f1_pos": _mean([f1[i] for i in pos]),
        "f1_pos_nested": _mean([nested[i] for i in pos]),
        "f1_neg": _mean([f1[i] for i in neg]),
        "f1": _mean(f1),
        "pairs": len(gold),
        "cause_pairs": len(pos),
    }


def macro_f1_single(predicted: np.ndarray, gold: np.ndarray, n_labels: int) -> float:
    """Macro-F1 of single-label predictions (label indices), over labels present in gold or predicted."""
    eye = np.eye(n_labels, dtype=bool)
    per_label = f1_per_label(eye[predicted], eye[gold])
    seen = eye[predicted].any(0) | eye[gold].any(0)
    return float(per_label[seen].mean())


def strategy_preferences(predicted: np.ndarray, gold: np.ndarray, n_labels: int, iterations: int = 20) -> np.ndarray:
    """Each label's preference under a Bradley-Terry model, after Kang et al. (2024, "Can Large Language
    Models be Good Emotional Supporter?"): predicting label i where the gold label was j counts as i winning
    a comparison against j; strengths are fitted by the minorization-maximization update, normalized by
    their geometric mean each round, and finally scaled to sum to ``n_labels`` (1.0 each when unbiased)."""
    wins = np.zeros((n_labels, n_labels))
    np.add.at(wins, (predicted, gold), 1.0)
    np.fill_diagonal(wins, 0.0)
    strength = np.ones(n_labels)
    for _ in range(iterations):
        for i in range(n_labels):
            pair = strength[i] + strength
            inverse = np.divide(1.0, pair, out=np.zeros(n_labels), where=pair > 0)  # two never-winners: no term
            won = float((wins[i] * strength * inverse).sum())
            lost = float((wins[:, i] * inverse).sum())
            if lost > 0:
                strength[i] = won / lost
            elif won > 0:  # never beaten: grows without bound, so let it dominate the normalized result
                strength[i] *= n_labels
        positive = strength[strength > 0]
        strength = strength / np.exp(np.log(positive).mean()) if len(positive) else np.ones(n_labels)
    return strength * n_labels / strength.sum()


def preference_bias(predicted: np.ndarray, gold: np.ndarray, n_labels: int) -> float:
    """The standard deviation of :func:`strategy_preferences` (0 when no label is preferred)."""
    return float(np.std(strategy_preferences(predicted, gold, n_labels)))


def bootstrap_delta(differences: list[np.ndarray], resamples: int = 2000, seed: int = 0,
                    confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean over groups of each group's mean paired difference, with a percentile bootstrap interval that
    resamples items within each group (one group: a plain paired bootstrap). Returns (delta, low, high)."""
    groups = [np.asarray(d, dtype=float) for d in differences if len(d)]
    if not groups:
        raise ValueError("no paired differences to bootstrap")
    rng = np.random.default_rng(seed)
    estimate = float(np.mean([g.mean() for g in groups]))
    draws = np.zeros(resamples)
    for g in groups:
        draws += g[rng.integers(0, len(g), size=(resamples, len(g)))].mean(axis=1)
    draws /= len(groups)
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return estimate, float(low), float(high)


def cluster_bootstrap_interval(values, clusters, resamples: int = 2000, seed: int = 0,
                               confidence: float = 0.95) -> tuple[float, float, float]:
    """The mean of ``values`` with a percentile bootstrap interval that resamples whole clusters (e.g. prompts,
    each with all of its outputs) instead of single items: items of one cluster are alike, so treating them as
    independent makes the interval too narrow. Returns (mean, low, high).

    >>> cluster_bootstrap_interval([1, 1, 0, 0], ["a", "a", "b", "b"])[0]
    0.5
    """
    values = np.asarray(values, dtype=float)
    ids = np.asarray(clusters)
    if values.ndim != 1 or len(values) != len(ids):
        raise ValueError(f"{len(values)} values but {len(ids)} cluster ids; give one id per value")
    if not len(values):
        raise ValueError("no values to bootstrap")
    _, index = np.unique(ids, return_inverse=True)
    sums = np.bincount(index, weights=values)
    counts = np.bincount(index).astype(float)
    draws = np.random.default_rng(seed).integers(0, len(sums), size=(resamples, len(sums)))
    means = sums[draws].sum(1) / counts[draws].sum(1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(values.mean()), float(low), float(high)


def reply_tokens(text: str) -> list[str]:
    """Lower-cased words and punctuation marks, the unit of BLEU and ROUGE here."""
    return re.findall(r"\w+|[^\w\s]", text.lower())


def corpus_bleu(candidates: list[str], references: list[str], max_n: int = 2) -> float:
    """Corpus BLEU-``max_n`` (Papineni et al., 2002) with one reference per candidate: the geometric mean of
    clipped n-gram precisions summed over the corpus, times the brevity penalty; 0 when an order has no match."""
    matched, total = np.zeros(max_n), np.zeros(max_n)
    length = reference_length = 0
    for candidate, reference in zip(candidates, references, strict=True):
        c, r = reply_tokens(candidate), reply_tokens(reference)
        length, reference_length = length + len(c), reference_length + len(r)
        for n in range(1, max_n + 1):
            grams = Counter(tuple(c[i : i + n]) for i in range(len(c) - n + 1))
            allowed = Counter(tuple(r[i : i + n]) for i in range(len(r) - n + 1))
            matched[n - 1] += sum(min(k, allowed[g]) for g, k in grams.items())
            total[n - 1] += max(0, len(c) - n + 1)
    if not length or (matched == 0).any():
        return 0.0
    penalty = 1.0 if length > reference_length else math.exp(1 - reference_length / length)
    return float(penalty * math.exp(np.mean(np.log(matched / total))))


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 (Lin, 2004): the longest common subsequence of tokens against both lengths."""
    c, r = reply_tokens(candidate), reply_tokens(reference)
    if not c or not r:
        return 0.0
    previous = [0] * (len(r) + 1)
    for token in c:
        current = [0]
        for j, other in enumerate(r):
            current.append(previous[j] + 1 if token == other else max(previous[j + 1], current[j]))
        previous = current
    common = previous[-1]
    if not common:
        return 0.0
    precision, recall = common / len(c), common / len(r)
    return 2 * precision * recall / (precision + recall)


def cluster_bootstrap_statistic(statistic, clusters, resamples: int = 1000, seed: int = 0,
                                confidence: float = 0.95) -> tuple[float, float, float]:
    """Any corpus-level ``statistic(indices)`` (corpus BLEU, a perplexity, a ratio of two arms' perplexities on the
    same items) with a percentile interval from resampling whole clusters of items. Returns (value, low, high).

    >>> cluster_bootstrap_statistic(lambda idx: float(np.mean(np.array([1, 1, 0, 0])[idx])), ["a", "a", "b", "b"])[0]
    0.5
    """
    ids = np.asarray(clusters)
    if not len(ids):
        raise ValueError("no items to bootstrap")
    _, index = np.unique(ids, return_inverse=True)
    members = [np.flatnonzero(index == c) for c in range(index.max() + 1)]
    rng = np.random.default_rng(seed)
    draws = [statistic(np.concatenate([members[c] for c in rng.integers(0, len(members), len(members))]))
             for _ in range(resamples)]
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(statistic(np.arange(len(ids)))), float(low), float(high)
