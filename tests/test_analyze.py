"""The result contract and behaviour of the shipped text model."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from affectlab import Analyzer, InvalidText, TextAffect, analyze
from affectlab.heads.layout import head_slices
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD
from affectlab.text.chunking import chunk_texts
from affectlab.text.irony import ironic_reading
from affectlab.text.normalize import normalize
from affectlab.text.runtime import run_sorted


def test_single_text_contract(analyzer):
    result = analyzer.analyze("I can't believe you remembered my birthday!")
    assert isinstance(result, TextAffect)
    assert list(result.emotions) == list(GOEMOTIONS)
    assert list(result.ekman) == list(EKMAN)
    assert list(result.sentiment) == list(SENTIMENT)
    assert list(result.vad) == list(VAD)
    assert all(0.0 <= p <= 1.0 for p in result.emotions.values())
    assert all(1.0 <= v <= 5.0 for v in result.vad.values())
    assert result.labels and set(result.labels) <= set(GOEMOTIONS)
    assert result.chunks == 1 and result.evidence is None and result.error is None
    assert result.drivers is None and result.to_row()["drivers"] is None  # one window: the whole text drove it
    json.dumps(result.to_dict())
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.labels = []


def test_labels_are_the_emotions_over_their_thresholds(analyzer):
    thresholds = dict(zip(GOEMOTIONS, analyzer.config.thresholds["goemotions"]))
    for text in ["Thank you so much, this is wonderful!", "The meeting is at noon.", "I hate this, it's disgusting"]:
        result = analyzer.analyze(text)
        passing = {k for k, p in result.emotions.items() if p >= thresholds[k]}
        assert set(result.labels) == (passing or {"neutral"})


@pytest.mark.parametrize(
    ("text", "ekman", "sentiment"),
    [
        ("Thank you so much, I love it! Best gift ever!", "joy", "positive"),
        ("This is disgusting, absolutely revolting and vile.", "disgust", "negative"),
        ("I am so scared, I think someone is following me.", "fear", "negative"),
        ("My grandmother died last night and I can't stop crying.", "sadness", "negative"),
        ("Get out of my face, you make me furious!", "anger", "negative"),
        ("Wow, I did not expect that at all! Really?!", "surprise", None),
    ],
)
def test_obvious_emotions_are_recognised(analyzer, text, ekman, sentiment):
    result = analyzer.analyze(text)
    assert max(result.ekman, key=result.ekman.get) == ekman, result.ekman
    if sentiment:
        assert max(result.sentiment, key=result.sentiment.get) == sentiment, result.sentiment


def test_valence_orders_happy_above_sad(analyzer):
    happy, sad = analyzer.analyze(["What a lovely, happy day!", "Everything is hopeless and I am miserable."])
    assert happy.vad["valence"] > sad.vad["valence"] + 0.5


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_batch_keeps_order_and_matches_single_calls(runtime):
    # not onnx-int8: it quantizes activations with one scale per batch (see `affectlab bench`)
    analyzer = Analyzer(runtime=runtime)
    texts = ["Ok.", "I am thrilled about the news!", "This is taking forever and it's annoying " * 3, "Why?"]
    batch = analyzer.analyze(texts)
    for text, result in zip(texts, batch):
        single = analyzer.analyze(text)
        assert np.allclose(list(single.emotions.values()), list(result.emotions.values()), atol=1e-5)


def test_any_iterable_of_texts(analyzer):
    from_array = analyzer.analyze(np.array(["What a happy day!", "Such a sad day."]))
    from_generator = analyzer.analyze(t for t in ["What a happy day!", "Such a sad day."])
    assert [r.labels for r in from_array] == [r.labels for r in from_generator]


def test_module_level_analyze_uses_a_default_model():
    assert analyze("Thanks a lot!").labels
    assert len(analyze(["a", "b"])) == 2


def test_runtimes_agree(analyzer, torch_analyzer):
    texts = ["Thank you so much!", "I'm worried about tomorrow.", "lol that was hilarious", "The sky is grey."]
    int8 = Analyzer(runtime="onnx-int8")
    assert analyzer.runtime_name == "onnx"
    for a, b, c in zip(torch_analyzer.analyze(texts), analyzer.analyze(texts), int8.analyze(texts)):
        assert np.allclose(list(a.emotions.values()), list(b.emotions.values()), atol=1e-4)
        # int8 quantizes activations per batch: shifts up to ~0.15 are expected (see `affectlab bench`)
        assert np.allclose(list(a.emotions.values()), list(c.emotions.values()), atol=0.15)
        # the head is not quantized: its small rows (VAD, the fitted readings) would round to their bias
        assert np.allclose(list(a.vad.values()), list(c.vad.values()), atol=0.15)
        assert np.allclose(list(a.intensity.values()), list(c.intensity.values()), atol=0.1)


def test_bad_rows_get_an_error_and_the_batch_goes_on(analyzer):
    results = analyzer.analyze(["fine text", None, float("nan"), "   ", 42, "", "also fine"])
    assert [r.error for r in results] == [
        None, "text is missing (None)", "text is missing (NaN)", "text is empty or whitespace only",
        "text must be a string, got int", "text is empty or whitespace only", None,
    ]
    assert results[1].emotions == {} and results[1].labels == []
    assert results[-1].labels


def test_a_single_bad_text_raises(analyzer):
    with pytest.raises(InvalidText, match="empty"):
        analyzer.analyze("  ")
    with pytest.raises(TypeError, match="not bytes"):
        analyzer.analyze(b"bytes")


def test_emoji_only_text(analyzer):
    result = analyzer.analyze("😂😂😂")
    assert result.error is None
    assert result.ekman["joy"] > result.ekman["sadness"]


def test_long_text_is_chunked_not_truncated(analyzer):
    calm = "The committee reviewed the quarterly figures and filed the minutes. " * 40
    angry = "I am furious, this is outrageous and I hate every part of it! " * 10
    long_result = analyzer.analyze(calm + angry)
    assert long_result.chunks > 3
    assert analyzer.analyze(calm).ekman["anger"] < long_result.ekman["anger"]  # the end was read


LONG_TEXT = (Path(__file__).parent / "texts" / "neutral_then_furious.txt").read_text(encoding="utf-8")
LAST_SENTENCE = LONG_TEXT.strip().split("\n")[-1]  # the only sentence that is not neutral


def window_scores(analyzer: Analyzer, texts: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each encoder window's own scores, and how many tokens each read, batched as ``analyze(texts)`` batches them
    (padding to the longest window of a batch moves the last digits)."""
    normalized = [normalize(text).text for text in texts]
    chunks, _ = chunk_texts(analyzer.tokenizer, normalized, analyzer.config.max_length, analyzer.overlap)
    raw = run_sorted(analyzer.runtime, [c.ids for c in chunks], analyzer.batch_size)
    if analyzer.config.irony_rule is not None:  # the analyzer reads every window through the irony rule first
        raw = ironic_reading(raw, head_slices(tuple(analyzer.config.blocks)), analyzer.config.irony_rule)
    return analyzer.scores(raw), np.array([c.weight for c in chunks], dtype=np.float64)


def test_a_strong_last_sentence_of_a_long_neutral_text_is_a_label_driven_by_its_window(analyzer):
    assert len(LONG_TEXT.split()) >= 800 and LONG_TEXT.count(LAST_SENTENCE) == 1
    result = analyzer.analyze(LONG_TEXT)
    assert result.chunks > 5
    assert "anger" in result.labels and "neutral" not in result.labels, result.labels
    driver = result.drivers["anger"]
    assert driver.window == result.chunks - 1
    begins = LONG_TEXT.index(LAST_SENTENCE)
    assert driver.start <= begins and driver.end == begins + len(LAST_SENTENCE)
    assert set(result.drivers) == set(result.labels)
    row = result.to_row()["drivers"]
    assert {"label": "anger", "window": driver.window, "start": driver.start, "end": driver.end} in row
    json.dumps(result.to_dict())


def test_the_overall_tone_of_a_long_text_stays_that_of_its_neutral_bulk(analyzer):
    calm = analyzer.analyze(LONG_TEXT[: LONG_TEXT.index(LAST_SENTENCE)])
    long = analyzer.analyze(LONG_TEXT)
    assert calm.labels == ["neutral"]
    assert max(long.sentiment, key=long.sentiment.get) == "neutral", long.sentiment
    assert all(abs(long.vad[name] - calm.vad[name]) < 0.15 for name in VAD), (long.vad, calm.vad)
    assert long.vad["valence"] > 2.9  # the furious window alone is near 2


def test_windows_combine_by_presence_for_emotions_and_by_length_weighted_mean_for_tone(analyzer):
    windows, weights = window_scores(analyzer, [LONG_TEXT])
    result = analyzer.analyze(LONG_TEXT)
    for block, names, scores in (("goemotions", GOEMOTIONS, result.emotions), ("ekman", EKMAN, result.ekman)):
        strongest = windows[block].max(axis=0)
        strongest[names.index("neutral")] = windows[block][:, names.index("neutral")].min()
        assert np.allclose([scores[n] for n in names], strongest, atol=1e-6), block
    for block, names, scores in (("sentiment", SENTIMENT, result.sentiment), ("vad", VAD, result.vad)):
        mean = np.average(windows[block], axis=0, weights=weights)
        assert np.allclose([scores[n] for n in names], mean, atol=1e-6), block
    for label, span in result.drivers.items():
        assert windows["goemotions"][span.window, GOEMOTIONS.index(label)] == windows["goemotions"][
            :, GOEMOTIONS.index(label)].max()


def test_a_single_window_text_keeps_the_scores_of_the_length_weighted_mean(analyzer):
    texts = ["I can't believe you remembered my birthday!", "The meeting is at noon.", "so happy 😍 " * 12]
    windows, weights = window_scores(analyzer, texts)  # one window each: window i is text i
    for i, result in enumerate(analyzer.analyze(texts)):
        assert result.chunks == 1 and len(weights) == len(texts)
        for block, names, scores in (("goemotions", GOEMOTIONS, result.emotions), ("ekman", EKMAN, result.ekman),
                                     ("sentiment", SENTIMENT, result.sentiment), ("vad", VAD, result.vad)):
            before = windows[block][i] * weights[i] / weights[i]  # the length-weighted mean of one window
            assert [scores[n] for n in names] == [round(float(v), 6) for v in before], (texts[i], block)


def test_drivers_are_offsets_in_the_text_as_passed_when_emoji_were_spelled_out(analyzer):
    text = "🏠 🚲 📚 " * 30 + LONG_TEXT  # each emoji is spelled out in several tokens before encoding
    result = analyzer.analyze(text)
    driver = result.drivers["anger"]
    assert driver.window == result.chunks - 1
    assert driver.end == text.index(LAST_SENTENCE) + len(LAST_SENTENCE)  # not an offset in the spelled-out text
    assert "absolutely furious" in text[driver.start : driver.end] and text[driver.start - 1] == " "


def test_bounds_off_read_a_text_over_the_default_bounds_whole(analyzer):
    text = ("x" * 200 + " ") * 500  # 100,500 characters the defaults refuse, yet cheap: each word is one [UNK]
    with pytest.raises(InvalidText, match="max_chars"):
        analyzer.analyze(text)
    result = Analyzer(max_chars=None, max_windows=None).analyze(text)
    assert result.error is None and result.chunks == 5 and not result.truncated  # 500 tokens, 5 windows


def test_evidence_points_at_the_emotional_words(torch_analyzer):
    text = "The food was fine but the waiter was incredibly rude and disgusting."
    result = torch_analyzer.analyze(text, explain=True)
    assert result.evidence
    for label, words in result.evidence.items():
        assert label in result.labels
        for w in words:
            assert text[w.start : w.end] == w.word
    all_words = {w.word.lower() for words in result.evidence.values() for w in words}
    assert all_words & {"rude", "disgusting", "incredibly"}, result.evidence


def test_evidence_of_a_long_text_is_read_in_each_label_s_driver(torch_analyzer):
    result = torch_analyzer.analyze(LONG_TEXT, explain=True)
    assert result.evidence and set(result.evidence) <= set(result.drivers)
    for label, words in result.evidence.items():
        span = result.drivers[label]
        assert words and all(span.start <= w.start and w.end <= span.end for w in words), (label, words)
    assert {w.word.lower() for w in result.evidence["anger"]} & {"furious", "outrage"}, result.evidence


def test_evidence_maps_emoji_back(torch_analyzer):
    result = torch_analyzer.analyze("so happy 😍", explain=True)
    words = [w.word for ws in result.evidence.values() for w in ws]
    assert all(w in "so happy 😍" for w in words)


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="runtime must be one of"):
        Analyzer(runtime="gpu")
    with pytest.raises(FileNotFoundError, match="no text model 'nope'; shipped: text-minilm"):
        Analyzer("nope")


def test_a_progress_callback_can_stop_the_work_between_steps(analyzer):
    class Stop(Exception):
        pass

    calls = []

    def stop_when_explaining(windows: int) -> None:
        calls.append(windows)
        if windows == 0:  # called before each text is explained
            raise Stop

    with pytest.raises(Stop):
        analyzer.analyze_batch(["I am so happy today!", "This is awful."], explain=True,
                               on_progress=stop_when_explaining)
    assert calls[-1] == 0 and sum(calls) == 2  # both texts' windows were read, then it stopped
