"""Commands of the text model: ``analyze``, ``train text|vad-teacher``, ``eval goemotions|emobank``, ``bench text``
(also plain ``bench``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from affectlab.cli._util import (
    REPORTS,
    DataDirOpt,
    JsonOpt,
    MaxCharsOpt,
    MaxWindowsOpt,
    ModelOpt,
    OnLongOpt,
    ReportsDirOpt,
    RuntimeOpt,
    ThreadsOpt,
    app,
    bench_app,
    err,
    eval_app,
    fail,
    out,
    progress_bar,
    run_training,
    save_report,
    train_app,
    user_errors,
    with_training_progress,
)
from affectlab.datasets import DEFAULT_DATA_DIR
from affectlab.text import (
    DEFAULT_MAX_CHARS,
    DEFAULT_MAX_WINDOWS,
    DEFAULT_MODEL,
    DEFAULT_RUNTIME,
    RUNTIMES,
    Analyzer,
    TextAffect,
)


def _top(scores: dict[str, float], k: int = 3) -> str:
    best = sorted(scores.items(), key=lambda kv: -kv[1])[:k]
    return ", ".join(f"{name} {value:.2f}" for name, value in best)


def render_affect(text: str, result: TextAffect) -> None:
    table = Table(title=text if len(text) <= 100 else text[:97] + "...", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("labels", ", ".join(f"{label} {result.emotions[label]:.2f}" for label in result.labels))
    table.add_row("top emotions", _top(result.emotions, 5))
    table.add_row("ekman", _top(result.ekman))
    table.add_row("sentiment", _top(result.sentiment, 2))
    table.add_row("vad (1-5)", "  ".join(f"{k} {v:.2f}" for k, v in result.vad.items()))
    if result.chunks > 1:
        table.add_row("chunks", f"{result.chunks} windows, scores averaged")
    if result.truncated:
        table.add_row("truncated", "only the beginning was read (--max-chars, --max-windows)")
    for label, words in (result.evidence or {}).items():
        table.add_row(f"evidence: {label}", ", ".join(f"{w.word} ({w.score:+.2f})" for w in words) or "-")
    out.print(table)


@app.command()
def analyze(
    text: Annotated[str | None, typer.Argument(help="A text to analyze.")] = None,
    input: Annotated[Path | None, typer.Option("--input", "-i", help="csv/jsonl/parquet/txt file.",
                                               readable=False)] = None,  # checked by affectlab, in one line
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    encoding: Annotated[str, typer.Option(help="Encoding of a csv/jsonl/txt input, e.g. latin-1.")] = "utf-8",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="jsonl/csv/parquet output.")] = None,
    explain: Annotated[bool, typer.Option(help="Add evidence words (integrated gradients).")] = False,
    as_json: JsonOpt = False,
    model: ModelOpt = DEFAULT_MODEL,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    batch_size: Annotated[int, typer.Option(help="Encoder windows per batch.")] = 64,
    threads: ThreadsOpt = None,
    max_chars: MaxCharsOpt = DEFAULT_MAX_CHARS,
    max_windows: MaxWindowsOpt = DEFAULT_MAX_WINDOWS,
    on_long: OnLongOpt = "error",
) -> None:
    """Emotions, sentiment and VAD of one text, or of every row of a file (-i) into an output file (-o)."""
    if (text is None) == (input is None):
        fail("give either a text or --input FILE")
    with user_errors():
        if input is not None:  # a file problem is one line now, not after loading the model
            output = _checked_paths(input, output, encoding)
        analyzer = Analyzer(model, runtime=runtime, batch_size=batch_size, threads=threads,
                            max_chars=max_chars or None, max_windows=max_windows or None, on_long=on_long)
        if text is not None:
            result = analyzer.analyze(text, explain=explain)
            if as_json:
                out.print_json(json.dumps(result.to_dict()))
            else:
                render_affect(text, result)
            return
        _analyze_file(analyzer, input, output, text_column, explain, encoding, as_json)


def _checked_paths(source: Path, target: Path | None, encoding: str) -> Path:
    """The output path (default: beside the input), once both files are known to be usable."""
    from affectlab.io import check_input, check_output

    check_input(source, encoding)
    target = target or source.with_name(f"{source.stem}.affect.jsonl")
    check_output(target)
    return target


def _analyze_file(analyzer: Analyzer, source: Path, target: Path, text_column: str, explain: bool,
                  encoding: str, as_json: bool) -> None:
    from affectlab.io import count_rows
    from affectlab.text.files import analyze_file

    total = count_rows(source)
    with progress_bar() as progress:
        task = progress.add_task(f"analyzing {source.name}", total=total)
        summary = analyze_file(
            analyzer, source, target, text_column=text_column, explain=explain, encoding=encoding,
            on_rows=lambda n: progress.advance(task, n),
        )
    if as_json:  # the run's summary; the rows themselves are in the output file
        # as ASCII-escaped text: print_json would decode the escapes again, and a lone surrogate cannot be printed
        out.print(json.dumps(summary.to_dict(), indent=2), markup=False, highlight=False, soft_wrap=True)
        return
    _render_preview(summary.preview)
    out.print(f"{summary.rows} rows → {summary.output} ({summary.errors} with errors)", highlight=False, soft_wrap=True)
    table = Table(title="rows per label", title_justify="left")
    table.add_column("label")
    table.add_column("rows", justify="right")
    for label, count in list(summary.label_counts.items())[:10]:
        table.add_row(label, str(count))
    out.print(table)
    for message in summary.first_errors[:5]:
        err.print(f"[yellow]row error:[/yellow] {message}", highlight=False)


def _render_preview(preview: list[dict]) -> None:
    table = Table(title="first rows", title_justify="left")
    for column in ("row", "text", "labels", "ekman", "valence", "error"):
        table.add_column(column)
    for row in preview:
        valence = row["valence"]
        shown = row["text"].encode("utf-8", "replace").decode("utf-8")  # a lone surrogate cannot be printed
        table.add_row(
            str(row["row"]), shown, ", ".join(row["labels"]), row["ekman"] or "",
            f"{valence:.2f}" if valence is not None else "", row["error"] or "",
        )
    out.print(table)


@train_app.command("text")
def train_text_command(
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the artifact is written.")]
    = Path("runs/text-minilm"),
    epochs: int = 3,
    seed: int = 13,
    batch_size: int = 32,
    threads: int = 2,
    limit: Annotated[int | None, typer.Option(help="Use only the first N training texts (smoke runs).")] = None,
    teacher: Annotated[Path | None, typer.Option(
        help="A `train vad-teacher` run folder: learn VAD from its ratings of GoEmotions train as well.")] = None,
    teacher_weight: float = 0.5,
) -> None:
    """The text model (GoEmotions + EmoBank); thresholds tuned on dev."""
    from affectlab.train.text import TextRecipe, train_text

    recipe = TextRecipe(data_dir=data_dir, out_dir=output, epochs=epochs, seed=seed, batch_size=batch_size,
                        threads=threads, limit=limit, teacher=teacher, teacher_weight=teacher_weight)
    run_training(train_text, recipe)


@train_app.command("vad-teacher")
def train_vad_teacher_command(
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the ratings are written.")]
    = Path("runs/vad-teacher"),
    epochs: int = 3,
    seed: int = 13,
    threads: int = 2,
    limit: Annotated[int | None, typer.Option(help="Use only the first N texts of each set (smoke runs).")] = None,
) -> None:
    """All-mpnet-base-v2 fine-tuned on EmoBank rates GoEmotions train (for `train text --teacher`)."""
    from affectlab.train.vad_teacher import TeacherRecipe, train_vad_teacher

    recipe = TeacherRecipe(data_dir=data_dir, out_dir=output, epochs=epochs, seed=seed, threads=threads, limit=limit)
    summary = with_training_progress(train_vad_teacher, recipe)
    out.print(f"ratings of {summary['texts']} texts written to {output} "
              f"(best dev valence r {summary['best_dev_valence_pearson']:.3f})")


def _eval(ctx: typer.Context, name: str, runner, model: str, runtime: str, data_dir: Path, split: str,
          reports_dir: Path) -> dict:
    with user_errors():
        analyzer = Analyzer(model, runtime=runtime)
        with progress_bar() as progress:
            task = progress.add_task(f"{name} {split}", total=None)
            report = runner(analyzer, data_dir, split, on_progress=lambda n: progress.advance(task, n))
        save_report(ctx, f"eval-{name}-{split}-{runtime}", report, reports_dir)
    return report


@eval_app.command("goemotions")
def eval_goemotions_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR, split: str = "test", model: ModelOpt = DEFAULT_MODEL,
    runtime: RuntimeOpt = DEFAULT_RUNTIME, reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Text model on GoEmotions: macro-F1 over the 28 labels (tuned and at 0.5), Ekman, sentiment."""
    from affectlab.evaluate.text import eval_goemotions

    report = _eval(ctx, "goemotions", eval_goemotions, model, runtime, data_dir, split, reports_dir)
    table = Table(title=f"GoEmotions {split} ({report['texts']} texts, {runtime})", title_justify="left")
    for column in ("labels", "macro-F1 tuned", "macro-F1 @0.5", "micro-F1 tuned"):
        table.add_column(column)
    for block in ("goemotions", "ekman", "sentiment"):
        m = report[block]
        table.add_row(block, f"{m['macro_f1_tuned']:.3f}", f"{m['macro_f1_at_0.5']:.3f}", f"{m['micro_f1_tuned']:.3f}")
    out.print(table)
    out.print(f"expected calibration error (28 labels): {report['goemotions']['expected_calibration_error']:.4f}")


@eval_app.command("emobank")
def eval_emobank_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR, split: str = "test", model: ModelOpt = DEFAULT_MODEL,
    runtime: RuntimeOpt = DEFAULT_RUNTIME, reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Text model on EmoBank: Pearson r and mean absolute error of valence, arousal, dominance."""
    from affectlab.evaluate.text import eval_emobank

    report = _eval(ctx, "emobank", eval_emobank, model, runtime, data_dir, split, reports_dir)
    table = Table(title=f"EmoBank {split} ({report['texts']} texts, {runtime})", title_justify="left")
    for column in ("dimension", "Pearson r", "MAE"):
        table.add_column(column)
    for dim, r in report["pearson"].items():
        table.add_row(dim, f"{r:.3f}", f"{report['mae'][dim]:.3f}")
    out.print(table)


BenchLimitOpt = Annotated[int | None, typer.Option(help="Use the first N test texts only.")]
RuntimesOpt = Annotated[str, typer.Option(help="Comma-separated runtimes to measure.")]
BaselineOpt = Annotated[bool, typer.Option(help="Also run the roberta-base baseline.")]
RUNTIMES_MEASURED = "onnx,onnx-int8,torch"


@bench_app.command("text")
def bench_text_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR, limit: BenchLimitOpt = None, rounds: int = 2,
    runtimes: RuntimesOpt = RUNTIMES_MEASURED, baseline: BaselineOpt = True, reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Texts/second and peak memory on GoEmotions test, beside a roberta-base classifier."""
    _bench_text(ctx, data_dir, limit, rounds, runtimes, baseline, reports_dir)


@bench_app.callback()
def bench(
    ctx: typer.Context,
    data_dir: Annotated[Path, typer.Option("--data-dir", hidden=True)] = DEFAULT_DATA_DIR,
    limit: Annotated[int | None, typer.Option(hidden=True)] = None,
    rounds: Annotated[int, typer.Option(hidden=True)] = 2,
    runtimes: Annotated[str, typer.Option(hidden=True)] = RUNTIMES_MEASURED,
    baseline: Annotated[bool, typer.Option(hidden=True)] = True,
    reports_dir: Annotated[Path, typer.Option("--reports-dir", hidden=True)] = REPORTS,
) -> None:
    """Plain ``affectlab bench`` runs ``bench text``, whose options it takes unlisted (the old spelling)."""
    if ctx.invoked_subcommand is None:
        _bench_text(ctx, data_dir, limit, rounds, runtimes, baseline, reports_dir, path="affectlab bench text")


def _bench_text(ctx: typer.Context, data_dir: Path, limit: int | None, rounds: int, runtimes: str, baseline: bool,
                reports_dir: Path, path: str | None = None) -> None:
    from affectlab.evaluate.bench import BASELINE, bench_text

    chosen = tuple(r.strip() for r in runtimes.split(",") if r.strip())
    unknown = [r for r in chosen if r not in RUNTIMES]
    if unknown:
        fail(f"unknown runtime(s) {', '.join(unknown)}; use {', '.join(RUNTIMES)}")
    with user_errors(), err.status("benchmarking") as status:
        report = bench_text(chosen, data_dir, limit, rounds, with_baseline=baseline,
                            on_step=lambda s: status.update(f"benchmarking: {s}"))
    table = Table(title=f"{report['texts']} GoEmotions test texts, {report['threads']} threads", title_justify="left")
    for column in ("configuration", "texts/s", "× baseline", "peak RSS MB",
                   "alone vs batched: max Δp, label sets changed"):
        table.add_column(column)
    for name, r in report["configurations"].items():
        ratio = r.get("ratio_to_baseline")
        shift = r.get("batch_sensitivity")
        table.add_row(
            name, f"{r['texts_per_second']:.0f}", f"{ratio:.2f}" if ratio else "1.00" if name == BASELINE else "-",
            f"{r['peak_rss_mb']:.0f}",
            f"{shift['max_probability_shift']:.4f}, {shift['label_sets_changed']}/{shift['texts']}" if shift else "-",
        )
    out.print(table)
    cold = report["cold_start_seconds"]
    out.print(f"cold start of `affectlab analyze \"...\"`: first run {cold['first_run']:.1f} s "
              f"(builds the ONNX cache), later runs {cold['later_runs']:.2f} s")
    save_report(ctx, "bench-text", report, reports_dir, path)
