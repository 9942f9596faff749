"""Figures chosen and reported honestly: the probe layer is picked on dev, steering's test figures get intervals
that resample prompts (outputs of one prompt are alike), and a steering report can be rescored from its outputs."""

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest

from affectlab.internals.closed_loop import arm_intervals, overall, results_from_records, run_arms
from affectlab.internals.layers import InternalsError
from affectlab.internals.probes import LayerScore, best_layer
from affectlab.llm.base import Generation
from affectlab.metrics import cluster_bootstrap_interval


def test_the_probe_layer_is_picked_on_dev_not_test():
    dev = [LayerScore(0, 0.50, 0.5), LayerScore(1, 0.62, 0.6), LayerScore(2, 0.62, 0.6), LayerScore(3, 0.55, 0.5)]
    assert best_layer(dev) == 1  # a tie goes to the earlier layer
    with pytest.raises(InternalsError, match="no dev scores"):
        best_layer([])


def test_eval_probes_reports_test_at_the_dev_layer(monkeypatch):
    """Generation, capture and probes scripted: test's best layer (2) differs from dev's (1); the report must
    give layer 1 and its test accuracy, and both splits per layer."""
    import affectlab.evaluate.internals as evaluation

    dev_accuracy, test_accuracy = [0.40, 0.70, 0.60], [0.45, 0.55, 0.80]
    sizes = {"train": 14, "dev": 7, "test": 21}
    monkeypatch.setattr(evaluation, "labelled_texts",
                        lambda dataset, split, data_dir: [(f"{split} {i}", i % 7) for i in range(sizes[split])])
    monkeypatch.setattr(evaluation, "capture_pooled", lambda llm, texts, poolings, **_: {
        p: np.zeros((len(texts), 3, 2), np.float32) for p in poolings})
    monkeypatch.setattr(evaluation, "with_filler", lambda llm, texts, tokens: texts)
    monkeypatch.setattr(evaluation, "train_probes", lambda *a, **k: SimpleNamespace(c=[0.1, 0.1, 0.1]))

    def scripted_scores(probes, features, labels):
        accuracy = dev_accuracy if len(features) == sizes["dev"] else test_accuracy
        return [LayerScore(i, a, a - 0.01) for i, a in enumerate(accuracy)]

    monkeypatch.setattr(evaluation, "score_probes", scripted_scores)
    monkeypatch.setattr(evaluation, "zero_shot_scores", lambda llm, texts, labels, **_: np.zeros((len(texts), 7)))
    monkeypatch.setattr(evaluation, "decoder_layers", lambda llm: [None] * 3)
    report = evaluation.eval_probes(SimpleNamespace(name="scripted"), "goemotions-ekman", train_per_label=2,
                                    dev_per_label=1, test_per_label=3)
    assert report["best_layer"]["layer"] == 1
    assert report["best_layer"]["accuracy"] == 0.55 and report["best_layer"]["dev_accuracy"] == 0.70
    assert [p["dev_accuracy"] for p in report["probes"]] == dev_accuracy
    assert [p["accuracy"] for p in report["probes"]] == test_accuracy
    json.dumps(report)


def test_the_cluster_bootstrap_widens_the_interval_for_alike_items():
    rng = np.random.default_rng(0)
    per_prompt = (rng.random(16) < 0.7).astype(float)
    values = np.repeat(per_prompt, 12)  # 12 identical outputs per prompt
    clusters = np.repeat(np.arange(16), 12)
    mean, low, high = cluster_bootstrap_interval(values, clusters)
    _, low_items, high_items = cluster_bootstrap_interval(values, np.arange(len(values)))
    assert mean == pytest.approx(values.mean()) and low <= mean <= high
    assert high - low > 2 * (high_items - low_items)  # 16 independent facts, not 192
    assert cluster_bootstrap_interval([1.0, 1.0, 1.0], ["a", "a", "b"])[1:] == (1.0, 1.0)
    with pytest.raises(ValueError, match="one id per value"):
        cluster_bootstrap_interval([1.0, 0.0], ["a"])


class _ScriptedLM:
    """Continues each prompt by a line that depends on the prompt (so outputs cluster by prompt)."""

    name = "scripted"
    LINES = {"a": "I am angry about the late train.", "b": "The shop opens at nine.",
             "c": "so " + "angry " * 9, "d": "It rained all day."}

    def generate_batch(self, prompts, **options):
        lines = [self.LINES[p.split("Q: ")[1][0]] for p in prompts]  # by the prompt's letter
        return [Generation(line, len(line.split()), "stop") for line in lines]

    def count_tokens(self, text):
        return len(text.split()) + 1

    def score(self, prompt, continuations):
        return [-float(len(c.split())) for c in continuations]


class _AngerJudge:
    """Reads a text as anger when it says "angry", else as neutral; ``word`` changes what it listens for."""

    model_name = "anger-judge"

    def __init__(self, folder=None, word="angry"):
        self.folder, self.word = folder, word

    def analyze(self, texts):
        return [SimpleNamespace(ekman={"anger": 1.0 if self.word in t else 0.0, "disgust": 0.0, "fear": 0.0,
                                       "joy": 0.1, "sadness": 0.0, "surprise": 0.0, "neutral": 0.5}) for t in texts]


def test_an_output_the_text_model_cannot_read_is_judged_as_saying_no_emotion():
    from affectlab.internals.closed_loop import _judge
    from affectlab.text import default_analyzer

    seven, six = _judge(default_analyzer(), ["x" * 200_000, "", "I am so furious with you, this is outrageous!"])
    assert seven[0] == six[0] == "neutral" and seven[1] == "neutral"  # past its limits; empty, read as "."
    assert seven[2] == six[2] == "anger"


def _judge_folder(tmp_path, weights=b"w"):
    folder = tmp_path / f"judge-{weights.decode()}"
    folder.mkdir()
    (folder / "weights.safetensors").write_bytes(weights)
    (folder / "config.json").write_text("{}")
    return folder


def test_steering_test_figures_come_back_from_the_stored_outputs(tmp_path):
    from affectlab.evaluate.internals import rescore_steering, steering_caveats, steering_test_figures

    results = run_arms(_ScriptedLM(), _AngerJudge(), None, ["a?", "b?", "c?", "d?"], arms=("unsteered", "prompted"),
                       emotions=["anger", "joy"], samples=2, template="Q: {prompt}\nA:")
    records = [row for r in results for row in r.records()]
    assert len(records) == 2 * 2 * 4 * 2 and {r["prompt"] for r in records} == {0, 1, 2, 3}
    again = results_from_records(json.loads(json.dumps(records)))
    assert [r.to_dict() for r in again] == [r.to_dict() for r in results]
    assert overall(again, "prompted") == overall(results, "prompted")
    low, high = arm_intervals(records, "prompted")["accuracy"]
    assert low <= overall(results, "prompted")["accuracy"] <= high and high - low > 0

    test = steering_test_figures(results)
    assert test["prompted"]["accuracy"] == pytest.approx(0.25)  # anger on prompts a and c, never joy
    assert test["prompted"]["accuracy_fluent"] == pytest.approx(0.125)  # c repeats itself
    assert set(test["prompted"]["interval_95"]) == {"accuracy", "accuracy_of_six", "accuracy_fluent", "perplexity",
                                                    "perplexity_ratio"}
    assert "perplexity_ratio" not in test["unsteered"]["interval_95"]
    # prompted outputs are the unsteered ones (scripted by prompt): a ratio of 1 in every resample
    assert test["prompted"]["interval_95"]["perplexity_ratio"] == pytest.approx([1.0, 1.0])
    report = {"method": "goemotions", "sweep": {"kept": True}, "test": json.loads(json.dumps(test))}
    rescored = rescore_steering(report, _AngerJudge(_judge_folder(tmp_path)))
    judge = {"classifier": "anger-judge", "classifier_fingerprint": rescored["test"]["classifier_fingerprint"]}
    assert rescored["test"] == {**judge, **report["test"]} and rescored["sweep"] == {"kept": True}
    assert rescored["caveats"] == steering_caveats("goemotions") and "trained on GoEmotions" in rescored["caveats"][0]
    assert "classifier" not in rescored and len(judge["classifier_fingerprint"]) == 16  # the sweep's judge unknown
    # another judge reads the same outputs otherwise: only the judged figures change, and its fingerprint is kept
    other = rescore_steering(report, _AngerJudge(_judge_folder(tmp_path, b"v"), word="train"))
    assert other["test"]["prompted"]["accuracy"] == pytest.approx(0.125)  # only prompt a mentions a train
    assert other["test"]["prompted"]["perplexity"] == test["prompted"]["perplexity"]
    assert other["test"]["classifier_fingerprint"] != judge["classifier_fingerprint"]
    assert [row["predicted"] for row in other["test"]["outputs"]][:4] == ["anger", "neutral", "neutral", "neutral"]
    with pytest.raises(InternalsError, match="cannot be rescored"):
        rescore_steering({"method": "goemotions", "test": {"per_emotion": []}}, _AngerJudge())
    with pytest.raises(InternalsError, match="record 0 lacks prompt"):
        results_from_records([{k: v for k, v in records[0].items() if k != "prompt"}])
    with pytest.raises(InternalsError, match="record 1 is not an object"):
        rescore_steering({"method": "goemotions", "test": {"outputs": [records[0], "text"]}}, _AngerJudge())
    with pytest.raises(InternalsError, match="record 0: output must be a string, not None"):
        rescore_steering({"method": "goemotions", "test": {"outputs": [{**records[0], "output": None}]}}, _AngerJudge())
    for field, value, words in (("prompt", "zero", "prompt must be a whole number"), ("arm", ["x"], "arm must be"),
                                ("perplexity", 0, "perplexity must be a positive number or null"),
                                ("sample", True, "sample must be a whole number")):
        with pytest.raises(InternalsError, match=f"record 0: {words}"):
            rescore_steering({"test": {"outputs": [{**records[0], field: value}]}}, _AngerJudge())
    with pytest.raises(InternalsError, match="no unsteered arm"):
        rescore_steering({"test": {"outputs": [r for r in records if r["arm"] != "unsteered"]}}, _AngerJudge())
    with pytest.raises(InternalsError, match="cannot be rescored"):
        rescore_steering({"test": [1]}, _AngerJudge())


def test_a_steering_report_file_is_rescored_in_place(tmp_path):
    from affectlab.evaluate.internals import rescore_steering_file, steering_test_figures

    results = run_arms(_ScriptedLM(), _AngerJudge(), None, ["a?", "b?"], arms=("unsteered", "prompted"),
                       emotions=["anger"], template="Q: {prompt}\nA:")
    path = tmp_path / "eval-steering-x.json"
    original = {"report": "eval-steering-x", "command": "affectlab eval steering", "date": "then",
                "method": "mean_diff", "test": steering_test_figures(results)}
    path.write_text(json.dumps(original))
    rescored = rescore_steering_file(path, "affectlab eval steering --rescore x", _AngerJudge(_judge_folder(tmp_path)))
    assert json.loads(path.read_text()) == rescored
    assert rescored["command"] == "affectlab eval steering" and rescored["date"] == "then"
    assert rescored["rescored"]["command"] == "affectlab eval steering --rescore x"
    assert rescored["test"]["prompted"]["accuracy"] == original["test"]["prompted"]["accuracy"] == 0.5
    assert len(rescored["caveats"]) == 1  # scenario directions: no judge caveat


def test_eval_steering_rescore_cli(tmp_path):
    from typer.testing import CliRunner

    from affectlab.cli import app
    from affectlab.evaluate.internals import steering_test_figures

    results = run_arms(_ScriptedLM(), _AngerJudge(), None, ["a?", "b?", "c?"], arms=("unsteered", "prompted"),
                       emotions=["anger"], template="Q: {prompt}\nA:")
    test = steering_test_figures(results)
    path = tmp_path / "eval-steering-goemotions.json"
    path.write_text(json.dumps({"model": "scripted", "classifier": "judge", "method": "goemotions",
                                "sweep": {"chosen": {"layers": [5, 9], "strength": 5.0}}, "test": test}))
    result = CliRunner().invoke(app, ["eval", "steering", "--rescore", str(path)])
    assert result.exit_code == 0, result.output
    assert "0.667" in result.output and "[0.00," in result.output and "trained on GoEmotions" in result.output
    assert "rescored" in json.loads(path.read_text())
    missing = CliRunner().invoke(app, ["eval", "steering", "--rescore", str(tmp_path / "none.json")])
    assert missing.exit_code != 0 and "cannot read the steering report" in missing.output
    # every output of one arm empty: no perplexity to take a mean of, written as null (strict JSON), shown as –
    for row in test["outputs"]:
        if row["arm"] == "prompted":
            row["perplexity"] = None
    path.write_text(json.dumps({"method": "goemotions", "test": test}))  # nor model, classifier or settings
    bare = CliRunner().invoke(app, ["eval", "steering", "--rescore", str(path)])
    assert bare.exit_code == 0, bare.output
    assert "NaN" not in path.read_text() and json.loads(path.read_text())["test"]["prompted"]["perplexity"] is None
    assert "–" in bare.output and not re.search(r"\bnan\b", bare.output)


class _SteerableLM(_ScriptedLM):
    """The scripted LM, angry while a (stand-in) steering is on; notes every prompt and seed it is given."""

    steered = False

    def __init__(self):
        self.calls = []

    def generate_batch(self, prompts, **options):
        self.calls.append((list(prompts), options["seed"]))
        if self.steered:
            return [Generation("I am so angry.", 4, "stop") for _ in prompts]
        return super().generate_batch(prompts, **options)


class _StandInSteering:
    """Stands in for Steering: notes each row's shift per layer and turns the scripted LM's steering on."""

    shifts = []

    def __init__(self, llm, per_layer, layer, strength):
        self.llm = llm
        _StandInSteering.shifts.append({at: rows[:, 0].tolist() for at, rows in per_layer.items()})

    def __enter__(self):
        self.llm.steered = True

    def __exit__(self, *exc):
        self.llm.steered = False


def test_the_shipped_settings_give_the_test_arms_without_a_sweep(monkeypatch, tmp_path):
    """`eval steering --shipped`: no dev prompt generated, the shipped directions at their config's layers and
    per-emotion strengths, the full eval's test seed, intervals over prompts for every arm, the judge caveat."""
    import affectlab.evaluate.internals as evaluation
    import affectlab.internals.closed_loop as closed_loop
    from affectlab.cli.internals import _steering_table
    from affectlab.internals.directions import EmotionDirections
    from affectlab.internals.packaged import SteeringSettings

    vectors = {"anger": np.ones((2, 3), np.float32), "joy": np.full((2, 3), 2.0, np.float32)}
    shipped = EmotionDirections("scripted", "goemotions, shared part removed per emotion: anger x0, joy x0.5",
                                (5, 9), vectors, {e: [0.5, 0.5] for e in vectors})
    settings = SteeringSettings((5, 9), {"anger": 4.0, "joy": 5.0}, 5.0, {"anger": 0.0, "joy": 0.5})
    monkeypatch.setattr(evaluation, "steering_settings", lambda: settings)
    monkeypatch.setattr(evaluation, "packaged_directions", lambda llm: shipped)
    monkeypatch.setattr(evaluation, "load_prompts", lambda: ("Q: {prompt}\nA:", ["dev?"], ["a?", "b?", "c?", "d?"]))
    monkeypatch.setattr(closed_loop, "Steering", _StandInSteering)
    monkeypatch.setattr(_StandInSteering, "shifts", [])
    lm, judge = _SteerableLM(), _AngerJudge(_judge_folder(tmp_path))

    report = evaluation.eval_steering_shipped(lm, judge, samples=2, seed=3)
    test = report["test"]
    assert [a for a in evaluation.COMPARED_ARMS if a in test] == [
        "prompted", "steered_per_emotion", "prompted_steered_per_emotion"] and "unsteered" in test
    every = {"accuracy", "accuracy_of_six", "accuracy_fluent", "perplexity", "perplexity_ratio"}
    assert all(every <= set(test[a]["interval_95"])
               for a in ("prompted", "steered_per_emotion", "prompted_steered_per_emotion"))
    assert test["steered_per_emotion"]["accuracy"] == 0.5  # angry for anger and joy alike
    assert test["steered_per_emotion"]["interval_95"]["accuracy"] == [0.5, 0.5]
    assert not any("dev?" in p for prompts, _ in lm.calls for p in prompts) and "sweep" not in report
    assert {seed for _, seed in lm.calls} == {1003, 1004}  # the full eval's test seed and samples
    assert _StandInSteering.shifts and all(shift == {5: [4.0] * 4 + [10.0] * 4, 9: [4.0] * 4 + [10.0] * 4}
                                           for shift in _StandInSteering.shifts)
    assert report["settings"]["per_emotion"] == {"anger": {"remove_shared": 0.0, "strength": 4.0},
                                                 "joy": {"remove_shared": 0.5, "strength": 5.0}}
    assert report["method"] == "goemotions" and "trained on GoEmotions" in report["caveats"][0]
    assert _steering_table(report).row_count == 4
