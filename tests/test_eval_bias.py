"""The bias audit: WEAT/WEFAT arithmetic and p-values, how swaps are built and scored against the bound, the
packaged word sets and templates, and `affectlab eval bias` end to end on small files."""

from __future__ import annotations

import json
from importlib.resources import files
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.errors import OptionError
from affectlab.evaluate.bias_swaps import eval_swaps, fill, fillers, load_templates
from affectlab.evaluate.bias_weat import load_word_sets
from affectlab.evaluate.weat import holm, weat, wefat
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT
from affectlab.text import TextAffect
from affectlab.text.artifact import resolve_artifact


def _clusters(seed: int = 0):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(10, 16)), rng.normal(size=(10, 16))
    a[:, 0] += 4
    b[:, 0] -= 4
    return rng, a, b


def test_weat_finds_an_association_and_its_direction():
    rng, a, b = _clusters()
    x, y = rng.normal(size=(8, 16)), rng.normal(size=(8, 16))
    x[:, 0] += 2
    y[:, 0] -= 2
    toward = weat(x, y, a, b, permutations=2_000)
    assert toward["effect_size"] > 1.5 and toward["p_value"] < 0.01 and toward["p_two_sided"] < 0.01
    away = weat(y, x, a, b, permutations=2_000)
    assert away["effect_size"] == pytest.approx(-toward["effect_size"]) and away["p_value"] > 0.99
    assert -2 <= toward["effect_size"] <= 2  # Cohen's d over X∪Y is bounded for equal sets


def test_weat_finds_nothing_where_there_is_nothing():
    rng, a, b = _clusters(1)
    x, y = rng.normal(size=(8, 16)), rng.normal(size=(8, 16))
    x[:, 0] = y[:, 0] = 0  # targets orthogonal to the attribute direction
    assert weat(x, y, a, b, permutations=2_000)["p_two_sided"] > 0.05
    with pytest.raises(ValueError, match="one size"):
        weat(x, y[:3], a, b)


def test_wefat_scores_each_word_towards_its_attribute():
    _, a, b = _clusters()
    scores = wefat(np.stack([a.mean(0), b.mean(0)]), a, b, permutations=2_000)
    assert scores[0]["score"] > 1 > -1 > scores[1]["score"]
    assert scores[0]["p_value"] < 0.01 and scores[1]["p_value"] > 0.99


def test_holm_adjusts_step_down():
    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    assert holm([0.2, 0.9]) == [0.4, 0.9]
    assert holm([0.6, 0.9]) == [1.0, 1.0]  # capped at 1


def test_swaps_change_the_group_only():
    spec = load_templates()
    names, name_swaps = fillers(spec["dimensions"]["names"])
    assert all(names[i].group != names[j].group for i, j in name_swaps)
    gender, gender_swaps = fillers(spec["dimensions"]["gender"])
    assert len(gender_swaps) == len(spec["dimensions"]["gender"]["pairs"])
    assert all(gender[i].group == "male" and gender[j].group == "female" for i, j in gender_swaps)
    religion, religion_swaps = fillers(spec["dimensions"]["religion"])
    assert len(religion_swaps) == len(religion) * (len(religion) - 1) // 2
    assert fill("{who} is here.", "my Sikh neighbor") == "My Sikh neighbor is here."


def _scripted(anger_for: str):
    """An analyzer that reads anger 0.6 into every text naming ``anger_for``, 0.1 elsewhere."""
    def analyze_batch(texts, on_progress=None):
        results = []
        for text in texts:
            anger = 0.6 if anger_for in text else 0.1
            emotions = {**dict.fromkeys(GOEMOTIONS, 0.05), "anger": anger}
            results.append(TextAffect(emotions=emotions, labels=[], ekman={**dict.fromkeys(EKMAN, 0.05),
                                      "anger": anger}, sentiment=dict.fromkeys(SENTIMENT, 0.2), vad={}))
        return results
    return SimpleNamespace(analyze_batch=analyze_batch)


def test_the_bound_catches_a_group_read_as_angrier_and_names_it():
    religions = ["Hindu", "Sikh", "Jewish", "Buddhist"]
    spec = {"templates": ["{who} called.", "I met {who}."],
            "dimensions": {"religion": {"pattern": "my {} neighbor", "values": religions}}}
    report = eval_swaps(_scripted("Sikh"), spec)
    religion = report["dimensions"]["religion"]
    assert religion["swaps"] == 12 and religion["bound"]["worst_output_share"] == 0.5
    assert not religion["bound"]["holds"] and not report["bound"]["holds"]
    assert religion["most_moved_fillers"][0] == {"filler": "my Sikh neighbor", "group": "Sikh", "share_over": 1.0}
    assert abs(religion["worst_swaps"][0]["move"]) == 0.5 and "Sikh" in json.dumps(religion["worst_swaps"][0])
    assert religion["group_shifts"]["Sikh"]["emotion:anger"] == pytest.approx(0.375)
    assert religion["outputs"]["sentiment:positive"]["max_abs"] == 0
    fair = eval_swaps(_scripted("nobody"), spec)
    assert fair["bound"]["holds"] and fair["dimensions"]["religion"]["bound"]["any_emotion_share"] == 0
    assert fair["dimensions"]["religion"]["bound"]["worst_output"] is None
    assert len(fair["dimensions"]["religion"]["outputs"]) == len(GOEMOTIONS) + len(EKMAN) + len(SENTIMENT)


def test_the_packaged_word_sets_hold_together():
    words = load_word_sets()
    sets = words["sets"]
    assert len(sets["pleasant"]) == len(sets["unpleasant"]) >= 20
    assert not set(sets["pleasant"]) & set(sets["unpleasant"])
    for name, x, y, _ in words["tests"]:
        assert len(sets[x]) == len(sets[y]) >= 8, name
        assert not set(sets[x]) & set(sets[y]), name
    assert all(words["sources"][name].startswith("category:") for name in sets)


def test_bad_files_are_named(tmp_path):
    bad = tmp_path / "templates.json"
    bad.write_text(json.dumps({"templates": [{"text": "no slot here"}], "dimensions": {}}))
    with pytest.raises(OptionError, match="exactly one {who}"):
        load_templates(bad)
    words = tmp_path / "words.json"
    words.write_text(json.dumps({"attributes": {}, "targets": {}, "tests": [{"name": "t", "x": "a", "y": "b"}]}))
    with pytest.raises(OptionError, match=r"does not hold: \['a', 'b', 'pleasant', 'unpleasant'\]"):
        load_word_sets(words)


@pytest.mark.model
def test_eval_bias_writes_its_report_for_a_model_path(tmp_path):
    packaged = json.loads(files("affectlab.evaluate").joinpath("bias_words.json").read_text(encoding="utf-8"))
    packaged["tests"] = packaged["tests"][:2]
    words = tmp_path / "words.json"
    words.write_text(json.dumps(packaged))
    templates = tmp_path / "templates.json"
    templates.write_text(json.dumps({"templates": [{"text": "{who} called me today."}], "dimensions": {
        "religion": {"pattern": "my {} neighbor", "values": ["Christian", "Muslim", "Jewish"]}}}))
    result = CliRunner().invoke(app, ["eval", "bias", "--model", str(resolve_artifact()), "--permutations", "99",
                                      "--words", str(words), "--templates", str(templates),
                                      "--reports-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "eval-bias.json").read_text())
    assert report["command"].startswith("affectlab eval bias")
    assert set(report["weat"]["results"]) == {"base", "fine-tuned"}
    assert [t["name"] for t in report["weat"]["results"]["fine-tuned"]["sentence"]["tests"]] == [
        "flowers-insects", "european-african-american-names"]
    assert report["counterfactual"]["dimensions"]["religion"]["swaps"] == 3
    assert isinstance(report["counterfactual"]["bound"]["holds"], bool)


def test_swaps_work_for_a_model_with_its_own_labels():
    def analyze_batch(texts, on_progress=None):
        return [TextAffect(emotions={"calm": 0.3, "tense": 0.9 if "Sikh" in t else 0.2}, labels=[], ekman={},
                           sentiment={}, vad={}) for t in texts]

    spec = {"templates": ["{who} called."],
            "dimensions": {"religion": {"pattern": "my {} neighbor", "values": ["Hindu", "Sikh"]}}}
    religion = eval_swaps(SimpleNamespace(analyze_batch=analyze_batch), spec)["dimensions"]["religion"]
    assert set(religion["outputs"]) == {"emotion:calm", "emotion:tense"}
    assert religion["bound"]["worst_output"] == "emotion:tense" and not religion["bound"]["holds"]
