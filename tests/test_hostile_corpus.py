"""Hostile input and faults in corpus runs (issue 25): every row kept, no traceback, no leftovers."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from affectlab.corpus import CorpusJob, LocalEngine, run_corpus
from affectlab.corpus.aggregate import interrupts_kept
from affectlab.corpus.report import ReportError, _groups, build_report
from affectlab.corpus.scoring import SCHEMA
from affectlab.errors import OptionError
from affectlab.io.readers import InputFileError
from affectlab.text.analyzer import Analyzer

pytestmark = pytest.mark.model


def signals_as_usual() -> None:
    """In the child: SIGINT and SIGTERM at their defaults, even where the test run itself ignores them (a
    background job of a shell ignores SIGINT, and its children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def posts(n: int, groups: tuple[str, ...] = ("north", "south")) -> list[dict]:
    moods = ["I am so happy about this, wonderful!", "This is infuriating, I am furious.",
             "I am terrified of the storm tonight.", "I miss her so much, I am heartbroken."]
    return [{"body": f"{moods[i % 4]} ({i})", "community": groups[i % len(groups)]} for i in range(n)]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def job(inputs, output, **options) -> CorpusJob:
    settings = {"text_column": "body", "group_column": "community", "chunk_rows": 10, **options}
    return CorpusJob([str(p) for p in inputs], str(output), **settings)


def part_rows(output: Path) -> list[dict]:
    rows = []
    for part in sorted((output / "scores").rglob("*.parquet")):
        rows += pq.read_table(part).to_pylist()
    return rows


def leftovers(folder: Path) -> list[str]:
    """Temporary files a run must not leave: hidden files, ``.part`` files, DuckDB spill folders."""
    return [str(p) for p in folder.rglob("*") if p.name.startswith(".") or p.name.endswith(".part")]


def test_case_6_output_folder_with_glob_characters_reads_only_its_own_parts(tmp_path):
    source = write_jsonl(tmp_path / "posts.jsonl", posts(30))
    run_corpus(job([source], tmp_path / "res1"), LocalEngine(threads=1))
    for name in ("res?", "res[1]", "res*", "it's [x]"):
        manifest = run_corpus(job([source], tmp_path / name), LocalEngine(threads=1))
        assert manifest.state == "complete" and manifest.counts["rows"] == 30, name
        shares = pq.read_table(tmp_path / name / "aggregates" / "shares_by_group.parquet").to_pylist()
        assert {r["n"] for r in shares if r["group"] == "(all)"} == {30}, name
    # input names with glob characters are taken literally when such a file exists
    (tmp_path / "in1.jsonl").write_text(source.read_text())
    odd = write_jsonl(tmp_path / "in[1]?'*.jsonl", posts(7))
    manifest = run_corpus(job([odd], tmp_path / "odd"), LocalEngine(threads=1))
    assert [f["path"] for f in manifest.files] == [str(odd)] and manifest.counts["rows"] == 7


class FailsAfterScoring(LocalEngine):
    """Scores every chunk, then fails the way a late bug or a full disk would."""

    def run(self, job, chunks, on_chunk):
        super().run(job, chunks, on_chunk)
        raise OSError("disk full\nwhile writing")


def test_case_6_a_failure_after_the_manifest_is_written_marks_it_failed(tmp_path):
    source = write_jsonl(tmp_path / "posts.jsonl", posts(12))
    with pytest.raises(OSError):
        run_corpus(job([source], tmp_path / "out"), FailsAfterScoring(threads=1))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["state"] == "failed" and manifest["error"] == "OSError: disk full while writing"
    assert manifest["finished"] and not leftovers(tmp_path / "out")
    resumed = run_corpus(job([source], tmp_path / "out"), LocalEngine(threads=1))  # the parts are kept
    assert resumed.state == "complete" and resumed.error is None and resumed.chunks["already_done"] == 2


def test_case_7_header_only_csv_corpus_is_a_finished_run_with_0_rows(tmp_path):
    header_only = tmp_path / "posts.csv"
    header_only.write_text("id,body,community\n")
    empty_parquet = tmp_path / "posts.parquet"
    pq.write_table(pa.table({"body": pa.array([], pa.string()), "community": pa.array([], pa.string())}), empty_parquet)
    for inputs, name in (([header_only], "csv"), ([header_only, empty_parquet], "both")):
        manifest = run_corpus(job(inputs, tmp_path / name), LocalEngine(threads=1))
        assert manifest.state == "complete" and manifest.counts["rows"] == 0 and not manifest.file_errors
        parts = sorted((tmp_path / name / "scores").rglob("*.parquet"))
        assert len(parts) == len(inputs) and all(pq.read_table(p).schema.equals(SCHEMA) for p in parts)
        for table in (tmp_path / name / "aggregates").glob("*.parquet"):
            assert pq.read_table(table).num_rows == 0, table
    report = build_report(tmp_path / "csv", tmp_path / "report.html")
    assert report.plots == [] and "Not available" in Path(report.html).read_text()
    done = subprocess.run([sys.executable, "-m", "affectlab", "corpus", "run", str(header_only), "--text-column",
                           "body", "-o", str(tmp_path / "cli"), "--no-progress"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "0 rows" in done.stdout, done.stderr


def test_case_8_report_group_names_with_dollar_signs_are_drawn_literally(tmp_path):
    groups = ("$\\frac{$", "$AAPL and $TSLA", "_private", "long\nname " * 5000)
    source = write_jsonl(tmp_path / "posts.jsonl", posts(40, groups))  # each group one mood: shares of 1 (n=10)
    run_corpus(job([source], tmp_path / "out"), LocalEngine(threads=1))
    report = build_report(tmp_path / "out", tmp_path / "report.html")
    assert any(p.endswith("groups.png") for p in report.plots)
    shares = tmp_path / "out" / "aggregates" / "shares_by_group.parquet"
    frame = duckdb.connect().sql(f"SELECT * FROM read_parquet('{shares}')").df()
    legend = _groups(frame).axes[0].get_legend()
    shown = {t._preprocess_math(t.get_text()) for t in legend.get_texts()}  # what matplotlib will draw
    expected = [*groups[:3], "long name long name long name long name…"]  # one line, cut to 40 characters
    assert shown == {(f"{g} (n=10)", False) for g in expected}


def test_case_8_output_that_is_or_is_under_a_file_gets_one_line_before_any_work(tmp_path):
    source = write_jsonl(tmp_path / "posts.jsonl", posts(4))
    (tmp_path / "taken").write_text("not a folder")
    for output, message in (("taken", "exists and is not a folder"), ("taken/out", "is a file")):
        with pytest.raises(InputFileError, match=message):
            run_corpus(job([source], tmp_path / output), LocalEngine(threads=1))
    done = subprocess.run([sys.executable, "-m", "affectlab", "corpus", "run", str(source), "--text-column", "body",
                           "-o", str(tmp_path / "taken" / "out"), "--no-progress"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "is a file" in done.stderr, done.stderr
    run_corpus(job([source], tmp_path / "out"), LocalEngine(threads=1))
    with pytest.raises(ReportError, match="is a folder"):
        build_report(tmp_path / "out", tmp_path)


def test_case_8_output_folder_name_that_is_not_utf8_gets_one_line_before_any_work(tmp_path):
    """A byte that is not UTF-8 in a folder name (``res\\xff``) reaches Python as a lone surrogate, which pyarrow
    cannot write to: refused up front, not a traceback from the first part written."""
    source = write_jsonl(tmp_path / "posts.jsonl", posts(4))
    output = tmp_path / os.fsdecode(b"res\xff")
    with pytest.raises(InputFileError, match="not valid UTF-8"):
        run_corpus(job([source], output), LocalEngine(threads=1))
    assert not output.exists()


def test_case_1_surrogate_row_in_a_corpus_chunk_gets_an_error_and_the_run_goes_on(tmp_path):
    source = tmp_path / "posts.jsonl"
    source.write_text('{"body": "I am so happy today!", "community": "a"}\n'
                      '{"body": "x \\ud83d", "community": "a"}\n'
                      '{"body": "a lovely day", "community": "b \\udc00"}\n'
                      '{"body": "I am scared of the dark", "community": "b"}\n')
    manifest = run_corpus(job([source], tmp_path / "out"), LocalEngine(threads=1))
    assert manifest.state == "complete" and manifest.counts["rows"] == 4
    rows = {r["row"]: r for r in part_rows(tmp_path / "out")}
    assert sorted(rows) == [1, 2, 3, 4]
    assert rows[1]["status"] == "ok" and rows[4]["status"] == "ok"
    assert rows[2]["text"] == "x \ufffd" and rows[2]["error"].startswith("row 2:")  # an error, or a flagged repair
    assert rows[3]["group"] == "b \ufffd" and "row 3" in rows[3]["error"]


def test_case_1_any_block_failure_of_the_analyzer_costs_only_its_bad_rows(tmp_path, monkeypatch):
    scored, calls = Analyzer.analyze_batch, []

    def fragile(self, texts, **options):
        calls.append(len(texts))
        if "poison" in texts:
            raise RuntimeError("the tokenizer broke\non this")
        return scored(self, texts, **options)

    monkeypatch.setattr(Analyzer, "analyze_batch", fragile)
    records = posts(64)
    records[37]["body"] = "poison"
    source = write_jsonl(tmp_path / "posts.jsonl", records)
    manifest = run_corpus(job([source], tmp_path / "out", chunk_rows=64), LocalEngine(threads=1))
    assert manifest.counts == {"rows": 64, "ok": 63, "skipped": 0, "errors": 1, "time_missing": 0, "time_unparsed": 0}
    assert manifest.row_errors == [{"source": str(source), "row": 38, "status": "error",
                                    "error": "row 38: cannot be analyzed (RuntimeError: the tokenizer broke on this)"}]
    assert len(calls) <= 1 + 2 * 6  # halving down to the bad row, not one call per row


def test_case_4_timestamp_bytes_decimal_columns_as_time_and_group_of_a_corpus_run(tmp_path):
    source = tmp_path / "posts.parquet"
    pq.write_table(pa.table({
        "body": ["what a lovely day", "I am furious", "so scared"],
        "at": pa.array([datetime(2023, 1, 1), None, datetime(2023, 5, 1)], pa.timestamp("us")),
        "raw": pa.array([b"\x00\xff", b"abc", None], pa.binary()),
        "price": pa.array([Decimal("1.10"), Decimal("1700000000"), None], pa.decimal128(12, 2)),
    }), source)
    by_bytes = run_corpus(job([source], tmp_path / "a", time_column="at", group_column="raw"), LocalEngine(threads=1))
    by_price = run_corpus(job([source], tmp_path / "b", time_column="price", group_column="price"),
                          LocalEngine(threads=1))
    assert by_bytes.counts["ok"] == by_price.counts["ok"] == 3
    rows = part_rows(tmp_path / "a")
    assert [r["group"] for r in rows] == ["AP8=", "YWJj", None]  # base64, as every affectlab output writes bytes
    assert rows[0]["time"] == datetime(2023, 1, 1, tzinfo=UTC) and rows[1]["time_error"] == "row 2: time is missing"
    rows = part_rows(tmp_path / "b")
    assert [r["group"] for r in rows] == ["1.10", "1700000000.00", None]
    assert rows[1]["time"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_case_5_latin1_corpus_with_encoding(tmp_path):
    source = tmp_path / "posts.csv"
    source.write_bytes("body,community\n\"caf\xe9 au lait, I love it\",a\n".encode("latin-1"))
    as_utf8 = run_corpus(job([source], tmp_path / "utf8"), LocalEngine(threads=1))
    assert as_utf8.counts["errors"] == 1 and "not valid UTF-8" in as_utf8.row_errors[0]["error"]
    as_latin1 = run_corpus(job([source], tmp_path / "latin1", encoding="latin-1"), LocalEngine(threads=1))
    assert as_latin1.counts["ok"] == 1 and part_rows(tmp_path / "latin1")[0]["text"] == "café au lait, I love it"
    with pytest.raises(OptionError, match="utf-16"):
        job([source], tmp_path / "x", encoding="utf-16")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_case_8_sigterm_during_corpus_run_leaves_no_temporary_files(tmp_path, stop):
    source = write_jsonl(tmp_path / "posts.jsonl", posts(3000))
    output = tmp_path / "out"
    command = [sys.executable, "-m", "affectlab", "corpus", "run", str(source), "--text-column", "body", "-o",
               str(output), "--chunk-rows", "100", "--threads", "1", "--no-progress"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=signals_as_usual)
    deadline = time.monotonic() + 60
    while not list(output.glob("scores/*/*.parquet")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0 and "Traceback" not in stderr, stderr
    assert not leftovers(tmp_path), leftovers(tmp_path)
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["state"] == "interrupted" and "resume" in manifest["error"]
    done = len(list(output.glob("scores/*/*.parquet")))
    assert 1 <= done < 30


def test_case_8_sigterm_inside_a_part_write_removes_the_temporary_part(tmp_path, monkeypatch):
    from affectlab.corpus import scoring

    written, write = [], pq.write_table

    def stopped_midway(table, target, **options):
        write(table, target, **options)
        written.append(target)
        if len(written) == 2:  # the CLI turns SIGTERM into a SystemExit raised wherever the run is
            raise SystemExit(143)

    monkeypatch.setattr(scoring.pq, "write_table", stopped_midway)
    source = write_jsonl(tmp_path / "posts.jsonl", posts(40))
    with pytest.raises(SystemExit):
        run_corpus(job([source], tmp_path / "out"), LocalEngine(threads=1))
    assert Path(written[1]).name.endswith(".part") and not leftovers(tmp_path / "out")
    assert len(list((tmp_path / "out" / "scores").rglob("*.parquet"))) == 1
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["state"] == "interrupted"
    stale = tmp_path / "out" / "scores" / "file=0000" / ".part-00001.parquet.k1ll3d.part"  # as kill -9 leaves it
    stale.write_bytes(b"half a part")
    resumed = run_corpus(job([source], tmp_path / "out"), LocalEngine(threads=1))
    assert resumed.state == "complete" and resumed.counts["rows"] == 40 and not leftovers(tmp_path / "out")


def test_case_8_sigterm_during_a_duckdb_query_stays_an_interruption():
    """DuckDB drops the exception a signal handler raises mid-query; the run must still see an interruption."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGUSR1, stop)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt), interrupts_kept():
            duckdb.connect().execute("SELECT count(*) FROM range(10000000000) t(i) WHERE i % 7 = 3").fetchall()
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)


@pytest.mark.parametrize("on_long", ["error", "truncate"])
def test_case_9_a_text_over_the_bound_in_a_corpus_run_is_refused_or_cut_as_asked(tmp_path, on_long):
    records = posts(4)
    records[2]["body"] = "I am so glad you came, thank you. " * 100  # 3,400 characters
    source = write_jsonl(tmp_path / "posts.jsonl", records)
    manifest = run_corpus(job([source], tmp_path / "out", max_chars=1_000, on_long=on_long), LocalEngine(threads=1))
    rows = {r["row"]: r for r in part_rows(tmp_path / "out")}
    assert manifest.state == "complete" and len(rows) == 4
    long = rows[3]
    if on_long == "error":
        assert long["status"] == "error" and "max_chars" in long["error"] and long["truncated"] is False
    else:
        assert long["status"] == "ok" and long["truncated"] is True and long["emotion_gratitude"] > 0.5
    assert all(rows[n]["status"] == "ok" and rows[n]["truncated"] is False for n in (1, 2, 4))


def test_a_time_or_group_column_the_file_lacks_stops_the_run_before_scoring(tmp_path):
    table = tmp_path / "posts.csv"
    table.write_text("text,created\nso happy,2026-01-01\na grey day,2026-02-01\n", encoding="utf-8")
    for field, value in (("group_column", "nope"), ("time_column", "when")):
        job = CorpusJob([str(table)], str(tmp_path / f"out-{field}"), **{field: value})
        with pytest.raises(InputFileError, match=f"no column '{value}' .*columns are: text, created"):
            run_corpus(job, LocalEngine(threads=1))
        assert not (tmp_path / f"out-{field}" / "scores").exists()
    # one input of several lacking it stops the job too; files without a header (JSONL, TXT) are not checked
    good, plain, lines = tmp_path / "good.csv", tmp_path / "plain.txt", tmp_path / "rows.jsonl"
    good.write_text("text,community\nso happy,a\n", encoding="utf-8")
    plain.write_text("so happy\n", encoding="utf-8")
    lines.write_text('{"text": "so happy"}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="posts.csv: no column 'community'"):
        run_corpus(CorpusJob([str(good), str(table)], str(tmp_path / "mixed"), group_column="community"),
                   LocalEngine(threads=1))
    from affectlab.corpus.plan import plan_job

    plan = plan_job(CorpusJob([str(good), str(plain), str(lines)], str(tmp_path / "ok"), group_column="community"))
    assert len(plan.files) == 3 and plan.file_errors == []


def test_a_damaged_manifest_is_refused_by_name_when_resuming_and_reporting(tmp_path):
    from affectlab.corpus.run import ResumeError

    table = tmp_path / "posts.csv"
    table.write_text("text\nso happy\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    for content, message in (("[1]", "not a manifest of `affectlab corpus run`"),
                             ('{"job": {"inputs": 5}, "model": {}, "software": {}}', "its job is not one")):
        (out / "manifest.json").write_text(content, encoding="utf-8")
        with pytest.raises(ResumeError, match=message):
            run_corpus(CorpusJob([str(table)], str(out)), LocalEngine(threads=1))
    (out / "manifest.json").write_text(json.dumps({"job": {"inputs": [str(table)], "output": str(out),
                                                            "encoding": "no-such-codec"}, "model": {}, "software": {}}))
    with pytest.raises(ResumeError, match="its job is not one .*unknown encoding 'no-such-codec'"):
        run_corpus(CorpusJob([str(table)], str(out)), LocalEngine(threads=1))
    (out / "manifest.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(ReportError, match="not a manifest"):
        build_report(out, tmp_path / "report.html")
