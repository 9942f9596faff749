"""Conversation metrics, and the eval, bench and train commands for conversations on the real data."""

import json

import pytest
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.dialogue import ConversationAnalyzer
from affectlab.evaluate.datasets import load_dailydialog, load_reccon
from affectlab.evaluate.metrics import binary_f1s, emotion_f1_without, span_f1, span_scores
from conftest import DATA_DIR, needs_data

runner = CliRunner()


def test_emotion_f1_without_neutral():
    gold = ["neutral", "joy", "joy", "anger", "neutral"]
    predicted = ["joy", "joy", "neutral", "anger", "neutral"]
    scores = emotion_f1_without(predicted, gold, ("anger", "joy", "neutral"), "neutral")
    # hits outside neutral: 2; predicted non-neutral: 3; gold non-neutral: 3
    assert scores["micro_f1"] == pytest.approx(2 / 3)
    assert scores["f1"] == {"anger": 1.0, "joy": 0.5}
    assert scores["weighted_f1"] == pytest.approx((1.0 * 1 + 0.5 * 2) / 3)


def test_binary_and_span_scores():
    import numpy as np

    scores = binary_f1s(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    assert scores["pos_f1"] == pytest.approx(2 / 3) and scores["neg_f1"] == pytest.approx(0.8)
    assert span_f1("the movie tomorrow", "see a movie tomorrow ?") == pytest.approx(2 * (1 * 2 / 3) / (1 + 2 / 3))
    assert span_f1("", "") == 1.0 and span_f1("x", "") == 0.0
    spans = span_scores(["see a movie", "", "oops"], [["a film", "see a movie"], [], []])
    assert spans["em_pos"] == 1.0 and spans["f1_neg"] == 0.5 and spans["f1"] == pytest.approx(2 / 3)
    # overlapping without nesting: token credit in F1_pos, none under the RECCON script's rule
    overlap = span_scores(["movie tomorrow night", "a movie", ""], [["see a movie tomorrow"]] * 3)
    assert overlap["f1_pos"] == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    assert overlap["f1_pos_nested"] == pytest.approx((0 + 1 / 2 + 0) / 3)


@needs_data
def test_loaders_match_the_papers_counts():
    assert len(load_dailydialog("test", DATA_DIR)) == 1000
    test = load_reccon("dailydialog_test", DATA_DIR)
    pairs = sum(t + 1 for d in test for t, e in enumerate(d.emotions) if e != "neutral")
    cause_pairs = sum(len(set(c)) for d in test for c in d.causes)
    assert (len(test), pairs, cause_pairs) == (225, 7097, 1767)
    assert all(c <= t for d in test for t, cs in enumerate(d.causes) for c in cs)


@needs_data
@pytest.mark.parametrize("dataset", ["dailydialog", "reccon"])
def test_eval_conversation_writes_a_report(tmp_path, dataset):
    result = runner.invoke(
        app, ["eval", dataset, "--data", str(DATA_DIR), "--limit", "3", "--reports-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / f"eval-{dataset}.json").read_text())
    assert report["command"].startswith(f"affectlab eval {dataset} ") and "--limit 3" in report["command"]
    if dataset == "reccon":
        for name in ("dailydialog_test", "iemocap_test"):
            assert report[name]["dialogues"] == 3 and 0 <= report[name]["entailment"]["macro_f1"] <= 1
            assert 0 <= report[name]["spans"]["f1_pos"] <= 1
    else:
        assert report["dailydialog"]["dialogues"] == 3 and report["reccon_iemocap"]["turns"] > 0


@needs_data
def test_bench_conversation(tmp_path):
    result = runner.invoke(app, ["bench-conversation", "--data", str(DATA_DIR), "--rounds", "1",
                                 "--reports-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "bench-conversation.json").read_text())
    assert report["turns"] == 30 and report["conversation_seconds"] > 0 and report["ratio_to_baseline"] > 0


@needs_data
@pytest.mark.parametrize("task", ["turns", "causes"])
def test_train_smoke_run_writes_a_loadable_artifact(tmp_path, task):
    result = runner.invoke(app, ["train", task, "--data", str(DATA_DIR), "--limit", "6", "--epochs", "1",
                                 "--out", str(tmp_path / task)])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / task / "config.json").read_text())
    assert config["trained"]["epochs_done"] == 1 and config["trained"]["recipe"]["seed"] == 13
    kind = {"turns": "turn_model", "causes": "cause_model"}[task]
    analyzer = ConversationAnalyzer(**{kind: tmp_path / task})
    turns = [{"speaker": "A", "text": "I won!"}, {"speaker": "B", "text": "Great news!"}]
    if task == "turns":
        assert len(analyzer.analyze(turns, causes=False).turns) == 2
    else:
        assert len(analyzer.cause_candidates(turns, [(1, "joy")])[0]) == 2
