import json

import numpy as np
import pytest
from typer.testing import CliRunner

from affectlab import Cause, ConversationAffect, InvalidConversation, analyze_conversation, emotion_causes
from affectlab.cli import app
from affectlab.dialogue import ConversationAnalyzer, read_conversation
from affectlab.dialogue.analyzer import DEFAULT_LOOKBACK
from affectlab.dialogue.packing import TurnTokenizer, pack_causes, speaker_letters, turn_windows
from affectlab.io import InputFileError
from affectlab.taxonomy import EKMAN

runner = CliRunner()

CHAT = [
    {"speaker": "Ann", "text": "Guess what? I finally got the job at the museum!"},
    {"speaker": "Ben", "text": "No way! That's amazing, congratulations!"},
    {"speaker": "Ann", "text": "Thanks. But I have to move to another city next month."},
    {"speaker": "Ben", "text": "Oh no. I'll really miss you, you know."},
]


@pytest.fixture(scope="module")
def conversation_analyzer():
    return ConversationAnalyzer()


def long_conversation(turns: int) -> list[dict]:
    lines = ["I lost my wallet on the bus this morning.", "That's awful, did anyone hand it in?",
             "No, and my keys were in it too.", "I'm so sorry. Let me help you look for it tomorrow."]
    return [{"speaker": "AB"[i % 2], "text": f"{lines[i % 4]} ({i})"} for i in range(turns)]


# --- input checks -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("turns", "message"),
    [
        ([], "no turns"),
        ([{"speaker": "A", "text": "hi"}, {"speaker": "B"}], "turn 1: text is missing"),
        ([{"speaker": "A", "text": "  "}], "turn 0: text is empty"),
        ([{"speaker": "A", "text": "hi"}, {"text": "hello"}], "turn 1: speaker is missing"),
        (["just a string"], "turn 0: expected"),
        ([{"speaker": 3.5, "text": "hi"}], "turn 0: speaker must be a string, got float"),
        ("a whole text", "list of turns"),
        (None, "list of turns"),
        ([{"speaker": "A", "text": "hi"}, {"speaker": "B", "text": "\u200b\u200b"}], "turn 1: text has no readable"),
    ],
)
def test_bad_conversations_name_the_turn(turns, message):
    with pytest.raises(InvalidConversation, match=message):
        analyze_conversation(turns)


def test_target_out_of_range_and_unknown_emotion():
    with pytest.raises(InvalidConversation, match="target turn 4 is out of range: the conversation has 4 turns"):
        emotion_causes(CHAT, target=4, emotion="happiness")
    with pytest.raises(InvalidConversation, match="target must be a turn index"):
        emotion_causes(CHAT, target="2", emotion="happiness")
    assert all(c.turn <= 2 for c in emotion_causes(CHAT, target=np.int64(2), emotion="sadness"))
    with pytest.raises(InvalidConversation, match="unknown emotion 'glee'"):
        emotion_causes(CHAT, target=1, emotion="glee")


def test_read_conversation_formats_and_row_errors(tmp_path):
    (tmp_path / "chat.json").write_text(json.dumps({"turns": CHAT}))
    (tmp_path / "chat.jsonl").write_text("\n".join(json.dumps(t) for t in CHAT))
    (tmp_path / "chat.csv").write_text("speaker,text\n" + "\n".join(f'{t["speaker"]},"{t["text"]}"' for t in CHAT))
    for name in ("chat.json", "chat.jsonl", "chat.csv"):
        assert [t.text for t in read_conversation(tmp_path / name)] == [t["text"] for t in CHAT]
    (tmp_path / "bad.csv").write_text("speaker,text\nA,hello\n,who said this?\n")
    with pytest.raises(InvalidConversation, match=r"row 2 \(turn 1\): speaker is missing"):
        read_conversation(tmp_path / "bad.csv")
    (tmp_path / "bad.jsonl").write_text('{"speaker": "A", "text": "hi"}\n{"speaker": "B", "text": \n')
    with pytest.raises(InvalidConversation, match="line 2: not valid JSON"):
        read_conversation(tmp_path / "bad.jsonl")
    (tmp_path / "nospeaker.csv").write_text("who,text\nA,hello\n")
    with pytest.raises(InputFileError, match="no column 'speaker'"):
        read_conversation(tmp_path / "nospeaker.csv")
    (tmp_path / "chat.txt").write_text("hello\n")
    with pytest.raises(InputFileError, match="a conversation file is one of"):
        read_conversation(tmp_path / "chat.txt")


# --- packing --------------------------------------------------------------------------------------------

def test_turn_windows_predict_every_turn_once_with_context():
    lengths = [30, 50, 20, 80, 10, 60, 40, 90, 15, 25] * 5
    windows = turn_windows(lengths, budget=200, context_turns=3)
    predicted = [t for _, first_new, stop in windows for t in range(first_new, stop)]
    assert predicted == list(range(len(lengths)))
    for start, first_new, stop in windows:
        assert sum(lengths[start:stop]) <= 200 or stop - first_new == 1
        assert first_new - start <= 3


def test_cause_windows_cover_every_candidate_once():
    tokenizer = TurnTokenizer(96)
    turns = long_conversation(60)
    tokens = tokenizer.turns([t["text"] for t in turns])
    letters = speaker_letters([t["speaker"] for t in turns])
    packed = pack_causes(tokens, letters, 59, "sadness", tokenizer, budget=200)
    assert len(packed) > 1 and all(len(p.ids) <= 200 for p in packed)
    assert sorted(t for p in packed for t in p.turns) == list(range(60))


def test_speaker_letters_beyond_two():
    assert speaker_letters(["zoe", "max", "zoe", "ida", "max"]) == ["A", "B", "A", "C", "B"]


# --- the models -----------------------------------------------------------------------------------------

def test_analyze_conversation_contract(conversation_analyzer):
    result = conversation_analyzer.analyze(CHAT)
    assert isinstance(result, ConversationAffect) and len(result.turns) == 4 and result.windows == 1
    for i, turn in enumerate(result.turns):
        assert turn.index == i and turn.speaker == CHAT[i]["speaker"] and list(turn.emotions) == list(EKMAN)
        assert abs(sum(turn.emotions.values()) - 1) < 1e-3 and turn.emotion == max(turn.emotions, key=turn.emotions.get)
        assert turn.emotion != "neutral" or not turn.causes
        for cause in turn.causes:
            assert cause.turn <= i and cause.score >= conversation_analyzer.cause_threshold
            assert CHAT[cause.turn]["text"][cause.start : cause.end] == cause.span != ""
    assert result.turns[1].emotion == "joy"
    json.dumps(result.to_dict())


def test_read_alone_is_the_text_models_literal_reading_of_each_turn(conversation_analyzer):
    """Each turn carries the text model's Ekman reading of it without context, beside the in-context emotion."""
    result = conversation_analyzer.analyze(CHAT, causes=False)
    literal = conversation_analyzer.text_analyzer.analyze_batch([t["text"] for t in CHAT], literal=True)
    for turn, alone in zip(result.turns, literal):
        assert list(turn.read_alone) == list(EKMAN)
        for label in EKMAN:
            assert turn.read_alone[label] == pytest.approx(alone.ekman.get(label, 0.0), abs=2e-3)
        assert turn.alone_emotion == (max(turn.read_alone, key=turn.read_alone.get), max(turn.read_alone.values()))
    assert result.to_dict()["turns"][0]["read_alone"] == result.turns[0].read_alone


def test_turn_emotions_do_not_look_ahead(conversation_analyzer):
    """A turn's emotion depends on it and earlier turns only: adding later turns changes nothing."""
    _, _, short, _ = conversation_analyzer.turn_emotions(CHAT[:2])
    _, _, full, _ = conversation_analyzer.turn_emotions(CHAT)
    np.testing.assert_allclose(short, full[:2], atol=1e-5)


def test_emotion_causes_accepts_dataset_names(conversation_analyzer):
    scores = {}
    for name in ("happiness", "happy", "joy", "excitement"):
        (candidates,) = conversation_analyzer.cause_candidates(CHAT, [(1, name)])
        scores[name] = [c.score for c in candidates]
        assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)
    assert scores["happiness"] == scores["happy"] == scores["joy"] == scores["excitement"]
    found = emotion_causes(CHAT, target=1, emotion="happiness")
    assert all(isinstance(c, Cause) and c.turn in (0, 1) for c in found)
    assert emotion_causes(CHAT, target=1, emotion="neutral") == []


def test_three_speakers(conversation_analyzer):
    turns = CHAT[:2] + [{"speaker": "Cleo", "text": "Wait, which museum? I'm so jealous!"}]
    result = conversation_analyzer.analyze(turns)
    assert [t.speaker for t in result.turns] == ["Ann", "Ben", "Cleo"]


def test_500_turns_are_windowed_not_truncated(conversation_analyzer):
    turns = long_conversation(500)
    result = conversation_analyzer.analyze(turns, causes=False)
    assert len(result.turns) == 500 and result.windows > 10
    assert all(t.emotions for t in result.turns)
    (recent,) = conversation_analyzer.cause_candidates(turns, [(499, "sadness")])
    assert sorted(c.turn for c in recent) == list(range(499 - DEFAULT_LOOKBACK, 500))
    (candidates,) = ConversationAnalyzer(lookback=None).cause_candidates(turns, [(499, "sadness")])
    assert sorted(c.turn for c in candidates) == list(range(500))


def test_long_turn_is_flagged_truncated(conversation_analyzer):
    result = conversation_analyzer.analyze([{"speaker": "A", "text": "so tired " * 200}], causes=False)
    assert result.turns[0].truncated


def test_one_public_call_checks_and_tokenizes_once(conversation_analyzer, monkeypatch):
    """Both models share one tokenizer, and analyze/causes read the turn list once however many steps use it."""
    import affectlab.dialogue.analyzer as module

    assert conversation_analyzer.causes_model.tokenizer is conversation_analyzer.turns_model.tokenizer
    calls = {"check": 0, "tokenize": 0}
    check, tokenize = module.check_turns, conversation_analyzer.turns_model.tokenizer.turns

    def counted_check(turns, max_chars):
        calls["check"] += 1
        return check(turns, max_chars)

    def counted_tokenize(texts):
        calls["tokenize"] += 1
        return tokenize(texts)

    monkeypatch.setattr(module, "check_turns", counted_check)
    monkeypatch.setattr(conversation_analyzer.turns_model.tokenizer, "turns", counted_tokenize)
    for call, conversations in ((lambda: conversation_analyzer.analyze(CHAT), 1),
                                (lambda: conversation_analyzer.causes(CHAT, 1), 1),
                                (lambda: conversation_analyzer.cause_candidates(CHAT, [(1, "joy"), (3, "sad")]), 1),
                                (lambda: conversation_analyzer.analyze_many([CHAT, CHAT[:2]]), 2)):
        calls.update(check=0, tokenize=0)
        call()
        assert calls == {"check": conversations, "tokenize": conversations}


def test_analyze_many_keeps_each_bad_conversation_in_its_place(conversation_analyzer):
    results = conversation_analyzer.analyze_many([CHAT, [{"speaker": "A", "text": ""}], CHAT[:2]], causes=False)
    assert isinstance(results[1], InvalidConversation) and results[1].turn == 0
    assert str(results[1]) == "turn 0: text is empty"
    alone = conversation_analyzer.analyze(CHAT[:2], causes=False)
    assert [t.emotion for t in results[2].turns] == [t.emotion for t in alone.turns] and results[2].windows == 1
    assert [t.text for t in results[0].turns] == [t["text"] for t in CHAT]


# --- CLI ------------------------------------------------------------------------------------------------

def test_cli_conversation_table_and_json(tmp_path):
    source = tmp_path / "chat.json"
    source.write_text(json.dumps(CHAT))
    target = tmp_path / "out" / "chat.affect.json"
    result = runner.invoke(app, ["conversation", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "Ann" in result.output and "joy" in result.output
    assert len(json.loads(target.read_text())["turns"]) == 4


def test_cli_conversation_shows_the_reading_alone_where_it_differs(tmp_path):
    scared = [{"speaker": "Ann", "text": "Honestly I'm terrified I'll lose the flat."}]
    source = tmp_path / "chat.json"
    source.write_text(json.dumps(scared))
    result = runner.invoke(app, ["conversation", str(source), "--no-causes", "--json"])
    turn = json.loads(result.stdout)["turns"][0]
    alone = max(turn["read_alone"], key=turn["read_alone"].get)
    assert alone == "fear"
    shown = runner.invoke(app, ["conversation", str(source), "--no-causes"]).output
    assert ("alone: fear" in shown) == (turn["emotion"] != "fear")


def test_cli_conversation_speaker_names_are_not_markup(tmp_path):
    source = tmp_path / "chat.jsonl"
    source.write_text('{"speaker": "[/]", "text": "I won the raffle!"}\n{"speaker": "[red]Bo", "text": "Wow!"}\n')
    result = runner.invoke(app, ["conversation", str(source), "--no-causes"])
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output and "[red]Bo" in result.output


def test_cli_conversation_bad_input_is_one_line(tmp_path):
    source = tmp_path / "chat.json"
    source.write_text(json.dumps([{"speaker": "A", "text": "hi"}, {"speaker": "B", "text": ""}]))
    result = runner.invoke(app, ["conversation", str(source)])
    assert result.exit_code == 2
    assert "turn 1: text is empty" in result.output and "Traceback" not in result.output


def test_cli_conversation_long_table(tmp_path):
    rows = ["chat,speaker,text,n", "a,Ann,I got the job!,2", "a,Ben,Hi Ann!,1", "b,,Who said this?,1",
            "a,Ben,Wonderful news!,3"]
    (tmp_path / "chats.csv").write_text("\n".join(rows) + "\n")
    target = tmp_path / "turns.parquet"
    result = runner.invoke(app, ["conversation", str(tmp_path / "chats.csv"), "--conversation-column", "chat",
                                 "--order-column", "n", "--no-causes", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "2 conversations, 4 turns" in result.output and "conversation 'b': row 3 (turn 0): speaker is missing" in (
        result.output)
    import pandas as pd

    frame = pd.read_parquet(target)
    assert frame["text"].tolist() == ["Hi Ann!", "I got the job!", "Wonderful news!", "Who said this?"]
    (tmp_path / "auto.jsonl").write_text("".join(
        json.dumps({"conversation_id": i, "speaker": "A", "text": "Hello there."}) + "\n" for i in range(3)))
    result = runner.invoke(app, ["conversation", str(tmp_path / "auto.jsonl"), "--no-causes", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["conversations"] == 3 and summary["output"].endswith("auto.affect.jsonl")
    assert len((tmp_path / "auto.affect.jsonl").read_text().splitlines()) == 3
