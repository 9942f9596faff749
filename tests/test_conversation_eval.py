"""Conversation metrics, and the eval, bench and train commands for conversations on the real data."""

import json

import pytest
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.datasets import load_dailydialog, load_reccon
from affectlab.dialogue import ConversationAnalyzer
from affectlab.metrics import binary_f1s, emotion_f1_without, span_f1, span_scores
from conftest import DATA_DIR, needs_data, needs_teacher

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
        app, ["eval", dataset, "--data-dir", str(DATA_DIR), "--limit", "3", "--reports-dir", str(tmp_path)]
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
    official = "dailydialog_test" if dataset == "reccon" else "dailydialog"
    for variant in ("without_copies", "without_near_copies"):  # the official test set beside de-duplicated ones
        dropped = report[f"{official}_train_overlap"][variant]["dropped_dialogues"]
        assert report[f"{official}_{variant}"]["dialogues"] == 3 - dropped


@needs_data
def test_bench_conversation_times_each_length_in_its_own_process(tmp_path):
    result = runner.invoke(app, ["bench", "conversation", "--data-dir", str(DATA_DIR), "--turns", "12,40",
                                 "--rounds", "1", "--reports-dir", str(tmp_path),
                                 "--compare-turn-model", "dialogue-turns-minilm", "--report-name", "compared"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "compared.json").read_text())
    assert [m["turns"] for m in report["lengths"]] == [12, 40]
    for m in report["lengths"]:
        assert m["seconds"] > 0 and m["every_turn_emotional_seconds"] > 0 and m["ratio_to_baseline"] > 0
        assert m["peak_memory_gb"] >= m["peak_memory_after_loading_gb"] > 0.1
        assert m["compared_emotional_turns"] == m["emotional_turns"]  # the same model on both sides
        assert m["compared_seconds"] > 0 and m["ratio_to_compared"] == m["seconds"] / m["compared_seconds"]
        spread = m["ratio_to_compared_by_round"]
        assert 0 < spread["min"] <= spread["q1"] <= spread["median"] <= spread["q3"] <= spread["max"]
        assert m["compared_turn_model"].endswith("dialogue-turns-minilm")
    assert report["seconds_per_turn_longest_over_next"] > 0
    assert "12 turns:" in result.output and "×" in result.output


def test_bench_conversation_refuses_a_missing_turn_model_to_compare(tmp_path):
    result = runner.invoke(app, ["bench", "conversation", "--compare-turn-model", str(tmp_path / "nowhere")])
    assert result.exit_code != 0 and "nowhere" in result.output and "Traceback" not in result.output


def test_bench_conversation_refuses_bad_lengths():
    result = runner.invoke(app, ["bench", "conversation", "--turns", "30,many"])
    assert result.exit_code == 2 and "--turns" in result.output


@needs_data
def test_eval_reccon_on_dev_with_a_lookback(tmp_path):
    result = runner.invoke(app, ["eval", "reccon", "--data-dir", str(DATA_DIR), "--sets", "dailydialog_valid",
                                 "--lookback", "2", "--limit", "4", "--reports-dir", str(tmp_path),
                                 "--report-name", "dev"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "dev.json").read_text())
    assert report["lookback"] == 2 and "iemocap_test" not in report
    outside = report["dailydialog_valid_outside_lookback"]
    dialogues = load_reccon("dailydialog_valid", DATA_DIR)[:4]
    far = sum(t - c > 2 for d in dialogues for t, causes in enumerate(d.causes) for c in causes)
    assert outside["outside"] == far and outside["gold_causes"] >= far
    windowed, every = report["dailydialog_valid"], report["dailydialog_valid_every_turn"]
    assert windowed["pairs"] == every["pairs"]  # the same pairs; those beyond the lookback count as not causes


@needs_data
@pytest.mark.parametrize("task", ["turns", "causes"])
def test_train_smoke_run_writes_a_loadable_artifact(tmp_path, task):
    result = runner.invoke(app, ["train", task, "--data-dir", str(DATA_DIR), "--limit", "6", "--epochs", "2",
                                 "--output", str(tmp_path / task)])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / task / "config.json").read_text())
    trained = config["trained"]
    assert trained["epochs_done"] == 2 and trained["recipe"]["seed"] == 13
    # the kept epoch is the first with the best dev selection score, and its tuned decision value is the config's
    selections = [h["selection"] for h in trained["dev_history"]]
    kept = trained["dev_history"][trained["kept_epoch"] - 1]
    assert trained["kept_epoch"] == selections.index(max(selections)) + 1
    decision = "neutral_bias" if task == "turns" else "threshold"
    assert config[decision] == kept[decision]
    kind = {"turns": "turn_model", "causes": "cause_model"}[task]
    analyzer = ConversationAnalyzer(**{kind: tmp_path / task})
    turns = [{"speaker": "A", "text": "I won!"}, {"speaker": "B", "text": "Great news!"}]
    if task == "turns":
        assert len(analyzer.analyze(turns, causes=False).turns) == 2
    else:
        assert len(analyzer.cause_candidates(turns, [(1, "joy")])[0]) == 2


def _fake_cause_teacher(folder, chosen, digest=None):
    """What `train cause-teacher` writes, without the base-size encoder: the turn just before each target
    (the target itself when it opens the conversation) rated a cause, its first word the span."""
    from affectlab.train.cause_ratings import RATINGS_FILE, targets_digest

    ratings = []
    for dialogue, target in chosen:
        cause = max(0, target - 1)
        first_word = len(dialogue.texts[cause].split()[0])
        ratings.append({"dialogue": dialogue.id, "target": target,
                        "probs": [0.9 if turn == cause else 0.05 for turn in range(target + 1)],
                        "spans": [[0, first_word if turn == cause else 1] for turn in range(target + 1)]})
    folder.mkdir()
    (folder / RATINGS_FILE).write_text(json.dumps({
        "targets": len(chosen), "targets_sha256": digest or targets_digest(chosen), "threshold": 0.5,
        "ratings": ratings}))


@needs_data
def test_transfer_targets_leave_out_every_reccon_conversation():
    from affectlab.train.cause_ratings import _opening, transfer_targets

    chosen = transfer_targets(DATA_DIR, 300)
    annotated = {_opening(d) for name in ("dailydialog_train", "dailydialog_valid", "dailydialog_test")
                 for d in load_reccon(name, DATA_DIR)}
    assert len(chosen) >= 300
    assert not {_opening(d) for d, _ in chosen} & annotated
    assert all(d.emotions[t] != "neutral" for d, t in chosen)
    # whole conversations: every non-neutral turn of a chosen conversation is a target
    dialogues = {d.id: d for d, _ in chosen}
    assert len(chosen) == sum(sum(e != "neutral" for e in d.emotions) for d in dialogues.values())


@needs_data
def test_cause_teacher_ratings_become_pair_and_span_targets(tmp_path):
    from affectlab.dialogue.packing import TurnTokenizer
    from affectlab.train.cause_ratings import transfer_targets
    from affectlab.train.dialogue import DialogueRecipe, _teacher_examples

    chosen = transfer_targets(DATA_DIR, 20)
    _fake_cause_teacher(tmp_path / "teacher", chosen)
    recipe = DialogueRecipe(data_dir=DATA_DIR, teacher=tmp_path / "teacher")
    tokenizer = TurnTokenizer(recipe.turn_tokens)
    examples = _teacher_examples(recipe.teacher, tokenizer, recipe)
    texts = {(t, tuple(tokenizer.turns([d.texts[t]])[0].ids)): d.texts for d, t in chosen}
    assert len(examples) >= len(chosen)
    for packed, query, labels, spans in examples:
        cause = max(0, query.target - 1)
        assert labels == [0.9 if turn == cause else 0.05 for turn in packed.turns]
        # the span sits in the cause's slot and is its first word, in the student's own tokens
        assert [slot for slot, _, _ in spans] == ([packed.turns.index(cause) + 1] if cause in packed.turns else [])
        if not spans:
            continue
        _, first, last = spans[0]
        first_word = texts[query.target, tuple(query.tokens[query.target].ids)][cause].split()[0]
        assert first == 0 and query.tokens[cause].offsets[last][1] == len(first_word)
    result = runner.invoke(app, ["train", "causes", "--data-dir", str(DATA_DIR), "--limit", "4", "--epochs", "1",
                                 "--teacher", str(tmp_path / "teacher"), "--output", str(tmp_path / "student")])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "student" / "config.json").read_text())
    assert config["trained"]["recipe"]["teacher"] == str(tmp_path / "teacher")


@needs_data
def test_cause_ratings_of_other_conversations_are_refused(tmp_path):
    from affectlab.train.cause_ratings import transfer_targets

    _fake_cause_teacher(tmp_path / "teacher", transfer_targets(DATA_DIR, 20), digest="0" * 64)
    result = runner.invoke(app, ["train", "causes", "--data-dir", str(DATA_DIR), "--limit", "4", "--epochs", "1",
                                 "--teacher", str(tmp_path / "teacher"), "--output", str(tmp_path / "student")])
    assert result.exit_code != 0
    assert "rates other conversations" in result.output
    options = ["--data-dir", str(DATA_DIR), "--limit", "4", "--teacher", str(tmp_path)]
    result = runner.invoke(app, ["train", "causes", *options])
    assert result.exit_code != 0 and "run `affectlab train cause-teacher` first" in result.output


@needs_data
@needs_teacher
def test_cause_teacher_recipe_rates_dailydialog(tmp_path):
    result = runner.invoke(app, ["train", "cause-teacher", "--data-dir", str(DATA_DIR), "--output", str(tmp_path / "t"),
                                 "--limit", "3", "--threads", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "t" / "dailydialog-train-causes.json").read_text())
    assert summary["targets_rated"] == len(summary["ratings"]) >= 3
    assert all(len(r["probs"]) == len(r["spans"]) == r["target"] + 1 for r in summary["ratings"])
