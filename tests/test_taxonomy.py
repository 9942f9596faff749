"""Every mapping covers both label sets and cites its sources; conversion takes the highest score that feeds a
label; the Plutchik view's intensity words and dyads; `analyze --labels`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.errors import AffectlabError
from affectlab.taxonomy import (
    ED_EMOTIONS,
    EKMAN,
    ESCONV_EMOTIONS,
    GOEMOTIONS,
    LABEL_MAPPINGS,
    LABEL_SETS,
    MELD,
    PARROTT_SECONDARY,
    LabelMapping,
    PlutchikView,
    UnknownLabelSet,
    convert_labels,
    convert_scores,
    feeders,
    view,
)
from affectlab.taxonomy.demszky import EKMAN_GROUPS, SENTIMENT_GROUPS
from affectlab.taxonomy.plutchik import INTENSITY_WORDS, PETALS, PRIMARY_DYADS
from affectlab.text import TextAffect
from conftest import DATA_DIR, needs_data

ALL_LOW = dict.fromkeys(GOEMOTIONS, 0.01)


@pytest.mark.parametrize("name", LABEL_SETS)
def test_every_mapping_covers_every_label_of_both_sets_and_cites_its_sources(name):
    mapping = LABEL_MAPPINGS[name]
    assert mapping.problems() == []
    assert mapping.rule


def test_coverage_problems_are_found():
    sketch = LabelMapping("moods", ("up", "down", "odd"), {"up": ("joy",), "down": ("sadness", "glum")},
                          ("nobody2024",), "a sketch", unplaced={"joy": "placed as well"})
    problems = "\n".join(sketch.problems())
    assert "neither placed nor explained: ['admiration'" in problems
    assert "both placed and unplaced: ['joy']" in problems
    assert "labels of moods neither read nor explained: ['odd']" in problems
    assert "not GoEmotions labels: ['glum']" in problems
    assert "sources not in SOURCES: ['nobody2024']" in problems


@needs_data
def test_the_ekman_and_sentiment_groups_are_the_goemotions_release_files():
    for groups, file in ((EKMAN_GROUPS, "ekman_mapping.json"), (SENTIMENT_GROUPS, "sentiment_mapping.json")):
        release = json.loads((DATA_DIR / "goemotions" / file).read_text())
        assert {k: set(v) for k, v in release.items()} == {k: set(v) for k, v in groups.items() if k != "neutral"}


@needs_data
def test_the_corpus_label_sets_are_the_data_sets_own():
    ed = {json.loads(line)["emotion"] for line in (DATA_DIR / "empathetic_dialogues" / "train.jsonl").open()}
    assert ed == set(ED_EMOTIONS)
    seekers = {json.loads(line)["emotion_type"] for split in ("train", "valid", "test")
               for line in (DATA_DIR / "esconv" / f"{split}.jsonl").open()}
    assert seekers == set(ESCONV_EMOTIONS)
    with (DATA_DIR / "meld" / "train_sent_emo.csv").open(encoding="utf-8") as rows:
        assert {row["Emotion"] for row in csv.DictReader(rows)} == set(MELD)


def test_the_wheel_is_consistent():
    assert all(words[1] == petal for petal, words in INTENSITY_WORDS.items())
    assert tuple(INTENSITY_WORDS) == PETALS
    for dyad, (a, b) in PRIMARY_DYADS.items():  # a primary dyad joins neighbouring petals
        assert (PETALS.index(b) - PETALS.index(a)) % len(PETALS) == 1, dyad


def test_a_converted_score_is_the_highest_that_feeds_it_not_a_noisy_or():
    scores = {**dict.fromkeys(GOEMOTIONS, 0.05), "amusement": 0.3, "neutral": 0.0}
    ekman = convert_scores(scores, "ekman")
    assert ekman["joy"] == 0.3  # a noisy-or of the twelve joy labels would give 0.56
    assert ekman["neutral"] == 0.0 and set(ekman) == set(EKMAN)


def test_conversion_goes_between_any_two_sets_through_goemotions():
    meld = dict(zip(MELD, (0.1, 0.7, 0.0, 0.2, 0.1, 0.6, 0.0)))
    assert convert_scores(meld, "ekman", source="meld") == meld
    assert convert_labels(["disgust"], "plutchik", source="meld") == ["disgust"]
    # a seeker's depression implies sadness (a fold); sadness does not imply depression
    assert convert_labels(["depression"], "ekman", source="esconv") == ["sadness"]
    assert convert_labels(["sadness"], "esconv") == ["sadness"]
    assert "depression" not in feeders("esconv")


def test_unreachable_labels_get_no_score_and_unplaced_labels_feed_nothing():
    ed = convert_scores({**ALL_LOW, "neutral": 0.9}, "empathetic_dialogues")
    assert "jealous" not in ed and set(ed) == set(ED_EMOTIONS) - set(LABEL_MAPPINGS["empathetic_dialogues"].unreachable)
    assert max(ed.values()) == 0.01  # neutral has no place among the 32 situation emotions
    assert convert_labels(["neutral"], "empathetic_dialogues") == []


def test_bad_input_is_named():
    with pytest.raises(UnknownLabelSet, match="unknown label set 'plutchick'; choose one of goemotions"):
        convert_scores(ALL_LOW, "plutchick")
    with pytest.raises(ValueError, match=r"missing \['neutral'\]"):
        convert_scores({k: v for k, v in ALL_LOW.items() if k != "neutral"}, "ekman")
    with pytest.raises(ValueError, match=r"\['happy'\] are not labels of goemotions"):
        convert_labels(["happy"], "ekman")
    assert convert_labels("nervousness", "ekman") == ["fear"]  # one label as a string, not its letters
    for wrong, message in ((lambda: convert_labels(5, "ekman"), "labels must be a list of goemotions label names"),
                           (lambda: convert_labels([None], "ekman"), "label names \\(strings\\), not None"),
                           (lambda: convert_labels(["joy"], ["ekman"]), "unknown label set \\['ekman'\\]"),
                           (lambda: convert_scores(None, "ekman"), "scores must be a mapping"),
                           (lambda: convert_scores({**ALL_LOW, "joy": float("nan")}, "ekman"),
                            "scores\\['joy'\\] must be a probability between 0 and 1, not nan"),
                           (lambda: convert_scores({**ALL_LOW, "joy": "0.2"}, "ekman"), "not '0.2'"),
                           (lambda: convert_scores({**ALL_LOW, "joy": 2.0}, "ekman"), "not 2.0")):
        with pytest.raises(AffectlabError, match=message):
            wrong()


def test_the_plutchik_view_gives_intensity_words_and_dyads():
    scores = {**ALL_LOW, "sadness": 0.7, "grief": 0.6, "remorse": 0.5, "annoyance": 0.4, "admiration": 0.2}
    result = view(scores, ["sadness", "grief", "remorse", "annoyance"], "plutchik")
    assert isinstance(result, PlutchikView)
    assert result.labels == ["sadness", "disgust", "anger"]
    assert result.intensity == {"sadness": "grief", "disgust": "disgust", "anger": "annoyance"}
    assert result.dyad_labels == ["remorse", "contempt"]
    assert result.dyads["remorse"] == 0.5 and result.dyads["love"] == 0.01  # the weaker petal of the two
    row = result.to_row()
    assert row["as_plutchik_sadness"] == 0.7 and row["as_plutchik_intensity"] == ["grief", "disgust", "annoyance"]
    json.dumps(result.to_dict())


def test_text_affect_is_seen_in_any_set_and_a_failed_row_gives_an_empty_view():
    affect = TextAffect(emotions={**ALL_LOW, "nervousness": 0.8}, labels=["nervousness"], ekman={}, sentiment={},
                        vad={})
    assert affect.as_labels("plutchik").intensity == {"fear": "apprehension"}
    assert affect.as_labels("esconv").labels == ["anxiety", "nervousness"]
    assert affect.as_labels("parrott").labels == ["fear"]
    failed = TextAffect.failed("not text").as_labels("parrott_secondary")
    assert failed.labels == [] and failed.to_row()["as_parrott_secondary_affection"] is None
    assert len(failed.to_row()) == len(PARROTT_SECONDARY) + 1


@pytest.mark.model
def test_analyze_gives_the_label_set_asked_for(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", "My grandmother passed away last night.", "--labels", "plutchik",
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["as_labels"]["intensity"] == {"sadness": "grief"}
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(json.dumps({"text": "I am so angry right now!"}) + "\n")
    assert runner.invoke(app, ["analyze", "-i", str(source), "-o", str(target), "--labels", "meld"]).exit_code == 0
    row = json.loads(target.read_text())
    assert "anger" in row["as_meld_labels"] and row["as_meld_anger"] > 0.5
    bad = runner.invoke(app, ["analyze", "hi", "--labels", "wheel"])
    assert bad.exit_code == 2 and "--labels takes one of" in bad.output


def test_the_docs_tables_are_the_data():
    page = (Path(__file__).resolve().parents[1] / "docs" / "taxonomy.md").read_text(encoding="utf-8")
    for name, mapping in LABEL_MAPPINGS.items():
        if name == "goemotions":
            continue
        assert f"(`{name}`)" in page, name
        for label, members in mapping.groups.items():
            if members:
                assert f"| {label} | {', '.join(members)} |" in page, (name, label)
        for label in mapping.unreachable:
            assert f"| {label} | *unreachable*" in page, (name, label)
