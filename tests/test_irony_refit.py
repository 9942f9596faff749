"""``affectlab train irony``: the refit changes the irony row, the rule's threshold and the class thresholds, and
nothing else; the copy loads and reads irony; bad options are refused by name."""

import json

import pytest
from typer.testing import CliRunner

from conftest import DATA_DIR, assert_only_rows_of, needs_data


@pytest.fixture(scope="module")
def refitted(tmp_path_factory):
    from affectlab.train.irony_refit import IronyRecipe, train_irony

    out = tmp_path_factory.mktemp("irony-refit")
    train_irony(IronyRecipe(out_dir=out, data_dir=DATA_DIR, ordinary=60, limit=60, threads=2))
    return out


@needs_data
@pytest.mark.model
def test_only_the_irony_row_and_the_thresholds_change(refitted):
    from affectlab.text.artifact import ArtifactConfig, resolve_artifact
    from affectlab.text.fingerprints import outputs_fingerprint
    from affectlab.train.irony_rule import RULE_GRID

    shipped = resolve_artifact(None)
    assert_only_rows_of("irony", shipped, refitted)
    # turn models read the literal Ekman and sentiment outputs: a new irony row leaves them valid
    literal = ("ekman", "sentiment")
    assert outputs_fingerprint(shipped, literal, literal=True) == outputs_fingerprint(refitted, literal, literal=True)
    # a memory stores the outputs the rule has changed: a new irony row is a new memory format
    assert outputs_fingerprint(shipped, ("goemotions", "vad")) != outputs_fingerprint(refitted, ("goemotions", "vad"))
    config = ArtifactConfig.load(refitted)
    assert config.irony_rule is None or config.irony_rule in RULE_GRID
    assert set(config.thresholds) == set(ArtifactConfig.load(shipped).thresholds)
    record = config.trained["irony_refit"]
    assert record["data"]["goemotions_train_sample"] == 60 and record["data"]["irony_train"] == 60
    assert record["data"]["emoint_train"] == {"anger": 60, "fear": 60, "joy": 60, "sadness": 60}
    flagged = record["dev"]["literal_tweets_flagged"]
    assert flagged is None if config.irony_rule is None else set(flagged) == {"anger", "fear", "joy", "sadness"}
    assert [c["l2"] for c in record["dev"]["candidates"]] == [1e-3, 1e-2, 1e-1]
    assert config.thresholds["irony"] == [record["dev"]["irony_threshold"]]
    card = (refitted / "MODEL_CARD.md").read_text()
    assert card.count("## Irony refit") == 1 and "60 GoEmotions train comments" in card
    assert "240 EmoInt train tweets of anger, fear, joy, sadness" in card
    json.dumps(config.trained)


@needs_data
@pytest.mark.model
def test_the_refitted_copy_reads_irony_through_the_analyzer(refitted):
    from affectlab import Analyzer

    result = Analyzer(refitted, runtime="torch").analyze("Oh wonderful, the train is late again.")
    assert 0.0 <= result.irony <= 1.0 and result.sentiment["positive"] <= 1.0


@needs_data
def test_bad_options_are_named(tmp_path):
    from affectlab.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["train", "irony", "-o", str(tmp_path / "x"), "--data-dir", str(DATA_DIR),
                                 "--ordinary", "10000000"])
    assert result.exit_code != 0 and "--ordinary" in result.output
    from affectlab.text.artifact import resolve_artifact

    result = runner.invoke(app, ["train", "irony", "--model", str(resolve_artifact(None)), "-o",
                                 str(resolve_artifact(None)), "--data-dir", str(DATA_DIR)])
    assert result.exit_code != 0 and "the folder of the model it is made from" in result.output


@needs_data
def test_literal_tweets_must_be_emoint_emotions(tmp_path):
    from affectlab.errors import OptionError
    from affectlab.train.irony_refit import IronyRecipe, train_irony

    with pytest.raises(OptionError, match="'surprise'"):
        train_irony(IronyRecipe(out_dir=tmp_path, data_dir=DATA_DIR, literal_tweets=("joy", "surprise"), limit=8))
    from affectlab.cli import app

    result = CliRunner().invoke(app, ["train", "irony", "-o", str(tmp_path / "x"), "--data-dir", str(DATA_DIR),
                                      "--literal-tweets", "joy,surprise"])
    assert result.exit_code != 0 and "'surprise'" in result.output
