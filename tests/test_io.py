import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from affectlab.io import InputFileError, TableWriter, read_rows


def _all(path, column="text"):
    return [row for block in read_rows(path, column, block_size=2) for row in block]


def test_csv_keeps_every_column(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,body\n1,hello\n2,\"with, comma\"\n")
    rows = _all(path, "body")
    assert [r.text for r in rows] == ["hello", "with, comma"]
    assert rows[0].record == {"id": "1", "body": "hello"}


def test_csv_ragged_rows_are_row_errors(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,body\n1,fine\n2\n3,too,many\n")
    rows = _all(path, "body")
    assert rows[0].error is None
    assert rows[1].error == "row 2: 1 cells where the header has 2" and rows[1].text is None
    assert "row 3: 3 cells" in rows[2].error and rows[2].record["_extra_cells"] == '["many"]'


def test_non_utf8_bytes_are_row_errors_and_the_row_is_kept(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,body\n1,good\n2,bad \xff byte\n")
    rows = _all(path, "body")
    assert rows[0].error is None
    assert rows[1].error == "row 2: not valid UTF-8"
    assert rows[1].record["body"] == "bad \ufffd byte"
    txt = tmp_path / "a.txt"
    txt.write_bytes(b"fine\n\xfe\xffbad\n")
    rows = _all(txt)
    assert rows[1].error.startswith("line 2: not valid UTF-8 (byte 0xfe")


def test_missing_column_is_a_file_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,body\n1,x\n")
    with pytest.raises(InputFileError, match="no column 'text'; columns are: id, body"):
        _all(path)


def test_jsonl_bad_lines_are_named(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "ok"}\n{not json\n[1]\n{"other": 1}\n')
    rows = _all(path)
    assert [r.error for r in rows] == [
        None, "line 2: not valid JSON (Expecting property name enclosed in double quotes)",
        "line 3: expected a JSON object", "line 4: no field 'text'",
    ]
    assert rows[1].record["text"] == "{not json"  # the user's line is kept


def test_parquet_and_corrupt_parquet(tmp_path):
    good = tmp_path / "a.parquet"
    pq.write_table(pa.table({"text": ["a", None, "c"], "n": [1, 2, 3]}), good)
    assert [r.text for r in _all(good)] == ["a", None, "c"]
    bad = tmp_path / "b.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputFileError, match="not a readable Parquet file"):
        _all(bad)


def test_missing_unreadable_and_unknown_files(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        _all(tmp_path / "missing.csv")
    with pytest.raises(InputFileError, match="unknown format 'xlsx'"):
        (tmp_path / "a.xlsx").write_text("x")
        _all(tmp_path / "a.xlsx")
    locked = tmp_path / "locked.csv"
    locked.write_text("text\nx\n")
    locked.chmod(0)
    if os.access(locked, os.R_OK):
        pytest.skip("running as a user who can read any file")
    with pytest.raises(InputFileError, match="cannot be read"):
        _all(locked)


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "parquet"])
def test_writer_is_atomic(tmp_path, suffix):
    target = tmp_path / f"out.{suffix}"
    target.write_text("previous")
    with pytest.raises(RuntimeError), TableWriter(target) as writer:
        writer.write([{"a": 1, "labels": ["x"]}])
        raise RuntimeError("interrupted")
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no partial file left behind
    with TableWriter(target) as writer:
        writer.write([{"a": 1, "labels": ["x"]}])
        writer.write([{"a": None, "labels": []}])
    assert writer.rows == 2
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # not the temporary file's private 0600
    if suffix == "jsonl":
        assert [json.loads(line)["a"] for line in target.read_text().splitlines()] == [1, None]
    elif suffix == "parquet":
        assert pq.read_table(target).column("a").to_pylist() == [1, None]


@pytest.mark.parametrize("name", ["a.csv", "a.jsonl", "a.txt", "a.parquet"])
def test_reading_can_start_after_any_row(tmp_path, name):
    files = {
        "a.csv": b'id,text\n1,hello\n2,"multi\nline"\n\n3,bad \xff byte\n4,x,extra\n5\n6,last\n',
        "a.jsonl": b'{"text":"a"}\n\n{"text":"b"}\nnot json\n{"t":1}\n{"text":"c"}\n',
        "a.txt": b"one\ntwo\n\xfe\nfour",
    }
    path = tmp_path / name
    if name in files:
        path.write_bytes(files[name])
    else:
        pq.write_table(pa.table({"text": [f"t{i}" for i in range(25)]}), path, row_group_size=7)
    rows = [row for block in read_rows(path, "text", block_size=3) for row in block]
    assert len(rows) >= 4
    for k, row in enumerate(rows):
        rest = [r for block in read_rows(path, "text", block_size=4, start=row.after) for r in block]
        assert [(r.number, r.record, r.error) for r in rest] == [(r.number, r.record, r.error) for r in rows[k + 1:]]


def test_a_csv_field_over_the_limit_is_a_row_error_and_reading_goes_on(tmp_path, monkeypatch):
    from affectlab.io import readers

    monkeypatch.setattr(readers, "CSV_FIELD_LIMIT", 10)
    path = tmp_path / "a.csv"
    path.write_text("id,text\n1,short\n2,much longer than ten\n3,fine\n")
    rows = _all(path)
    assert [r.record["id"] for r in rows] == ["1", "2", "3"] and rows[2].text == "fine"
    assert rows[1].error.startswith("row 2: not readable as CSV (field larger than field limit (10))")


def test_parquet_widening_rules():
    from decimal import Decimal

    from affectlab.io.parquet_out import column_array, widen_schema

    def widened(a: list, b: list) -> pa.DataType:
        return widen_schema(pa.schema([("c", column_array(a).type)]), pa.schema([("c", column_array(b).type)]))[0].type

    assert widened([1], [0.5]) == pa.float64()
    assert widened([None], [1]) == pa.int64()
    assert widened([1], ["a"]) == pa.string()
    assert widened([Decimal("1.5")], [Decimal("10.25")]) == pa.decimal128(4, 2)
    assert widened([{"a": 1}], [{"b": "x"}]) == pa.struct([("a", pa.int64()), ("b", pa.string())])
    assert widened([[1]], [[0.5]]) == pa.list_(pa.float64())
    assert widened([[1]], [["a"]]) == pa.string()
    assert column_array(["a", 5]).to_pylist() == ["a", "5"]  # a mixed block is text at once
    assert column_array([{}]).type == pa.string()  # Parquet has no struct without fields


def test_values_written_as_json_and_as_text():
    import datetime as dt
    from decimal import Decimal

    from affectlab.io.values import json_line, text_value

    row = {"t": dt.datetime(2024, 5, 1, 12), "d": dt.date(2024, 5, 1), "b": b"\x00\xff", "m": Decimal("1.10"),
           "w": dt.timedelta(minutes=1, seconds=30.5), "s": {2, 1}}
    assert json.loads(json_line(row)) == {"t": "2024-05-01T12:00:00", "d": "2024-05-01", "b": "AP8=", "m": "1.10",
                                          "w": "PT90.5S", "s": [1, 2]}
    assert [text_value(v) for v in (None, "x", True, 3, 0.5, [1, "a"], {"k": None}, b"ok")] == [
        None, "x", "true", "3", "0.5", '[1, "a"]', '{"k": null}', "b2s="]


def test_a_progress_total_is_never_negative(tmp_path):
    from affectlab.io import count_rows

    for name, content, rows in (("empty.csv", b"", 0), ("header.csv", b"text\n", 0), ("two.csv", b"text\na\nb\n", 2),
                                ("empty.jsonl", b"", 0)):
        (tmp_path / name).write_bytes(content)
        assert count_rows(tmp_path / name) == rows
