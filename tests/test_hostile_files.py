"""Hostile input and faults in files in and out (issue 25, cases 2, 3, 4, 5, 7, 8): every row kept, no column
dropped, no traceback, one line and exit 2 where the file itself is bad, no partial or hidden file left."""

import base64
import csv
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from affectlab.cli import app
from affectlab.io import InputFileError, TableWriter, read_rows
from affectlab.io.readers import table_columns
from affectlab.text.files import analyze_file

runner = CliRunner()


def rows_of(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".part"))


def read_all(path: Path, column: str = "text", **options) -> list:
    return [row for block in read_rows(path, column, block_size=2, **options) for row in block]


def no_model(monkeypatch) -> None:
    """Loading the model fails the test: a problem with the files must be found before any scoring."""

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the files were checked")

    monkeypatch.setattr("affectlab.cli.text.Analyzer", refuse)


def one_line_error(result, exit_code: int = 2) -> str:
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


# --- case 2: a CSV field over 131,072 characters ----------------------------------------------------------------

@pytest.mark.model
def test_case_2_csv_field_over_131072_chars_keeps_every_row(tmp_path, analyzer):
    source = tmp_path / "long.csv"
    source.write_text("id,text\n1,I love this!\n2," + "word " * 40_000 + "\n3,I am so angry.\n", encoding="utf-8")
    rows = read_all(source)
    assert [r.error for r in rows] == [None, None, None] and len(rows[1].text) == 200_000
    summary = analyze_file(analyzer, source, tmp_path / "out.jsonl")
    written = rows_of(tmp_path / "out.jsonl")
    assert summary.rows == 3 and [r["id"] for r in written] == ["1", "2", "3"]
    assert len(written[1]["text"]) == 200_000  # the row reached the analyzer (scored, or an error naming a limit)
    assert written[0]["error"] is None and written[2]["error"] is None


# --- case 3: Parquet output and a column that changes type -----------------------------------------------------

@pytest.mark.model
def test_case_3_parquet_output_text_then_number_is_kept_as_text(tmp_path):
    source = tmp_path / "mixed.jsonl"
    source.write_text('{"text": "a"}\n{"text": 5}\n')
    result = runner.invoke(app, ["analyze", "-i", str(source), "-o", str(tmp_path / "x.parquet")])
    assert result.exit_code == 0, result.output
    table = pq.read_table(tmp_path / "x.parquet")
    assert table.column("text").to_pylist() == ["a", "5"] and table.schema.field("text").type == pa.string()
    assert table.column("error").to_pylist() == [None, "row 2: text must be a string, got int"]


@pytest.mark.parametrize("suffix", ["parquet", "csv", "jsonl"])
def test_case_3_type_change_after_the_first_block_is_widened_not_fatal(tmp_path, suffix):
    target = tmp_path / f"out.{suffix}"
    with TableWriter(target) as writer:
        writer.write([{"id": i, "score": i, "when": None} for i in range(512)])
        writer.write([{"id": "x-512", "score": 0.5, "when": dt.datetime(2024, 5, 1, 12)}])
        writer.write([{"id": 513, "score": 2, "when": None}])
    rows = rows_of(target)
    assert len(rows) == 514 and leftovers(tmp_path) == []
    if suffix == "parquet":
        schema = pq.read_schema(target)
        assert schema.field("id").type == pa.string() and schema.field("score").type == pa.float64()
        assert [rows[0]["id"], rows[512]["id"], rows[513]["id"]] == ["0", "x-512", "513"]
        assert rows[512]["when"] == dt.datetime(2024, 5, 1, 12) and rows[0]["when"] is None
    else:
        assert [str(rows[i]["id"]) for i in (0, 512, 513)] == ["0", "x-512", "513"]


# --- case 4: JSONL output of types JSON lacks -------------------------------------------------------------------

@pytest.mark.model
def test_case_4_jsonl_output_from_parquet_with_timestamp_bytes_decimal_columns(tmp_path, analyzer):
    source = tmp_path / "typed.parquet"
    pq.write_table(pa.table({
        "text": ["What a lovely surprise!", "I hate waiting."],
        "posted": [dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC), None],
        "day": [dt.date(2024, 5, 1), dt.date(2024, 5, 2)],
        "raw": [b"\x00\xff", b"ok"],
        "price": pa.array([Decimal("1.10"), Decimal("20.05")], pa.decimal128(6, 2)),
        "wait": pa.array([dt.timedelta(seconds=90.5), None], pa.duration("ms")),
    }), source)
    result = runner.invoke(app, ["analyze", "-i", str(source)])
    assert result.exit_code == 0, result.output
    rows = rows_of(tmp_path / "typed.affect.jsonl")
    assert rows[0]["posted"] == "2024-05-01T12:30:00+00:00" and rows[1]["posted"] is None
    assert rows[0]["day"] == "2024-05-01"
    assert base64.b64decode(rows[0]["raw"]) == b"\x00\xff"
    assert [r["price"] for r in rows] == ["1.10", "20.05"]
    assert rows[0]["wait"] == "PT90.5S"
    assert all(r["error"] is None for r in rows)


def test_case_4_numpy_values_and_lone_surrogates_are_written_by_every_writer(tmp_path):
    row = {"n": np.int64(3), "x": np.float32(0.5), "v": np.array([1, 2]), "tags": {"b", "a"}, "t": "x \ud83d"}
    for suffix in ("jsonl", "csv", "parquet"):
        with TableWriter(tmp_path / f"out.{suffix}") as writer:
            writer.write([row])
    assert rows_of(tmp_path / "out.jsonl") == [{"n": 3, "x": 0.5, "v": [1, 2], "tags": ["a", "b"], "t": "x \ud83d"}]
    assert rows_of(tmp_path / "out.csv") == [{"n": "3", "x": "0.5", "v": "[1, 2]", "tags": '["a", "b"]',
                                              "t": "x \ufffd"}]
    assert rows_of(tmp_path / "out.parquet")[0]["t"] == "x \ufffd"
    assert leftovers(tmp_path) == []



def test_case_4_values_a_format_lacks_are_kept_nan_as_null_and_deep_nesting_as_text(tmp_path):
    deep: object = "core"
    for _ in range(120):  # deeper than any Parquet reader accepts
        deep = [deep]
    rows = [{"x": float("nan"), "y": [1.0, float("inf")], "deep": deep}, {"x": 2.5, "y": [], "deep": None}]
    for suffix in ("jsonl", "parquet"):
        with TableWriter(tmp_path / f"out.{suffix}") as writer:
            writer.write(rows)
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert "NaN" not in lines[0] and "Infinity" not in lines[0]
    assert json.loads(lines[0])["x"] is None and json.loads(lines[0])["y"] == [1.0, None]
    written = rows_of(tmp_path / "out.parquet")
    assert isinstance(written[0]["deep"], str) and written[0]["deep"].count("[") == 120 and written[1]["x"] == 2.5
    assert leftovers(tmp_path) == []

# --- case 5: data silently dropped or mixed ---------------------------------------------------------------------

@pytest.mark.model
@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_case_5_jsonl_key_first_seen_after_the_first_block_is_kept(tmp_path, analyzer, suffix):
    source = tmp_path / "late.jsonl"
    records = [{"text": f"I feel fine, day {i}."} for i in range(5)]
    records[4]["late"] = "kept"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    analyze_file(analyzer, source, tmp_path / f"out.{suffix}", block_size=2)  # the key arrives in the third block
    rows = rows_of(tmp_path / f"out.{suffix}")
    assert [r["late"] or None for r in rows] == [None] * 4 + ["kept"]
    assert leftovers(tmp_path) == []


def test_case_5_late_key_after_row_512_in_the_writer(tmp_path):
    for suffix in ("csv", "parquet"):
        target = tmp_path / f"out.{suffix}"
        with TableWriter(target) as writer:
            writer.write([{"text": f"t{i}"} for i in range(512)])
            writer.write([{"text": "t512", "late": 7}])
        rows = rows_of(target)
        assert list(rows[0]) == ["text", "late"] and str(rows[512]["late"]) == "7" and rows[0]["late"] in ("", None)


def test_case_5_csv_duplicated_header_names_keep_every_column(tmp_path):
    source = tmp_path / "dup.csv"
    source.write_text("name,text,name,name.2\nAda,hello,Lovelace,x\n")
    (row,) = read_all(source)
    assert row.record == {"name": "Ada", "text": "hello", "name.3": "Lovelace", "name.2": "x"}
    parquet = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array(["a"]), pa.array(["b"]), pa.array(["hi"])],
                                        names=["name", "name", "text"]), parquet)
    (row,) = read_all(parquet)
    assert row.record == {"name": "a", "name.2": "b", "text": "hi"}


def test_case_5_a_repeated_text_column_is_refused_not_guessed(tmp_path):
    trailing = tmp_path / "sheet.csv"  # a spreadsheet export: empty header names repeat, the text column does not
    trailing.write_text("id,text,,\n1,hello,,\n")
    assert table_columns(trailing) == ["id", "text", "", ".2"] and read_all(trailing)[0].text == "hello"
    source = tmp_path / "dup.csv"
    source.write_text("id,text,text\n1,first,second\n")
    parquet = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array(["a"]), pa.array(["b"])], names=["text", "text"]), parquet)
    for path in (source, parquet):
        with pytest.raises(InputFileError, match="names column 'text' 2 times"):
            read_all(path)


def test_case_5_unterminated_quote_is_a_row_error_and_the_rest_is_read(tmp_path):
    source = tmp_path / "quote.csv"
    source.write_text('id,text\n1,fine\n2,"oops, no closing quote\n3,three\n4,"a ""quoted"" word"\n'
                      '5,"He said ""hi"" twice" and left\n6,"never closed\n7,seven\n')
    rows = read_all(source)
    assert [r.record["id"] for r in rows] == ["1", "2", "3", "4", "5", "6", "7"]
    went_on = "kept its first line and went on after it"
    assert rows[1].error == ("row 2: a quote opened in this row runs on into later lines and breaks there "
                             f"(',' expected after '\"'); {went_on}")
    assert rows[1].record["text"] == "oops, no closing quote" and rows[1].text is None
    assert [rows[2].text, rows[3].text] == ["three", 'a "quoted" word'] and rows[3].error is None
    assert rows[4].text == 'He said "hi" twice and left' and rows[4].error is None  # a stray quote in one line
    assert rows[5].error == f"row 6: a quote opened in this row is never closed; {went_on}"
    assert rows[6].text == "seven" and rows[6].error is None
    # reading from any row on gives the same rows (corpus chunks start in the middle of files)
    for k, row in enumerate(rows):
        rest = [r for block in read_rows(source, "text", block_size=3, start=row.after) for r in block]
        assert [(r.number, r.record, r.error) for r in rest] == [(r.number, r.record, r.error) for r in rows[k + 1:]]


def test_case_5_latin1_input_with_the_encoding_option(tmp_path, monkeypatch):
    source = tmp_path / "latin.csv"
    source.write_bytes("id,text\n1,café crème\n".encode("latin-1"))
    (row,) = read_all(source)
    assert row.error == "row 1: not valid UTF-8"  # the default names the problem instead of guessing
    (row,) = read_all(source, encoding="latin-1")
    assert row.error is None and row.text == "café crème"
    txt = tmp_path / "latin.txt"
    txt.write_bytes("naïve\n".encode("latin-1"))
    assert [r.text for r in read_all(txt, encoding="latin-1")] == ["naïve"]
    no_model(monkeypatch)
    result = runner.invoke(app, ["analyze", "-i", str(source), "--encoding", "utf-16"])
    assert "is not supported" in one_line_error(result)


@pytest.mark.parametrize("encoding", ["rot13", "hex", "base64", "idna", "bz2"])
def test_case_5_an_encoding_that_is_not_a_text_codec_is_one_line(tmp_path, monkeypatch, encoding):
    """Python knows codecs that are not text encodings (rot13, hex) or that refuse the readers' error handlers
    (idna): each is an unsupported --encoding (exit 2, one line), not a traceback while reading."""
    source = tmp_path / "latin.csv"
    source.write_bytes("id,text\n1,café crème\n".encode("latin-1"))
    no_model(monkeypatch)
    result = runner.invoke(app, ["analyze", "-i", str(source), "--encoding", encoding])
    assert f"encoding {encoding!r} is not supported" in one_line_error(result)
    chat = tmp_path / "chat.json"
    chat.write_text('[{"speaker": "A", "text": "hi"}]')
    result = runner.invoke(app, ["conversation", str(chat), "--encoding", encoding])
    assert f"encoding {encoding!r} is not supported" in one_line_error(result)


@pytest.mark.model
def test_case_5_latin1_through_the_command(tmp_path):
    source = tmp_path / "latin.csv"
    source.write_bytes("id,text\n1,café crème\n".encode("latin-1"))
    result = runner.invoke(app, ["analyze", "-i", str(source), "--encoding", "latin-1", "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 0, result.output
    (row,) = rows_of(tmp_path / "o.csv")
    assert row["text"] == "café crème" and row["error"] == ""


# --- case 7: a header-only CSV ----------------------------------------------------------------------------------

@pytest.mark.model
@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_case_7_header_only_csv_gives_a_valid_empty_output(tmp_path, suffix):
    source = tmp_path / "empty.csv"
    source.write_text("id,text\n")
    target = tmp_path / f"out.{suffix}"
    result = runner.invoke(app, ["analyze", "-i", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "0 rows →" in result.output
    if suffix == "parquet":
        table = pq.read_table(target)
        assert table.num_rows == 0 and table.column_names[:4] == ["id", "text", "labels", "top"]
        assert "valence" in table.column_names and "error" in table.column_names
    elif suffix == "csv":
        assert target.read_text().splitlines()[0].startswith("id,text,labels,top,")
        assert rows_of(target) == []
    else:
        assert target.read_text() == ""
    assert leftovers(tmp_path) == []


# --- case 8: one line, exit 2, before any scoring ---------------------------------------------------------------

def test_case_8_output_is_a_directory(tmp_path, monkeypatch):
    source = tmp_path / "in.csv"
    source.write_text("text\nhello\n")
    (tmp_path / "results").mkdir()
    no_model(monkeypatch)
    result = runner.invoke(app, ["analyze", "-i", str(source), "-o", str(tmp_path / "results")])
    assert "is a folder; name a file in it" in one_line_error(result)
    assert list((tmp_path / "results").iterdir()) == [] and leftovers(tmp_path) == []


def test_case_8_output_under_a_regular_file(tmp_path, monkeypatch):
    source = tmp_path / "in.csv"
    source.write_text("text\nhello\n")
    no_model(monkeypatch)
    for target in ("in.csv/out.jsonl", "in.csv/deeper/out.csv"):
        result = runner.invoke(app, ["analyze", "-i", str(source), "-o", str(tmp_path / target)])
        assert "in.csv is a file, not a folder" in one_line_error(result)
    assert leftovers(tmp_path) == []


def unprivileged(args: list[str], folder: Path) -> subprocess.CompletedProcess:
    """``affectlab ARGS`` as a user that file permissions apply to (root drops to nobody with setpriv)."""
    return as_nobody([sys.executable, "-m", "affectlab", *args], folder)


def as_nobody(command: list[str], folder: Path) -> subprocess.CompletedProcess:
    """``command`` run in ``folder`` as a user that file permissions apply to."""
    if os.geteuid() == 0:
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: permissions cannot be tested")
        if subprocess.run([*drop, sys.executable, "-c", "import affectlab.cli"], cwd=folder,
                          capture_output=True).returncode != 0:
            pytest.skip("the user nobody cannot import affectlab from this checkout")
        command = [*drop, *command]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=60)


@pytest.fixture
def open_folder():
    """A folder everyone may enter (pytest's tmp_path is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="affectlab-hostile-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        path.chmod(0o755)
    shutil.rmtree(folder)


def test_case_8_output_in_an_unwritable_folder(open_folder):
    (open_folder / "in.csv").write_text("text\nhello\n")
    (open_folder / "in.csv").chmod(0o644)
    (open_folder / "locked").mkdir(mode=0o555)
    (open_folder / "locked").chmod(0o555)
    for target in ("locked/out.csv", "locked/sub/out.parquet"):
        done = unprivileged(["analyze", "-i", "in.csv", "-o", target], open_folder)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [f"error: {target}: cannot create files in locked "
                                                    "(permission denied)"]
    assert list((open_folder / "locked").iterdir()) == []


def test_outputs_under_a_folder_that_cannot_be_looked_into_are_refused_in_python(open_folder):
    """Python callers get the library's own error naming the folder, not a PermissionError from deep inside."""
    (open_folder / "sealed").mkdir(mode=0o700)
    (open_folder / "sealed").chmod(0o600)  # readable, but not to be entered: nothing under it can be looked up
    code = """
from pathlib import Path
from affectlab.errors import AffectlabError
from affectlab.registry import check_output_folder
from affectlab.corpus.run import _check_writable
for check in (lambda: check_output_folder(Path("sealed/inner/model"), "text-affect"),
              lambda: _check_writable(Path("sealed/inner/out"))):
    try:
        check()
    except AffectlabError as error:
        print(type(error).__name__, error)
"""
    done = as_nobody([sys.executable, "-c", code], open_folder)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2 and all("cannot look into" in line and "sealed" in line for line in lines), lines


def test_case_8_unreadable_input(open_folder):
    (open_folder / "in.csv").write_text("text\nhello\n")
    (open_folder / "in.csv").chmod(0)
    done = unprivileged(["analyze", "-i", "in.csv", "-o", "out.jsonl"], open_folder)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == ["error: in.csv: cannot be read (Permission denied)"]
    assert sorted(p.name for p in open_folder.iterdir()) == ["in.csv"]


def test_case_8_respond_and_conversation_outputs_are_checked_before_any_model(tmp_path, monkeypatch):
    """`respond -o` and a single conversation's `-o` write one JSON document (any file name): a folder or a
    path under a file is one line and exit 2 before a model loads, not a traceback after the work."""
    chat = tmp_path / "chat.json"
    chat.write_text(json.dumps([{"speaker": "A", "text": "I lost my job"}, {"speaker": "B", "text": "Oh no"}]))
    (tmp_path / "results").mkdir()

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the output was checked")

    monkeypatch.setattr("affectlab.cli.empathy.make_llm", refuse)
    monkeypatch.setattr("affectlab.dialogue.ConversationAnalyzer", refuse)
    for command in ("respond", "conversation"):
        for target, message in (("results", "is a folder"), ("chat.json/out.json", "chat.json is a file")):
            result = runner.invoke(app, [command, str(chat), "-o", str(tmp_path / target)])
            assert message in one_line_error(result), (command, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chat.json", "results"]
    assert list((tmp_path / "results").iterdir()) == []
    monkeypatch.undo()
    result = runner.invoke(app, ["conversation", str(chat), "--no-causes", "-o", str(tmp_path / "turns.txt")])
    assert result.exit_code == 0, result.output  # one conversation's JSON may have any name, as before
    assert len(json.loads((tmp_path / "turns.txt").read_text())["turns"]) == 2


def test_case_8_atomic_write_that_cannot_be_moved_into_place_is_one_error(tmp_path):
    from affectlab.io import OutputFileError, atomic_write_text
    from affectlab.io.writers import atomic_target

    target = tmp_path / "report.json"
    with pytest.raises(OutputFileError, match="report.json: cannot be written"), atomic_target(target) as tmp:
        tmp.write_text("{}")
        target.mkdir()  # the path became a folder while the file was written
    assert leftovers(tmp_path) == [] and list(target.iterdir()) == []
    with pytest.raises(OutputFileError, match="is a folder|cannot be written"):
        atomic_write_text(target, "{}")
    assert leftovers(tmp_path) == []


def test_case_8_jsonl_line_nested_deeper_than_the_decoder_is_one_row_error(tmp_path):
    """100,000 nested brackets overflow the JSON decoder's stack (RecursionError, not a JSONDecodeError): that
    line is a row error and the rest is read; a .json conversation so nested is one line, exit 2."""
    nested = "[" * 100_000 + "]" * 100_000
    source = tmp_path / "deep.jsonl"
    source.write_text('{"text": "a", "x": ' + nested + '}\n{"text": "b"}\n')
    rows = read_all(source)
    assert [r.error for r in rows] == ["line 1: not valid JSON (nested too deeply)", None] and rows[1].text == "b"
    chat = tmp_path / "deep.json"
    chat.write_text('[{"speaker": "A", "text": "hi", "x": ' + nested + "}]")
    result = runner.invoke(app, ["conversation", str(chat)])
    assert "not valid utf-8 JSON (maximum recursion depth" in one_line_error(result)


def test_case_8_wrong_text_column_on_jsonl_is_a_file_error(tmp_path, monkeypatch):
    source = tmp_path / "posts.jsonl"
    source.write_text('{"body": "hi", "id": 1}\n\n{"body": "yo", "id": 2, "lang": "en"}\nnot json\n')
    result = runner.invoke(app, ["analyze", "-i", str(source), "-o", str(tmp_path / "o.csv")])
    line = one_line_error(result)
    assert line.endswith("no field 'text' in lines 1-4; fields seen: body, id, lang"), line
    assert leftovers(tmp_path) == [] and not (tmp_path / "o.csv").exists()
    # a file whose text field is there but missing on some lines keeps those lines as row errors
    source.write_text('{"text": "hi"}\n{"body": "yo"}\n')
    assert [r.error for r in read_all(source)] == [None, "line 2: no field 'text'"]


@pytest.mark.parametrize("name", ["bom.jsonl", "bom.txt", "bom.csv"])
def test_case_8_utf8_bom_does_not_spoil_row_1(tmp_path, name):
    source = tmp_path / name
    body = {"bom.jsonl": '{"text": "hello"}\n', "bom.txt": "hello\n", "bom.csv": "text\nhello\n"}[name]
    source.write_bytes(b"\xef\xbb\xbf" + body.encode())
    (row,) = read_all(source)
    assert row.error is None and row.text == "hello" and list(row.record) == ["text"]


def signals_as_usual() -> None:
    """In the child: SIGINT and SIGTERM at their defaults, even where the test run itself ignores them (a
    background job of a shell ignores SIGINT, and its children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _scoring(source: Path, target: Path) -> subprocess.Popen:
    """``affectlab analyze -i SOURCE -o TARGET`` in its own process, once it has started writing."""
    process = subprocess.Popen([sys.executable, "-m", "affectlab", "analyze", "-i", str(source), "-o", str(target)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               preexec_fn=signals_as_usual)
    deadline = time.monotonic() + 60
    while not list(target.parent.glob(f".{target.name}.*.part")):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.02)
    return process


@pytest.mark.model
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_case_8_sigterm_and_sigint_leave_no_part_file(tmp_path, analyzer, signum, code):
    source = tmp_path / "many.jsonl"
    source.write_text("".join(json.dumps({"text": f"What a day, number {i}!"}) + "\n" for i in range(3000)))
    target = tmp_path / "out.csv"
    process = _scoring(source, target)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == f"stopped by {signal.Signals(signum).name}"
    assert "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.jsonl"]


def test_case_8_a_csv_holding_only_a_byte_order_mark_is_an_empty_file(tmp_path):
    source = tmp_path / "bom.csv"
    source.write_bytes(b"\xef\xbb\xbf")
    with pytest.raises(InputFileError, match="the file is empty"):
        read_all(source)


def test_a_json_array_is_named_as_such_not_read_as_broken_json_lines(tmp_path):
    array = tmp_path / "posts.json"
    array.write_text('[\n  {"text": "so happy"},\n  {"text": "a grey day"}\n]\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", "-i", str(array), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2 and "holds a JSON array" in result.output and "jq -c" in result.output
    assert not (tmp_path / "out.jsonl").exists()
    lines = tmp_path / "posts.jsonl"
    lines.write_text('{"text": "so happy"}\n', encoding="utf-8")
    assert [row.text for block in read_rows(lines) for row in block] == ["so happy"]
    arrays = tmp_path / "arrays.jsonl"
    arrays.write_text('["so happy", 1]\n["a grey day", 2]\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="line 1 is a JSON array; each line must be an object"):
        next(read_rows(arrays))


def test_one_result_is_not_written_under_a_table_name_nor_dropped(tmp_path):
    chat = tmp_path / "chat.json"
    chat.write_text(json.dumps([{"speaker": "A", "text": "I got the job!"}]), encoding="utf-8")
    for suffix in ("csv", "parquet", "jsonl"):
        result = CliRunner().invoke(app, ["conversation", str(chat), "-o", str(tmp_path / f"out.{suffix}")])
        assert result.exit_code == 2 and "name the file .json" in result.output, result.output
    result = CliRunner().invoke(app, ["respond", str(chat), "-o", str(tmp_path / "reply.csv")])
    assert result.exit_code == 2 and "one JSON document; name the file .json" in result.output, result.output
    result = CliRunner().invoke(app, ["analyze", "so happy", "-o", str(tmp_path / "one.jsonl")])
    assert result.exit_code == 2 and "--json" in result.output and not (tmp_path / "one.jsonl").exists()


def test_a_folder_given_as_a_conversation_or_corpus_input_is_called_one(tmp_path):
    result = CliRunner().invoke(app, ["conversation", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder" in result.output
    result = CliRunner().invoke(app, ["corpus", "run", str(tmp_path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "is a folder; name its files" in result.output


def test_a_path_that_cannot_be_written_says_why(tmp_path):
    from affectlab.files import why_not_writable

    plain = tmp_path / "notes.txt"
    plain.write_text("mine", encoding="utf-8")
    assert why_not_writable(plain / "jobs" / "deeper") == f"{plain} is a file, not a folder"
    assert why_not_writable(tmp_path / "new" / "deeper") is None  # folders still to be made are fine
    assert why_not_writable(tmp_path) is None
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert why_not_writable(locked / "out") == f"cannot write in {locked} (permission denied)"
    assert plain.read_text(encoding="utf-8") == "mine"
