"""The fast profile: static token vectors behind the same Analyzer, results and commands, without torch."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab import Analyzer, InvalidText, TextAffect
from affectlab.cli import app
from affectlab.errors import OptionError
from affectlab.evaluate import three_way
from affectlab.registry import ModelNotFound, read_config, resolve, shipped
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD
from affectlab.text import NotText
from affectlab.text.static import StaticModel
from conftest import DATA_DIR, needs_data

runner = CliRunner()


@pytest.fixture(scope="module")
def fast():
    return Analyzer(profile="fast")


def test_fast_results_have_the_accurate_profiles_fields(fast):
    result = fast.analyze("Thank you so much, you made my day!")
    assert isinstance(result, TextAffect)
    assert (list(result.emotions), list(result.ekman), list(result.sentiment), list(result.vad)) == (
        list(GOEMOTIONS), list(EKMAN), list(SENTIMENT), list(VAD))
    assert all(0.0 <= p <= 1.0 for p in result.emotions.values())
    assert all(1.0 <= v <= 5.0 for v in result.vad.values())
    assert result.labels and set(result.labels) <= set(GOEMOTIONS)
    assert (result.chunks, result.drivers, result.irony, result.evidence, result.error) == (1, None, None, None, None)
    assert [f.name for f in dataclasses.fields(result)] == [f.name for f in dataclasses.fields(TextAffect)]
    json.dumps(result.to_dict())
    assert fast.runtime_name == "static" and fast.profile == "fast"


def test_fast_profile_reads_plain_feelings(fast):
    glad, angry, sad = fast.analyze(["Thank you so much, I love it!", "This is outrageous, I am furious at you",
                                     "I miss her so much, I cried all night"])
    assert glad.sentiment["positive"] > 0.5 > glad.sentiment["negative"]
    assert {"gratitude", "love"} & set(glad.labels)
    assert angry.ekman["anger"] == max(angry.ekman.values()) and angry.vad["valence"] < glad.vad["valence"]
    assert sad.ekman["sadness"] == max(sad.ekman.values())


def test_a_text_scores_the_same_alone_and_in_a_batch_and_long_texts_are_one_pass(fast):
    texts = ["What a lovely surprise!", "ok", "I can't stand this anymore. " * 400]
    batched = fast.analyze(texts)
    for text, in_batch in zip(texts, batched):
        assert fast.analyze(text) == in_batch
    assert batched[2].chunks == 1 and batched[2].drivers is None and not batched[2].truncated


def test_bad_input_errors_as_with_the_default_analyzer(fast):
    with pytest.raises(InvalidText, match="text is missing"):
        fast.analyze(None)
    with pytest.raises(InvalidText, match="empty or whitespace"):
        fast.analyze("   ")
    with pytest.raises(NotText, match="not int"):
        fast.analyze(3)
    rows = fast.analyze(["fine", None, "", 7, "half an emoji \ud83d", float("nan")])
    assert rows[0].error is None
    assert [r.error for r in rows[1:]] == ["text is missing (None)", "text is empty or whitespace only",
                                           "text must be a string, got int", rows[4].error, "text is missing (NaN)"]
    assert "surrogate" in rows[4].error and all(r.labels == [] for r in rows[1:])
    assert Analyzer(profile="fast", max_chars=20).analyze(["x" * 21])[0].error.startswith("text is 21 characters")
    cut = Analyzer(profile="fast", max_chars=20, on_long="truncate").analyze("so happy! " * 10)
    assert cut.truncated and cut.error is None
    with pytest.raises(OptionError, match="explain needs the accurate profile"):
        fast.analyze("hello", explain=True)


def test_profiles_and_models_must_match():
    with pytest.raises(OptionError, match="profile must be one of accurate, fast"):
        Analyzer(profile="quick")
    with pytest.raises(ModelNotFound, match="'text-minilm' is a text artifact, not a text-static one"):
        Analyzer("text-minilm", profile="fast")
    with pytest.raises(ModelNotFound, match="is a text-static artifact, not a text one"):
        Analyzer("text-static-minilm")


def test_the_fast_path_never_imports_torch_or_onnx_runtime():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from affectlab import Analyzer\n"
        "from affectlab.cli import app\n"
        "assert Analyzer(profile='fast').analyze(['so glad', 'so sad'])[0].labels\n"
        "result = CliRunner().invoke(app, ['analyze', '--profile', 'fast', '--json', 'what a day'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('torch', 'onnxruntime', 'transformers') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_corpus_run_takes_the_fast_profile_and_resumes_only_with_it(tmp_path):
    from affectlab.corpus import CorpusJob, LocalEngine, run_corpus
    from affectlab.corpus.run import ResumeError

    source = tmp_path / "posts.csv"
    source.write_text("text\nso happy for you today\nthis is awful\n\n", encoding="utf-8")
    job = CorpusJob([str(source)], str(tmp_path / "out"), profile="fast")
    manifest = run_corpus(job, LocalEngine(threads=1))
    assert (manifest.job["model"], manifest.job["profile"]) == ("text-static-minilm", "fast")
    assert manifest.state == "complete"
    assert manifest.counts["ok"] == 2 and "onnxruntime" not in manifest.software
    assert run_corpus(job, LocalEngine(threads=1)).state == "complete"
    with pytest.raises(ResumeError, match="changed: model, profile"):
        run_corpus(CorpusJob([str(source)], str(tmp_path / "out")), LocalEngine(threads=1))


def test_the_fast_model_is_shipped_in_its_own_package_and_listed():
    info = next(a for a in shipped() if a.name == "text-static-minilm")
    assert info.task == "text-static" and "affectlab_text_static_minilm" in info.folder.parts
    assert 1_000_000 < info.size_bytes < 20_000_000
    assert resolve("text-static-minilm", "text-static") == info.folder
    config = read_config(info.folder)
    assert config["blocks"] == ["goemotions", "ekman", "sentiment", "vad"]
    assert [len(config["thresholds"][b]) for b in ("goemotions", "ekman", "sentiment")] == [28, 7, 4]
    assert config["trained"]["kept_epoch"] >= 1 and "# text-static-minilm" in info.card.read_text(encoding="utf-8")
    listed = runner.invoke(app, ["models", "--json"])
    assert listed.exit_code == 0 and "text-static-minilm" in listed.output


def test_static_model_reads_int8_and_fp16_vectors_and_texts_without_tokens(fast):
    tensors = {"vectors": np.float16([[1, 0], [0, 1], [1, 1]] * 12000), "hidden.weight": np.eye(2, dtype=np.float32),
               "hidden.bias": np.zeros(2, np.float32), "output.weight": np.float32([[1, -1]]),
               "output.bias": np.zeros(1, np.float32)}
    model = StaticModel(tensors, fast.tokenizer)
    scaled = StaticModel({**tensors, "vectors": np.int8(tensors["vectors"]) * 2, "scales": np.full(36000, 0.5,
                                                                                                    np.float32)},
                         fast.tokenizer)
    texts = ["hello there", "\u200b"]
    assert np.allclose(model.run(texts), scaled.run(texts))
    assert np.all(model.text_vectors(["\u200b"]) == 0)  # no token the vocabulary knows: the head's bias alone
    with pytest.raises(ModelNotFound, match="no vectors"):
        StaticModel({k: v for k, v in tensors.items() if k != "vectors"}, fast.tokenizer)


def test_three_way_sentiment_folds_ambiguous_into_neutral():
    assert [three_way.from_compound(c) for c in (0.05, 0.049, -0.05)] == ["positive", "neutral", "negative"]
    assert three_way.from_sentiment({"positive": 0.1, "negative": 0.2, "ambiguous": 0.9, "neutral": 0.3}) == "neutral"
    # confusion is ambiguous, so neutral; the third text is negative and positive: naming one misses the other
    scores = three_way.scores(["positive", "neutral", "negative"], [["joy"], ["confusion"], ["anger", "joy"]])
    assert scores["per_class_f1"] == {"positive": 0.6667, "negative": 1.0, "neutral": 1.0}
    assert three_way.Vader()(["I love this!", "I hate this.", "The bus leaves at noon."]) == [
        "positive", "negative", "neutral"]


@pytest.mark.model
@needs_data
def test_fast_recipe_smoke_run_gives_a_loadable_artifact(tmp_path):
    out = tmp_path / "fast"
    result = runner.invoke(app, ["train", "text-static", "--data-dir", str(DATA_DIR), "--output", str(out),
                                 "--epochs", "1", "--limit", "64", "--dims", "32", "--threads", "2"])
    assert result.exit_code == 0, result.output
    config = read_config(out)
    assert config["task"] == "text-static" and config["trained"]["kept_epoch"] == 1
    assert config["trained"]["recipe"]["limit"] == 64 and len(config["thresholds"]["sentiment"]) == 4
    affect = Analyzer(out, profile="fast").analyze("hello")
    assert len(affect.emotions) == 28 and affect.chunks == 1


@pytest.mark.model
@needs_data
def test_eval_and_bench_take_the_fast_profile_and_the_lexicon(tmp_path):
    result = runner.invoke(app, ["eval", "goemotions", "--data-dir", str(DATA_DIR), "--split", "dev", "--profile",
                                 "fast", "--reports-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "eval-goemotions-dev-fast.json").read_text())
    assert report["model"]["runtime"] == "static" and report["model"]["name"] == "text-static-minilm"
    assert report["ekman"]["macro_f1_tuned"] > 0.5 and report["three_way_sentiment"]["macro_f1"] > 0.5
    result = runner.invoke(app, ["bench", "text", "--data-dir", str(DATA_DIR), "--limit", "64", "--rounds", "1",
                                 "--runtimes", "fast,vader", "--no-baseline", "--reports-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    configs = json.loads((tmp_path / "bench-text.json").read_text())["configurations"]
    assert set(configs) == {"fast", "vader"}
    assert all(c["texts_per_second"] > 0 and 0 < c["three_way_sentiment"]["macro_f1"] <= 1 for c in configs.values())
    assert configs["fast"]["batch_sensitivity"]["label_sets_changed"] == 0
