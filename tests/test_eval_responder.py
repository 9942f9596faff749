"""The responder evaluation's pieces: its seeded items, its degenerate-reply rule and its resumable journal."""

import json

import pytest

from affectlab.evaluate.responder import EvaluationError, Journal, degenerate, reply_cases
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

    first = Journal(path, settings)
    first.get(("ed", "base_plain", "1"), lambda: make("a"))
    first.get(("ed", "base_plain", "2"), lambda: make("b"))
    with path.open("a") as handle:
        handle.write('{"key": ["ed", "base_plain", "3"], "answ')  # a run killed mid-line
    second = Journal(path, settings)
    assert second.get(("ed", "base_plain", "1"), lambda: make("x")) == {"reply": "a"}
    assert second.get(("ed", "base_plain", "3"), lambda: make("c")) == {"reply": "c"}
    assert made == ["a", "b", "c"]
    assert [json.loads(line) for line in path.read_text().splitlines()][-1]["key"] == ["ed", "base_plain", "3"]
    with pytest.raises(EvaluationError, match="another evaluation"):
        Journal(path, {"split": "test", "seed": 0})
