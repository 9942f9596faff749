"""The ``affectlab`` command line: each command is a thin layer over the library; this module renders."""

from __future__ import annotations

import json
import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from affectlab.errors import AffectlabError
from affectlab.evaluate.datasets import DEFAULT_DATA_DIR
from affectlab.text import DEFAULT_MODEL, DEFAULT_RUNTIME, RUNTIMES, Analyzer, TextAffect

app = typer.Typer(help="Emotion intelligence for text, offline.", no_args_is_help=True, add_completion=False)
train_app = typer.Typer(help="Reproduce a shipped model from ../shared/data.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure a model on a held-out split; JSON lands under reports/.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")

out = Console()
err = Console(stderr=True)

ModelOpt = Annotated[str, typer.Option(help="Shipped model name or artifact folder.")]
RuntimeOpt = Annotated[str, typer.Option(help=f"One of {', '.join(RUNTIMES)}.")]
DataOpt = Annotated[Path, typer.Option(help="The shared data folder.")]
ReportsOpt = Annotated[Path, typer.Option(help="Where JSON reports are written.")]


@contextmanager
def user_errors():
    """Turn problems with the user's input into one red line and exit code 2."""
    try:
        yield
    except AffectlabError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def invoked_command(ctx: typer.Context) -> str:
    """The running command with every option spelled out, so a report says how to re-run it."""
    parts = ["affectlab", *ctx.command_path.split()[1:]]
    for name, value in ctx.params.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else f"--no-{flag[2:]}")
        elif value is not None:
            parts += [flag, str(value)]
    return shlex.join(parts)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=False,
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
    for label, words in (result.evidence or {}).items():
        table.add_row(f"evidence: {label}", ", ".join(f"{w.word} ({w.score:+.2f})" for w in words) or "-")
    out.print(table)


@app.command()
def analyze(
    text: Annotated[Optional[str], typer.Argument(help="A text to analyze.")] = None,
    input: Annotated[Optional[Path], typer.Option("--input", "-i", help="csv/jsonl/parquet/txt file.")] = None,
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="jsonl/csv/parquet output.")] = None,
    explain: Annotated[bool, typer.Option(help="Add evidence words (integrated gradients).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    model: ModelOpt = DEFAULT_MODEL,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    batch_size: Annotated[int, typer.Option(help="Encoder windows per batch.")] = 64,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads (default: all cores).")] = None,
) -> None:
    """Analyze one text, or every row of a file (-i) into an output file (-o)."""
    if (text is None) == (input is None):
        err.print("[red]error:[/red] give either a text or --input FILE")
        raise typer.Exit(2)
    with user_errors():
        analyzer = Analyzer(model, runtime=runtime, batch_size=batch_size, threads=threads)
        if text is not None:
            result = analyzer.analyze(text, explain=explain)
            if as_json:
                out.print_json(json.dumps(result.to_dict()))
            else:
                render_affect(text, result)
            return
        _analyze_file(analyzer, input, output, text_column, explain)


def _analyze_file(analyzer: Analyzer, source: Path, target: Optional[Path], text_column: str, explain: bool) -> None:
    from affectlab.io import count_rows
    from affectlab.text.files import analyze_file

    target = target or source.with_name(f"{source.stem}.affect.jsonl")
    total = count_rows(source) if source.is_file() else None
    with progress_bar() as progress:
        task = progress.add_task(f"analyzing {source.name}", total=total)
        summary = analyze_file(
            analyzer, source, target, text_column=text_column, explain=explain,
            on_rows=lambda n: progress.advance(task, n),
        )
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
        table.add_row(
            str(row["row"]), row["text"], ", ".join(row["labels"]), row["ekman"] or "",
            f"{valence:.2f}" if valence is not None else "", row["error"] or "",
        )
    out.print(table)


@train_app.command("text")
def train_text_command(
    data: DataOpt = DEFAULT_DATA_DIR,
    out_dir: Annotated[Path, typer.Option("--out", help="Where the artifact is written.")] = Path("runs/text-minilm"),
    epochs: int = 3,
    seed: int = 13,
    batch_size: int = 32,
    threads: int = 2,
    limit: Annotated[Optional[int], typer.Option(help="Use only the first N training texts (smoke runs).")] = None,
) -> None:
    """Fine-tune the default text model (GoEmotions + EmoBank); thresholds tuned on dev."""
    from affectlab.train.text import TextRecipe, train_text

    recipe = TextRecipe(data_dir=data, out_dir=out_dir, epochs=epochs, seed=seed, batch_size=batch_size,
                        threads=threads, limit=limit)
    with user_errors(), progress_bar() as progress:
        task = progress.add_task("training", total=None)

        def on_progress(record: dict) -> None:
            progress.update(task, completed=record["step"], total=record["total"],
                            description=f"epoch {record['epoch']} loss {record.get('loss', 0):.3f}")
            if record["task"] == "dev":
                progress.console.print({k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()})

        config = train_text(recipe, on_progress)
    out.print(f"artifact written to {out_dir} (epochs done: {config.trained['epochs_done']})")


def _eval(ctx: typer.Context, name: str, runner, model: str, runtime: str, data: Path, split: str, reports_dir: Path) -> dict:
    from affectlab.evaluate.report import write_report

    with user_errors():
        analyzer = Analyzer(model, runtime=runtime)
        with progress_bar() as progress:
            task = progress.add_task(f"{name} {split}", total=None)
            report = runner(analyzer, data, split, on_progress=lambda n: progress.advance(task, n))
        path = write_report(f"eval-{name}-{split}-{runtime}", report, invoked_command(ctx), reports_dir)
    err.print(f"report: {path}")
    return report


@eval_app.command("goemotions")
def eval_goemotions_command(
    ctx: typer.Context, data: DataOpt = DEFAULT_DATA_DIR, split: str = "test", model: ModelOpt = DEFAULT_MODEL,
    runtime: RuntimeOpt = DEFAULT_RUNTIME, reports_dir: ReportsOpt = Path("reports"),
) -> None:
    """Macro-F1 over the 28 labels (tuned and at 0.5), Ekman and sentiment, per-label F1."""
    from affectlab.evaluate.text import eval_goemotions

    report = _eval(ctx, "goemotions", eval_goemotions, model, runtime, data, split, reports_dir)
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
    ctx: typer.Context, data: DataOpt = DEFAULT_DATA_DIR, split: str = "test", model: ModelOpt = DEFAULT_MODEL,
    runtime: RuntimeOpt = DEFAULT_RUNTIME, reports_dir: ReportsOpt = Path("reports"),
) -> None:
    """Pearson r and mean absolute error for valence, arousal, dominance."""
    from affectlab.evaluate.text import eval_emobank

    report = _eval(ctx, "emobank", eval_emobank, model, runtime, data, split, reports_dir)
    table = Table(title=f"EmoBank {split} ({report['texts']} texts, {runtime})", title_justify="left")
    for column in ("dimension", "Pearson r", "MAE"):
        table.add_column(column)
    for dim, r in report["pearson"].items():
        table.add_row(dim, f"{r:.3f}", f"{report['mae'][dim]:.3f}")
    out.print(table)


@app.command()
def bench(
    ctx: typer.Context,
    data: DataOpt = DEFAULT_DATA_DIR,
    limit: Annotated[Optional[int], typer.Option(help="Use the first N test texts only.")] = None,
    rounds: int = 2,
    runtimes: Annotated[str, typer.Option(help="Comma-separated runtimes to measure.")] = "onnx,onnx-int8,torch",
    baseline: Annotated[bool, typer.Option(help="Also run the roberta-base baseline.")] = True,
    reports_dir: ReportsOpt = Path("reports"),
) -> None:
    """Texts/second and peak memory on GoEmotions test, side by side with a roberta-base classifier."""
    from affectlab.evaluate.bench import BASELINE, bench_text
    from affectlab.evaluate.report import write_report

    chosen = tuple(r.strip() for r in runtimes.split(",") if r.strip())
    unknown = [r for r in chosen if r not in RUNTIMES]
    if unknown:
        err.print(f"[red]error:[/red] unknown runtime(s) {', '.join(unknown)}; use {', '.join(RUNTIMES)}")
        raise typer.Exit(2)
    with user_errors():
        with err.status("benchmarking") as status:
            report = bench_text(chosen, data, limit, rounds, with_baseline=baseline,
                                on_step=lambda s: status.update(f"benchmarking: {s}"))
        path = write_report("bench-text", report, invoked_command(ctx), reports_dir)
    table = Table(title=f"{report['texts']} GoEmotions test texts, {report['threads']} threads", title_justify="left")
    for column in ("configuration", "texts/s", "× baseline", "peak RSS MB", "alone vs batched: max Δp, label sets changed"):
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
    err.print(f"report: {path}")


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
