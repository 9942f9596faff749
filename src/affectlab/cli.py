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

from affectlab.dialogue.artifact import CAUSE_MODEL, TURN_MODEL
from affectlab.errors import AffectlabError
from affectlab.datasets import DEFAULT_DATA_DIR
from affectlab.text import DEFAULT_MODEL, DEFAULT_RUNTIME, RUNTIMES, Analyzer, TextAffect

app = typer.Typer(help="Emotion intelligence for text and conversations, offline.", no_args_is_help=True, add_completion=False)
train_app = typer.Typer(help="Reproduce a shipped model from ../shared/data.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure a model on a held-out split; JSON lands under reports/.", no_args_is_help=True)
bench_app = typer.Typer(help="Speed and memory, measured against a baseline run side by side; JSON under reports/. "
                             "Without a subcommand: the text model against roberta-base.", invoke_without_command=True)
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")

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
        elif isinstance(value, (list, tuple)):
            for each in value:
                parts += [flag, str(each)]
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


EMOTION_STYLE = {"anger": "red", "disgust": "green", "fear": "magenta", "joy": "yellow", "sadness": "blue",
                 "surprise": "cyan", "neutral": "dim"}


def render_conversation(result, with_causes: bool = True) -> None:
    """Each turn with its emotion; the spans that cause a later turn's emotion are underlined in that
    emotion's colour, and each emotional turn lists its causes."""
    from rich.text import Text

    table = Table(title=f"{len(result.turns)} turns ({result.windows} window{'s' if result.windows > 1 else ''})",
                  title_justify="left", show_lines=False)
    for column in ("#", "speaker", "turn", "emotion", "causes"):
        table.add_column(column, overflow="fold")
    marks: dict[int, list] = {}
    for turn in result.turns:
        for cause in turn.causes:
            marks.setdefault(cause.turn, []).append((cause, turn.emotion))
    for turn in result.turns:
        text = Text(turn.text)
        for cause, emotion in marks.get(turn.index, []):
            text.stylize(f"underline {EMOTION_STYLE[emotion]}", cause.start, cause.end)
        style = EMOTION_STYLE[turn.emotion]
        causes = ", ".join(f"{c.turn} ({c.score:.2f})" for c in turn.causes)
        if not causes and with_causes and turn.emotion != "neutral":
            causes = "none found"
        table.add_row(str(turn.index), Text(turn.speaker), text, Text(f"{turn.emotion} {turn.emotions[turn.emotion]:.2f}", style=style),
                      causes)
    out.print(table)


@app.command()
def conversation(
    path: Annotated[Path, typer.Argument(help="json (list of {speaker, text}), jsonl, or csv with speaker,text columns.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the result as JSON here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    causes: Annotated[bool, typer.Option(help="Find the causes of every non-neutral turn.")] = True,
    turn_model: ModelOpt = TURN_MODEL,
    cause_model: ModelOpt = CAUSE_MODEL,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads (default: all cores).")] = None,
) -> None:
    """Emotion of every turn in context, and the turns and spans that cause each emotion."""
    from affectlab.dialogue import ConversationAnalyzer, read_conversation
    from affectlab.io import atomic_write_text

    with user_errors():
        turns = read_conversation(path)
        analyzer = ConversationAnalyzer(turn_model, cause_model, threads=threads)
        with err.status(f"analyzing {len(turns)} turns"):
            result = analyzer.analyze(turns, causes=causes)
    document = json.dumps(result.to_dict(), ensure_ascii=False, indent=2)
    if output is not None:
        atomic_write_text(output, document + "\n")
        err.print(f"written: {output}")
    if as_json:
        out.print_json(document)
    else:
        render_conversation(result, with_causes=causes)


@train_app.command("text")
def train_text_command(
    data: DataOpt = DEFAULT_DATA_DIR,
    out_dir: Annotated[Path, typer.Option("--out", help="Where the artifact is written.")] = Path("runs/text-minilm"),
    epochs: int = 3,
    seed: int = 13,
    batch_size: int = 32,
    threads: int = 2,
    limit: Annotated[Optional[int], typer.Option(help="Use only the first N training texts (smoke runs).")] = None,
    teacher: Annotated[Optional[Path], typer.Option(
        help="A `train vad-teacher` run folder: learn VAD from its ratings of GoEmotions train as well.")] = None,
    teacher_weight: float = 0.5,
) -> None:
    """Fine-tune the default text model (GoEmotions + EmoBank); thresholds tuned on dev."""
    from affectlab.train.text import TextRecipe, train_text

    recipe = TextRecipe(data_dir=data, out_dir=out_dir, epochs=epochs, seed=seed, batch_size=batch_size,
                        threads=threads, limit=limit, teacher=teacher, teacher_weight=teacher_weight)
    run_training(train_text, recipe)


@train_app.command("vad-teacher")
def train_vad_teacher_command(
    data: DataOpt = DEFAULT_DATA_DIR,
    out_dir: Annotated[Path, typer.Option("--out", help="Where the ratings are written.")] = Path("runs/vad-teacher"),
    epochs: int = 3,
    seed: int = 13,
    threads: int = 2,
    limit: Annotated[Optional[int], typer.Option(help="Use only the first N texts of each set (smoke runs).")] = None,
) -> None:
    """Fine-tune all-mpnet-base-v2 on EmoBank and rate GoEmotions train with it (for `train text --teacher`)."""
    from affectlab.train.vad_teacher import TeacherRecipe, train_vad_teacher

    recipe = TeacherRecipe(data_dir=data, out_dir=out_dir, epochs=epochs, seed=seed, threads=threads, limit=limit)
    summary = with_training_progress(train_vad_teacher, recipe)
    out.print(f"ratings of {summary['texts']} texts written to {out_dir} "
              f"(best dev valence r {summary['best_dev_valence_pearson']:.3f})")


def with_training_progress(train, recipe):
    """Run a recipe with a progress bar, dev metrics printed after every epoch; returns what it returns."""
    with user_errors(), progress_bar() as progress:
        bar = progress.add_task("training", total=None)

        def on_progress(record: dict) -> None:
            if record.get("task") == "dev":
                progress.console.print({k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()})
                return
            description = f"epoch {record['epoch']} loss {record['loss']:.3f}" if "loss" in record else record["task"]
            progress.update(bar, completed=record["step"], total=record["total"], description=description)

        return train(recipe, on_progress)


def run_training(train, recipe) -> None:
    """Train an artifact with a progress bar and say where it was written."""
    config = with_training_progress(train, recipe)
    kept = f", kept: epoch {config.trained['kept_epoch']}" if "kept_epoch" in config.trained else ""
    out.print(f"artifact written to {recipe.out_dir or Path('runs') / recipe.name} "
              f"(epochs done: {config.trained['epochs_done']}{kept})")


def _train_dialogue(task: str, data: Path, out_dir: Optional[Path], epochs: int, seed: int, threads: int,
                    limit: Optional[int], teacher: Optional[Path] = None) -> None:
    from affectlab.train.dialogue import DialogueRecipe, train_dialogue

    run_training(train_dialogue, DialogueRecipe(task=task, data_dir=data, out_dir=out_dir, epochs=epochs, seed=seed,
                                                threads=threads, limit=limit, teacher=teacher))


LimitOpt = Annotated[Optional[int], typer.Option(help="Use only the first N dialogues of each split (smoke runs).")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="Where the artifact is written (default runs/<name>).")]


@train_app.command("turns")
def train_turns_command(data: DataOpt = DEFAULT_DATA_DIR, out_dir: OutOpt = None, epochs: int = 2, seed: int = 13,
                        threads: int = 1, limit: LimitOpt = None) -> None:
    """Fine-tune the turn-emotion model on DailyDialog train; neutral bias tuned on validation."""
    _train_dialogue("turn-emotions", data, out_dir, epochs, seed, threads, limit)


@train_app.command("causes")
def train_causes_command(
    data: DataOpt = DEFAULT_DATA_DIR, out_dir: OutOpt = None, epochs: int = 3, seed: int = 13, threads: int = 1,
    limit: LimitOpt = None,
    teacher: Annotated[Optional[Path], typer.Option(
        help="A `train cause-teacher` run folder: learn its ratings of DailyDialog train as well.")] = None,
) -> None:
    """Fine-tune the emotion-cause model (turns and spans) on RECCON-DD train; threshold tuned on valid."""
    _train_dialogue("causes", data, out_dir, epochs, seed, threads, limit, teacher)


@train_app.command("cause-teacher")
def train_cause_teacher_command(
    data: DataOpt = DEFAULT_DATA_DIR,
    out_dir: Annotated[Path, typer.Option("--out", help="Where weights and ratings are written.")] = Path(
        "runs/cause-teacher-mpnet"),
    epochs: int = 1,
    seed: int = 13,
    targets: Annotated[int, typer.Option(help="DailyDialog train targets to rate.")] = 8000,
    threads: int = 2,
    limit: Annotated[Optional[int], typer.Option(
        help="Use only the first N dialogues of each RECCON split and rate N targets (smoke runs).")] = None,
) -> None:
    """Fine-tune all-mpnet-base-v2 as a cause model on RECCON-DD and rate DailyDialog train with it
    (for `train causes --teacher`)."""
    from affectlab.train.cause_teacher import CauseTeacherRecipe, train_cause_teacher

    recipe = CauseTeacherRecipe(data_dir=data, out_dir=out_dir, epochs=epochs, seed=seed, targets=targets,
                                threads=threads, limit=limit)
    summary = with_training_progress(train_cause_teacher, recipe)
    out.print(f"ratings of {summary['targets_rated']} targets written to {out_dir} "
              f"(dev macro-F1 {summary['dev']['macro_f1']:.3f}, span F1_pos {summary['dev']['span_f1_pos']:.3f})")


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


def _conversation_eval(ctx: typer.Context, name: str, runner, data: Path, reports_dir: Path, threads: Optional[int],
                       limit: Optional[int], models: dict):
    from affectlab.dialogue import ConversationAnalyzer
    from affectlab.evaluate.report import write_report

    with user_errors():
        analyzer = ConversationAnalyzer(**models, threads=threads)
        with progress_bar() as progress:
            bar = progress.add_task(name, total=None)
            report = runner(analyzer, data, on_progress=lambda n: progress.advance(bar, n), limit=limit)
        path = write_report(f"eval-{name}", report, invoked_command(ctx), reports_dir)
    err.print(f"report: {path}")
    return report


@eval_app.command("dailydialog")
def eval_dailydialog_command(ctx: typer.Context, data: DataOpt = DEFAULT_DATA_DIR,
                             reports_dir: ReportsOpt = Path("reports"),
                             threads: Annotated[Optional[int], typer.Option(help="CPU threads.")] = None,
                             limit: LimitOpt = None, model: ModelOpt = TURN_MODEL) -> None:
    """Turn emotions in context: DailyDialog test and RECCON-IEMOCAP turns (F1 without neutral)."""
    from affectlab.evaluate.dialogue import eval_dailydialog

    report = _conversation_eval(ctx, "dailydialog", eval_dailydialog, data, reports_dir, threads, limit,
                                {"turn_model": model})
    table = Table(title="turn emotions (test)", title_justify="left")
    for column in ("set", "turns", "micro-F1 w/o neutral", "weighted-F1 w/o neutral", "accuracy"):
        table.add_column(column)
    for name in ("dailydialog", "reccon_iemocap"):
        m = report[name]
        table.add_row(name, str(m["turns"]), f"{m['micro_f1_without_neutral']:.3f}",
                      f"{m['weighted_f1_without_neutral']:.3f}", f"{m['accuracy']:.3f}")
    out.print(table)


@eval_app.command("reccon")
def eval_reccon_command(ctx: typer.Context, data: DataOpt = DEFAULT_DATA_DIR,
                        reports_dir: ReportsOpt = Path("reports"),
                        threads: Annotated[Optional[int], typer.Option(help="CPU threads.")] = None,
                        limit: LimitOpt = None, model: ModelOpt = CAUSE_MODEL) -> None:
    """Emotion causes: entailment (Pos/Neg/macro-F1) and spans (EM_pos, F1_pos, F1) on RECCON-DD and IEMOCAP test."""
    from affectlab.evaluate.dialogue import eval_reccon

    report = _conversation_eval(ctx, "reccon", eval_reccon, data, reports_dir, threads, limit,
                                {"cause_model": model})
    table = Table(title=f"RECCON test (pair threshold {report['threshold']:.2f}, tuned on DD valid)", title_justify="left")
    for column in ("set", "pairs", "Pos.F1", "Neg.F1", "macro-F1", "EM_pos", "F1_pos", "span F1", "target-only macro-F1"):
        table.add_column(column)
    for name in ("dailydialog_test", "iemocap_test"):
        m = report[name]
        e, s = m["entailment"], m["spans"]
        table.add_row(name, str(m["pairs"]), f"{e['pos_f1']:.3f}", f"{e['neg_f1']:.3f}", f"{e['macro_f1']:.3f}",
                      f"{s['em_pos']:.3f}", f"{s['f1_pos']:.3f}", f"{s['f1']:.3f}",
                      f"{m['baseline_target_is_its_own_cause']['macro_f1']:.3f}")
    out.print(table)


@app.command("bench-conversation")
def bench_conversation_command(
    ctx: typer.Context, data: DataOpt = DEFAULT_DATA_DIR, turns: int = 30, rounds: int = 5, threads: int = 2,
    reports_dir: ReportsOpt = Path("reports"),
) -> None:
    """Seconds for one conversation end to end (emotions + causes), beside scoring its turns as plain texts."""
    from affectlab.evaluate.bench_conversation import bench_conversation
    from affectlab.evaluate.report import write_report

    with user_errors():
        with err.status("benchmarking") as status:
            report = bench_conversation(data, turns, rounds, threads, on_step=lambda s: status.update(f"benchmarking: {s}"))
        path = write_report("bench-conversation", report, invoked_command(ctx), reports_dir)
    out.print(f"{report['turns']}-turn conversation ({report['non_neutral_turns']} emotional turns) on {threads} threads: "
              f"{report['conversation_seconds']:.2f} s end to end ({report['every_turn_emotional_seconds']:.2f} s if "
              f"every turn were emotional); its turns as plain texts "
              f"{report['baseline_seconds']:.2f} s (ratio {report['ratio_to_baseline']:.1f}); "
              f"first call with model loading {report['first_call_seconds_including_model_load']:.1f} s")
    err.print(f"report: {path}")


@bench_app.callback()
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
    if ctx.invoked_subcommand is not None:
        return
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


from affectlab import cli_empathy  # noqa: E402,F401  (registers respond, train sem|strategies, eval sem|strategies|hef)
from affectlab import cli_prompting  # noqa: E402,F401  (registers prompt-eval, heart)
from affectlab import cli_internals  # noqa: E402,F401  (registers probe, directions, steer, eval probes|steering)
from affectlab import cli_corpus  # noqa: E402,F401  (registers corpus run|report, bench corpus)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
