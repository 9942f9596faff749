"""The challenge suite: its items, the expectation kinds, and `affectlab eval challenge`."""

import dataclasses
import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.evaluate.challenge import TARGET_OVERALL, TARGET_PER_CATEGORY, eval_challenge
from affectlab.evaluate.challenge_suite import CATEGORIES, ChallengeItemError, load_items
from affectlab.evaluate.expectations import KINDS, check, expectation_problem
from affectlab.registry import CONFIG_FILE, WEIGHTS_FILE
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD
from affectlab.text.result import TextAffect

runner = CliRunner()


def affect(labels=("neutral",), ekman="neutral", sentiment="neutral", **scores: float) -> TextAffect:
    """A hand-built result: ``labels`` high, ``ekman`` and ``sentiment`` on top; ``scores`` such as
    ``ekman_anger=0.3`` set one probability (or VAD value) exactly."""
    fields = {
        "emotions": {name: 0.9 if name in labels else 0.05 for name in GOEMOTIONS},
        "ekman": {name: 0.8 if name == ekman else 0.1 for name in EKMAN},
        "sentiment": {name: 0.8 if name == sentiment else 0.1 for name in SENTIMENT},
        "vad": dict.fromkeys(VAD, 3.0),
    }
    for key, value in scores.items():
        field, name = key.split("_", 1)
        fields["emotions" if field == "emotion" else field][name] = value
    return TextAffect(labels=list(labels), **fields)


# --- the packaged items ---

def test_packaged_suite_is_complete():
    items = load_items()
    assert len(items) >= 150
    per_category = Counter(item.category for item in items)
    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 20, per_category
    assert len({item.id for item in items}) == len(items)
    assert {e["kind"] for item in items for e in item.expect} <= set(KINDS)
    for item in items:
        assert all(expectation_problem(e, len(item.texts)) is None for e in item.expect), item.id


def test_packaged_items_test_what_their_category_says():
    items = load_items()
    for item in items:
        kinds = {e["kind"] for e in item.expect}
        if item.category == "intensity":
            assert kinds == {"less_than"} and len(item.texts) == 2, item.id
        elif item.category == "invariance":
            assert kinds == {"invariant"} and len(set(item.texts)) == len(item.texts) >= 3, item.id
        else:
            assert len(item.texts) == 1, item.id
        if item.category == "long_text":  # several 128-token windows before the emotional ending
            assert len(item.texts[0].split()) >= 300, item.id
        if item.category == "emoji":
            assert not any(ch.isalnum() for ch in item.texts[0]), item.id


@pytest.mark.parametrize(("line", "message"), [
    ('{"id": "a", "category": "x", "text": "t", "expect": []}', "'expect' must be a non-empty list"),
    ('{"id": "a", "category": "x", "text": "t", "texts": ["t"], "expect": [{"kind": "invariant"}]}',
     "give either 'text' or 'texts'"),
    ('{"id": "a", "category": "x", "text": "t", "expect": [{"kind": "labels_maybe", "labels": ["joy"]}]}',
     "unknown kind 'labels_maybe'"),
    ('{"id": "a", "category": "x", "text": "t", "expect": [{"kind": "labels_exclude", "labels": ["anger", "rage"]}]}',
     "unknown name(s) rage"),
    ('{"id": "a", "category": "x", "texts": ["a", "b", "c"], "expect": [{"kind": "less_than", "score": "ekman.joy"}]}',
     "less_than reads 2 text(s), the item has 3"),
    ('{"id": "a", "category": "x", "texts": ["a", "b"], "expect": [{"kind": "less_than", "score": "joy"}]}',
     "must be <emotions|ekman|sentiment|vad|intensity>.<name>"),
    ('{"id": "a", "category": "x", "text": "t", "expect": [{"kind": "ekman_top_in", "classes": ["joy"]}], "why": 1}',
     "unknown field(s) why"),
    ('{"id": "a", "category": "x", "text": "t"', "line 1: "),
])
def test_a_malformed_item_is_one_clear_error(tmp_path, line, message):
    path = tmp_path / "items.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ChallengeItemError, match="line 1") as caught:
        load_items(path)
    assert message in str(caught.value)


def test_an_id_used_twice_is_refused(tmp_path):
    line = '{"id": "a", "category": "x", "text": "t", "expect": [{"kind": "ekman_top_in", "classes": ["joy"]}]}'
    path = tmp_path / "items.jsonl"
    path.write_text(f"{line}\n\n{line}\n", encoding="utf-8")
    with pytest.raises(ChallengeItemError, match="line 3: id 'a' is used twice"):
        load_items(path)


# --- each expectation kind, passing and failing ---

@pytest.mark.parametrize(("expectation", "passing", "failing"), [
    ({"kind": "labels_exclude", "labels": ["anger", "disgust"]}, affect(["annoyance"]), affect(["annoyance", "anger"])),
    ({"kind": "labels_include_any", "labels": ["sadness", "grief"]}, affect(["grief"]), affect(["neutral"])),
    ({"kind": "ekman_top_in", "classes": ["fear", "surprise"]}, affect(ekman="surprise"), affect(ekman="neutral")),
    ({"kind": "sentiment_top_in", "classes": ["negative"]}, affect(sentiment="negative"),
     affect(sentiment="ambiguous")),
    ({"kind": "sentiment_not_top", "classes": ["positive"]}, affect(sentiment="neutral"),
     affect(sentiment="positive")),
])
def test_one_text_kinds(expectation, passing, failing):
    assert check(expectation, [passing]).passed
    verdict = check(expectation, [failing])
    assert not verdict.passed and verdict.why


def test_less_than_orders_a_pair_strictly():
    rule = {"kind": "less_than", "score": "ekman.anger"}
    assert check(rule, [affect(ekman_anger=0.4), affect(ekman_anger=0.9)]).passed
    assert not check(rule, [affect(ekman_anger=0.9), affect(ekman_anger=0.4)]).passed
    assert not check(rule, [affect(ekman_anger=0.9), affect(ekman_anger=0.9)]).passed
    verdict = check({"kind": "less_than", "score": "vad.arousal"}, [affect(vad_arousal=3.5), affect(vad_arousal=2.0)])
    assert not verdict.passed and "vad.arousal 3.500 (first) vs 2.000 (second)" in verdict.why


def test_intensity_pairs_read_the_intensity_output():
    rule = {"kind": "less_than", "score": "intensity.anger"}
    weak, strong = (dataclasses.replace(affect(), intensity={"anger": value}) for value in (0.3, 0.7))
    assert check(rule, [weak, strong]).passed and not check(rule, [strong, weak]).passed
    verdict = check(rule, [affect(), affect()])  # a model without the intensity output
    assert not verdict.passed and verdict.why == "the model has no intensity output"


def test_invariant_needs_labels_top_and_probabilities_to_agree():
    rule = {"kind": "invariant", "tolerance": 0.1}
    same = [affect(["anger"], ekman="anger"), affect(["anger"], ekman="anger", emotion_anger=0.82)]
    assert check(rule, same).passed
    labels = check(rule, [affect(["anger"], ekman="anger"), affect(["anger", "annoyance"], ekman="anger")])
    assert not labels.passed and "label sets differ" in labels.why
    top = check(rule, [affect(["anger"], ekman="anger"), affect(["anger"], ekman="disgust")])
    assert not top.passed and "ekman tops differ" in top.why
    shift = check(rule, [affect(["anger"]), affect(["anger"]), affect(["anger"], sentiment_negative=0.3)])
    assert not shift.passed and "0.200 (sentiment.negative)" in shift.why


def test_a_text_the_model_could_not_read_fails_every_kind():
    verdict = check({"kind": "labels_exclude", "labels": ["anger"]}, [TextAffect.failed("text is empty")])
    assert not verdict.passed and "text is empty" in verdict.why


# --- the evaluation and the command ---

class StubAnalyzer:
    """Answers every text with one fixed result, or the result named by a word the text holds."""

    runtime_name = "stub"
    model_name = "stub"

    def __init__(self, folder, answers: dict[str, TextAffect] | None = None) -> None:
        self.folder = folder
        for name in (WEIGHTS_FILE, CONFIG_FILE):
            (folder / name).write_text("stub")
        self.answers = answers or {}

    def analyze_batch(self, texts, on_progress=None):
        said = [next((a for word, a in self.answers.items() if word in text), affect()) for text in texts]
        if on_progress:
            on_progress(len(texts))
        return said


def test_a_neutral_model_passes_invariance_and_fails_intensity(tmp_path):
    report = eval_challenge(StubAnalyzer(tmp_path))
    categories = report["categories"]
    assert list(categories) == list(CATEGORIES)
    assert categories["invariance"]["pass_rate"] == 1.0
    assert categories["intensity"]["pass_rate"] == 0.0  # equal scores are no ordering
    assert categories["long_text"]["pass_rate"] == 0.0
    assert report["items"] == sum(c["items"] for c in categories.values()) >= 150
    assert report["passed"] == report["items"] - len(report["failures"])
    assert not report["meets_target"]
    assert report["target"] == {"overall": TARGET_OVERALL, "per_category": TARGET_PER_CATEGORY}


def _write_items(path, items: list[dict]) -> None:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")


def test_pass_rates_and_failures_from_a_small_suite(tmp_path):
    items = tmp_path / "items.jsonl"
    no_anger = [{"kind": "labels_exclude", "labels": ["anger"]}]
    _write_items(items, [
        {"id": "n1", "category": "negation", "text": "calm", "expect": no_anger},
        {"id": "n2", "category": "negation", "text": "mad", "expect": no_anger},
        {"id": "x1", "category": "extra", "texts": ["calm", "mad"],
         "expect": [{"kind": "less_than", "score": "ekman.anger"}]},
    ])
    stub = StubAnalyzer(tmp_path, {"mad": affect(["anger"], ekman="anger", sentiment="negative")})
    report = eval_challenge(stub, items)
    assert report["categories"]["negation"] | {"about": None} == {
        "about": None, "items": 2, "passed": 1, "pass_rate": 0.5, "meets_target": False}
    assert report["categories"]["extra"]["pass_rate"] == 1.0
    assert (report["items"], report["passed"], report["pass_rate"]) == (3, 2, 0.6667)
    (failure,) = report["failures"]
    assert failure["id"] == "n2" and failure["texts"] == ["mad"]
    assert failure["missed"] == [{"expect": {"kind": "labels_exclude", "labels": ["anger"]}, "why": "labels anger"}]
    assert failure["model_said"][0]["labels"] == {"anger": 0.9}
    assert eval_challenge(stub, items, limit=1)["items"] == 2  # the first of each category


def test_the_command_writes_a_report_and_a_table(tmp_path, monkeypatch):
    monkeypatch.setattr("affectlab.cli.text.Analyzer", lambda model, runtime: StubAnalyzer(tmp_path))
    result = runner.invoke(app, ["eval", "challenge", "--limit", "2", "--reports-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "eval-challenge.json").read_text())
    assert report["command"].startswith("affectlab eval challenge ") and "--limit 2" in report["command"]
    assert [c["items"] for c in report["categories"].values()] == [2] * len(CATEGORIES)
    assert "invariance" in result.output and "overall" in result.output


def test_the_command_names_a_bad_items_file(tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "a", "category": "x", "text": "t", "expect": [{"kind": "top"}]}\n', encoding="utf-8")
    result = runner.invoke(app, ["eval", "challenge", "--items", str(items), "--reports-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "line 1: expectation 1: unknown kind 'top'" in result.output
    assert not (tmp_path / "eval-challenge.json").exists()


@pytest.mark.model
def test_the_shipped_model_on_the_first_item_of_each_category(tmp_path):
    result = runner.invoke(app, ["eval", "challenge", "--limit", "1", "--reports-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "eval-challenge.json").read_text())
    assert report["model"]["name"] == "text-minilm"
    for failure in report["failures"]:
        assert len(failure["model_said"]) == len(failure["texts"]) and failure["missed"]
    assert [c["items"] for c in report["categories"].values()] == [1] * len(CATEGORIES)
