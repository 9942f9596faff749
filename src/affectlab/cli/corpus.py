"""Commands of corpus analytics: ``corpus run``, ``corpus report`` and ``bench corpus``."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from affectlab.cli._util import (
    REPORTS,
    App,
    DataDirOpt,
    MaxCharsOpt,
    MaxWindowsOpt,
    OnLongOpt,
    ProfileOpt,
    ReportsDirOpt,
    RuntimeOpt,
    TextModelOpt,
    app,
    bench_app,
    err,
    fail,
    out,
    positive_ints,
    progress_bar,
    save_report,
    user_errors,
)
from affectlab.datasets import DEFAULT_DATA_DIR
from affectlab.text import DEFAULT_MAX_CHARS, DEFAULT_MAX_WINDOWS, DEFAULT_PROFILE, DEFAULT_RUNTIME, RUNTIMES

corpus_app = App(help="Score a corpus of posts at scale, aggregate it, report it.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")
SHOWN_ROW_PROBLEMS = 5


@contextmanager
def _disk_errors():
    """A file the run cannot write (disk full, permissions changed midway): one line, exit 2."""
    try:
        yield
    except OSError as exc:
        fail(f"{exc.filename or 'output'}: {exc.strerror or exc}")


@corpus_app.command("run")
def corpus_run(
    inputs: Annotated[list[str], typer.Argument(help="Input files or glob patterns (csv, tsv, jsonl, parquet, txt).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Results folder (created; a re-run resumes).")],
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    time_column: Annotated[str | None, typer.Option(help="Column holding the post time (any common format).")] = None,
    group_column: Annotated[str | None, typer.Option(help="Column to compare groups by (community, source...).")]
    = None,
    engine: Annotated[str, typer.Option(help="local or ray.")] = "local",
    address: Annotated[str | None, typer.Option(help="Ray: cluster address (auto, ray://host:10001); default a "
                                                        "private instance on this machine.")] = None,
    workers: Annotated[int | None, typer.Option(help="Ray: actors (default: cluster CPUs / threads).")] = None,
    threads: Annotated[int | None, typer.Option(help="Threads of the model (local: default all cores; Ray: per "
                                                        "actor, default 1).")] = None,
    chunk_rows: Annotated[int, typer.Option(help="Rows per chunk: the unit of resuming and of Ray work.")] = 10_000,
    bucket: Annotated[str, typer.Option(help="Time bucket: day, week, month, quarter, year.")] = "month",
    model: TextModelOpt = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    batch_size: Annotated[int, typer.Option(help="Encoder windows per batch.")] = 64,
    encoding: Annotated[str, typer.Option(help="Encoding of CSV, TSV, JSONL and TXT inputs (latin-1, cp1252...).")]
    = "utf-8",
    max_chars: MaxCharsOpt = DEFAULT_MAX_CHARS,
    max_windows: MaxWindowsOpt = DEFAULT_MAX_WINDOWS,
    on_long: OnLongOpt = "error",
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Score every post, write Parquet parts, aggregates and a manifest under OUTPUT."""
    from affectlab.corpus import ENGINES, CorpusJob, LocalEngine, RayEngine, run_corpus
    from affectlab.corpus.run import ROW_ERRORS_KEPT

    if engine not in ENGINES:
        fail(f"--engine must be one of {', '.join(ENGINES)}")
    with user_errors(), _disk_errors():
        job = CorpusJob(inputs, str(output), text_column, time_column, group_column, chunk_rows, model, runtime,
                        batch_size, encoding, max_chars or None, max_windows or None, on_long, profile)
        chosen = LocalEngine(threads) if engine == "local" else RayEngine(address, workers, threads or 1)
        with progress_bar() as bar:
            task = bar.add_task("planning", total=None, visible=progress)
            manifest = run_corpus(
                job, chosen, bucket=bucket,
                on_plan=lambda plan, todo: bar.update(task, description="scoring", total=plan.rows,
                                                      completed=plan.rows - sum(c.rows for c in todo)),
                on_chunk=lambda result: bar.advance(task, result.rows),
            )
    counts = manifest.counts
    out.print(f"{counts['rows']:,} rows: {counts['ok']:,} scored, {counts['skipped']:,} without text, "
              f"{counts['errors']:,} with errors; times: {counts['time_missing']:,} missing, "
              f"{counts['time_unparsed']:,} not understood; {manifest.seconds:.1f} s")
    for problem in manifest.file_errors:
        out.print(f"[yellow]skipped file:[/yellow] {escape(problem['error'])}", highlight=False)
    for problem in manifest.row_errors[:SHOWN_ROW_PROBLEMS]:
        out.print(f"[yellow]row problem:[/yellow] {escape(problem['source'])}: {escape(problem['error'])}",
                  highlight=False)
    more = len(manifest.row_errors) - SHOWN_ROW_PROBLEMS
    if more > 0:
        capped = len(manifest.row_errors) == ROW_ERRORS_KEPT
        where = f"manifest.json holds the first {ROW_ERRORS_KEPT:,}" if capped else "all are in manifest.json"
        out.print(f"… and {more:,}{'+' if capped else ''} more row problems ({where}; every row's status is in "
                  "scores/)")
    out.print(f"results in {output}/ (scores/, aggregates/, manifest.json)")


@corpus_app.command("report")
def corpus_report(
    results: Annotated[Path, typer.Argument(help="The output folder of `affectlab corpus run`.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file (PNGs go beside it).")]
    = Path("report.html"),
) -> None:
    """One self-contained HTML report with plots, and the plots as PNGs."""
    from affectlab.corpus.report import build_report

    with user_errors(), _disk_errors():
        report = build_report(results, output)
    folder = Path(report.plots[0]).parent if report.plots else "-"
    out.print(f"{report.html} ({len(report.plots)} plots; PNGs in {folder})")


@bench_app.command("corpus")
def bench_corpus_command(
    ctx: typer.Context,
    rows: Annotated[str, typer.Option(help="Corpus sizes, comma-separated.")] = "100000,1000000",
    configs: Annotated[str, typer.Option(help="local and ray:<workers>, comma-separated; the first is the "
                                              "reference.")] = "local,ray:1,ray:2",
    runtime: Annotated[str, typer.Option(help=f"Model runtime of every run: {', '.join(RUNTIMES)}.")] = DEFAULT_RUNTIME,
    work_dir: Annotated[Path, typer.Option(help="Where inputs and results are built.")] = Path("runs/bench-corpus"),
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    reports_dir: ReportsDirOpt = REPORTS,
    name: Annotated[str, typer.Option(help="Report name: reports/<name>.json.")] = "bench-corpus",
) -> None:
    """Rows/second and peak memory of whole corpus runs: local engine against Ray on this machine."""
    from affectlab.evaluate.bench_corpus import bench_corpus

    sizes = list(positive_ints(rows, "--rows", "100000,1000000"))
    if runtime not in RUNTIMES:
        fail(f"--runtime takes one of {', '.join(RUNTIMES)}")
    with user_errors(), err.status("benchmarking") as status:
        report = bench_corpus(sizes, configs, work_dir, data_dir, runtime,
                              on_step=lambda s: status.update(f"benchmarking: {s}"))
    table = Table(title=f"corpus runs on {report['cores']} cores, runtime {runtime}", title_justify="left")
    for column in ("rows", "configuration", "seconds", "rows/s", "× first", "peak MB", "label sets differ",
                   "max Δ score"):
        table.add_column(column)
    for run in report["runs"]:
        same = run.get("same_scores", {})
        table.add_row(f"{run['rows']:,}", run["configuration"], f"{run['seconds']:.0f}",
                      f"{run['rows_per_second']:.0f}", f"{run.get('throughput_ratio', 1.0):.2f}",
                      str(run["peak_memory_mb"]),
                      str(same.get("label_sets_differ", "-")), f"{same['max_abs_score_diff']:.1e}" if same else "-")
    out.print(table)
    save_report(ctx, name, report, reports_dir)
