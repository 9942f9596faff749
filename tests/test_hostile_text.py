"""Hostile input in the texts themselves (issue 25): lone surrogates (case 1), input that is not text at all
(case 8) and huge texts (case 9), through the API, `analyze -i`, conversations and `respond`."""

import json
import re
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from affectlab import InvalidConversation, InvalidText
from affectlab.cli import app
from affectlab.dialogue import ConversationAnalyzer
from affectlab.empathy import EmpatheticResponder
from affectlab.text import Analyzer
from affectlab.text.analyzer import NotText

BROKEN = json.loads('"x \\ud83d"')  # what a JSON reader gives for half of an emoji
SURROGATE = "unpaired surrogate U+D83D at character index 2"
CHAT = [{"speaker": "A", "text": "I got the job!"}, {"speaker": "B", "text": "That's wonderful!"}]
runner = CliRunner()


@pytest.fixture(scope="module")
def conversations():
    return ConversationAnalyzer()


def test_case_1_lone_surrogate_is_one_rows_error_in_the_api(analyzer):
    results = analyzer.analyze(["what a lovely day", BROKEN, "I am so angry"])
    assert [r.error is None for r in results] == [True, False, True]
    assert SURROGATE in results[1].error and results[1].emotions == {}
    assert results[2].ekman["anger"] > 0.5
    with pytest.raises(InvalidText, match=re.escape(SURROGATE)):
        analyzer.analyze(BROKEN)


def test_case_1_lone_surrogate_in_analyze_input_keeps_every_row(tmp_path):
    source, target = tmp_path / "s.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"text":"ok"}\n{"text":"x \\ud83d"}\n{"text":"great day"}\n', encoding="utf-8")
    result = runner.invoke(app, ["analyze", "-i", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3 and [r["error"] is None for r in rows] == [True, False, True]
    assert SURROGATE in rows[1]["error"] and rows[1]["error"].startswith("row 2: ")
    summary = runner.invoke(app, ["analyze", "-i", str(source), "-o", str(target), "--json"])
    assert summary.exit_code == 0, summary.output
    assert json.loads(summary.stdout)["errors"] == 1  # --json gives the run's summary, not a table


def test_case_1_lone_surrogate_in_a_conversation(conversations, tmp_path):
    bad = [*CHAT, {"speaker": "A", "text": BROKEN}]
    good, broken = conversations.analyze_many([CHAT, bad], causes=False)
    assert len(good.turns) == 2
    assert isinstance(broken, InvalidConversation) and broken.turn == 2 and SURROGATE in str(broken)
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(bad), encoding="utf-8")  # json.dumps writes the surrogate as \ud83d
    result = runner.invoke(app, ["conversation", str(path)])
    assert result.exit_code == 2 and "turn 2" in result.output and "U+D83D" in result.output
    assert "Traceback" not in result.output


def test_a_turn_of_invisible_characters_names_the_file(tmp_path):
    path = tmp_path / "chat.json"
    path.write_text(json.dumps([*CHAT, {"speaker": "A", "text": "\u200b\u200d"}]), encoding="utf-8")
    result = runner.invoke(app, ["conversation", str(path)])
    assert result.exit_code == 2 and f"{path}: turn 2" in result.output.replace("\n", ""), result.output


class _UntouchableLM:
    """Stands in for the LM, which is too slow to load here: the responder must refuse bad turns before using it."""

    name, context_length = "untouchable", 2048

    def __getattr__(self, name):
        raise AssertionError(f"the LM was used ({name}) before the turns were checked")


def test_case_1_lone_surrogate_in_respond_is_refused_before_any_model(tmp_path):
    """`respond` and the responder refuse the turn (check_turns, which the empathy classifier shares) before any
    model is loaded or used, so the LM itself is not needed here."""
    responder = EmpatheticResponder(_UntouchableLM(), guided=False)
    with pytest.raises(InvalidConversation, match=re.escape(f"turn 1: text contains an {SURROGATE}")):
        responder.respond([{"speaker": "me", "text": "hello"}, {"speaker": "me", "text": BROKEN}])
    with pytest.raises(InvalidConversation, match="turn 0: text is 52,428,800 characters"):
        responder.respond([{"speaker": "me", "text": "word " * 10_485_760}])
    path = tmp_path / "chat.json"
    path.write_text(json.dumps([{"speaker": "me", "text": BROKEN}]), encoding="utf-8")
    start = time.monotonic()
    result = runner.invoke(app, ["respond", str(path)])
    assert result.exit_code == 2 and "turn 0" in result.output and "U+D83D" in result.output
    assert "Traceback" not in result.output and time.monotonic() - start < 10


def test_case_8_analyze_none_and_other_non_text_raise_invalid_text(analyzer):
    for value, name in ((None, "None"), (5, "int"), (b"bytes", "bytes"), (2.5, "float"), ({"text": "hi"}, "dict")):
        with pytest.raises(NotText, match=name) as caught:
            analyzer.analyze(value)
        assert isinstance(caught.value, InvalidText) and isinstance(caught.value, TypeError)
    with pytest.raises(InvalidText, match="missing"):
        analyzer.analyze(None)


def test_case_9_long_texts_get_an_error_or_are_truncated_and_flagged(analyzer):
    start = time.monotonic()
    emoji, huge = "😂" * 10_000, "so calm. " * 20_000
    results = analyzer.analyze([emoji, huge, "fine"])
    assert "needs 638 encoder windows (10,000 characters), over the limit of 256 (max_windows)" in results[0].error
    assert "text is 180,000 characters, over the limit of 100,000 (max_chars)" in results[1].error
    assert results[2].error is None and not results[2].truncated
    assert time.monotonic() - start < 10  # refused before any window is run
    short = Analyzer(max_chars=2_000, max_windows=3, on_long="truncate")
    cut_chars, cut_windows, whole = short.analyze(["so happy! " * 300, "😂" * 500, "fine"])
    assert cut_chars.truncated and cut_chars.error is None and cut_chars.chunks <= 3
    assert cut_windows.truncated and cut_windows.chunks == 3
    assert not whole.truncated and json.loads(json.dumps(cut_chars.to_row()))["truncated"] is True
    assert short.analyze("😂" * 500).truncated  # a single text is truncated too, not refused
    with pytest.raises(InvalidText, match="max_chars"):
        analyzer.analyze(huge)
    result = runner.invoke(app, ["analyze", "so happy today", "--max-chars", "5"])
    assert result.exit_code == 2 and "14 characters, over the limit of 5 (max_chars)" in result.output
    result = runner.invoke(app, ["analyze", "so happy today", "--max-chars", "5", "--on-long", "truncate", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["truncated"] is True
    result = runner.invoke(app, ["analyze", "so happy today", "--on-long", "shorten"])
    assert result.exit_code == 2 and "on_long (--on-long) must be one of error, truncate" in result.output


def _peak(command: list[str]) -> tuple[int, float, float]:
    """Exit code, peak RSS in GB and seconds of ``command``, measured in a fresh process of its own."""
    probe = ("import resource, subprocess, sys, time; t = time.monotonic(); "
             "rc = subprocess.run(sys.argv[1:]).returncode; "
             "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20, time.monotonic() - t)")
    done = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, timeout=300)
    rc, peak, seconds = done.stdout.split()[-3:]
    return int(rc), float(peak), float(seconds)


def test_case_9_fifty_megabyte_line_through_analyze_input_is_bounded(tmp_path):
    source = tmp_path / "big.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        handle.write('{"text": "a good start"}\n')
        handle.write(json.dumps({"text": "word " * 10_485_760}) + "\n")  # 50 MB on one line
        handle.write('{"text": "a good end"}\n')
    for mode, extra in (("error", []), ("truncate", ["--max-windows", "8"])):
        target = tmp_path / f"{mode}.jsonl"
        command = [sys.executable, "-m", "affectlab", "analyze", "-i", str(source), "-o", str(target),
                   "--on-long", mode, *extra]
        rc, peak, seconds = _peak(command)
        assert rc == 0 and peak < 1.5 and seconds < 60, (mode, rc, peak, seconds)
        with target.open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        assert len(rows) == 3 and rows[0]["error"] is None and rows[2]["error"] is None
        if mode == "error":
            assert "52,428,800 characters, over the limit of 100,000 (max_chars)" in rows[1]["error"]
        else:
            assert rows[1]["error"] is None and rows[1]["truncated"] is True and rows[1]["chunks"] == 8


def test_case_9_long_turns_in_conversations(conversations):
    start = time.monotonic()
    huge = [*CHAT, {"speaker": "A", "text": "word " * 10_485_760}]
    with pytest.raises(InvalidConversation, match=r"turn 2: text is 52,428,800 characters, over the limit of 100,000"):
        conversations.analyze(huge, causes=False)
    assert time.monotonic() - start < 10
    short = ConversationAnalyzer(max_chars=40, on_long="truncate")
    long_turn = "I am so happy for you, this is the best news of the whole year!"
    result = short.analyze([*CHAT, {"speaker": "A", "text": long_turn}], causes=False)
    assert result.turns[2].truncated and result.turns[2].text == long_turn[:40]
    assert not result.turns[0].truncated


def test_case_9_long_turn_through_the_conversation_command(tmp_path):
    path = tmp_path / "chat.json"
    long_turn = "I am so happy for you, this is the best news of the whole year!"
    path.write_text(json.dumps([*CHAT, {"speaker": "A", "text": long_turn}]), encoding="utf-8")
    result = runner.invoke(app, ["conversation", str(path), "--max-chars", "40"])
    assert result.exit_code == 2 and "turn 2: text is 63 characters, over the limit of 40" in result.output
    result = runner.invoke(app, ["conversation", str(path), "--max-chars", "40", "--on-long", "truncate", "--json",
                                 "--no-causes"])
    assert result.exit_code == 0, result.output
    turns = json.loads(result.stdout)["turns"]
    assert turns[2]["truncated"] and turns[2]["text"] == long_turn[:40]


@pytest.mark.parametrize("options, message", [
    ({"max_chars": "10"}, "max_chars must be a whole number of at least 1, or None"),
    ({"max_windows": 0.5}, "max_windows must be a whole number"),
    ({"batch_size": None}, "batch_size must be a whole number of at least 1, not None"),
    ({"threads": -1}, "threads must be a whole number of at least 1, or None (all cores)"),
])
def test_options_of_the_wrong_type_or_range_are_named(options, message):
    from affectlab.errors import OptionError

    with pytest.raises(OptionError, match=re.escape(message)):
        Analyzer(**options)
    if "max_windows" not in options:
        with pytest.raises(OptionError, match=re.escape(message)):
            ConversationAnalyzer(**options)


def test_one_conversations_output_never_replaces_its_input(tmp_path):
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(CHAT), encoding="utf-8")
    for command in (["conversation", str(path), "-o", str(path), "--no-causes"],
                    ["respond", str(path), "-o", str(tmp_path / "." / "chat.json")],
                    ["respond", str(path), "--strategy", "Cheering"]):  # refused before the LM loads
        start = time.monotonic()
        result = runner.invoke(app, command)
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert "would overwrite the input" in result.output or "unknown strategy 'Cheering'" in result.output
        assert json.loads(path.read_text(encoding="utf-8")) == CHAT and time.monotonic() - start < 10
    table = tmp_path / "posts.csv"
    table.write_text("text\nso happy\n", encoding="utf-8")
    (tmp_path / "linked.csv").hardlink_to(table)  # the same file under another name
    result = runner.invoke(app, ["analyze", "-i", str(table), "-o", str(tmp_path / "linked.csv")])
    assert result.exit_code == 2 and "would overwrite the input" in result.output, result.output
    assert table.read_text(encoding="utf-8") == "text\nso happy\n"


def test_a_thread_count_beyond_four_a_core_is_refused_before_anything_starts():
    import os

    from affectlab.errors import OptionError

    too_many = 4 * (os.cpu_count() or 1) + 1
    with pytest.raises(OptionError, match=f"threads must be at most {too_many - 1}"):
        Analyzer(threads=too_many)
    with pytest.raises(OptionError, match="threads must be at most"):
        ConversationAnalyzer(threads=too_many)
    result = runner.invoke(app, ["analyze", "hi", "--threads", "100000"])
    assert result.exit_code == 2 and "threads must be at most" in result.output


def test_a_table_of_several_conversations_is_not_answered_as_one(tmp_path):
    from affectlab.dialogue import read_conversation

    table = tmp_path / "long.csv"
    table.write_text("conversation_id,speaker,text\n1,A,I got the job!\n1,B,Congratulations!\n2,A,My cat died.\n",
                     encoding="utf-8")
    with pytest.raises(InvalidConversation, match="row 3 .*conversation_id '2' after '1'.*several conversations"):
        read_conversation(table)
    one = tmp_path / "one.csv"
    one.write_text("conversation_id,speaker,text\n1,A,I got the job!\n1,B,Congratulations!\n", encoding="utf-8")
    assert [t.text for t in read_conversation(one)] == ["I got the job!", "Congratulations!"]
    from affectlab.dialogue.turns import check_turns

    with pytest.raises(InvalidConversation, match="turn 0: text must be a string, got int"):
        check_turns([{"speaker": "A", "text": 3}])


def test_a_text_of_zero_width_characters_alone_is_empty():
    analyzer = Analyzer()
    for invisible in ("\u200b", " \u200b\u200d\ufeff ", "\u200f", "\u202e\u00ad", "\u0000\u0007", "\u180e"):
        with pytest.raises(InvalidText, match="empty or whitespace only"):
            analyzer.analyze(invisible)
    rows = analyzer.analyze_batch(["\u2060", "so\u200bhappy"])
    assert rows[0].error == "text is empty or whitespace only" and rows[1].error is None
    from affectlab.dialogue.turns import check_turns

    for invisible in ("\u200b", "\u200f", "\u0007"):  # every entry point reads a turn the same way
        with pytest.raises(InvalidConversation, match="turn 1: text has no readable characters"):
            check_turns([{"speaker": "A", "text": "hi"}, {"speaker": "B", "text": invisible}])
