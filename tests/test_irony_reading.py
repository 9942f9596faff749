"""The irony rule: ironic windows lose their positive reading, others are untouched."""

import numpy as np

from affectlab.heads import head_slices
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT
from affectlab.text.irony import ironic_reading

SLICES = head_slices()


def _window(irony_logit: float, positive_logit: float = 4.0, negative_logit: float = -3.0) -> np.ndarray:
    raw = np.zeros(SLICES["irony"].stop, np.float32)
    raw[SLICES["irony"]] = irony_logit
    raw[SLICES["sentiment"].start + SENTIMENT.index("positive")] = positive_logit
    raw[SLICES["sentiment"].start + SENTIMENT.index("negative")] = negative_logit
    raw[SLICES["goemotions"].start + GOEMOTIONS.index("admiration")] = 3.0
    raw[SLICES["goemotions"].start + GOEMOTIONS.index("annoyance")] = -2.0
    raw[SLICES["ekman"].start + EKMAN.index("joy")] = 2.5
    return raw


def _p(x):
    return 1 / (1 + np.exp(-np.asarray(x, np.float64)))


def test_an_ironic_window_reads_negative_instead_of_positive():
    raw = np.stack([_window(3.0)])  # irony 0.95
    out = ironic_reading(raw, SLICES, threshold=0.5)
    sentiment = _p(out[0, SLICES["sentiment"]])
    positive, negative = sentiment[SENTIMENT.index("positive")], sentiment[SENTIMENT.index("negative")]
    assert np.isclose(positive, _p(4.0) * (1 - _p(3.0)), atol=1e-6)
    assert np.isclose(negative, 1 - (1 - _p(-3.0)) * (1 - _p(3.0) * _p(4.0)), atol=1e-6)
    assert negative > positive
    assert _p(out[0, SLICES["goemotions"].start + GOEMOTIONS.index("admiration")]) < 0.1
    assert _p(out[0, SLICES["ekman"].start + EKMAN.index("joy")]) < 0.1
    # negative emotions are not touched
    annoyance = SLICES["goemotions"].start + GOEMOTIONS.index("annoyance")
    assert out[0, annoyance] == raw[0, annoyance]


def test_windows_below_the_threshold_are_unchanged():
    raw = np.stack([_window(-2.0), _window(0.0), _window(3.0)])
    out = ironic_reading(raw, SLICES, threshold=0.6)
    assert np.array_equal(out[:2], raw[:2])
    assert not np.array_equal(out[2], raw[2])


def _with_rule(tmp_path, name: str, rule: float | None):
    """A copy of the shipped text model whose irony rule starts at ``rule``."""
    import json
    import shutil

    from affectlab.text.artifact import resolve_artifact

    folder = tmp_path / name
    shutil.copytree(resolve_artifact(None), folder)
    config = json.loads((folder / "config.json").read_text())
    config["irony_rule"] = rule
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_literal_reading_leaves_the_rule_off(tmp_path):
    from affectlab import Analyzer

    text = "Thank you so much, this is wonderful news!"
    everything = Analyzer(_with_rule(tmp_path, "every-window-flagged", 0.0), runtime="torch")
    plain = Analyzer(_with_rule(tmp_path, "no-rule", None), runtime="torch")
    (ruled,), (literal,) = everything.analyze_batch([text]), everything.analyze_batch([text], literal=True)
    (reference,) = plain.analyze_batch([text])
    assert literal.sentiment == reference.sentiment and literal.ekman == reference.ekman
    assert literal.irony == ruled.irony
    assert ruled.sentiment["positive"] < literal.sentiment["positive"] and ruled.ekman["joy"] < literal.ekman["joy"]
