"""The empathy capability: context encoding, the small empathetic model and strategy model, the HEF
responder on the packaged LM, its prompts, metrics and bad input."""

import json
import socket

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.dialogue import InvalidConversation, Turn
from affectlab.dialogue.context import InvalidContext, encode_context
from affectlab.dialogue.context_classifier import roles_for
from affectlab.dialogue.packing import TurnTokenizer
from affectlab.empathy import EmpatheticResponder, Response, load_emotion_model, load_strategy_model
from affectlab.empathy.emotion_choice import CONTENT_FREE, LabelScorer, two_stage
from affectlab.empathy.prompts import render_turn, response_prompt, strategy_descriptions
from affectlab.errors import OptionError
from affectlab.evaluate.empathy import distinct_n
from affectlab.evaluate.report import EvaluationError
from affectlab.metrics import macro_f1_single, preference_bias, strategy_preferences
from affectlab.taxonomy import ED_EMOTIONS, ESCONV_STRATEGIES
from conftest import DATA_DIR, needs_data

STORY = [
    {"speaker": "ana", "text": "My landlord just told me I have to move out by the end of the month."},
    {"speaker": "bot", "text": "Oh no. Did he say why?"},
    {"speaker": "ana", "text": "He is selling the flat, and I have nowhere to go. I am so scared."},
]


@pytest.fixture(scope="module")
def sem():
    return load_emotion_model()


@pytest.fixture(scope="module")
def responder(llm, sem):
    return EmpatheticResponder(llm, emotion_model=sem, max_new_tokens=16)


def test_context_keeps_the_newest_tokens_and_the_situation():
    tokenizer = TurnTokenizer(96)
    texts = [f"turn number {i} says something rather long about the weather" for i in range(12)]
    roles = ["speaker" if i % 2 == 0 else "listener" for i in range(12)]
    full = encode_context(tokenizer, texts, roles, 512)
    short = encode_context(tokenizer, texts, roles, 60, situation="a rainy week")
    assert not full.truncated and full.first_turn == 0 and len(full.ids) < 512
    assert short.truncated and len(short.ids) == 60 and short.first_turn > 0
    assert short.ids[-40:] == full.ids[-40:]  # the newest tokens survive
    assert tokenizer.tokenizer.decode(short.ids[1:6]).startswith("situation : a rainy week")
    last = [i for i, t in enumerate(short.turns) if t == 11]
    start, end = short.offsets[last[0]][0], short.offsets[last[-1]][1]
    assert texts[11][start:end] == texts[11]
    tagged = encode_context(tokenizer, texts[:2], roles[:2], 64, tags=["", "Question"])
    assert "listener ( question ) :" in tokenizer.tokenizer.decode(tagged.ids)


def test_a_long_context_tokenizes_only_its_newest_turns():
    tokenizer = TurnTokenizer(96)
    texts = [f"turn number {i} says something rather long about the weather" for i in range(2000)]
    roles = ["speaker" if i % 2 == 0 else "listener" for i in range(2000)]
    read = []
    turns = tokenizer.turns
    tokenizer.turns = lambda batch: read.extend(batch) or turns(batch)
    long = encode_context(tokenizer, texts, roles, 256)
    assert len(read) <= 40  # a 256-token context holds about 16 of these turns; 2,000 were given
    tail = encode_context(TurnTokenizer(96), texts[-40:], roles[-40:], 256)
    assert long.ids == tail.ids and long.truncated and long.first_turn == tail.first_turn + 1960


@pytest.mark.parametrize("roles, tags, message", [
    (["speaker"], None, "must match"),
    (["speaker", "narrator"], None, "role 'narrator'"),
    (["speaker", "listener"], [""], "must match"),
])
def test_context_input_errors_name_the_problem(roles, tags, message):
    with pytest.raises(InvalidContext, match=message):
        encode_context(TurnTokenizer(32), ["a", "b"], roles, 64, tags)


def test_roles_default_to_answering_the_last_speaker():
    turns = [Turn("a", "x"), Turn("b", "y"), Turn("a", "z")]
    assert roles_for(turns) == ["speaker", "listener", "speaker"]
    assert roles_for(turns, listener="a") == ["listener", "speaker", "listener"]


def test_preference_bias_follows_kang_et_al():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 8, 4000)
    assert preference_bias(gold, gold, 8) == 0.0
    majority = strategy_preferences(np.zeros_like(gold), gold, 8)
    assert majority[0] == pytest.approx(8.0) and majority[1:].sum() == pytest.approx(0.0)
    uniform_errors = np.where(rng.random(4000) < 0.5, rng.integers(0, 8, 4000), gold)
    skewed_errors = np.where(rng.random(4000) < 0.5, rng.choice(8, 4000, p=[0.65] + [0.05] * 7), gold)
    assert preference_bias(uniform_errors, gold, 8) < 0.3 < preference_bias(skewed_errors, gold, 8)
    assert strategy_preferences(skewed_errors, gold, 8).argmax() == 0


def test_macro_f1_and_distinct_n():
    assert macro_f1_single(np.array([0, 1, 1]), np.array([0, 1, 2]), 4) == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert distinct_n(["a b a b", "a b"], 1) == pytest.approx(2 / 6)
    assert distinct_n(["a b a b", "a b"], 2) == pytest.approx(2 / 4)
    assert distinct_n([""], 2) == 0.0


def test_two_stage_falls_back_only_beyond_the_margin():
    labels = ("sad", "angry", "joyful", "proud")
    scores = np.array([-3.0, -2.5, -1.0, -6.0])
    assert two_stage(scores, labels, ["sad", "angry"], margin=2.0) == ("angry", False)
    assert two_stage(scores, labels, ["sad", "angry"], margin=1.0) == ("joyful", True)
    assert two_stage(scores, labels, ["sad", "angry"], margin=float("inf")) == ("angry", False)


def test_label_scorer_calibration_removes_the_content_free_prior(llm):
    scorer = LabelScorer(llm, labels=("sad", "proud", "furious"), calibrate=True)
    conversation = "Speaker: My dog died this morning."
    raw = scorer.raw(conversation)
    assert scorer.scores(conversation) == pytest.approx(raw - scorer.raw(CONTENT_FREE), abs=1e-4)
    assert scorer.scores(CONTENT_FREE) == pytest.approx(np.zeros(3), abs=1e-4)
    assert LabelScorer(llm, labels=scorer.labels).scores(conversation) == pytest.approx(raw, abs=1e-4)
    assert raw.argmax() == 0  # a base LM already reads this one


def test_prompts_mark_causes_and_describe_every_strategy():
    assert render_turn("speaker", "I lost  my keys", [(2, 6), (11, 15)]) == "Speaker: I *lost* my *keys*"
    assert set(strategy_descriptions()) == set(ESCONV_STRATEGIES)
    plain = response_prompt("Speaker: hi")
    guided = response_prompt("Speaker: hi", "lonely", True, "Question")
    assert plain.endswith("Speaker: hi\nListener:") and "lonely" not in plain
    assert "feels lonely; the words between asterisks" in guided and "asks one gentle question" in guided


def test_sem_ranks_32_emotions_and_finds_cause_words_in_the_speakers_turns(sem):
    prediction = sem.predict(STORY, top_k=5)
    assert len(prediction.labels) == 5 and all(p.label in ED_EMOTIONS for p in prediction.labels)
    assert [p.score for p in prediction.labels] == sorted((p.score for p in prediction.labels), reverse=True)
    assert prediction.label in {"afraid", "anxious", "apprehensive", "terrified", "sad", "devastated", "annoyed"}
    words = sem.cause_words(STORY, prediction.label, top_k=4)
    assert words and all(w.turn in (0, 2) for w in words)  # only the speaker's turns
    assert all(STORY[w.turn]["text"][w.start:w.end] == w.word for w in words)
    json.dumps(prediction.to_dict())
    with pytest.raises(InvalidConversation, match="unknown label"):
        sem.cause_words(STORY, "happy")
    with pytest.raises(InvalidConversation, match="no turns"):
        sem.predict([])


def test_strategy_model_predicts_an_esconv_strategy():
    strategies = load_strategy_model()
    prediction = strategies.predict(STORY, top_k=8)
    assert sorted(p.label for p in prediction.labels) == sorted(ESCONV_STRATEGIES)
    assert sum(p.score for p in prediction.labels) == pytest.approx(1.0, abs=1e-3)


def test_responder_guided_and_plain(llm, responder):
    r = responder.respond(STORY, strategy="Reflection of feelings")
    assert isinstance(r, Response) and r.text and "\n" not in r.text
    assert r.emotion_hint in ED_EMOTIONS and len(r.emotion_candidates) == 3
    assert r.emotion_fell_back or r.emotion_hint in [c.label for c in r.emotion_candidates]
    assert f"The speaker feels {r.emotion_hint}" in r.prompt and "names the feeling" in r.prompt
    assert all(f"*{w.word}*" in r.prompt for w in r.cause_hint) and r.trimmed_turns == 0
    assert r.prompt.endswith("Listener:")
    assert json.loads(json.dumps(r.to_dict()))["strategy"] == "Reflection of feelings"
    assert responder.respond(STORY, strategy="auto").strategy in ESCONV_STRATEGIES
    plain = EmpatheticResponder(llm, guided=False, max_new_tokens=16).respond(STORY)
    assert plain.emotion_hint is None and plain.cause_hint == [] and "feels" not in plain.prompt


def test_responder_trims_the_oldest_turns_to_fit_the_context(llm, sem, monkeypatch):
    turns = [{"speaker": "ana" if i % 2 == 0 else "bot", "text": f"message {i}: " + "the rain kept falling " * 8}
             for i in range(20)]
    turns[-1]["text"] = "I still feel so alone tonight."
    monkeypatch.setattr(llm, "context_length", 220)
    r = EmpatheticResponder(llm, emotion_model=sem, max_new_tokens=8).respond(turns)
    assert r.trimmed_turns > 0 and llm.count_tokens(r.prompt) <= 220 - 8
    assert "message 0:" not in r.prompt and "I still feel so alone tonight." in r.prompt.replace("*", "")
    monologue = [{"speaker": "ana", "text": "it keeps raining " * 400 + "and now I am soaked and miserable."}]
    r = EmpatheticResponder(llm, emotion_model=sem, max_new_tokens=8).respond(monologue)
    assert r.trimmed_turns == 0 and llm.count_tokens(r.prompt) <= 220 - 8
    assert "Speaker: …" in r.prompt and "miserable." in r.prompt.replace("*", "")


def test_responder_bad_input(responder):
    with pytest.raises(InvalidConversation, match="no turns"):
        responder.respond([])
    with pytest.raises(OptionError, match="unknown strategy 'Hugging'"):
        responder.respond(STORY, strategy="Hugging")
    with pytest.raises(InvalidConversation, match="turn 1: text is empty"):
        responder.respond([{"speaker": "a", "text": "hi"}, {"speaker": "b", "text": " "}])


def test_cli_respond(tmp_path):
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(STORY))
    out = tmp_path / "response.json"
    result = CliRunner().invoke(app, ["respond", str(path), "--strategy", "Question", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "listener:" in result.stdout and json.loads(out.read_text())["strategy"] == "Question"


def test_cli_respond_errors_are_one_line(tmp_path):
    path = tmp_path / "chat.json"
    path.write_text("[]")
    result = CliRunner().invoke(app, ["respond", str(path)])
    assert result.exit_code == 2 and "no turns" in result.output and "Traceback" not in result.output
    path.write_text(json.dumps(STORY))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(app, ["respond", str(path), "--llm", "openai", "--llm-model", "m",
                                      "--base-url", f"http://127.0.0.1:{port}/v1", "--strategy", "none"])
    assert result.exit_code == 2 and "cannot reach" in result.output
    result = CliRunner().invoke(app, ["respond", str(path), "--llm", "openai"])
    assert result.exit_code == 2 and "needs --base-url (or OPENAI_BASE_URL) and --llm-model" in result.output


@needs_data
def test_eval_sem_and_strategies(tmp_path):
    from affectlab.evaluate.empathy import eval_sem, eval_strategies

    sem_report = eval_sem(DATA_DIR, limit=64)
    assert sem_report["conversations"] == 64 and 0 <= sem_report["turns_only"]["accuracy"] <= 1
    assert sem_report["turns_only"]["top3_accuracy"] >= sem_report["turns_only"]["accuracy"]
    report = eval_strategies(DATA_DIR, limit=300)
    majority = report["baseline_always_majority"]
    assert majority["strategy"] == "Question"
    assert majority["preference_bias"] == pytest.approx(np.std([8] + [0] * 7), abs=1e-3)
    assert report["with_strategy_history"]["preference_bias"] < majority["preference_bias"]


@needs_data
def test_eval_hef_runs_end_to_end(llm):
    from affectlab.datasets import load_empathetic_dialogues
    from affectlab.evaluate.empathy import compare_responses, eval_hef, stratified_sample

    report = eval_hef(llm, DATA_DIR, conversations=3, responses_per_emotion=0, margins=(2.0, float("inf")))
    assert report["conversations"] == 3 and set(report["emotion_accuracy"]) == {"raw", "calibrated"}
    assert set(report["emotion_accuracy"]["raw"]["llm_two_stage_by_margin"]) == {"2.0", "inf"}
    assert "responses" not in report
    examples = stratified_sample(load_empathetic_dialogues("test", DATA_DIR), 1, seed=0)
    replies = compare_responses(llm, load_emotion_model(), [examples[0], examples[-1]])  # afraid, trusting
    assert replies["per_emotion"] == {"afraid": 1, "trusting": 1} and len(replies["examples"]) == 2
    assert 0 <= replies["emotion_hint"]["accuracy"] <= replies["emotion_hint"]["same_sentiment"] <= 1
    for name in ("plain", "hef"):
        assert 0 <= replies[name]["aligned"] <= 1 and replies[name]["mean_words"] > 0
        assert set(replies[name]["aligned_by_story"]) == {"positive", "negative"}
    assert [r["emotion"] for r in replies["replies"]] == ["afraid", "trusting"]
    assert [r["plain"] for r in replies["replies"]] == [e["plain"] for e in replies["examples"]]
    assert set(replies["tone_judge"]) == {"classifier", "classifier_fingerprint"}


class _Counting:
    """An LM that counts the calls made to it."""

    def __init__(self, llm):
        self._llm, self.calls = llm, 0

    def __getattr__(self, name):
        value = getattr(self._llm, name)
        if not callable(value):
            return value

        def counted(*args, **kwargs):
            self.calls += 1
            return value(*args, **kwargs)
        return counted


@needs_data
def test_eval_hef_keeps_its_scores_and_replies_in_a_journal(llm, tmp_path):
    from affectlab.datasets import load_empathetic_dialogues
    from affectlab.evaluate.empathy import compare_responses, eval_hef, stratified_sample
    from affectlab.evaluate.journal import Journal

    journal, counting = tmp_path / "hef.answers.jsonl", _Counting(llm)
    first = eval_hef(counting, DATA_DIR, conversations=2, responses_per_emotion=0, journal=journal)
    counting.calls = 0
    again = eval_hef(counting, DATA_DIR, conversations=2, responses_per_emotion=0, journal=journal)
    assert again["emotion_accuracy"] == first["emotion_accuracy"] and counting.calls == 1  # the content-free prior
    lines = journal.read_text().splitlines(keepends=True)
    assert [json.loads(line)["key"][0] for line in lines[1:]] == ["scores", "scores"]
    journal.write_text("".join(lines[:2]) + lines[2][:20])  # stopped while writing the second conversation's scores
    counting.calls = 0
    resumed = eval_hef(counting, DATA_DIR, conversations=2, responses_per_emotion=0, journal=journal)
    assert resumed["emotion_accuracy"] == first["emotion_accuracy"] and counting.calls == 1 + 2
    with pytest.raises(EvaluationError, match="different conversations"):
        eval_hef(counting, DATA_DIR, conversations=3, responses_per_emotion=0, journal=journal)

    examples = stratified_sample(load_empathetic_dialogues("test", DATA_DIR), 1, seed=0)[:2]
    replies_file, counting.calls = tmp_path / "replies.jsonl", 0
    replies = compare_responses(counting, load_emotion_model(), examples,
                                answers=Journal(replies_file, {"replies": 2}, "eval hef"))
    assert counting.calls > 0 and len(replies_file.read_text().splitlines()) == 1 + 2 * 2
    counting.calls = 0
    kept = compare_responses(counting, load_emotion_model(), examples,
                             answers=Journal(replies_file, {"replies": 2}, "eval hef"))
    assert counting.calls == 0 and kept["replies"] == replies["replies"]
    assert kept["emotion_hint"] == replies["emotion_hint"] and kept["hef"] == replies["hef"]


@needs_data
def test_context_recipe_smoke(tmp_path):
    from affectlab.train.context import ContextRecipe, train_context

    config = train_context(ContextRecipe(task="next-strategy", data_dir=DATA_DIR, out_dir=tmp_path, epochs=1,
                                         limit=48, max_tokens=64, threads=1))
    assert config.task == "next-strategy" and config.labels == list(ESCONV_STRATEGIES)
    assert config.trained["dev_history"][0]["accuracy"] >= 0
    assert load_strategy_model(tmp_path).predict(STORY).label in ESCONV_STRATEGIES


def test_eval_hef_rescore_judges_the_kept_replies_again(tmp_path):
    replies = [{"emotion": "afraid", "plain": "Oh no, that sounds frightening. Are you safe now?",
                "hef": "That must have been scary. I'm so sorry."},
               {"emotion": "proud", "plain": "Well done, you earned it!", "hef": "What?"}]
    arm = {"aligned": 0.0, "neutral_dominant": 1.0, "aligned_by_story": {"positive": 0.0, "negative": 0.0},
           "distinct_1": 0.5, "distinct_2": 0.9, "mean_words": 7.0, "empty": 0}
    report = {"report": "eval-hef-test", "emotion_accuracy": {"raw": {"llm_alone": 0.3}},
              "responses": {"conversations": 2, "plain": dict(arm), "hef": {**arm, "emotion_hint_accuracy": 0.5},
                            "replies": replies}}
    path = tmp_path / "eval-hef-test.json"
    path.write_text(json.dumps(report))
    result = CliRunner().invoke(app, ["eval", "hef", "--rescore", str(path)])
    assert result.exit_code == 0, result.output
    rescored = json.loads(path.read_text())
    plain, hef = rescored["responses"]["plain"], rescored["responses"]["hef"]
    assert plain["aligned"] == 1.0 and plain["aligned_by_story"] == {"positive": 1.0, "negative": 1.0}
    assert (plain["distinct_1"], hef["emotion_hint_accuracy"]) == (0.5, 0.5)  # what no judge made stays
    assert rescored["emotion_accuracy"] == report["emotion_accuracy"] and rescored["responses"]["replies"] == replies
    assert set(rescored["responses"]["tone_judge"]) == {"classifier", "classifier_fingerprint"}
    assert rescored["rescored"]["command"] == f"affectlab eval hef --rescore {path}"

    del report["responses"]["replies"]
    path.write_text(json.dumps(report))
    old = CliRunner().invoke(app, ["eval", "hef", "--rescore", str(path)])
    assert old.exit_code == 2 and "keeps no replies" in old.output and "Traceback" not in old.output
    report["responses"]["replies"] = [{"emotion": "afraid", "plain": 3, "hef": "x"}]
    path.write_text(json.dumps(report))
    damaged = CliRunner().invoke(app, ["eval", "hef", "--rescore", str(path)])
    assert damaged.exit_code == 2 and "reply 0" in damaged.output


def test_hef_rescore_counts_an_unreadable_reply_and_keeps_read_only_and_linked_reports(tmp_path):
    arm = {"aligned": 0.0, "distinct_1": 0.5, "distinct_2": 0.9, "mean_words": 7.0}
    replies = [{"emotion": "afraid", "plain": "", "hef": "That sounds frightening. I'm so sorry."},
               {"emotion": "proud", "plain": "Well done, you earned it!", "hef": "\u200b"}]
    report = {"responses": {"plain": dict(arm), "hef": dict(arm), "replies": replies}}  # no `conversations`
    target = tmp_path / "eval-hef-test.json"
    target.write_text(json.dumps(report))
    link = tmp_path / "link.json"
    link.symlink_to(target)
    result = CliRunner().invoke(app, ["eval", "hef", "--rescore", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink()  # the report it points to is rewritten, not the link
    plain, hef = (json.loads(target.read_text())["responses"][arm] for arm in ("plain", "hef"))
    assert (plain["unreadable"], plain["aligned"]) == (1, 0.5) and (hef["unreadable"], hef["aligned"]) == (1, 0.5)
    assert "replies on ? conversations" in result.output

    before = target.read_text()
    target.chmod(0o444)
    refused = CliRunner().invoke(app, ["eval", "hef", "--rescore", str(target)])
    assert refused.exit_code == 2 and "read-only" in refused.output and target.read_text() == before
    target.chmod(0o644)
    report["responses"]["replies"] = 5
    target.write_text(json.dumps(report))
    wrong = CliRunner().invoke(app, ["eval", "hef", "--rescore", str(target)])
    assert wrong.exit_code == 2 and "keeps no replies" in wrong.output and "Traceback" not in wrong.output
