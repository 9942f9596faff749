import numpy as np

from affectlab.metrics import cross_fitted_macro_f1, f1_per_label, micro_f1, multi_hot, pearson, tune_thresholds
from affectlab.taxonomy import EKMAN, GOEMOTIONS, GOEMOTIONS_TO_EKMAN, GOEMOTIONS_TO_SENTIMENT, group_labels
from conftest import DATA_DIR, needs_data


@needs_data
def test_label_names_match_the_dataset():
    assert tuple((DATA_DIR / "goemotions" / "labels.txt").read_text().split()) == GOEMOTIONS


def test_every_label_has_an_ekman_and_a_sentiment_group():
    assert set(GOEMOTIONS_TO_EKMAN) == set(GOEMOTIONS) == set(GOEMOTIONS_TO_SENTIMENT)
    assert set(GOEMOTIONS_TO_EKMAN.values()) == set(EKMAN)


def test_group_labels_dedupes_in_order():
    assert group_labels(["annoyance", "anger", "joy"], GOEMOTIONS_TO_EKMAN) == ["anger", "joy"]


def test_f1_per_label():
    predicted = np.array([[1, 0], [1, 1], [0, 0]])
    gold = np.array([[1, 0], [0, 1], [1, 0]])
    # label 0: tp 1, fp 1, fn 1 -> 0.5; label 1: tp 1 -> 1.0
    assert np.allclose(f1_per_label(predicted, gold), [0.5, 1.0])
    assert micro_f1(predicted, gold) == 2 * 2 / (2 * 2 + 1 + 1)


def test_tuned_thresholds_separate_the_classes():
    probs = np.array([[0.9], [0.35], [0.3], [0.1]])
    gold = np.array([[1], [1], [0], [0]])
    (threshold,) = tune_thresholds(probs, gold)
    assert 0.3 < threshold <= 0.35
    assert f1_per_label(probs >= threshold, gold)[0] == 1.0


def test_pearson_and_multi_hot():
    assert pearson(np.array([1, 2, 3]), np.array([2, 4, 7])) > 0.98
    assert multi_hot([["b"], ["a", "b"]], ("a", "b")).tolist() == [[0, 1], [1, 1]]


def test_cross_fitted_thresholds_do_not_profit_from_noise():
    rng = np.random.default_rng(1)
    gold = rng.random((600, 3)) < 0.1
    separable = np.where(gold, 0.7, 0.3)
    assert cross_fitted_macro_f1(separable, gold) == 1.0
    noise = rng.random((600, 3))  # scores that know nothing of the labels
    in_sample = f1_per_label(noise >= tune_thresholds(noise, gold), gold).mean()
    assert cross_fitted_macro_f1(noise, gold) < in_sample - 0.01
    assert cross_fitted_macro_f1(noise, gold, seed=3) != cross_fitted_macro_f1(noise, gold, seed=4)


def test_a_label_without_positives_in_the_tuning_folds_is_never_predicted():
    part = np.random.default_rng(0).permutation(50) % 5  # the function's seeded folds
    gold = np.zeros((50, 1), dtype=bool)
    gold[np.flatnonzero(part == 0)[:2]] = True  # both positives in fold 0
    probs = np.where(gold, 0.9, 0.1)
    # fold 0 is judged with thresholds tuned on folds without a positive: nothing predicted, so F1 is 0, not a
    # threshold at the grid's bottom that would flag every row
    assert cross_fitted_macro_f1(probs, gold) == 0.0
