"""``affectlab train goemotions``: the refit changes the 28 GoEmotions rows and their thresholds and nothing else,
so turn models and heads of one's own built on the source keep working; the penalty is the one with the lowest
dev cross-entropy; the copy loads and reads."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab.taxonomy import GOEMOTIONS
from conftest import DATA_DIR, assert_only_rows_of, needs_data


@pytest.fixture(scope="module")
def refitted(tmp_path_factory):
    from affectlab.train.goemotions_refit import GoEmotionsRecipe, train_goemotions

    out = tmp_path_factory.mktemp("goemotions-refit")
    train_goemotions(GoEmotionsRecipe(out_dir=out, data_dir=DATA_DIR, limit=400, l2s=(1e-1, 1e-3)))
    return out


@needs_data
@pytest.mark.model
def test_only_the_goemotions_rows_and_their_thresholds_change(refitted):
    from affectlab.text.artifact import ArtifactConfig, resolve_artifact
    from affectlab.text.fingerprints import outputs_fingerprint

    shipped = resolve_artifact(None)
    assert_only_rows_of("goemotions", shipped, refitted)
    literal = ("ekman", "sentiment")  # what a turn model reads: unchanged
    assert outputs_fingerprint(shipped, literal, literal=True) == outputs_fingerprint(refitted, literal, literal=True)
    assert outputs_fingerprint(shipped, ("goemotions",)) != outputs_fingerprint(refitted, ("goemotions",))
    config, source_config = ArtifactConfig.load(refitted), ArtifactConfig.load(shipped)
    assert {k: v for k, v in config.thresholds.items() if k != "goemotions"} == \
        {k: v for k, v in source_config.thresholds.items() if k != "goemotions"}
    assert len(config.thresholds["goemotions"]) == 28 and config.irony_rule == source_config.irony_rule
    record = config.trained["goemotions_refit"]
    assert record["data"]["goemotions_train"] == 400 and record["data"]["goemotions_dev"] == 400
    assert record["data"]["name_draws"] == [14, 15, 16, 17] and 0 < record["data"]["dev_with_names"] < 400
    candidates = record["dev"]["candidates"]
    for candidate in candidates:  # the gate: no kept row moves with names more than the source's worst
        assert candidate["name_moves_worst"] <= record["dev"]["before"]["name_moves_worst"]
        assert set(candidate["source_rows_kept"]) <= set(GOEMOTIONS)
    assert [c["l2"] for c in candidates] == [1e-1, 1e-3]
    assert record["dev"]["cross_entropy"] == min(c["cross_entropy"] for c in candidates)
    assert record["dev"]["l2"] == min(candidates, key=lambda c: c["cross_entropy"])["l2"]
    assert config.trained["irony_refit"] == source_config.trained["irony_refit"]
    card = (refitted / "MODEL_CARD.md").read_text()
    assert card.count("## GoEmotions refit") == 1 and "the 400 train comments" in card
    assert card.count("## Irony refit") == 1  # the source's sections are kept
    json.dumps(config.trained)


@needs_data
@pytest.mark.model
def test_the_refitted_copy_reads_through_the_analyzer(refitted):
    from affectlab import Analyzer

    result = Analyzer(refitted, runtime="torch").analyze("Thank you so much, this made my day!")
    assert set(result.emotions) >= {"gratitude", "joy"} and all(0.0 <= p <= 1.0 for p in result.emotions.values())


@needs_data
@pytest.mark.model
def test_a_run_without_named_dev_comments_checks_no_row(tmp_path):
    from affectlab.train.goemotions_refit import GoEmotionsRecipe, train_goemotions

    config = train_goemotions(GoEmotionsRecipe(out_dir=tmp_path / "tiny", data_dir=DATA_DIR, limit=5))  # no [NAME]
    record = config.trained["goemotions_refit"]
    assert record["data"]["dev_with_names"] == 0 and record["dev"]["source_rows_kept"] == []
    assert "no row was checked for moving with names" in (tmp_path / "tiny" / "MODEL_CARD.md").read_text()


def test_name_moves_counts_draw_pairs_that_move_a_label_past_the_bound():
    from affectlab.train.goemotions_refit import name_moves

    draws = [np.array([[0.0, 0.0], [0.0, y]]) for y in (1.0, -1.0, 1.0)]
    weight, bias = np.array([[1.0, 0.0], [0.0, 3.0]]), np.zeros(2)  # label 0 ignores the name's trace, 1 reads it
    moves = name_moves(draws, weight, bias)
    # label 1 moves on text 1 between draws 0-1 and 1-2 (not 0-2): 2 of 3 pairs × 2 texts
    assert moves[0] == 0.0 and moves[1] == pytest.approx(2 / 6)
    assert name_moves([np.zeros((0, 2))] * 2, weight, bias).tolist() == [0.0, 0.0]


@needs_data
def test_bad_options_are_named(tmp_path):
    from affectlab.cli import app
    from affectlab.errors import OptionError
    from affectlab.train.goemotions_refit import GoEmotionsRecipe, train_goemotions

    runner = CliRunner()
    result = runner.invoke(app, ["train", "goemotions", "-o", str(tmp_path / "x"), "--data-dir", str(DATA_DIR),
                                 "--limit", "1"])
    assert result.exit_code != 0 and "--limit" in result.output
    result = runner.invoke(app, ["train", "goemotions", "-o", str(tmp_path / "y"), "--model", str(tmp_path / "none")])
    assert result.exit_code != 0 and "none" in result.output and "Traceback" not in result.output
    with pytest.raises(OptionError, match="name_fills must be a whole number of at least 2"):
        train_goemotions(GoEmotionsRecipe(out_dir=tmp_path / "z", data_dir=DATA_DIR, name_fills=1))
    with pytest.raises(OptionError, match="limit must be a whole number of at least 2"):
        train_goemotions(GoEmotionsRecipe(out_dir=tmp_path / "w", data_dir=DATA_DIR, limit=-3))
