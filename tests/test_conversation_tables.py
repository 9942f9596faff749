"""analyze_conversations: many conversations from one long table, each on its own."""

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from affectlab import ConversationAnalyzer, analyze_conversations
from affectlab.dialogue.tables import TURN_COLUMNS, table_columns
from affectlab.errors import OptionError
from affectlab.io import InputFileError

# two good conversations (turns out of order in the table, "10" after "9"), one without a speaker, one empty text
ROWS = [
    {"conversation_id": "c1", "speaker": "Ann", "text": "Guess what? I finally got the job!", "n": "9"},
    {"conversation_id": "c2", "speaker": "Zoe", "text": "I miss her so much, I cry every night.", "n": "1"},
    {"conversation_id": "c1", "speaker": "Ben", "text": "Hi Ann, how did the interview go?", "n": "2"},
    {"conversation_id": "no-speaker", "speaker": "Max", "text": "Did you see the game?", "n": "1"},
    {"conversation_id": "c1", "speaker": "Ben", "text": "Wonderful, congratulations!", "n": "10"},
    {"conversation_id": "no-speaker", "speaker": "", "text": "Yes, what a finish!", "n": "2"},
    {"conversation_id": "c2", "speaker": "Ida", "text": "Oh no, I'm so sorry.", "n": "2"},
    {"conversation_id": "empty-text", "speaker": "Ann", "text": "  ", "n": "1"},
]


@pytest.fixture(scope="module")
def conversation_analyzer():
    return ConversationAnalyzer()


def _write(tmp_path, suffix: str, rows=ROWS):
    path = tmp_path / f"chats{suffix}"
    frame = pd.DataFrame(rows)
    if suffix in (".csv", ".tsv"):
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("source", [".csv", ".tsv", ".jsonl", ".parquet", "frame", "dicts"])
def test_every_source_groups_orders_and_reports_per_conversation(tmp_path, conversation_analyzer, source):
    data = {"frame": pd.DataFrame(ROWS), "dicts": iter(ROWS)}[source] if source in ("frame", "dicts") else (
        _write(tmp_path, source))
    results = analyze_conversations(data, order_column="n", causes=False, analyzer=conversation_analyzer)
    assert [r.conversation_id for r in results] == ["c1", "c2", "no-speaker", "empty-text"]
    c1, c2, no_speaker, empty = results
    assert [t.text for t in c1.affect.turns] == [ROWS[2]["text"], ROWS[0]["text"], ROWS[4]["text"]]
    assert [t.speaker for t in c1.affect.turns] == ["Ben", "Ann", "Ben"] and c1.error is None
    assert c1.affect.turns[2].emotion == "joy" and c2.affect.turns[0].emotion == "sadness"
    unit, first = ("line", 1) if source == ".jsonl" else ("row", 0 if source == "frame" else 1)
    assert no_speaker.affect is None
    assert no_speaker.error == f"conversation 'no-speaker': {unit} {5 + first} (turn 1): speaker is missing or empty"
    assert empty.error == f"conversation 'empty-text': {unit} {7 + first} (turn 0): text is empty"
    assert [e.conversation_id for e in results.errors] == ["no-speaker", "empty-text"]


def test_flat_rows_frame_and_files(tmp_path, conversation_analyzer):
    results = analyze_conversations(ROWS, order_column="n", analyzer=conversation_analyzer)
    frame = results.to_frame()
    assert list(frame.columns) == list(TURN_COLUMNS) and len(frame) == len(ROWS)
    assert frame["conversation_id"].tolist() == ["c1"] * 3 + ["c2"] * 2 + ["no-speaker"] * 2 + ["empty-text"]
    assert frame["turn"].tolist() == [0, 1, 2, 0, 1, 0, 1, 0] and frame["row"].tolist() == [3, 1, 5, 2, 7, 4, 6, 8]
    joy = frame.iloc[2]
    assert joy["emotion"] == "joy" and joy["ekman_joy"] > 0.5 and pd.isna(joy["error"])
    assert (joy["read_alone"], joy["read_alone_probability"]) == results[0].affect.turns[2].alone_emotion
    assert frame["read_alone"].iloc[5:].isna().all()
    assert any(cause["turn"] == 1 for cause in json.loads(joy["causes"]))
    assert frame["error"].iloc[5:].str.startswith("conversation '").all() and frame["emotion"].iloc[5:].isna().all()
    c1 = [ROWS[2], ROWS[0], ROWS[4]]
    single = conversation_analyzer.analyze([{"speaker": r["speaker"], "text": r["text"]} for r in c1])
    for alone, batched in zip(single.turns, results[0].affect.turns):
        assert list(alone.emotions.values()) == pytest.approx(list(batched.emotions.values()), abs=2e-4)
    for suffix in (".csv", ".jsonl", ".parquet"):
        path = results.write(tmp_path / "out" / f"turns{suffix}")
        back = pd.read_parquet(path) if suffix == ".parquet" else (
            pd.read_json(path, lines=True) if suffix == ".jsonl" else pd.read_csv(path))
        assert list(back.columns) == list(TURN_COLUMNS) and len(back) == len(ROWS)
        assert back["error"].notna().sum() == 3 and back["emotion"].iloc[2] == "joy"


def test_order_column_sorts_numbers_as_numbers_and_text_as_text(conversation_analyzer):
    rows = [{"conversation_id": 7, "speaker": "A", "text": f"Turn {n}.", "at": at}
            for n, at in ((3, "2024-01-01T10:30"), (1, "2024-01-01T09:05"), (2, "2024-01-01T09:40"))]
    (result,) = analyze_conversations(rows, order_column="at", causes=False, analyzer=conversation_analyzer)
    assert result.conversation_id == 7 and [t.text for t in result.affect.turns] == ["Turn 1.", "Turn 2.", "Turn 3."]
    rows[1]["at"] = None
    (result,) = analyze_conversations(rows, order_column="at", causes=False, analyzer=conversation_analyzer)
    assert result.error == "conversation 7: row 2: 'at' is missing"
    (result,) = analyze_conversations(rows[::2], causes=False, analyzer=conversation_analyzer)  # table order
    assert [t.text for t in result.affect.turns] == ["Turn 3.", "Turn 2."]


def test_unreadable_rows_fail_only_their_conversation(tmp_path, conversation_analyzer):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("conversation_id,speaker,text\nc1,A,I won!\nc2,B\nc1,B,Congratulations!\nc2,A,hello\n")
    results = analyze_conversations(ragged, causes=False, analyzer=conversation_analyzer)
    assert results[0].error is None and len(results[0].affect.turns) == 2
    assert results[1].error == "conversation 'c2': row 2: 2 cells where the header has 3"
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"conversation_id": "c1", "speaker": "A", "text": "I won!"}\n{"conversation_id": "c1", \n'
                      '{"speaker": "B", "text": "orphan"}\n{"conversation_id": "c1", "speaker": "B", "text": "Yay!"}\n')
    progress = []
    results = analyze_conversations(broken, causes=False, analyzer=conversation_analyzer,
                                    progress=lambda done, total: progress.append((done, total)))
    assert [r.conversation_id for r in results] == ["c1", None, None]
    assert results[0].error is None and [t.text for t in results[0].affect.turns] == ["I won!", "Yay!"]
    assert results[1].error.startswith("line 2: not valid JSON")
    assert results[2].error == "line 3: 'conversation_id' is missing"
    assert progress[0] == (0, 3) and progress[-1] == (3, 3)


def test_missing_columns_and_wrong_sources_are_named(tmp_path, conversation_analyzer):
    path = tmp_path / "chat.csv"
    path.write_text("conversation_id,who,text\n1,A,hi\n")
    with pytest.raises(InputFileError, match="no column 'speaker'; columns are: conversation_id, who, text"):
        analyze_conversations(path, analyzer=conversation_analyzer)
    assert analyze_conversations(path, speaker_column="who", causes=False, analyzer=conversation_analyzer)[0].affect
    with pytest.raises(OptionError, match="the DataFrame: no column 'turn_no'"):
        analyze_conversations(pd.DataFrame(ROWS), order_column="turn_no", analyzer=conversation_analyzer)
    with pytest.raises(InputFileError, match="a conversation table is one of"):
        analyze_conversations(tmp_path / "chat.json", analyzer=conversation_analyzer)
    with pytest.raises(OptionError, match="source must be"):
        analyze_conversations(42, analyzer=conversation_analyzer)


def test_table_columns_peeks_at_the_header(tmp_path):
    assert table_columns(_write(tmp_path, ".parquet"))[:2] == ["conversation_id", "speaker"]
    assert table_columns(_write(tmp_path, ".jsonl"))[:2] == ["conversation_id", "speaker"]
    assert table_columns(_write(tmp_path, ".tsv"))[:2] == ["conversation_id", "speaker"]
    (tmp_path / "chat.json").write_text("[]")
    assert table_columns(tmp_path / "chat.json") == [] and table_columns(tmp_path / "missing.csv") == []


def test_mixed_ids_numpy_ids_and_missing_times_are_handled(tmp_path, conversation_analyzer):
    import numpy as np

    mixed = [{"conversation_id": cid, "speaker": "x", "text": "hi"} for cid in (1, "b")]
    results = analyze_conversations(mixed, causes=False, analyzer=conversation_analyzer)
    written = pq.read_table(results.write(tmp_path / "mixed.parquet")).to_pylist()
    assert [row["conversation_id"] for row in written] == ["1", "b"]  # one type per column: all text

    numpy_ids = [{"conversation_id": np.int64(7), "speaker": "x", "text": "hello there"}]
    assert not analyze_conversations(numpy_ids, causes=False, analyzer=conversation_analyzer).errors

    times = pd.DataFrame({"conversation_id": ["t"] * 3, "speaker": ["a", "b", "a"], "text": ["one", "two", "three"],
                          "at": [pd.Timestamp("2020-01-03"), pd.NaT, pd.Timestamp("2020-01-01")]})
    [failed] = analyze_conversations(times, order_column="at", causes=False, analyzer=conversation_analyzer)
    assert failed.error == "conversation 't': row 1: 'at' is missing"
    text_nan = times.assign(at=["3", "nan", "1"])
    assert analyze_conversations(text_nan, order_column="at", causes=False,
                                 analyzer=conversation_analyzer)[0].error.endswith("'at' is missing")


def test_duplicate_columns_in_a_frame_are_refused(conversation_analyzer):
    frame = pd.DataFrame([["c", "x", "hi", "again"]], columns=["conversation_id", "speaker", "text", "text"])
    with pytest.raises(OptionError, match="2 columns named 'text'"):
        analyze_conversations(frame, causes=False, analyzer=conversation_analyzer)


@pytest.mark.parametrize("repeated", ["speaker", "conversation_id"])
def test_a_file_header_that_repeats_a_needed_column_is_refused(tmp_path, conversation_analyzer, repeated):
    header = ["conversation_id", "speaker", "text", repeated]
    path = tmp_path / "turns.csv"
    path.write_text(",".join(header) + "\nc,x,hi,y\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=f"2 columns named '{repeated}'"):
        analyze_conversations(path, causes=False, analyzer=conversation_analyzer)
    pq.write_table(pa.table([["c"], ["x"], ["hi"], ["y"]], names=header), tmp_path / "turns.parquet")
    with pytest.raises(InputFileError, match=f"2 columns named '{repeated}'"):
        analyze_conversations(tmp_path / "turns.parquet", causes=False, analyzer=conversation_analyzer)
