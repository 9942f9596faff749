"""Fitted reading blocks: the head layout's subset rule, the ridge fit, the grown artifact read back through
torch and ONNX, the result fields of a model without them, and the eval commands on a few texts."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab.heads.layout import (
    BLOCK_SCALES,
    BLOCKS,
    BLOCKS_BEFORE_IRONY,
    FITTED_BLOCKS,
    check_blocks,
    head_size,
    head_slices,
)
from affectlab.train.readings import BlockFit, grown_head, rated_sets, sampled
from affectlab.train.ridge import choose_ridge
from conftest import DATA_DIR, needs_data

TRAINED_BLOCKS = ("goemotions", "ekman", "sentiment", "vad")


def test_blocks_are_an_ordered_subset_of_the_layout():
    check_blocks(TRAINED_BLOCKS)  # the shipped model's trained blocks: no irony
    check_blocks((*TRAINED_BLOCKS, "intensity", "empathy"))  # fitted blocks without irony
    check_blocks((*BLOCKS, *FITTED_BLOCKS))
    for wrong in [("ekman", "goemotions"), ("goemotions", "goemotions"), ("goemotions", "valence"),
                  (*TRAINED_BLOCKS, "distress", "empathy")]:
        with pytest.raises(ValueError, match="ordered subset"):
            check_blocks(wrong)
    assert BLOCKS_BEFORE_IRONY == TRAINED_BLOCKS and not set(FITTED_BLOCKS) & set(BLOCKS)
    slices = head_slices((*TRAINED_BLOCKS, "intensity", "vad_reader"))
    assert slices["intensity"] == slice(42, 46) and slices["vad_reader"] == slice(46, 49)
    assert head_size((*TRAINED_BLOCKS, "intensity", "vad_reader")) == 49 and head_size() == 43


def test_old_configs_still_load_their_blocks(tmp_path):
    from affectlab.text.artifact import ArtifactConfig

    (tmp_path / "config.json").write_text(json.dumps({"name": "old", "task": "text"}))
    assert tuple(ArtifactConfig.load(tmp_path).blocks) == TRAINED_BLOCKS


def test_ridge_recovers_a_linear_rule_and_flags_the_grid_edge():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0, 0.0, 3.0]) + 4.0 + rng.normal(scale=0.1, size=300)
    fit = choose_ridge(x[:200], y[:200], x[200:], y[200:], alphas=(0.01, 1.0, 1e6))
    assert fit.dev_pearson > 0.99 and abs(fit.bias - 4.0) < 0.05 and fit.alpha < 1e6
    assert np.allclose(fit.weights, [1.0, -2.0, 0.5, 0.0, 0.0, 3.0], atol=0.05)
    assert fit.at_edge == (fit.alpha == 0.01)
    with pytest.raises(ValueError, match="at least 2"):
        choose_ridge(x[:1], y[:1], x, y)


def test_grown_head_puts_fitted_rows_in_layout_order_and_replaces_an_earlier_fit():
    weight, bias = np.arange(42 * 3, dtype=float).reshape(42, 3), np.arange(42, dtype=float)
    fitted = {"empathy": BlockFit(np.full((1, 3), 7.0), np.array([7.0])),
              "intensity": BlockFit(np.full((4, 3), 5.0), np.array([5.0] * 4))}
    w, b, blocks = grown_head(weight, bias, TRAINED_BLOCKS, fitted)
    assert blocks == (*TRAINED_BLOCKS, "intensity", "empathy")
    assert np.array_equal(w[:42], weight) and np.array_equal(b[42:], [5, 5, 5, 5, 7])
    refit = {"intensity": BlockFit(np.full((4, 3), 9.0), np.array([9.0] * 4))}
    w2, b2, blocks2 = grown_head(w, b, blocks, refit)
    assert blocks2 == blocks and np.array_equal(b2[42:], [9, 9, 9, 9, 7]) and np.array_equal(w2[:42], weight)


@pytest.fixture(scope="module")
def without_readings(tmp_path_factory):
    """The shipped text model with its fitted rows taken off the head, as text models were before them."""
    from safetensors.numpy import load_file, save_file

    from affectlab.text.artifact import resolve_artifact
    from affectlab.text.fingerprints import HEAD_BIAS, HEAD_WEIGHT

    shipped, out = resolve_artifact(None), tmp_path_factory.mktemp("without-readings")
    tensors = load_file(str(shipped / "weights.safetensors"))
    kept = head_size(BLOCKS)
    tensors[HEAD_WEIGHT], tensors[HEAD_BIAS] = tensors[HEAD_WEIGHT][:kept], tensors[HEAD_BIAS][:kept]
    save_file(tensors, str(out / "weights.safetensors"))
    config = json.loads((shipped / "config.json").read_text())
    config["blocks"] = list(BLOCKS)
    (out / "config.json").write_text(json.dumps(config))
    return out


@pytest.mark.model
def test_a_model_without_readings_gives_none(without_readings):
    from affectlab import Analyzer

    result = Analyzer(without_readings).analyze("Fine. Do whatever you want, as always.")
    assert (result.intensity, result.vad_writer, result.vad_reader, result.vad_gap) == (None,) * 4
    assert result.empathy is None and result.distress is None
    row = result.to_row()
    assert row["intensity_joy"] is None and row["gap_valence"] is None and row["empathy"] is None
    json.dumps(result.to_dict())


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    """The shipped model grown with every reading block, fitted on a small seeded sample of each set."""
    from affectlab.train.readings import ReadingsRecipe, train_readings

    out = tmp_path_factory.mktemp("grown")
    train_readings(ReadingsRecipe(out_dir=out, data_dir=DATA_DIR, limit=24, threads=2))
    return out


@pytest.mark.model
def test_fitted_rows_leave_what_turn_models_and_heads_read_unchanged(without_readings):
    from affectlab.text.artifact import resolve_artifact
    from affectlab.text.fingerprints import encoder_fingerprint, outputs_fingerprint

    shipped = resolve_artifact(None)
    for blocks in [("ekman", "sentiment"), ("goemotions", "vad")]:
        assert outputs_fingerprint(shipped, blocks) == outputs_fingerprint(without_readings, blocks)
    assert encoder_fingerprint(shipped) == encoder_fingerprint(without_readings)
    assert outputs_fingerprint(shipped, ("intensity",)) != outputs_fingerprint(shipped, ("empathy",))
    with pytest.raises(ValueError, match="has no output block 'intensity'"):
        outputs_fingerprint(without_readings, ("intensity",))


@needs_data
@pytest.mark.model
def test_fitted_blocks_give_the_ridge_predictions_through_torch_and_onnx(grown):
    from affectlab import Analyzer
    from affectlab.datasets import load_wassa22

    config = json.loads((grown / "config.json").read_text())
    assert config["blocks"] == [*BLOCKS, *FITTED_BLOCKS]
    readings = config["trained"]["readings"]
    assert readings["source"]["name"] == "text-minilm" and len(readings["source"]["fingerprint"]) == 16
    assert "## Fitted readings" in (grown / "MODEL_CARD.md").read_text()

    essays = load_wassa22("dev", DATA_DIR).texts
    texts = ["I am absolutely furious about this!", "What a calm, lovely morning.", " ".join(essays[:3])]
    torch_analyzer = Analyzer(grown, runtime="torch")
    vectors = torch_analyzer.sentence_vectors(texts, bounded=True).astype(np.float64)
    # the empathy ridge fitted again, independently, at the penalty the recipe chose
    train, dev = (rated_sets("empathy", split, DATA_DIR)[0] for split in ("train", "dev"))
    record = readings["blocks"]["empathy"]["empathy"]
    train, dev = sampled(train, 24, 13, "train"), sampled(dev, 24, 13, "dev")
    fit = choose_ridge(torch_analyzer.sentence_vectors(train.texts, bounded=True).astype(np.float64),
                       train.targets[:, 0], torch_analyzer.sentence_vectors(dev.texts, bounded=True).astype(np.float64),
                       dev.targets[:, 0], alphas=(record["alpha"],))
    expected = np.clip(vectors @ fit.weights + fit.bias, *BLOCK_SCALES["empathy"])
    for runtime in ("torch", "onnx"):
        results = Analyzer(grown, runtime=runtime).analyze(texts)
        assert results[2].chunks > 1  # a long essay, read in several windows
        got = np.array([r.empathy for r in results])
        assert np.allclose(got, expected, atol=0.02), (runtime, got, expected)
        assert all(set(r.intensity) == {"anger", "fear", "joy", "sadness"} for r in results)
        assert all(r.vad_gap["valence"] == pytest.approx(r.vad_reader["valence"] - r.vad_writer["valence"], abs=1e-5)
                   for r in results)
        assert all(1.0 <= r.distress <= 7.0 and 0.0 <= r.intensity["anger"] <= 1.0 for r in results)
    source = Analyzer(runtime="torch").analyze(texts[0])
    assert torch_analyzer.analyze(texts[0]).emotions == source.emotions  # the trained blocks are untouched


@needs_data
@pytest.mark.model
@pytest.mark.parametrize("command", ["emoint", "wassa22", "emobank-perspectives"])
def test_eval_commands_run_on_a_few_texts(grown, tmp_path, command):
    from affectlab.cli import app

    result = CliRunner().invoke(app, ["eval", command, "--model", str(grown), "--data-dir", str(DATA_DIR),
                                      "--limit", "6", "--reports-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (report,) = tmp_path.glob(f"eval-{command}-*-onnx-limit-6.json")
    assert json.loads(report.read_text())["command"].startswith(f"affectlab eval {command} --model ")


@pytest.mark.model
def test_eval_of_a_model_without_readings_says_how_to_fit_them(without_readings, tmp_path):
    from affectlab.cli import app

    result = CliRunner().invoke(app, ["eval", "emoint", "--model", str(without_readings), "--data-dir", str(DATA_DIR),
                                      "--reports-dir", str(tmp_path)])
    assert result.exit_code == 2 and "affectlab train readings" in result.output, result.output
