import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from affectlab.cli import app

runner = CliRunner()


def test_analyze_one_text():
    result = runner.invoke(app, ["analyze", "I can't believe you remembered my birthday!"])
    assert result.exit_code == 0, result.output
    assert "labels" in result.output and "valence" in result.output


def test_analyze_one_text_as_json_with_evidence():
    result = runner.invoke(app, ["analyze", "This is disgusting.", "--json", "--explain"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["evidence"] and set(payload["emotions"]) >= {"disgust", "neutral"}


@pytest.mark.parametrize("suffix", ["parquet", "jsonl", "csv"])
def test_analyze_file_keeps_rows_and_records_errors(tmp_path, suffix):
    source = tmp_path / "posts.csv"
    source.write_bytes(
        b"id,body\n1,What a great day!\n2,\n3,bad \xff byte\n4,I'm so angry right now\n5,one,two\n"
    )
    target = tmp_path / f"scored.{suffix}"
    result = runner.invoke(app, ["analyze", "-i", str(source), "--text-column", "body", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "first rows" in result.output and "5 rows" in result.output and "(3 with errors)" in result.output
    if suffix == "parquet":
        rows = pq.read_table(target).to_pylist()
    elif suffix == "jsonl":
        rows = [json.loads(line) for line in target.read_text().splitlines()]
    else:
        import csv

        rows = list(csv.DictReader(target.open()))
    assert [str(r["id"]) for r in rows] == ["1", "2", "3", "4", "5"]
    errors = [r["error"] or None for r in rows]
    assert errors[0] is None and errors[3] is None
    assert errors[1] == "row 2: text is empty or whitespace only"
    assert errors[2] == "row 3: not valid UTF-8"
    assert errors[4] == "row 5: 3 cells where the header has 2"
    assert float(rows[0]["ekman_joy"]) > 0.5
    assert rows[2]["body"] == "bad \ufffd byte"


def test_missing_column_exits_with_one_line(tmp_path):
    source = tmp_path / "posts.csv"
    source.write_text("id,body\n1,hi\n")
    result = runner.invoke(app, ["analyze", "-i", str(source), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert "no column 'text'; columns are: id, body" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_unreadable_inputs_exit_cleanly(tmp_path):
    assert runner.invoke(app, ["analyze", "-i", str(tmp_path / "none.csv")]).exit_code == 2
    (tmp_path / "x.parquet").write_bytes(b"garbage")
    result = runner.invoke(app, ["analyze", "-i", str(tmp_path / "x.parquet"), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "not a readable Parquet file" in result.output
    assert "Traceback" not in result.output


def test_needs_text_or_input():
    assert runner.invoke(app, ["analyze"]).exit_code == 2
