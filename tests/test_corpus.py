import json
import random
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import DATA_DIR, needs_data

from affectlab.corpus import CorpusJob, LocalEngine, RayEngine, ResumeError, plan_job, run_corpus
from affectlab.corpus.aggregate import FUNCTION_WORDS
from affectlab.corpus.report import ReportError, build_report
from affectlab.corpus.times import TimeError, parse_time
from affectlab.errors import OptionError
from affectlab.evaluate.bench_corpus import build_input, compare_scores, parse_configs, vary

pytestmark = pytest.mark.model
ARTIFACTS = Path(__file__).parent / "artifacts"

WORDS = {
    "joy": ["wonderful", "delighted", "thrilled", "lovely"],
    "anger": ["furious", "outraged", "infuriating", "livid"],
    "fear": ["terrified", "frightened", "scared", "panic"],
    "sadness": ["heartbroken", "grieving", "miserable", "tears"],
}
TEMPLATES = {
    "joy": "I am so {} about the {} today, this made my week!",
    "anger": "This is {}, the {} people are lying to us again and I am done.",
    "fear": "I am {} of the {} tonight, please stay safe everyone.",
    "sadness": "I feel {} since the {} ended, I miss it so much.",
}
TOPICS = ["storm", "river", "game", "garden", "election", "concert"]


def clean_posts(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        emotion = rng.choice(sorted(TEMPLATES))
        text = TEMPLATES[emotion].format(rng.choice(WORDS[emotion]), rng.choice(TOPICS))
        month = 1 + i % 3
        posts.append({"id": i, "body": text, "created_at": f"2023-{month:02d}-{1 + i % 27:02d}T10:00:00Z",
                      "community": "north" if i % 2 else "south"})
    return posts


def pd_missing(value) -> bool:
    return value is None or value != value  # duckdb's frames hold NaN for a null float


def write_bad_csv(path: Path) -> None:
    """Ragged rows, non-UTF-8 bytes, empty text and times in mixed formats or missing."""
    path.write_bytes(
        b"id,body,created_at,community\n"
        b"1,I love this so much!,2023-01-05,north\n"
        b"2,\"This is terrible, I hate it\",2023-01-20T10:00:00Z,south\n"
        b"3,,2023-02-01,north\n"
        b"4,bad \xff byte,2023-02-02,north\n"
        b"5,ragged,2023-02-03,north,extra\n"
        b"6,I am scared of the storm tonight,1675400000,south\n"
        b"7,what a surprise!,not a date,south\n"
        b"8,so sad to hear that,,north\n"
        b"9,\"two\nlines of text, both calm\",02/15/2023,north\n"
        b"10,Thanks a lot for the help,\"Wed, 15 Feb 2023 10:00:00 +0100\",south\n"
    )


def corrupt_parquet(path: Path, rows: int = 400) -> None:
    """Two row groups; the second one's dictionary page is overwritten, so only its rows are unreadable."""
    posts = clean_posts(rows, seed=3)
    pq.write_table(pa.Table.from_pylist(posts), path, row_group_size=rows // 2, compression="zstd")
    column = pq.ParquetFile(path).metadata.row_group(1).column(1)
    start = column.dictionary_page_offset
    middle = start + (column.data_page_offset - start) // 2
    data = bytearray(path.read_bytes())
    for i in range(middle, middle + 64):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def job(inputs, output, **options) -> CorpusJob:
    defaults = {"text_column": "body", "time_column": "created_at", "group_column": "community", "chunk_rows": 4}
    return CorpusJob([str(p) for p in inputs], str(output), **{**defaults, **options})


def scores(output: Path) -> list[tuple]:
    return duckdb.connect().execute(
        f"SELECT * EXCLUDE (source) FROM read_parquet('{output}/scores/*/*.parquet') ORDER BY \"row\""
    ).fetchall()


# --- times --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2023-05-01T12:00:00+02:00", "2023-05-01T10:00:00+00:00"),
    ("2023-05-01T12:00:00Z", "2023-05-01T12:00:00+00:00"),
    ("2023-05-01", "2023-05-01T00:00:00+00:00"),
    ("2023/05/01 08:30", "2023-05-01T08:30:00+00:00"),
    ("05/01/2023", "2023-05-01T00:00:00+00:00"),
    ("1 May 2023", "2023-05-01T00:00:00+00:00"),
    ("May 1, 2023", "2023-05-01T00:00:00+00:00"),
    ("Mon, 01 May 2023 12:00:00 +0000", "2023-05-01T12:00:00+00:00"),
    (1682942400, "2023-05-01T12:00:00+00:00"),
    (1682942400000, "2023-05-01T12:00:00+00:00"),
    ("1682942400", "2023-05-01T12:00:00+00:00"),
    (datetime(2023, 5, 1, 12), "2023-05-01T12:00:00+00:00"),
    ("20230501", "2023-05-01T00:00:00+00:00"),  # compact dates, not Unix times of 1970
    (20230501, "2023-05-01T00:00:00+00:00"),
    (20230501.0, "2023-05-01T00:00:00+00:00"),
    ("20230501120000", "2023-05-01T12:00:00+00:00"),
])
def test_times_in_many_formats(value, expected):
    assert parse_time(value).isoformat() == expected


@pytest.mark.parametrize("value, message", [
    (None, "missing"), ("", "missing"), (float("nan"), "missing"), ("  ", "missing"),
    ("yesterday", "not a date format"), ("31/12/2023", "not a date format"),
    (-5, "not a Unix time"), ("-1", "not a Unix time"), (True, "not a timestamp"),
    ("2024", "before 1973"), (2024, "before 1973"), ("20231345", r"not a date \(YYYYMMDD\)"),
    ("99999999999999", "not a date"), (99_999_999_999_999_999, "out of range"),
    ("\u0662\u0660\u0662\u0664", "not a date"),  # Arabic-Indic digits: not read as a Unix time
])
def test_bad_times_say_why(value, message):
    with pytest.raises(TimeError, match=message):
        parse_time(value)


# --- a run over bad input -----------------------------------------------------------------------

def test_bad_rows_are_recorded_and_the_run_completes(tmp_path):
    source = tmp_path / "posts.csv"
    write_bad_csv(source)
    manifest = run_corpus(job([source], tmp_path / "out"), LocalEngine())
    assert manifest.state == "complete"
    assert manifest.counts == {"rows": 10, "ok": 7, "skipped": 1, "errors": 2, "time_missing": 1, "time_unparsed": 1}
    problems = {(p["row"], p["status"]): p["error"] for p in manifest.row_errors}
    assert "not valid UTF-8" in problems[(4, "error")]
    assert "5 cells where the header has 4" in problems[(5, "error")]
    assert "empty" in problems[(3, "skipped")]
    blank = tmp_path / "blank.csv"  # invisible characters alone are as empty as whitespace
    blank.write_text("id,body\n1,\u200f\u00ad\n", encoding="utf-8")
    assert run_corpus(job([blank], tmp_path / "blank", time_column=None, group_column=None),
                      LocalEngine()).counts["skipped"] == 1
    assert "'not a date'" in problems[(7, "ok")] and "time is missing" in problems[(8, "ok")]
    table = duckdb.connect().execute(f"SELECT * FROM read_parquet('{tmp_path}/out/scores/*/*.parquet')").df()
    rows = {r["row"]: r for r in table.to_dict("records")}
    assert sorted(rows) == list(range(1, 11))  # nothing the user gave is lost
    assert rows[9]["text"] == "two\nlines of text, both calm" and rows[9]["time"].month == 2
    assert rows[10]["time"].isoformat() == "2023-02-15T09:00:00+00:00"
    assert rows[6]["ekman_top"] == "fear" and rows[1]["ekman_top"] == "joy"
    # the fitted readings are columns too: scored rows have them, rows that could not be read do not
    assert rows[1]["writer_valence"] > rows[2]["writer_valence"] and 1 <= rows[1]["empathy"] <= 7
    assert rows[2]["intensity_anger"] > rows[1]["intensity_anger"]
    assert pd_missing(rows[4]["intensity_anger"]) and pd_missing(rows[3]["distress"])
    saved = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert saved["counts"] == manifest.counts and saved["files"][0]["sha256"] == manifest.files[0]["sha256"]
    assert saved["model"]["name"] == "text-minilm" and len(saved["model"]["weights_sha256"]) == 64


def test_a_long_post_records_the_window_behind_each_label(tmp_path):
    long_text = (Path(__file__).parent / "texts" / "neutral_then_furious.txt").read_text(encoding="utf-8")
    source = tmp_path / "posts.parquet"
    pq.write_table(pa.Table.from_pylist([{"body": long_text}, {"body": "I love this so much!"}]), source)
    run_corpus(job([source], tmp_path / "out", time_column=None, group_column=None), LocalEngine())
    long, short = duckdb.connect().execute(
        f"SELECT labels, chunks, drivers FROM read_parquet('{tmp_path}/out/scores/*/*.parquet') ORDER BY \"row\""
    ).fetchall()
    drivers = {d["label"]: d for d in long[2]}
    assert "anger" in long[0] and set(drivers) == set(long[0])
    assert drivers["anger"]["window"] == long[1] - 1 and drivers["anger"]["end"] == len(long_text.rstrip())
    assert short[1] == 1 and short[2] is None


def test_corrupt_parquet_files_and_parts(tmp_path):
    good, broken, garbage = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    pq.write_table(pa.Table.from_pylist(clean_posts(6)), good)
    corrupt_parquet(broken)
    garbage.write_bytes(b"PAR1 this is not parquet at all")
    manifest = run_corpus(job([tmp_path / "*.parquet"], tmp_path / "out", chunk_rows=200), LocalEngine())
    assert [e["path"] for e in manifest.file_errors] == [str(garbage)]
    assert "not a readable Parquet file" in manifest.file_errors[0]["error"]
    assert manifest.counts["rows"] == 6 + 400 and manifest.counts["ok"] == 6 + 200
    assert manifest.counts["errors"] == 200
    unreadable = [p for p in manifest.row_errors if p["source"] == str(broken)]
    assert unreadable[0]["row"] == 201 and "unreadable chunk" in unreadable[0]["error"]


# --- resuming -----------------------------------------------------------------------------------

class CrashAfter(LocalEngine):
    """A local engine that dies after ``n`` chunks, like a killed process."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def run(self, job, chunks, on_chunk):
        super().run(job, chunks[: self.n], on_chunk)
        raise KeyboardInterrupt


def test_a_crash_loses_at_most_the_running_chunk_and_a_rerun_resumes(tmp_path):
    source = tmp_path / "posts.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in clean_posts(22)))
    whole = run_corpus(job([source], tmp_path / "whole"), LocalEngine())
    with pytest.raises(KeyboardInterrupt):
        run_corpus(job([source], tmp_path / "cut"), CrashAfter(3))
    parts = sorted((tmp_path / "cut" / "scores").rglob("*"))
    assert len([p for p in parts if p.suffix == ".parquet"]) == 3 and not [p for p in parts if p.name.endswith(".part")]
    assert json.loads((tmp_path / "cut" / "manifest.json").read_text())["state"] == "interrupted"
    resumed = run_corpus(job([source], tmp_path / "cut"), LocalEngine())
    assert resumed.chunks == {"planned": 6, "already_done": 3, "scored_now": 3}
    assert scores(tmp_path / "cut") == scores(tmp_path / "whole")
    assert resumed.counts == whole.counts


def test_a_changed_input_or_setting_is_not_mixed_into_old_results(tmp_path):
    source = tmp_path / "posts.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in clean_posts(5)))
    run_corpus(job([source], tmp_path / "out"), LocalEngine())
    with pytest.raises(ResumeError, match="chunk_rows"):
        run_corpus(job([source], tmp_path / "out", chunk_rows=3), LocalEngine())
    source.write_text("".join(json.dumps(p) + "\n" for p in clean_posts(6)))
    with pytest.raises(ResumeError, match="input"):
        run_corpus(job([source], tmp_path / "out"), LocalEngine())


def test_results_of_other_weights_or_another_file_layout_are_not_mixed(tmp_path):
    source = tmp_path / "posts.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in clean_posts(5)))
    run_corpus(job([source], tmp_path / "out"), LocalEngine())
    manifest_path = tmp_path / "out" / "manifest.json"
    original = json.loads(manifest_path.read_text())
    for edit, reason in ((lambda m: m["model"].update(weights_sha256="0" * 64), "model weights"),
                         (lambda m: m["software"].update(score_columns=["text", "labels"]), "columns of score files")):
        manifest = json.loads(json.dumps(original))
        edit(manifest)
        manifest_path.write_text(json.dumps(manifest))
        with pytest.raises(ResumeError, match=reason):
            run_corpus(job([source], tmp_path / "out"), LocalEngine())


def test_chunks_cover_every_row_once(tmp_path):
    source = tmp_path / "posts.csv"
    write_bad_csv(source)
    plan = plan_job(job([source], tmp_path / "out", chunk_rows=3))
    assert [c.rows for c in plan.chunks] == [3, 3, 3, 1] and plan.rows == 10


# --- aggregates ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    source = folder / "posts.parquet"
    pq.write_table(pa.Table.from_pylist(clean_posts(240)), source)
    run_corpus(job([source], folder / "out", chunk_rows=100), LocalEngine())
    return folder / "out"


def test_shares_have_intervals_and_add_up(scored):
    shares = duckdb.connect().execute(f"SELECT * FROM '{scored}/aggregates/shares_over_time.parquet'").df()
    assert set(shares["group"]) == {"(all)", "north", "south"}
    assert len(set(shares["bucket"])) == 3  # three months
    totals = shares.groupby(["bucket", "group"])["share"].sum()
    assert ((totals - 1).abs() < 1e-9).all()
    assert ((shares["ci_low"] <= shares["share"]) & (shares["share"] <= shares["ci_high"])).all()
    assert (shares["ci_high"] - shares["ci_low"] > 0).all()
    everyone = shares[shares["group"] == "(all)"].groupby("bucket")["n"].first().sum()
    assert everyone == 240


def test_pmi_terms_and_examples_follow_the_emotion(scored):
    terms = duckdb.connect().execute(f"SELECT * FROM '{scored}/aggregates/top_terms.parquet'").df()

    def vocabulary(emotion):
        return set(re.findall(r"[a-z]+", TEMPLATES[emotion].lower())) | set(WORDS[emotion])

    for emotion in ("joy", "fear", "sadness"):
        own = vocabulary(emotion) - set().union(*(vocabulary(e) for e in TEMPLATES if e != emotion))
        top = terms[terms["emotion"] == emotion].sort_values("rank")
        assert set(top["term"].head(6)) <= own, (emotion, list(top["term"]))
        assert (top["pmi"] > 0).all()
    # "so", "my", "this" and "the" are the joy template's own, yet only grammar
    assert not set(terms["term"]) & set(FUNCTION_WORDS) and {"so", "my", "this"} <= vocabulary("joy")
    examples = duckdb.connect().execute(f"SELECT * FROM '{scored}/aggregates/examples.parquet'").df()
    for emotion, mine in examples.groupby("emotion"):
        assert mine.sort_values("rank")["score"].is_monotonic_decreasing
        if emotion in ("joy", "fear", "sadness"):  # the fixture's clear cases
            assert (mine["score"] >= 0.5).all(), mine
    assert examples.groupby("emotion")["text"].nunique().equals(examples.groupby("emotion")["text"].size())


def test_vad_means_sit_inside_their_intervals(scored):
    vad = duckdb.connect().execute(f"SELECT * FROM '{scored}/aggregates/vad_by_group.parquet'").df()
    assert set(vad["dimension"]) == {"valence", "arousal", "dominance"}
    assert ((vad["ci_low"] <= vad["mean"]) & (vad["mean"] <= vad["ci_high"])).all()
    assert vad["mean"].between(1, 5).all()


# --- report -------------------------------------------------------------------------------------

def test_report_renders_in_headless_chromium(scored, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    page = tmp_path / "report.html"
    report = build_report(scored, page)
    assert len(report.plots) == 4 and all(Path(p).stat().st_size > 10_000 for p in report.plots)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert 'data-plots="4/4"' in dom.stdout, dom.stderr[-2000:]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "corpus-report.png"
    shot.unlink(missing_ok=True)
    subprocess.run([chromium, *flags, "--window-size=1200,2400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.stat().st_size > 20_000


def test_a_report_over_an_earlier_one_says_why_a_plot_is_missing_and_leaves_none_of_the_old(scored, tmp_path):
    page = tmp_path / "report.html"
    assert len(build_report(scored, page).plots) == 4
    source = tmp_path / "short.csv"
    source.write_text("id,body,created_at\n1,ok,2023\n2,fine,20230105\n")
    plain = run_corpus(job([source], tmp_path / "plain", group_column=None), LocalEngine())
    assert plain.counts["time_unparsed"] == 1  # a year alone
    report = build_report(tmp_path / "plain", page)  # one row has a time: the over-time plots are drawn
    kept = sorted(p.name for p in (tmp_path / "report-plots").iterdir())
    assert kept == ["shares_over_time.png", "vad_over_time.png"] == sorted(Path(p).name for p in report.plots)
    html = page.read_text()
    assert "the run was given no group column" in html
    assert "no term reached" in html and "None: no scored post is 20-300 characters long" in html
    assert "manifest.json keeps the first 1,000" in html


def test_a_second_run_into_a_folder_being_written_is_refused(tmp_path):
    from affectlab.corpus.run import LOCK_FILE
    from affectlab.files import exclusive_lock

    source = tmp_path / "posts.csv"
    write_bad_csv(source)
    (tmp_path / "out").mkdir()
    with exclusive_lock(tmp_path / "out" / LOCK_FILE) as held:
        assert held
        with pytest.raises(ResumeError, match="another `affectlab corpus run` is writing to this folder"):
            run_corpus(job([source], tmp_path / "out"), LocalEngine())
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [LOCK_FILE]
    assert run_corpus(job([source], tmp_path / "out"), LocalEngine()).state == "complete"


def test_an_unknown_bucket_is_refused_before_anything_is_read_or_written(tmp_path):
    with pytest.raises(OptionError, match="bucket must be one of"):
        run_corpus(job([tmp_path / "missing.csv"], tmp_path / "out"), LocalEngine(), bucket="decade")
    assert not (tmp_path / "out").exists()


def test_report_refuses_an_unfinished_run(tmp_path):
    with pytest.raises(ReportError, match="no manifest.json"):
        build_report(tmp_path, tmp_path / "r.html")


# --- Ray ----------------------------------------------------------------------------------------

def test_ray_engine_gives_the_same_results_as_local(tmp_path):
    pytest.importorskip("ray")
    source = tmp_path / "posts.csv"
    write_bad_csv(source)
    local = run_corpus(job([source], tmp_path / "local", chunk_rows=3), LocalEngine(threads=1))
    remote = run_corpus(job([source], tmp_path / "ray", chunk_rows=3), RayEngine(workers=2, threads_per_worker=1))
    assert remote.engine["workers"] == 2 and remote.chunks["scored_now"] == 4
    assert remote.counts == local.counts and remote.row_errors == local.row_errors
    assert scores(tmp_path / "ray") == scores(tmp_path / "local")
    same = compare_scores(tmp_path / "local", tmp_path / "ray")
    assert same == {"rows_compared": 10, "label_sets_differ": 0, "max_abs_score_diff": 0.0}


@pytest.mark.parametrize("make", [lambda: LocalEngine(threads=-1), lambda: RayEngine(workers=0),
                                  lambda: RayEngine(threads_per_worker="2"), lambda: RayEngine(workers=1.5)])
def test_engines_refuse_a_count_that_is_not_a_whole_number_of_at_least_1(make):
    with pytest.raises(OptionError, match="must be a whole number of at least 1"):
        make()


# --- bench and CLI ------------------------------------------------------------------------------

def test_bench_configurations():
    assert parse_configs("local,ray:1,ray:2", 2) == [
        ("local", ["--engine", "local", "--threads", "2"]),
        ("ray:1", ["--engine", "ray", "--workers", "1", "--threads", "2"]),
        ("ray:2", ["--engine", "ray", "--workers", "2", "--threads", "1"]),
    ]
    with pytest.raises(OptionError, match="ray:<workers>"):
        parse_configs("local,spark", 2)
    rng = random.Random(0)
    assert len({vary("Nice work.", rng) for _ in range(50)}) > 5


@needs_data
def test_bench_input_repeats_real_texts(tmp_path):
    path = build_input(DATA_DIR, 1_000, tmp_path / "posts.parquet")
    table = pq.read_table(path)
    assert table.num_rows == 1_000 and table.column_names == ["id", "body", "created_at", "community"]
    assert pa.types.is_timestamp(table.column("created_at").type) and table.column("created_at").type.tz == "UTC"
    first = table.column("created_at").to_pylist()[0]
    assert datetime(2014, 1, 1, tzinfo=UTC) <= first < datetime(2024, 1, 1, tzinfo=UTC)


def test_cli_run_and_report(tmp_path):
    source = tmp_path / "posts.csv"
    write_bad_csv(source)
    cli = [sys.executable, "-m", "affectlab"]
    run = subprocess.run([*cli, "corpus", "run", str(source), "--text-column", "body", "--time-column", "created_at",
                          "-o", str(tmp_path / "out"), "--chunk-rows", "4", "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "10 rows: 7 scored, 1 without text, 2 with errors" in run.stdout.replace("\n", " ")
    report = subprocess.run([*cli, "corpus", "report", str(tmp_path / "out"), "-o", str(tmp_path / "r.html")],
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "r-plots" / "shares_over_time.png").exists()


def test_cli_counts_the_row_problems_it_does_not_show(tmp_path):
    source = tmp_path / "posts.csv"
    source.write_text("id,body\n" + "".join(f"{i},\n" for i in range(7)) + "7,one post with text\n")
    run = subprocess.run([sys.executable, "-m", "affectlab", "corpus", "run", str(source), "--text-column", "body",
                          "-o", str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    shown = run.stdout.replace("\n", " ")
    assert shown.count("row problem:") == 5 and "… and 2 more row problems (all are in manifest.json" in shown


@pytest.mark.parametrize("arguments, message", [
    (["nothing-*.csv", "-o", "x"], "matches no file"),
    (["{source}", "-o", "x", "--text-column", "content"], "no column 'content'"),
    (["{source}", "-o", "x", "--engine", "spark"], "--engine must be one of local, ray"),
    (["{source}", "-o", "x", "--chunk-rows", "0"], "chunk_rows must be a whole number of at least 1"),
])
def test_cli_bad_arguments_get_one_clear_line(tmp_path, arguments, message):
    source = tmp_path / "posts.csv"
    write_bad_csv(source)
    arguments = [a.replace("{source}", str(source)) for a in arguments]
    done = subprocess.run([sys.executable, "-m", "affectlab", "corpus", "run", *arguments],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and message in done.stderr.replace("\n", " "), done.stderr
    assert "Traceback" not in done.stderr
