"""The eval, bench and train commands on the real data (skipped where ../shared/data is absent)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab import Analyzer
from affectlab.cli import app
from conftest import DATA_DIR, needs_data, needs_teacher

runner = CliRunner()


def _eval_dev(dataset: str, reports_dir) -> dict:
    """Run ``affectlab eval <dataset>`` on dev and return the report it wrote."""
    result = runner.invoke(
        app, ["eval", dataset, "--data-dir", str(DATA_DIR), "--split", "dev", "--reports-dir", str(reports_dir)]
    )
    assert result.exit_code == 0, result.output
    return json.loads((reports_dir / f"eval-{dataset}-dev-onnx.json").read_text())


@needs_data
def test_eval_goemotions_writes_a_report(tmp_path):
    report = _eval_dev("goemotions", tmp_path)
    assert report["texts"] == 5426
    command = report["command"]
    assert command.startswith("affectlab eval goemotions ")
    for option in (
        f"--data-dir {DATA_DIR}", "--split dev", "--model text-minilm", "--runtime onnx", f"--reports-dir {tmp_path}"
    ):
        assert option in command
    assert len(report["goemotions"]["per_label_f1_tuned"]) == 28
    # thresholds were tuned on dev, so this is a check that the pipeline is wired, not a test figure
    assert report["goemotions"]["macro_f1_tuned"] > 0.45
    assert report["ekman"]["macro_f1_tuned"] > 0.55
    # on dev, the model's own thresholds were swept there on a finer grid: the coarse sweep cannot do better
    swept = report["goemotions"]["macro_f1_thresholds_swept_on_this_split"]
    assert 0.45 < swept <= report["goemotions"]["macro_f1_tuned"] + 0.005


@needs_data
def test_eval_emobank_writes_a_report(tmp_path):
    report = _eval_dev("emobank", tmp_path)
    assert report["pearson"]["valence"] > 0.6


def test_eval_without_data_is_one_clear_line(tmp_path):
    result = runner.invoke(app, ["eval", "emobank", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "emobank.csv not found; pass --data-dir" in result.output


@needs_data
def test_bench_measures_against_the_baseline(tmp_path):
    result = runner.invoke(
        app, ["bench", "text", "--data-dir", str(DATA_DIR), "--limit", "48", "--rounds", "1", "--runtimes", "onnx-int8",
              "--reports-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "bench-text.json").read_text())
    configs = report["configurations"]
    assert set(configs) == {"onnx-int8", "roberta-base-28 (torch fp32, random weights)"}
    assert configs["onnx-int8"]["ratio_to_baseline"] > 0 and configs["onnx-int8"]["peak_rss_mb"] > 0
    assert configs["onnx-int8"]["batch_sensitivity"]["texts"] == 48
    assert report["cold_start_seconds"]["first_run"] > report["cold_start_seconds"]["later_runs"] > 0


@needs_data
def test_train_recipe_produces_a_loadable_artifact(tmp_path):
    out = tmp_path / "model"
    result = runner.invoke(
        app, ["train", "text", "--data-dir", str(DATA_DIR), "--output", str(out), "--epochs", "1", "--limit", "64"]
    )
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert len(config["thresholds"]["goemotions"]) == 28 and config["trained"]["epochs_done"] == 1
    affect = Analyzer(out, runtime="torch").analyze("hello")
    assert len(affect.emotions) == 28


def _fake_teacher(folder, texts, valence: float):
    """A teacher run folder rating ``texts`` (what `train vad-teacher` writes), without the base-size encoder."""
    from affectlab.train.text_ratings import texts_digest
    from affectlab.train.vad_teacher import RATINGS_FILE, SUMMARY_FILE

    folder.mkdir()
    np.save(folder / RATINGS_FILE, np.tile(np.float32([valence, 3.0, 3.0]), (len(texts), 1)))
    (folder / SUMMARY_FILE).write_text(json.dumps({"texts_sha256": texts_digest(texts)}))


@needs_data
def test_teacher_ratings_become_vad_targets(tmp_path):
    from affectlab.datasets import load_goemotions

    texts = load_goemotions("train", DATA_DIR).texts[:64]
    _fake_teacher(tmp_path / "teacher", texts, valence=4.9)
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", "text", "--data-dir", str(DATA_DIR), "--output", str(out), "--epochs", "1",
                                 "--limit", "64", "--vad-teacher", str(tmp_path / "teacher"), "--teacher-weight", "20"])
    assert result.exit_code == 0, result.output
    recipe = json.loads((out / "config.json").read_text())["trained"]["recipe"]
    assert recipe["vad_teacher"] == str(tmp_path / "teacher")
    # a teacher that rates every comment as very pleasant pulls the student's valence up
    assert Analyzer(out, runtime="torch").analyze("an ordinary sentence").vad["valence"] > 3.3


@needs_data
def test_teacher_ratings_of_other_texts_are_refused(tmp_path):
    from affectlab.datasets import load_goemotions

    _fake_teacher(tmp_path / "teacher", load_goemotions("train", DATA_DIR).texts[:50], valence=3.0)
    result = runner.invoke(app, ["train", "text", "--data-dir", str(DATA_DIR), "--output", str(tmp_path / "m"),
                                 "--epochs", "1", "--limit", "64", "--vad-teacher", str(tmp_path / "teacher")])
    assert result.exit_code != 0
    assert "rates other texts than these 64" in result.output


def test_missing_teacher_package_names_the_install(monkeypatch, tmp_path):
    from affectlab.encoders import mpnet

    monkeypatch.setenv("AFFECTLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(mpnet, "PARTS", ["affectlab-no-such-part-001"])
    with pytest.raises(mpnet.EncoderNotInstalled, match="make teacher"):
        mpnet.teacher_model_dir()


@needs_data
@needs_teacher
def test_vad_teacher_recipe_rates_goemotions(tmp_path):
    result = runner.invoke(app, ["train", "vad-teacher", "--data-dir", str(DATA_DIR), "--output", str(tmp_path / "t"),
                                 "--epochs", "1", "--limit", "48"])
    assert result.exit_code == 0, result.output
    ratings = np.load(tmp_path / "t" / "goemotions-train-vad.npy")
    assert ratings.shape == (48, 3) and np.isfinite(ratings).all()
