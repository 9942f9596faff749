"""Commands of the text model: ``analyze``, ``train text|goemotions|irony|text-teacher|vad-teacher|text-static``,
``eval goemotions|emobank|irony|challenge|bias``, ``bench text`` (also plain ``bench``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from affectlab.cli._util import (
    REPORTS,
    BF16Opt,
    DataDirOpt,
    JsonOpt,
    MaxCharsOpt,
    MaxWindowsOpt,
    ModelOpt,
    OnLongOpt,
    ProfileOpt,
    RefittedOutputOpt,
    ReportsDirOpt,
    RuntimeOpt,
    TextModelOpt,
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
from affectlab.taxonomy import LABEL_SETS, LabelView, PlutchikView
from affectlab.text import (
    DEFAULT_MAX_CHARS,
    DEFAULT_MAX_WINDOWS,
    DEFAULT_MODEL,
    DEFAULT_PROFILE,
    DEFAULT_RUNTIME,
    Analyzer,
    TextAffect,
)


def _top(scores: dict[str, float], k: int = 3) -> str:
    best = sorted(scores.items(), key=lambda kv: -kv[1])[:k]
    return ", ".join(f"{name} {value:.2f}" for name, value in best)


def render_affect(text: str, result: TextAffect, label_set: str | None = None) -> None:
    table = Table(title=text if len(text) <= 100 else text[:97] + "...", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("labels", ", ".join(f"{label} {result.emotions[label]:.2f}" for label in result.labels))
    table.add_row("top emotions", _top(result.emotions, 5))
    table.add_row("ekman", _top(result.ekman))
    table.add_row("sentiment", _top(result.sentiment, 2))
    table.add_row("vad (1-5)", "  ".join(f"{k} {v:.2f}" for k, v in result.vad.items()))
    if result.intensity is not None:
        table.add_row("intensity (0-1)", "  ".join(f"{k} {v:.2f}" for k, v in result.intensity.items()))
    for name, vad in (("writer vad", result.vad_writer), ("reader vad", result.vad_reader)):
        if vad is not None:
            table.add_row(name, "  ".join(f"{k} {v:.2f}" for k, v in vad.items()))
    if result.empathy is not None and result.distress is not None:
        table.add_row("empathy, distress (1-7)", f"{result.empathy:.2f}, {result.distress:.2f}")
    if label_set is not None:
        _add_view(table, result.as_labels(label_set))
    if result.custom is not None:
        custom = result.custom
        table.add_row(f"{custom.model} labels", ", ".join(f"{label} {custom.scores[label]:.2f}"
                                                          for label in custom.labels) or "-")
        table.add_row(f"{custom.model} scores", _top(custom.scores, 5))
    if result.chunks > 1:
        table.add_row("chunks", f"{result.chunks} windows: emotions from the strongest, sentiment and vad averaged")
    for label, span in (result.drivers or {}).items():
        table.add_row(f"driver: {label}", f"characters {span.start:,}-{span.end:,} (window {span.window})")
    if result.truncated:
        table.add_row("truncated", "only the beginning was read (--max-chars, --max-windows)")
    for label, words in (result.evidence or {}).items():
        table.add_row(f"evidence: {label}", ", ".join(f"{w.word} ({w.score:+.2f})" for w in words) or "-")
    out.print(table)


def _add_view(table: Table, view: LabelView) -> None:
    table.add_row(f"as {view.label_set}", ", ".join(f"{label} {view.scores[label]:.2f}" for label in view.labels))
    if isinstance(view, PlutchikView):
        table.add_row("plutchik intensity", ", ".join(view.intensity.values()) or "-")
        table.add_row("plutchik dyads", ", ".join(f"{d} {view.dyads[d]:.2f}" for d in view.dyad_labels) or "-")


@app.command()
def analyze(
    text: Annotated[str | None, typer.Argument(help="A text to analyze.")] = None,
    input: Annotated[Path | None, typer.Option("--input", "-i", help="csv/tsv/jsonl/parquet/txt file.",
                                               readable=False)] = None,  # checked by affectlab, in one line
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    encoding: Annotated[str, typer.Option(help="Encoding of a csv/jsonl/txt input, e.g. latin-1.")] = "utf-8",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="jsonl/csv/parquet output.")] = None,
    explain: Annotated[bool, typer.Option(help="Add evidence words (integrated gradients).")] = False,
    labels: Annotated[str | None, typer.Option(
        help=f"Also give the emotions in this label set: {', '.join(LABEL_SETS)} (see docs/taxonomy.md).")] = None,
    as_json: JsonOpt = False,
    model: TextModelOpt = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
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
    if text is not None and output is not None:
        fail("--output writes the rows of an --input file; for one text, --json gives its result as JSON")
    if labels is not None and labels not in LABEL_SETS:
        fail(f"--labels takes one of {', '.join(LABEL_SETS)}, not {labels!r}")
    with user_errors():
        if input is not None:  # a file problem is one line now, not after loading the model
            output = _checked_paths(input, output, encoding)
        analyzer = Analyzer(model, profile=profile, runtime=runtime, batch_size=batch_size, threads=threads,
                            max_chars=max_chars or None, max_windows=max_windows or None, on_long=on_long)
        if text is not None:
            result = analyzer.analyze(text, explain=explain)
            if as_json:
                extra = {"as_labels": result.as_labels(labels).to_dict()} if labels else {}
                out.print_json(json.dumps({**result.to_dict(), **extra}))
            else:
                render_affect(text, result, labels)
            return
        _analyze_file(analyzer, input, output, text_column, explain, encoding, as_json, labels)


def _checked_paths(source: Path, target: Path | None, encoding: str) -> Path:
    """The output path (default: beside the input), once both files are known to be usable."""
    from affectlab.io import check_input, check_output

    check_input(source, encoding)
    target = target or source.with_name(f"{source.stem}.affect.jsonl")
    check_output(target)
    return target


def _analyze_file(analyzer: Analyzer, source: Path, target: Path, text_column: str, explain: bool,
                  encoding: str, as_json: bool, label_set: str | None) -> None:
    from affectlab.io import count_rows
    from affectlab.text.files import analyze_file

    total = count_rows(source)
    with progress_bar() as progress:
        task = progress.add_task(f"analyzing {source.name}", total=total)
        summary = analyze_file(
            analyzer, source, target, text_column=text_column, explain=explain, encoding=encoding,
            label_set=label_set, on_rows=lambda n: progress.advance(task, n),
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
        help="A `train text-teacher` run folder: learn its ratings of GoEmotions train and of other registers.")]
    = None,
    soft_weight: Annotated[float, typer.Option(
        help="Share of the GoEmotions class loss given to the teacher's probabilities.")] = 0.5,
    irony: Annotated[bool, typer.Option(help="Train the irony output on SemEval-2018 irony tweets.")] = True,
    vad_teacher: Annotated[Path | None, typer.Option(
        help="A `train vad-teacher` run folder: learn VAD from its ratings of GoEmotions train as well.")] = None,
    teacher_weight: Annotated[float, typer.Option(help="Weight of the loss towards a teacher's VAD.")] = 0.5,
    bf16: BF16Opt = False,
) -> None:
    """The text model (GoEmotions + EmoBank, irony tweets, a teacher's ratings); thresholds tuned on dev."""
    from affectlab.heads.layout import BLOCKS, BLOCKS_BEFORE_IRONY
    from affectlab.train.text import TextRecipe, train_text

    recipe = TextRecipe(data_dir=data_dir, out_dir=output, epochs=epochs, seed=seed, batch_size=batch_size,
                        blocks=BLOCKS if irony else BLOCKS_BEFORE_IRONY, threads=threads, limit=limit,
                        teacher=teacher, soft_weight=soft_weight, vad_teacher=vad_teacher,
                        teacher_weight=teacher_weight, bf16=bf16)
    run_training(train_text, recipe)


@train_app.command("irony")
def train_irony_command(
    model: ModelOpt = DEFAULT_MODEL,
    output: RefittedOutputOpt = Path("runs/text-minilm-irony"),
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    ordinary: Annotated[int, typer.Option(
        min=1, help="GoEmotions train comments taken as not ironic (a seeded sample).")] = 15_000,
    literal_tweets: Annotated[str, typer.Option(
        help="EmoInt emotions whose train tweets are taken as not ironic, comma-separated ('' for none).")]
    = "anger,fear,joy,sadness",
    seed: int = 13,
    threads: int = 2,
    limit: Annotated[int | None, typer.Option(
        min=2, help="At most N tweets of each part and emotion and N GoEmotions dev comments (smoke runs).")]
    = None,
) -> None:
    """Refit a text model's irony row on its frozen sentence vectors with ordinary comments and plainly emotional
    tweets as counter-examples, then choose where the irony rule starts on GoEmotions dev. Writes a copy of the
    model."""
    from affectlab.train.irony_refit import IronyRecipe, train_irony

    emotions = tuple(name.strip() for name in literal_tweets.split(",") if name.strip())
    recipe = IronyRecipe(model=model, out_dir=output, data_dir=data_dir, ordinary=ordinary, literal_tweets=emotions,
                         seed=seed, threads=threads, limit=limit)
    config = with_training_progress(train_irony, recipe)
    dev = config.trained["irony_refit"]["dev"]
    rule = "none (irony changes no other output)" if config.irony_rule is None else f"from {config.irony_rule}"
    out.print(f"irony F1 on the dev tweets {dev['irony_f1']:.3f} (penalty {dev['l2']:g}); rule {rule}; "
              f"written to {output}")


@train_app.command("goemotions")
def train_goemotions_command(
    model: ModelOpt = DEFAULT_MODEL,
    output: RefittedOutputOpt = Path("runs/text-minilm-goemotions"),
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    seed: int = 13,
    threads: int = 2,
    limit: Annotated[int | None, typer.Option(
        min=2, help="At most N GoEmotions train and N dev comments (smoke runs).")] = None,
) -> None:
    """Refit a text model's 28 GoEmotions rows on gold labels alone, on its frozen sentence vectors (the
    penalty chosen on dev; a row that moves with names more than the source's keeps the source's), and tune
    their thresholds on dev. Writes a copy of the model."""
    from affectlab.train.goemotions_refit import GoEmotionsRecipe, train_goemotions

    recipe = GoEmotionsRecipe(model=model, out_dir=output, data_dir=data_dir, seed=seed, threads=threads, limit=limit)
    config = with_training_progress(train_goemotions, recipe)
    dev = config.trained["goemotions_refit"]["dev"]
    kept = ", ".join(dev["source_rows_kept"]) or "none"
    out.print(f"dev cross-entropy {dev['cross_entropy']:.4f} (was {dev['before']['cross_entropy']:.4f}; penalty "
              f"{dev['l2']:g}); dev macro-F1 at 0.5 {dev['macro_f1_at_0.5']:.3f}, tuned {dev['macro_f1_tuned']:.3f} "
              f"(in sample); rows kept for moving with names: {kept}; written to {output}")


@train_app.command("text-teacher")
def train_text_teacher_command(
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    output: Annotated[Path, typer.Option("--output", "-o", help="The teacher's run folder (weights and ratings).")]
    = Path("runs/text-teacher-mpnet"),
    epochs: int = 2,
    seed: int = 13,
    per_source: Annotated[int, typer.Option(help="Rate at most this many texts of each other register.")] = 10_000,
    threads: int = 2,
    limit: Annotated[int | None, typer.Option(help="Use only the first N texts of each set (smoke runs).")] = None,
    bf16: BF16Opt = False,
) -> None:
    """All-mpnet-base-v2 trained by the text recipe rates GoEmotions train and other registers (for
    `train text --teacher`). A finished teacher in the folder is not trained again, only re-rates."""
    from affectlab.train.text_teacher import TextTeacherRecipe, train_text_teacher

    recipe = TextTeacherRecipe(data_dir=data_dir, out_dir=output, epochs=epochs, seed=seed, per_source=per_source,
                               threads=threads, limit=limit, bf16=bf16)
    summary = with_training_progress(train_text_teacher, recipe)
    sources = summary["sources"]
    out.print(f"ratings of {sum(s['texts'] for s in sources.values()):,} texts from {len(sources)} sources "
              f"written to {output}")


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


@train_app.command("text-static")
def train_text_static_command(
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the artifact is written.")]
    = Path("runs/text-static-minilm"),
    source: Annotated[str, typer.Option(
        help="The text model whose encoder the token vectors are distilled from, or 'base' (all-MiniLM-L6-v2).")]
    = DEFAULT_MODEL,
    teacher: Annotated[str, typer.Option(help="The text model whose outputs are soft targets.")] = DEFAULT_MODEL,
    dims: Annotated[int, typer.Option(help="Dimensions of the token vectors (PCA).")] = 256,
    precision: Annotated[str, typer.Option(help="Token vectors as shipped: int8 (one scale per token) or fp16.")]
    = "int8",
    epochs: int = 6,
    seed: int = 13,
    threads: int = 1,
    limit: Annotated[int | None, typer.Option(help="Use only the first N texts of each split (smoke runs).")] = None,
) -> None:
    """The fast profile's model: static token vectors distilled from the text model, trained with their own head
    on GoEmotions and EmoBank; thresholds tuned and the epoch kept on dev."""
    from affectlab.train.static import StaticRecipe, train_static

    recipe = StaticRecipe(data_dir=data_dir, out_dir=output, source=source, teacher=teacher, dims=dims,
                          precision=precision, epochs=epochs, seed=seed, threads=threads, limit=limit)
    run_training(train_static, recipe)


def _eval(ctx: typer.Context, name: str, runner, model: str | None, runtime: str, data_dir: Path, split: str,
          reports_dir: Path, profile: str = DEFAULT_PROFILE) -> dict:
    """Run ``runner`` and save its report as ``eval-NAME-SPLIT-RUNTIME`` (fast profile: ``eval-NAME-SPLIT-fast``)."""
    with user_errors():
        analyzer = Analyzer(model, profile=profile, runtime=runtime)
        ctx.params["model"] = model or analyzer.model_name  # the report's re-run line names the model that ran
        with progress_bar() as progress:
            task = progress.add_task(f"{name} {split}", total=None)
            report = runner(analyzer, data_dir, split, on_progress=lambda n: progress.advance(task, n))
        suffix = runtime if profile == DEFAULT_PROFILE else profile
        save_report(ctx, f"eval-{name}-{split}-{suffix}", report, reports_dir)
    return report


@eval_app.command("goemotions")
def eval_goemotions_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR, split: str = "test", model: TextModelOpt = None,
    profile: ProfileOpt = DEFAULT_PROFILE, runtime: RuntimeOpt = DEFAULT_RUNTIME, reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Text model on GoEmotions: macro-F1 over the 28 labels (tuned and at 0.5), Ekman, sentiment."""
    from affectlab.evaluate.text import eval_goemotions

    report = _eval(ctx, "goemotions", eval_goemotions, model, runtime, data_dir, split, reports_dir, profile)
    shown = report["model"]["runtime"]
    table = Table(title=f"GoEmotions {split} ({report['texts']} texts, {shown})", title_justify="left")
    for column in ("labels", "macro-F1 tuned", "macro-F1 @0.5", "micro-F1 tuned"):
        table.add_column(column)
    for block in ("goemotions", "ekman", "sentiment"):
        m = report[block]
        table.add_row(block, f"{m['macro_f1_tuned']:.3f}", f"{m['macro_f1_at_0.5']:.3f}", f"{m['micro_f1_tuned']:.3f}")
    out.print(table)
    ge = report["goemotions"]
    out.print(f"expected calibration error (28 labels): {ge['expected_calibration_error']:.4f}")
    out.print(f"28 labels with thresholds tuned on this split's other fifths: "
              f"{ge['macro_f1_thresholds_cross_fitted_on_this_split']:.3f}; swept on this split itself (how "
              f"roberta-base-go_emotions' 0.541 was measured): {ge['macro_f1_thresholds_swept_on_this_split']:.3f}")


@eval_app.command("emobank")
def eval_emobank_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR, split: str = "test", model: TextModelOpt = None,
    profile: ProfileOpt = DEFAULT_PROFILE, runtime: RuntimeOpt = DEFAULT_RUNTIME, reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Text model on EmoBank: Pearson r and mean absolute error of valence, arousal, dominance."""
    from affectlab.evaluate.text import eval_emobank

    report = _eval(ctx, "emobank", eval_emobank, model, runtime, data_dir, split, reports_dir, profile)
    table = Table(title=f"EmoBank {split} ({report['texts']} texts, {report['model']['runtime']})",
                  title_justify="left")
    for column in ("dimension", "Pearson r", "MAE"):
        table.add_column(column)
    for dim, r in report["pearson"].items():
        table.add_row(dim, f"{r:.3f}", f"{report['mae'][dim]:.3f}")
    out.print(table)


@eval_app.command("challenge")
def eval_challenge_command(
    ctx: typer.Context, model: ModelOpt = DEFAULT_MODEL, runtime: RuntimeOpt = DEFAULT_RUNTIME,
    items: Annotated[Path | None, typer.Option(
        help="A JSONL file of items in the suite's form (default: the suite shipped with affectlab).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N items of each category (smoke runs).")]
    = None,
    reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Text model on the hand-written challenge suite (negation, irony, intensity, slang, emoji, long texts,
    invariance): pass rate per category, against 0.85 overall and 0.70 for each."""
    from affectlab.evaluate.challenge import eval_challenge

    with user_errors():
        analyzer = Analyzer(model, runtime=runtime)
        with progress_bar() as progress:
            task = progress.add_task("challenge suite", total=None)
            report = eval_challenge(analyzer, items, limit, on_progress=lambda n: progress.advance(task, n))
        save_report(ctx, "eval-challenge", report, reports_dir)
    target = report["target"]
    table = Table(title=f"challenge suite ({report['items']} items, {runtime})", title_justify="left")
    for column in ("category", "tests", "items", "passed", "pass rate", f"≥ {target['per_category']:.2f}"):
        table.add_column(column, justify="left" if column in ("category", "tests") else "right")
    for name, c in report["categories"].items():
        table.add_row(name, c["about"], str(c["items"]), str(c["passed"]), f"{c['pass_rate']:.2f}",
                      "yes" if c["meets_target"] else "[red]no[/red]")
    table.add_row("overall", f"target {target['overall']:.2f}", str(report["items"]), str(report["passed"]),
                  f"{report['pass_rate']:.2f}", "yes" if report["meets_target"] else "[red]no[/red]", style="bold")
    out.print(table)
    out.print(f"{len(report['failures'])} failing items, each with what the model said, in the report")


@eval_app.command("irony")
def eval_irony_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    split: Annotated[str, typer.Option(help="Part of the irony tweets: heldout (default), dev or train.")]
    = "heldout",
    model: ModelOpt = DEFAULT_MODEL, runtime: RuntimeOpt = DEFAULT_RUNTIME, reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Text model's irony output on SemEval-2018 irony tweets: F1 of the ironic class; and the irony rule's false
    alarms on EmoInt's tweets (test beside heldout)."""
    from affectlab.evaluate.text import eval_irony

    report = _eval(ctx, "irony", eval_irony, model, runtime, data_dir, split, reports_dir)
    out.print(f"irony {split} ({report['texts']} tweets, {report['ironic']} ironic): F1 of the ironic class "
              f"{report['ironic_f1_tuned']:.3f} at the dev-tuned threshold {report['threshold']:.2f} "
              f"({report['ironic_f1_at_0.5']:.3f} at 0.5); ironic tweets read as positive: "
              f"{report['positive_sentiment_top_share']['ironic']:.1%}")
    literal = report["literal_tweets"]
    if report["rule_threshold"] is not None:
        shares = ", ".join(f"{e} {share:.1%}" for e, share in literal["rule_flagged_share"].items())
        out.print(f"the irony rule (from {report['rule_threshold']}) flags plainly emotional tweets "
                  f"({literal['dataset']}): {shares}; joyful ones read as positive: "
                  f"{literal['joy_positive_top_share']:.1%}")


@eval_app.command("bias")
def eval_bias_command(
    ctx: typer.Context, model: ModelOpt = DEFAULT_MODEL, runtime: RuntimeOpt = DEFAULT_RUNTIME,
    permutations: Annotated[int, typer.Option(min=99, help="Random re-partitions per WEAT/WEFAT p-value.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the permutations.")] = 0,
    words: Annotated[Path | None, typer.Option(
        help="A JSON file of WEAT word sets in the packaged form (default: affectlab's own).")] = None,
    templates: Annotated[Path | None, typer.Option(
        help="A JSON file of counterfactual templates in the packaged form (default: affectlab's own).")] = None,
    reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Bias audit of a text model: WEAT effect sizes on its encoder (pleasant/unpleasant vs identity words) and
    counterfactual swaps of names, gender, nationality and religion, against the bound (no emotion moves by
    more than 0.1 on more than 5% of a dimension's swaps)."""
    from affectlab.evaluate.bias import eval_bias

    with user_errors():
        analyzer = Analyzer(model, runtime=runtime)
        with progress_bar() as progress:
            task = progress.add_task("bias audit", total=None)
            report = eval_bias(analyzer, words=words, templates=templates, permutations=permutations, seed=seed,
                               on_progress=lambda n: progress.advance(task, n))
        save_report(ctx, "eval-bias", report, reports_dir)
    _render_weat(report["weat"]["results"])
    _render_swaps(report["counterfactual"])


def _render_weat(results: dict) -> None:
    columns = [(encoder, context) for encoder, contexts in results.items() for context in contexts]
    table = Table(title="WEAT effect size, pleasant vs unpleasant (* Holm-adjusted p < 0.05)", title_justify="left")
    table.add_column("targets (x vs y)", no_wrap=True)
    for encoder, context in columns:
        table.add_column(f"{encoder}, {context}", justify="right")
    first = results[columns[0][0]][columns[0][1]]["tests"]
    for row, test in enumerate(first):
        cells = []
        for encoder, context in columns:
            result = results[encoder][context]["tests"][row]
            cells.append(f"{result['effect_size']:+.2f}{'*' if result['p_two_sided_holm'] < 0.05 else ''}")
        table.add_row(test["name"], *cells)
    out.print(table)


def _render_swaps(counterfactual: dict) -> None:
    bound = counterfactual["bound"]
    table = Table(title=f"counterfactual swaps: share moving > {bound['threshold']} (bound: {bound['max_share']:.0%})",
                  title_justify="left")
    for column in ("dimension", "swaps", "worst emotion", "its share", "any emotion", "holds"):
        table.add_column(column, justify="left" if column in ("dimension", "worst emotion") else "right")
    for name, d in counterfactual["dimensions"].items():
        b = d["bound"]
        table.add_row(name, f"{d['swaps']:,}", b["worst_output"] or "-", f"{b['worst_output_share']:.3f}",
                      f"{b['any_emotion_share']:.3f}", "yes" if b["holds"] else "[red]no[/red]")
    out.print(table)
    out.print("the model holds the bound" if bound["holds"] else "[red]the model does not hold the bound[/red]; "
              "worst swaps and pairs are in the report")


BenchLimitOpt = Annotated[int | None, typer.Option(help="Use the first N test texts only.")]
RuntimesOpt = Annotated[str, typer.Option(
    help="Comma-separated configurations to measure: the runtimes onnx, onnx-int8, torch; fast (the fast profile); "
         "vader (the VADER lexicon).")]
BaselineOpt = Annotated[bool, typer.Option(help="Also run the roberta-base baseline.")]
RUNTIMES_MEASURED = "onnx,onnx-int8,torch,fast,vader"


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
    from affectlab.evaluate.bench import BASELINE, CONFIGURATIONS, bench_text

    chosen = tuple(r.strip() for r in runtimes.split(",") if r.strip())
    unknown = [r for r in chosen if r not in CONFIGURATIONS]
    if unknown:
        fail(f"unknown configuration(s) {', '.join(unknown)}; use {', '.join(CONFIGURATIONS)}")
    with user_errors(), err.status("benchmarking") as status:
        report = bench_text(chosen, data_dir, limit, rounds, with_baseline=baseline,
                            on_step=lambda s: status.update(f"benchmarking: {s}"))
    table = Table(title=f"{report['texts']} GoEmotions test texts, {report['threads']} threads", title_justify="left")
    for column in ("configuration", "texts/s", "× baseline", "peak RSS MB",
                   "alone vs batched: max Δp, label sets changed", "3-way sentiment macro-F1"):
        table.add_column(column)
    for name, r in report["configurations"].items():
        ratio = r.get("ratio_to_baseline")
        shift = r.get("batch_sensitivity")
        sentiment = r.get("three_way_sentiment")
        table.add_row(
            name, f"{r['texts_per_second']:.0f}", f"{ratio:.2f}" if ratio else "1.00" if name == BASELINE else "-",
            f"{r['peak_rss_mb']:.0f}",
            f"{shift['max_probability_shift']:.4f}, {shift['label_sets_changed']}/{shift['texts']}" if shift else "-",
            f"{sentiment['macro_f1']:.3f}" if sentiment else "-",
        )
    out.print(table)
    cold = report["cold_start_seconds"]
    out.print(f"cold start of `affectlab analyze \"...\"`: first run {cold['first_run']:.1f} s "
              f"(builds the ONNX cache), later runs {cold['later_runs']:.2f} s"
              + (f", --profile fast {cold['fast_profile']:.2f} s" if "fast_profile" in cold else ""))
    save_report(ctx, "bench-text", report, reports_dir, path)
