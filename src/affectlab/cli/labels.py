"""Commands of heads of one's own: ``train head`` (a user's label set on the text model's sentence vectors) and
``eval head-curve`` (its learning curve on EmpatheticDialogues). ``analyze --model <head folder>`` uses a head."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from affectlab.cli._util import (
    REPORTS,
    DataDirOpt,
    ReportsDirOpt,
    RuntimeOpt,
    TextModelOpt,
    ThreadsOpt,
    eval_app,
    out,
    positive_ints,
    progress_bar,
    save_report,
    train_app,
    user_errors,
    with_training_progress,
)
from affectlab.datasets import DEFAULT_DATA_DIR
from affectlab.text import DEFAULT_MODEL, DEFAULT_RUNTIME


@train_app.command("head")
def train_head_command(
    data: Annotated[Path, typer.Option("--data", help="The labelled file: csv, tsv, jsonl or parquet.",
                                       show_default=False)],
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    label_column: Annotated[str, typer.Option(help="Column holding each row's label (or labels, see "
                                                   "--separator).")] = "label",
    separator: Annotated[str | None, typer.Option(
        help="Multi-label data: what joins a row's labels in the label column, e.g. '|' (a JSONL list needs it "
             "too). Leave out for single-label data.", show_default=False)] = None,
    dev: Annotated[Path | None, typer.Option(
        help="A dev file in the same form, for choosing the penalty and thresholds (default: carve --dev-share of "
             "the rows out of --data).", show_default=False)] = None,
    dev_share: Annotated[float, typer.Option(help="Share of the rows carved out as dev (seeded, stratified).")]
    = 0.2,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where the head is written (default: "
                                                                       "runs/<data file name>-head).",
                                                show_default=False)] = None,
    base_model: Annotated[str, typer.Option(help="The text model whose sentence vectors the head reads: a shipped "
                                                 "name or a text model folder.")] = DEFAULT_MODEL,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    seed: Annotated[int, typer.Option(help="Seed of the dev split.")] = 13,
    threads: ThreadsOpt = None,
    encoding: Annotated[str, typer.Option(help="Encoding of a csv/jsonl file, e.g. latin-1.")] = "utf-8",
) -> None:
    """A head for your own labels (single- or multi-label) on the frozen text model; penalty and thresholds tuned
    on dev; writes an artifact folder with a MODEL_CARD.md that `analyze --model` and Analyzer(model=) take."""
    from affectlab.train.head import HeadRecipe, train_head

    recipe = HeadRecipe(data=data, text_column=text_column, label_column=label_column,
                        out_dir=output or Path("runs") / f"{data.stem}-head", separator=separator, dev=dev,
                        dev_share=dev_share, seed=seed, base_model=base_model, runtime=runtime, threads=threads,
                        encoding=encoding)
    config = with_training_progress(train_head, recipe)
    trained = config.trained
    counts = trained["data"]
    table = Table(title=f"{len(config.labels)} labels, {'multi' if config.multi_label else 'single'}-label: "
                        f"{counts['train_rows']:,} rows to train on, {counts['dev_rows']:,} in dev",
                  title_justify="left")
    for column in ("label", "train rows", "dev rows", "dev F1", *(("threshold",) if config.multi_label else ())):
        table.add_column(column, justify="left" if column == "label" else "right")
    for i, label in enumerate(config.labels):
        table.add_row(label, f"{counts['train_label_counts'].get(label, 0):,}",
                      f"{counts['dev_label_counts'].get(label, 0):,}", f"{trained['dev']['per_label_f1'][label]:.3f}",
                      *((f"{config.thresholds[i]:.2f}",) if config.multi_label else ()))
    out.print(table)
    figures = ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in trained["dev"].items() if k != "per_label_f1")
    out.print(f"dev: {figures} (L2 {trained['l2']:g})", highlight=False)
    out.print(f"head written to {recipe.out_dir}; use it: affectlab analyze \"...\" --model {recipe.out_dir}",
              highlight=False, soft_wrap=True)


@eval_app.command("head-curve")
def eval_head_curve_command(
    ctx: typer.Context,
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    sizes: Annotated[str, typer.Option(help="Training sizes (class-balanced subsamples of ED train); 'all' for "
                                            "the whole split.")] = "100,1000,all",
    seeds: Annotated[str, typer.Option(help="Seeds of the subsamples; each size's figures are their mean.")]
    = "13,14,15",
    model: TextModelOpt = None,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Learning curve of `train head` on EmpatheticDialogues' 32 emotions from the speaker's first utterance:
    test accuracy and macro-F1 for each training size, the penalty chosen on valid."""
    from affectlab.text import Analyzer
    from affectlab.train.head_curve import head_curve

    parts = [part.strip() for part in sizes.split(",")]
    chosen = tuple(None if part == "all" else positive_ints(part, "--sizes", "100,1000,all")[0] for part in parts)
    with user_errors():
        analyzer = Analyzer(model, runtime=runtime)
        with progress_bar() as progress:
            task = progress.add_task("sentence vectors", total=None)
            report = head_curve(analyzer, data_dir, chosen, positive_ints(seeds, "--seeds", "13,14,15"),
                                on_progress=lambda n: progress.advance(task, n))
        save_report(ctx, "eval-head-curve", report, reports_dir)
    table = Table(title=f"{report['dataset']}, {report['text']}: test ({report['rows']['test']:,} conversations)",
                  title_justify="left")
    for column in ("train examples", "per emotion", "accuracy", "macro-F1", "macro-F1 range", "L2 (valid)"):
        table.add_column(column, justify="right")
    for point in report["points"]:
        low, high = point["per_emotion"]
        table.add_row(f"{point['train_examples']:,}", f"{low}-{high}" if low != high else str(low),
                      f"{point['test_accuracy_mean']:.3f}", f"{point['test_macro_f1_mean']:.3f}",
                      "{:.3f}-{:.3f}".format(*point["test_macro_f1_range"]),
                      ", ".join(f"{r['l2']:g}" for r in point["runs"]))
    out.print(table)
    out.print(f"chance: {report['chance']['uniform_accuracy']:.3f} (uniform), "
              f"{report['chance']['majority_accuracy']:.3f} (majority class)")
