"""The responder evaluation's pieces: its seeded items, its degenerate-reply rule and its resumable journal."""

import json

import numpy as np
import pytest

from affectlab.datasets import ReplyExample
from affectlab.evaluate import responder as evaluation
from affectlab.evaluate.journal import Journal
from affectlab.evaluate.report import EvaluationError
from affectlab.evaluate.responder import degenerate, reply_cases, reply_figures
from affectlab.taxonomy import ED_EMOTIONS
from conftest import DATA_DIR, needs_data


@needs_data
def test_items_are_seeded_stratified_and_always_have_someone_to_answer():
    cases = reply_cases(DATA_DIR, "valid", per_emotion=2, esconv=40, seed=0)
    again = reply_cases(DATA_DIR, "valid", per_emotion=2, esconv=40, seed=0)
    assert [c.id for c in cases["esconv"]] == [c.id for c in again["esconv"]]
    ed = cases["empathetic_dialogues"]
    assert len(ed) == 2 * len(ED_EMOTIONS) and {c.emotion for c in ed} == set(ED_EMOTIONS)
    assert len(cases["esconv"]) == 40 and len({c.dialogue for c in cases["esconv"]}) == 40
    # ESConv supporters often open with two turns; a reply before any seeker turn answers nobody
    for case in ed + cases["esconv"]:
        assert "speaker" in case.roles, case.id


@pytest.mark.parametrize(("reply", "broken"), [
    ("", True),
    ("   ", True),
    ("sorry sorry sorry sorry sorry sorry", True),
    ("That sounds so hard. Did you talk to her?", False),
])
def test_degenerate_replies(reply, broken):
    assert degenerate(reply, ["My sister stopped calling me."]) is broken


def test_a_reply_that_echoes_the_prompt_is_degenerate():
    turn = "My sister stopped calling me after the wedding and I do not know why."
    assert degenerate(turn, [turn])


def test_the_journal_resumes_and_refuses_another_evaluation(tmp_path):
    path = tmp_path / "answers.jsonl"
    settings = {"split": "valid", "seed": 0}
    made = []

    def make(value):
        made.append(value)
        return {"reply": value}

    first = Journal(path, settings, "eval responder")
    first.get(("ed", "base_plain", "1"), lambda: make("a"))
    first.get(("ed", "base_plain", "2"), lambda: make("b"))
    with path.open("a") as handle:
        handle.write('{"key": ["ed", "base_plain", "3"], "answ')  # a run killed mid-line
    second = Journal(path, settings, "eval responder")
    assert second.get(("ed", "base_plain", "1"), lambda: make("x")) == {"reply": "a"}
    assert second.get(("ed", "base_plain", "3"), lambda: make("c")) == {"reply": "c"}
    assert made == ["a", "b", "c"]
    assert [json.loads(line) for line in path.read_text().splitlines()][-1]["key"] == ["ed", "base_plain", "3"]
    with pytest.raises(EvaluationError, match="another evaluation [(]different split[)]"):
        Journal(path, {"split": "test", "seed": 0}, "eval responder")
    with pytest.raises(EvaluationError, match="different adapter"):  # a retrained adapter makes new answers
        Journal(path, {**settings, "adapter": "0123abcd"}, "eval responder")


@pytest.mark.parametrize("start", ["", '{"settings": {"spl'])  # an empty file, a header cut short
def test_a_journal_without_a_whole_line_starts_afresh(tmp_path, start):
    path = tmp_path / "answers.jsonl"
    path.write_text(start)
    Journal(path, {"seed": 0}, "eval responder").get(("ed", "base_plain", "1"), lambda: {"reply": "a"})
    assert Journal(path, {"seed": 0}, "eval responder").answers == {("ed", "base_plain", "1"): {"reply": "a"}}


@pytest.mark.parametrize(("text", "says"), [
    ("my notes, no newline", "not an answers file"),
    ("id,text\n1,hello\n", "line 1: not JSON"),
    ('{"foo": 1}\n', "not an answers file"),
    ('{"settings": {"seed": 0}}\n[1, 2]\n', "line 2: not an answer"),
    ('{"settings": {"seed": 0}}\n{"key": "ab", "answer": {}}\n', "not an answers file"),
    (b"\xff\xfe{}", "cannot read the answers file"),
])
def test_a_file_that_is_not_a_journal_is_refused_and_left_as_it_was(tmp_path, text, says):
    path = tmp_path / "answers.jsonl"
    data = text if isinstance(text, bytes) else text.encode()
    path.write_bytes(data)
    with pytest.raises(EvaluationError, match=says):
        Journal(path, {"seed": 0}, "eval responder")
    assert path.read_bytes() == data


def test_a_journal_header_without_a_setting_names_it(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text('{"settings": {"seed": 0}}\n')  # written before the adapter was recorded
    with pytest.raises(EvaluationError, match=r"\(different adapter\)"):
        Journal(path, {"seed": 0, "adapter": None}, "eval responder")


def test_the_figures_of_replies_alone_serve_the_gold_replies_too(monkeypatch):
    def case(i, emotion, turn, reply):
        return ReplyExample(id=str(i), dialogue=str(i), roles=["speaker"], texts=[turn], reply=reply, emotion=emotion)

    judged = []

    def tone(replies, stories):  # the text model's judgement is not what is tested here
        judged.append((replies, stories))
        return np.array([1.0, 0.0, 1.0, 0.0]), ["caring", "remorse", "sadness", ""], np.zeros(4)

    monkeypatch.setattr(evaluation, "tone_fits", tone)
    cases = [case(0, "sad", "My dog died last night.", "I am so sorry, that is heartbreaking."),
             case(1, "joyful", "I passed my driving test!", "That is awful, I am so sorry."),
             case(2, "", "I failed the exam again.", "I failed the exam again."),  # ESConv (no emotion); an echo
             case(3, "sad", "I lost my job today.", "")]
    figures = reply_figures([c.reply for c in cases], cases, seed=0)
    assert judged == [([c.reply for c in cases], ["sad", "joyful", "sad", "sad"])]  # ESConv stories count as negative
    assert figures["tone_aligned"][0] == pytest.approx(2 / 4, abs=1e-4)
    assert figures["tone_misses"] == {"remorse": 1, "(empty)": 1}  # what the replies that miss were read as
    assert figures["degenerate"][0] == pytest.approx(2 / 4, abs=1e-4)
    assert figures["mean_words"] == pytest.approx((7 + 7 + 5 + 0) / 4, abs=0.01)
    assert figures["distinct_1"] == pytest.approx(13 / 19, abs=1e-4)  # words with their punctuation, as split
    json.dumps(figures)


def test_tone_is_read_by_the_text_model_and_an_unreadable_reply_never_fits():
    fits, strongest, neutral = evaluation.tone_fits(["", "I am so sorry, that must hurt so much.", "\u200b"],
                                                    ["sad", "sad", "sad"])
    assert list(fits) == [0.0, 1.0, 0.0] and strongest[0] == strongest[2] == ""
    assert strongest[1] in {"sadness", "remorse", "caring"} and list(neutral) == [0.0, 0.0, 0.0]
