"""The text teacher's ratings and how the student learns from them (a fake teacher: the base-size encoder
is only installed by `make teacher`)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab import Analyzer
from affectlab.cli import app
from affectlab.heads.layout import head_size
from affectlab.taxonomy import GOEMOTIONS
from affectlab.train.text_ratings import (
    RATED_SOURCES,
    RatedSource,
    TeacherMismatch,
    load_text_ratings,
    rated_texts,
    save_text_ratings,
)
from conftest import DATA_DIR, needs_data, needs_teacher

runner = CliRunner()
LIMIT = 32


def _fake_teacher(folder, texts_of=None, per_source=10_000):
    """A run folder as `train text-teacher` leaves it: every text rated as joyful, nothing else."""
    raw_row = np.full(head_size(("goemotions", "ekman", "sentiment", "vad")), -4.0, np.float32)
    raw_row[GOEMOTIONS.index("joy")] = 6.0
    rated = {}
    for source in RATED_SOURCES:
        texts = (texts_of or {}).get(source) or rated_texts(source, DATA_DIR, per_source, 13)[:LIMIT]
        rated[source] = RatedSource(texts, np.tile(raw_row, (len(texts), 1)))
    folder.mkdir()
    summary = {"vad_mean": [3.0] * 3, "vad_std": [1.0] * 3, "recipe": {"per_source": per_source, "seed": 13}}
    save_text_ratings(folder, rated, summary)


@needs_data
def test_rated_texts_are_distinct_capped_and_the_same_every_time():
    first = rated_texts("dailydialog", DATA_DIR, 200, 13)
    assert first == rated_texts("dailydialog", DATA_DIR, 200, 13)
    assert len(first) == len(set(first)) == 200
    assert first != rated_texts("dailydialog", DATA_DIR, 200, 14)
    assert len(rated_texts("meld", DATA_DIR, 50, 13)) == 50
    with pytest.raises(ValueError, match="unknown rated source"):
        rated_texts("twitter", DATA_DIR, 10, 13)


@needs_data
def test_ratings_round_trip_and_refuse_other_texts(tmp_path):
    _fake_teacher(tmp_path / "teacher")
    rated = load_text_ratings(tmp_path / "teacher", DATA_DIR, LIMIT).sources
    assert set(rated) == set(RATED_SOURCES)
    assert rated["meld"].raw.shape == (LIMIT, 42) and len(rated["meld"].texts) == LIMIT
    with pytest.raises(TeacherMismatch, match="other goemotions texts"):
        load_text_ratings(tmp_path / "teacher", DATA_DIR, LIMIT + 1)


@needs_data
def test_student_learns_from_the_teacher_and_the_irony_tweets(tmp_path):
    _fake_teacher(tmp_path / "teacher")
    out = tmp_path / "student"
    result = runner.invoke(app, ["train", "text", "--data-dir", str(DATA_DIR), "-o", str(out), "--epochs", "1",
                                 "--limit", str(LIMIT), "--teacher", str(tmp_path / "teacher")])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["blocks"][-1] == "irony" and len(config["thresholds"]["irony"]) == 1
    assert 0.0 <= config["trained"]["dev_history"][0]["irony_f1_tuned"] <= 1.0
    assert config["trained"]["dev_history"][0]["irony_rule"]["threshold"] == config["irony_rule"]  # chosen on dev
    assert config["trained"]["recipe"]["teacher"] == str(tmp_path / "teacher")
    for runtime in ("torch", "onnx"):
        affect = Analyzer(out, runtime=runtime).analyze("Oh great, another Monday.")
        assert 0.0 <= affect.irony <= 1.0 and affect.to_row()["irony"] == affect.irony
    result = runner.invoke(app, ["eval", "irony", "--data-dir", str(DATA_DIR), "--model", str(out), "--split", "dev",
                                 "--runtime", "torch", "--reports-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "eval-irony-dev-torch.json").read_text())
    assert report["texts"] == 575 and 0.0 <= report["ironic_f1_tuned"] <= 1.0
    assert report["rule_threshold"] == config["irony_rule"]
    assert set(report["positive_sentiment_top_share"]) == {"ironic", "not_ironic"}
    literal = report["literal_tweets"]
    assert literal["dataset"].startswith("emoint/dev") and 0.0 <= literal["joy_positive_top_share"] <= 1.0
    flagged = literal["rule_flagged_share"]
    assert set(flagged) == {"anger", "fear", "joy", "sadness"}
    assert all((share is None) == (config["irony_rule"] is None) for share in flagged.values())


def test_eval_irony_refuses_a_model_without_irony(tmp_path):
    from safetensors.numpy import load_file, save_file

    from affectlab.heads.layout import BLOCKS_BEFORE_IRONY, head_size
    from affectlab.text.artifact import resolve_artifact
    from affectlab.text.fingerprints import HEAD_BIAS, HEAD_WEIGHT

    shipped, model = resolve_artifact(None), tmp_path / "no-irony"  # the shipped model as trained before irony
    model.mkdir()
    tensors = load_file(str(shipped / "weights.safetensors"))
    kept = head_size(BLOCKS_BEFORE_IRONY)
    tensors[HEAD_WEIGHT], tensors[HEAD_BIAS] = tensors[HEAD_WEIGHT][:kept], tensors[HEAD_BIAS][:kept]
    save_file(tensors, str(model / "weights.safetensors"))
    config = json.loads((shipped / "config.json").read_text())
    config.update(blocks=list(BLOCKS_BEFORE_IRONY), irony_rule=None)
    config["thresholds"].pop("irony", None)
    (model / "config.json").write_text(json.dumps(config))
    result = runner.invoke(app, ["eval", "irony", "--data-dir", str(DATA_DIR), "--model", str(model),
                                 "--reports-dir", str(tmp_path)])
    assert result.exit_code != 0 and "has no irony output" in result.output


@needs_data
def test_student_refuses_a_teacher_that_rated_other_texts(tmp_path):
    _fake_teacher(tmp_path / "teacher", texts_of={"meld": ["some other line"] * LIMIT})
    result = runner.invoke(app, ["train", "text", "--data-dir", str(DATA_DIR), "-o", str(tmp_path / "s"),
                                 "--epochs", "1", "--limit", str(LIMIT), "--teacher", str(tmp_path / "teacher")])
    assert result.exit_code != 0
    assert "rates other meld texts" in result.output


@needs_data
def test_a_missing_teacher_folder_says_how_to_make_one(tmp_path):
    result = runner.invoke(app, ["train", "text", "--data-dir", str(DATA_DIR), "-o", str(tmp_path / "s"),
                                 "--epochs", "1", "--limit", str(LIMIT), "--teacher", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert "affectlab train text-teacher" in result.output


@needs_data
@needs_teacher
def test_text_teacher_recipe_trains_then_only_rates(tmp_path):
    args = ["train", "text-teacher", "--data-dir", str(DATA_DIR), "-o", str(tmp_path / "t"), "--epochs", "1",
            "--limit", "16", "--per-source", "40"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rated = load_text_ratings(tmp_path / "t", DATA_DIR, 16).sources
    assert rated["irony"].raw.shape == (16, 42)
    trained_at = (tmp_path / "t" / "weights.safetensors").stat().st_mtime_ns
    assert runner.invoke(app, args).exit_code == 0
    assert (tmp_path / "t" / "weights.safetensors").stat().st_mtime_ns == trained_at
