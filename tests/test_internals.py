"""Inside the packaged Gemma 3 270M: capture, probes, directions, steering, the closed loop and the CLI."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.internals import (
    EmotionDirections,
    InternalsError,
    Steering,
    capture,
    emotion_directions,
    packaged_directions,
    scenario_states,
    score_probes,
    text_directions,
    train_probes,
)
from affectlab.internals.closed_loop import DEGENERATE, perplexities, repetition, run_arms
from affectlab.llm import OpenAICompatibleLM
from affectlab.llm.base import Generation
from conftest import DATA_DIR, needs_data

runner = CliRunner()


@pytest.fixture(scope="module")
def directions(llm):
    return emotion_directions(llm)


def test_capture_pools_the_residual_stream_without_the_first_token(llm):
    import torch

    texts = ["I am so happy today!", "The meeting is at noon."]
    pooled = capture(llm, texts, layers=[2, 9], pooling="mean")
    last = capture(llm, texts, layers=[9], pooling="last")
    assert pooled.shape == (2, 2, 640) and last.shape == (2, 1, 640)
    encoded = llm.tokenizer(texts[1], return_tensors="pt")
    with torch.inference_mode():
        hidden = llm.model(**encoded, output_hidden_states=True).hidden_states[10][0]  # after block 9
    assert np.allclose(pooled[1, 1], hidden[1:].mean(0).numpy(), rtol=1e-3, atol=1e-2)
    assert np.allclose(last[1, 0], hidden[-1].numpy(), rtol=1e-3, atol=1e-2)
    assert np.linalg.norm(pooled[1, 1]) < 0.5 * np.linalg.norm(hidden[0].numpy())  # the first token is left out


def test_internals_errors_are_clear(llm, directions):
    with pytest.raises(InternalsError, match="layer 18 is out of range: gemma3-270m has layers 0 to 17"):
        capture(llm, ["text"], layers=[18])
    with pytest.raises(InternalsError, match="exposes no model layers"):
        capture(OpenAICompatibleLM("http://127.0.0.1:9/v1", "remote"), ["text"])
    with pytest.raises(InternalsError, match="pooling must be one of"):
        capture(llm, ["text"], pooling="max")
    with pytest.raises(InternalsError, match="does not fit"):
        Steering(llm, np.ones(10), layer=3)
    with pytest.raises(InternalsError, match="no direction for 'love'"):
        directions["love"]
    with pytest.raises(InternalsError, match="lacks fear"):
        emotion_directions(llm, [{"id": "a", "neutral": "x", "fear": ""}, {"id": "b", "neutral": "y", "fear": "z"}])


def test_linear_probes_separate_what_is_separable():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    informative = np.eye(3)[labels] * 3 + rng.normal(0, 1, (300, 3))
    features = np.stack([rng.normal(0, 1, (300, 3)), informative], 1)  # layer 0: noise, layer 1: signal
    probes = train_probes(features[:200], labels[:200], dev=(features[200:250], labels[200:250]))
    noise, signal = score_probes(probes, features[250:], labels[250:])
    assert signal.accuracy > 0.85 and noise.accuracy < 0.6 and len(probes.c) == 2


def test_directions_are_consistent_and_survive_a_round_trip(llm, directions, tmp_path):
    assert directions.emotions == ["anger", "disgust", "fear", "joy", "sadness", "surprise"]
    assert directions["joy"].vectors.shape == (18, 640)
    middle = [directions.consistency[e][6] for e in directions.emotions]
    assert min(middle) > 0.05  # scenario differences agree more than random vectors in 640 dimensions would
    path = tmp_path / "dirs.safetensors"
    directions.save(path)
    loaded = EmotionDirections.load(path)
    assert loaded.layers == directions.layers and np.array_equal(loaded["anger"].at(6), directions["anger"].at(6))
    loaded.check_fits(llm)
    pca = emotion_directions(llm, method="pca", layers=[6])
    cosine = pca["joy"].at(6) @ directions["joy"].at(6) / (
        np.linalg.norm(pca["joy"].at(6)) * np.linalg.norm(directions["joy"].at(6)))
    assert cosine > 0.5
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(InternalsError, match="not an affectlab directions file"):
        EmotionDirections.load(tmp_path / "junk.safetensors")


def test_centered_directions_drop_what_the_emotions_share(llm, directions):
    states = scenario_states(llm, layers=[9])
    centered = states.directions("centered")
    # one capture serves every method: its mean differences are the ones emotion_directions gives
    assert np.allclose(states.directions("mean_diff")["joy"].at(9), directions["joy"].at(9), rtol=1e-3, atol=1e-4)
    shared = directions.emotion_similarity(9)
    apart = centered.emotion_similarity(9)
    pairs = [(a, b) for a in centered.emotions for b in centered.emotions if a < b]
    assert np.mean([apart[a][b] for a, b in pairs]) < np.mean([shared[a][b] for a, b in pairs]) - 0.3
    assert np.isclose(np.linalg.norm(centered["joy"].at(9)), np.linalg.norm(directions["joy"].at(9)), rtol=1e-4)


def test_text_directions_and_the_packaged_goemotions_ones(llm, directions):
    texts = ["I love this so much, what a wonderful day!", "Best news ever, I am thrilled for you!",
             "That is disgusting, it made me feel sick.", "Gross. I can't even look at that mess.",
             "The shop opens at nine on weekdays.", "The meeting moved to Tuesday afternoon."]
    labels = ["joy", "joy", "disgust", "disgust", "neutral", "neutral"]
    found = text_directions(llm, texts, labels)
    assert found.method == "texts" and found.emotions == ["disgust", "joy"] and found["joy"].vectors.shape == (18, 640)
    assert len(found.consistency["joy"]) == 18 and np.mean(found.consistency["joy"][4:13]) > 0
    scaled = found.scaled_to(directions)
    assert np.allclose(np.linalg.norm(scaled["joy"].vectors, axis=1), np.linalg.norm(directions["joy"].vectors, axis=1),
                       rtol=1e-4)
    assert np.allclose(scaled["joy"].at(9) @ found["joy"].at(9),
                       np.linalg.norm(scaled["joy"].at(9)) * np.linalg.norm(found["joy"].at(9)), rtol=1e-4)
    with pytest.raises(InternalsError, match="at least two 'fear' texts"):
        text_directions(llm, texts, labels, emotions=["fear"])
    with pytest.raises(InternalsError, match="6 texts but 5 labels"):
        text_directions(llm, texts, labels[:5])
    packaged = packaged_directions(llm)
    assert packaged.method.startswith("goemotions, shared part removed per emotion: anger x0, disgust x0.5")
    assert packaged.model == llm.name and packaged.layers == tuple(range(18))
    assert packaged.emotions == directions.emotions
    assert np.allclose(np.linalg.norm(packaged["anger"].vectors, axis=1),
                       np.linalg.norm(directions["anger"].vectors, axis=1), rtol=1e-3)


def test_removing_the_shared_part_sets_the_emotions_apart():
    from affectlab.internals.text_directions import TextStates

    rng = np.random.default_rng(0)
    common, own = rng.normal(size=(1, 2, 8)) * 3, {e: rng.normal(size=(1, 2, 8)) for e in ("anger", "joy")}
    labels = np.array(["neutral"] * 4 + ["anger"] * 4 + ["joy"] * 4, dtype=object)
    means = np.concatenate([np.zeros((4, 2, 8)), np.repeat(common + own["anger"], 4, 0),
                            np.repeat(common + own["joy"], 4, 0)])
    states = means + rng.normal(size=(12, 2, 8)) * 0.01
    found = TextStates("toy", "texts", (3, 4), ["anger", "joy"], "neutral", states, labels,
                       np.array([True, False] * 6))
    plain, apart = found.directions(), found.directions(remove_shared=1.0)
    assert plain.emotion_similarity(3)["anger"]["joy"] > 0.5
    # all of it removed: what is left of each is its own part less the mean of the own parts
    expected = own["anger"][0] - (own["anger"][0] + own["joy"][0]) / 2
    assert np.allclose(apart["anger"].vectors, expected, atol=0.05)
    assert apart.emotion_similarity(3)["anger"]["joy"] < -0.9
    assert np.allclose(found.directions(0.5)["joy"].vectors, (plain["joy"].vectors + apart["joy"].vectors) / 2)
    assert min(apart.consistency["joy"]) > 0.9 and apart.layers == (3, 4)
    assert plain.method == "texts" and apart.method == "texts, shared part x1 removed"
    with pytest.raises(InternalsError, match="between 0 and 1, not 1.5"):
        found.directions(remove_shared=1.5)
    mixed = found.directions({"joy": 1.0})  # anger, not named, keeps all of it
    assert np.allclose(mixed["anger"].vectors, plain["anger"].vectors)
    assert np.allclose(mixed["joy"].vectors, apart["joy"].vectors)
    assert mixed.method == "texts, shared part removed per emotion: anger x0, joy x1"
    with pytest.raises(InternalsError, match="names fear, which these texts have no direction for"):
        found.directions({"fear": 0.5})
    with pytest.raises(InternalsError, match=r"not 1.5 \(for joy\)"):
        found.directions({"joy": 1.5})


@needs_data
def test_packaged_directions_are_what_the_recipe_gives(llm):
    from affectlab.evaluate.internals import goemotions_directions

    again, packaged = goemotions_directions(llm, DATA_DIR), packaged_directions(llm)
    for emotion in packaged.emotions:
        a, b = again[emotion].vectors, packaged[emotion].vectors
        cosines = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        assert cosines.min() > 0.999 and np.allclose(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1), rtol=1e-3)


def test_steering_moves_the_next_word_towards_the_emotion_and_then_lets_go(llm, directions):
    def happy_over_sad():
        happy, sad = llm.score("Q: How do you feel today?\nA: I feel", [" happy", " sad"])
        return happy - sad

    before = happy_over_sad()
    with Steering(llm, directions["joy"], layer=6, strength=4):
        joyful = happy_over_sad()
    with Steering(llm, directions["sadness"], layer=6, strength=4):
        sad = happy_over_sad()
    assert joyful > before + 1 and sad < before - 1
    assert happy_over_sad() == pytest.approx(before, abs=1e-4)
    # spread over three blocks, each at a third of the strength: still towards joy, and every hook comes off
    with Steering(llm, directions["joy"], layer=(5, 6, 7), strength=4) as spread:
        assert len(spread._handles) == 3
        spread_joy = happy_over_sad()
    assert spread_joy > before + 1 and happy_over_sad() == pytest.approx(before, abs=1e-4)
    # each block takes its own layer's direction: as the explicit mapping does, unlike layer 6's at all three
    with Steering(llm, {k: directions["joy"].at(k) for k in (5, 6, 7)}, layer=(5, 6, 7), strength=4):
        assert happy_over_sad() == pytest.approx(spread_joy, abs=1e-4)
    with Steering(llm, directions["joy"].at(6), layer=(5, 6, 7), strength=4):
        assert happy_over_sad() != pytest.approx(spread_joy, abs=1e-3)
    # one layer given as a mapping or as a one-element tuple is the same push as the plain form
    with Steering(llm, {6: directions["joy"].at(6)}, layer=(6,), strength=4):
        assert happy_over_sad() == pytest.approx(joyful, abs=1e-4)
    with pytest.raises(InternalsError, match="no direction given for layer 7"):
        Steering(llm, {6: directions["joy"].at(6)}, layer=(6, 7))
    with pytest.raises(InternalsError, match="several distinct"):
        Steering(llm, directions["joy"], layer=(6, 6))
    with pytest.raises(InternalsError, match="layer 18 is out of range"):
        Steering(llm, directions["joy"], layer=(9, 18))


def test_closed_loop_arms_on_two_prompts(llm, analyzer, directions):
    results = run_arms(llm, analyzer, directions, ["Tell me about your weekend.", "How was the drive?"], layer=6,
                       strength=4, arms=("unsteered", "steered"), emotions=["joy", "anger"])
    assert [(r.arm, r.emotion) for r in results] == [("unsteered", "joy"), ("unsteered", "anger"),
                                                     ("steered", "joy"), ("steered", "anger")]
    for r in results:
        assert 0 <= r.accuracy <= r.accuracy_of_six + 1e-9 <= 1 + 1e-9 and len(r.outputs) == 2
        assert r.perplexity > 1 and 0 <= r.repetition <= 1
        looping = [repetition(o) > DEGENERATE for o in r.outputs]
        assert r.degenerate == pytest.approx(np.mean(looping))
        assert r.accuracy_fluent == pytest.approx(np.mean([p == r.emotion and not bad
                                                           for p, bad in zip(r.predicted, looping)]))
    json.dumps([r.to_dict() for r in results])
    # a strength per emotion: joy as before (same batch, same seed), anger not steered this time
    each = run_arms(llm, analyzer, directions, ["Tell me about your weekend.", "How was the drive?"], layer=6,
                    strength={"joy": 4, "anger": 0}, arms=("steered",), emotions=["joy", "anger"])
    assert each[0].outputs == results[2].outputs and each[1].outputs != results[3].outputs
    # the instruction with and without the direction on top: same prompts and seed, different text
    both = run_arms(llm, analyzer, directions, ["Tell me about your weekend.", "How was the drive?"], layer=6,
                    strength=4, arms=("prompted", "prompted_steered"), emotions=["joy"])
    assert [r.arm for r in both] == ["prompted", "prompted_steered"] and both[0].outputs != both[1].outputs
    # several layers at once: a per-layer, per-row shift; different text from the one-layer push
    spread = run_arms(llm, analyzer, directions, ["Tell me about your weekend.", "How was the drive?"],
                      layer=(5, 6, 7), strength=4, arms=("steered",), emotions=["joy"])
    assert len(spread[0].outputs) == 2 and spread[0].outputs != results[2].outputs
    assert repetition("a b c a b c a b c") > 0.5 and repetition("one two three four") == 0.0
    assert np.isnan(perplexities(llm, ["Q:"], [""])[0])


class _ScriptedLM:
    """Gives the same continuations whatever the prompt; every token scores log-probability -1."""

    name = "scripted"

    def __init__(self, texts):
        self.texts = texts

    def generate_batch(self, prompts, **options):
        return [Generation(text, len(text.split()), "stop") for text in self.texts[:len(prompts)]]

    def count_tokens(self, text):
        return len(text.split()) + 1

    def score(self, prompt, continuations):
        return [-float(len(c.split())) for c in continuations]


class _AngerJudge:
    """Reads a text as anger when it says "angry", else as neutral."""

    def analyze(self, texts):
        return [SimpleNamespace(ekman={"anger": 1.0 if "angry" in t else 0.0, "disgust": 0.0, "fear": 0.0, "joy": 0.1,
                                       "sadness": 0.0, "surprise": 0.0, "neutral": 0.5}) for t in texts]


def test_degenerate_outputs_do_not_count_as_fluent_expression():
    outputs = ["so " + "angry " * 9, "I am angry about the late train.", "The shop opens at nine."]
    [result] = run_arms(_ScriptedLM(outputs), _AngerJudge(), None, ["a", "b", "c"], arms=("prompted",),
                        emotions=["anger"])
    assert repetition(outputs[0]) > DEGENERATE >= repetition(outputs[1])
    assert result.accuracy == pytest.approx(2 / 3) and result.degenerate == pytest.approx(1 / 3)
    assert result.accuracy_fluent == pytest.approx(1 / 3) and result.perplexity == pytest.approx(np.e)


def test_the_sweep_picks_fluent_expression_within_the_perplexity_bound():
    from affectlab.evaluate.internals import _best

    looping = {"accuracy": 0.9, "accuracy_fluent": 0.5, "perplexity_ratio": 0.8}
    fluent = {"accuracy": 0.8, "accuracy_fluent": 0.75, "perplexity_ratio": 1.6}
    as_fluent_but_smoother = {"accuracy": 0.8, "accuracy_fluent": 0.75, "perplexity_ratio": 1.2}
    broken = {"accuracy": 1.0, "accuracy_fluent": 1.0, "perplexity_ratio": 2.5}
    assert _best([looping, fluent, broken], 2.0) is fluent
    assert _best([looping, fluent, as_fluent_but_smoother, broken], 2.0) is as_fluent_but_smoother
    assert _best([broken], 2.0) is broken  # nothing within bounds: the best of all


def test_the_sweep_gives_each_emotion_its_own_share_and_strength(monkeypatch):
    """The dev sweep over (share, strength), with generation and judging scripted: one pick for all emotions,
    and each emotion's own pick, whose directions and strengths the per-emotion test arm must use."""
    import affectlab.evaluate.internals as evaluation
    import affectlab.evaluate.report as report_module
    from affectlab.internals.closed_loop import ArmResult

    def directions(value):
        vectors = {e: np.full((3, 4), value + i + 1, np.float32) for i, e in enumerate(("anger", "disgust"))}
        return EmotionDirections("scripted", f"scripted {value}", (0, 1, 2), vectors,
                                 {e: [0.5] * 3 for e in vectors})

    by_share = {0.0: directions(0.0), 0.5: directions(10.0)}
    # dev (fluent accuracy, perplexity ratio) per (share, strength, emotion)
    dev = {(0.0, 4.0, "anger"): (0.5, 1.2), (0.0, 5.0, "anger"): (0.9, 1.5),
           (0.0, 4.0, "disgust"): (0.2, 1.2), (0.0, 5.0, "disgust"): (0.4, 1.5),
           (0.5, 4.0, "anger"): (0.6, 1.4), (0.5, 5.0, "anger"): (0.7, 2.5),
           (0.5, 4.0, "disgust"): (0.8, 1.4), (0.5, 5.0, "disgust"): (0.9, 2.5)}
    calls = []

    def scripted_arms(llm, analyzer, dirs, prompts, *, layer=0, strength=0.0, arms=("steered",), **_):
        calls.append((arms, dirs, strength))
        results = []
        for arm in arms:
            for emotion in ("anger", "disgust"):
                share = next((s for s, d in by_share.items() if dirs is not None and d.vectors[emotion] is
                              dirs.vectors[emotion]), None)
                level = strength[emotion] if isinstance(strength, dict) else strength
                fluent, ratio = dev.get((share, level, emotion), (0.0, 1.0)) if arm == "steered" else (0.0, 1.0)
                results.append(ArmResult(arm, emotion, fluent, fluent, 10.0 * ratio, 0.0, 0.0, fluent, [], []))
        return results

    monkeypatch.setattr(evaluation, "load_prompts", lambda: ("{prompt}", ["dev"], ["test"]))
    monkeypatch.setattr(evaluation, "check_layer", lambda llm, layer: None)
    monkeypatch.setattr(evaluation, "scenario_states", lambda llm: SimpleNamespace(directions=lambda m: by_share[0.0]))
    monkeypatch.setattr(evaluation, "goemotions_states", lambda *a, **k: None)

    def scripted_directions(llm, remove_shared, **_):
        if not isinstance(remove_shared, dict):
            return by_share[remove_shared]
        return EmotionDirections("scripted", "mixed", (0, 1, 2),
                                 {e: by_share[s].vectors[e] for e, s in remove_shared.items()},
                                 {e: [0.5] * 3 for e in remove_shared})

    monkeypatch.setattr(evaluation, "goemotions_directions", scripted_directions)
    monkeypatch.setattr(evaluation, "run_arms", scripted_arms)

    monkeypatch.setattr(report_module, "fingerprint", lambda folder: "judge-weights")
    judge = SimpleNamespace(model_name="judge", folder=None)
    report = evaluation.eval_steering(SimpleNamespace(name="scripted"), judge,
                                      layers=[1], strengths=[4.0, 5.0], method="goemotions", remove_shared=[0.0, 0.5])
    sweep = report["sweep"]
    assert (report["classifier"], report["classifier_fingerprint"]) == ("judge", "judge-weights")
    # means: share 0 at 5 → 0.65 at 1.5x; share 0.5 at 4 → 0.7 at 1.4x; share 0.5 at 5 is over the bound
    assert sweep["chosen"]["remove_shared"] == 0.5 and sweep["chosen"]["strength"] == 4.0
    assert sweep["chosen_per_emotion"] == {"anger": {"remove_shared": 0.0, "strength": 5.0},
                                           "disgust": {"remove_shared": 0.5, "strength": 4.0}}
    [(_, own, strengths)] = [c for c in calls if isinstance(c[2], dict)]
    assert strengths == {"anger": 5.0, "disgust": 4.0}
    assert own.vectors["anger"] is by_share[0.0].vectors["anger"]
    assert own.vectors["disgust"] is by_share[0.5].vectors["disgust"]
    assert report["test"]["steered_per_emotion"]["accuracy_fluent"] == pytest.approx(0.85)


def test_the_shipped_steering_settings_are_the_reported_dev_picks():
    """The packaged directions' shares and steer's layers and strengths are what the per-emotion sweep picked."""
    from affectlab.internals.packaged import steering_settings
    from affectlab.registry import ARTIFACTS_DIR, DEFAULTS

    settings = steering_settings()
    report = json.loads((Path(__file__).parent.parent / "reports" / "eval-steering-goemotions-two-layers.json")
                        .read_text(encoding="utf-8"))
    picks = report["sweep"]["chosen_per_emotion"]
    assert tuple(report["sweep"]["chosen"]["layers"]) == settings.layers
    assert {e: p["remove_shared"] for e, p in picks.items()} == settings.remove_shared
    assert {e: p["strength"] for e, p in picks.items()} == settings.strengths
    folder = ARTIFACTS_DIR / DEFAULTS["steering-directions"]
    packaged = EmotionDirections.load(folder / "directions.safetensors")
    assert packaged.method.endswith(", ".join(f"{e} x{s:g}" for e, s in settings.remove_shared.items()))


@needs_data
def test_probe_evaluation_on_a_small_sample(llm):
    from affectlab.evaluate.internals import eval_probes

    report = eval_probes(llm, "goemotions-ekman", DATA_DIR, train_per_label=12, dev_per_label=3, test_per_label=4)
    assert report["items"] == {"train": 84, "dev": 21, "test": 28} and len(report["probes"]) == 18
    assert set(report["persistence"]["accuracy_by_layer"]) == {"0", "8", "32"}
    assert 0 <= report["zero_shot_prompting"]["accuracy"] <= 1
    json.dumps(report)


def test_steer_and_directions_cli(llm, tmp_path):
    saved = tmp_path / "dirs.safetensors"
    result = runner.invoke(app, ["directions", "-o", str(saved)])
    assert result.exit_code == 0 and saved.exists(), result.output
    result = runner.invoke(app, ["steer", "Tell me about your weekend.", "--emotion", "joy", "--directions",
                                 str(saved), "--max-new-tokens", "12"])
    assert result.exit_code == 0 and "steered: joy" in result.output and "unsteered" in result.output, result.output
    # without --directions: the packaged GoEmotions directions
    result = runner.invoke(app, ["steer", "Tell me about your weekend.", "--emotion", "joy", "--layer", "8+9+10",
                                 "--max-new-tokens", "12"])
    assert result.exit_code == 0 and "layer 8+9+10" in result.output, result.output
    assert "strength 4.0" in result.output, result.output  # joy's own strength, picked on dev
    for args, message in [
        (["--layer", "40"], "layer 40 is out of range"),
        (["--layer", "8+40"], "layer 40 is out of range"),
        (["--layer", "eight"], "--layer takes a number or numbers joined by '+'"),
        (["--emotion", "love"], "no direction for 'love'"),
        (["--llm", "openai", "--llm-model", "x"], "a server does not expose"),
    ]:
        base = ["steer", "Hello.", "--emotion", "joy", "--directions", str(saved)]
        if args[0] == "--emotion":
            base = base[:2] + base[4:]
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == 2 and message in result.output, result.output
    result = runner.invoke(app, ["steer", "Hello.", "--emotion", "joy", "--method", "goemotion"])
    assert result.exit_code == 2 and "unknown --method 'goemotion'" in result.output, result.output
    # a bad layer in the sweep fails before anything is captured or generated
    result = runner.invoke(app, ["eval", "steering", "--layers", "6,7+18", "--reports-dir", str(tmp_path)])
    assert result.exit_code == 2 and "layer 18 is out of range" in result.output, result.output
    for command in (["eval", "steering", "--remove-shared", "0.5", "--reports-dir", str(tmp_path)],
                    ["directions", "--remove-shared", "0.5", "-o", str(saved)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2 and "--remove-shared applies to --method goemotions only" in result.output
    result = runner.invoke(app, ["eval", "steering", "--method", "goemotions", "--remove-shared", "0.5,2",
                                 "--reports-dir", str(tmp_path)])
    assert result.exit_code == 2 and "between 0 and 1, not 2.0" in result.output, result.output
