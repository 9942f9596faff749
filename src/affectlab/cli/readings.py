"""Commands of the fitted reading blocks: ``train readings`` and ``eval emoint|wassa22|emobank-perspectives``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from affectlab.cli._util import (
    REPORTS,
    DataDirOpt,
    ModelOpt,
    ReportsDirOpt,
    RuntimeOpt,
    eval_app,
    out,
    progress_bar,
    save_report,
    train_app,
    user_errors,
    with_training_progress,
)
from affectlab.datasets import DEFAULT_DATA_DIR, EMOINT_SPLITS
from affectlab.errors import OptionError
from affectlab.text import DEFAULT_MODEL, DEFAULT_RUNTIME, Analyzer

# the splits each data set has with gold: WASSA-22's test gold is not public
SPLITS = {"emoint": tuple(EMOINT_SPLITS), "wassa22": ("train", "dev"), "emobank-perspectives": ("train", "dev", "test")}
LimitOpt = Annotated[int | None, typer.Option(min=1, help="Only an evenly spread N texts of each set (smoke runs).")]


@train_app.command("readings")
def train_readings_command(
    model: ModelOpt = DEFAULT_MODEL,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the grown artifact is written.")]
    = Path("runs/text-minilm-readings"),
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    name: Annotated[str | None, typer.Option(help="Name of the new artifact (default: the source model's).")] = None,
    seed: int = 13,
    threads: int = 2,
    limit: Annotated[int | None, typer.Option(
        min=2, help="At most N texts of each set, a seeded sample (smoke runs).")] = None,
) -> None:
    """Fit intensity (EmoInt), writer and reader VAD (EmoBank), empathy and distress (WASSA-22) as ridge rows of
    a text model's head, on its frozen sentence vectors; penalties chosen on dev. Writes a copy of the model."""
    from affectlab.train.readings import ReadingsRecipe, train_readings

    recipe = ReadingsRecipe(model=model, out_dir=output, data_dir=data_dir, name=name, seed=seed, threads=threads,
                            limit=limit)
    config = with_training_progress(train_readings, recipe)
    table = Table(title=f"dev Pearson r of the fitted readings ({config.name} → {output})", title_justify="left")
    for column in ("block", "output", "data", "penalty", "dev r"):
        table.add_column(column)
    for block, outputs in config.trained["readings"]["blocks"].items():
        for label, r in outputs.items():
            table.add_row(block, label, r["data"], f"{r['alpha']:g}", f"{r['dev_pearson']:.3f}")
    out.print(table)


def _run(ctx: typer.Context, name: str, runner, model: str, runtime: str, data_dir: Path, split: str,
         limit: int | None, reports_dir: Path) -> dict:
    """Run ``runner`` and save its report as ``eval-NAME-SPLIT-RUNTIME`` (``-limit-N`` on a subset)."""
    with user_errors():
        if split not in SPLITS[name]:
            raise OptionError(f"--split must be one of {', '.join(SPLITS[name])} for {name}, not {split!r}")
        analyzer = Analyzer(model, runtime=runtime)
        with progress_bar() as progress:
            task = progress.add_task(f"{name} {split}", total=None)
            report = runner(analyzer, data_dir, split, on_progress=lambda n: progress.advance(task, n), limit=limit)
        suffix = f"-limit-{limit}" if limit else ""
        save_report(ctx, f"eval-{name}-{split}-{runtime}{suffix}", report, reports_dir)
    return report


@eval_app.command("emoint")
def eval_emoint_command(
    ctx: typer.Context, model: ModelOpt = DEFAULT_MODEL, data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    split: str = "test", runtime: RuntimeOpt = DEFAULT_RUNTIME, limit: LimitOpt = None,
    reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Intensity on EmoInt (WASSA-2017): Pearson r per emotion and their mean (best system: 0.747)."""
    from affectlab.evaluate.readings import eval_emoint

    report = _run(ctx, "emoint", eval_emoint, model, runtime, data_dir, split, limit, reports_dir)
    table = Table(title=f"EmoInt {split} ({report['model']['name']}, {runtime})", title_justify="left")
    for column in ("emotion", "tweets", "Pearson r", "r, gold ≥ 0.5", "MAE"):
        table.add_column(column)
    for emotion, e in report["emotions"].items():
        table.add_row(emotion, str(e["tweets"]), f"{e['pearson']:.3f}", f"{e['pearson_gold_0.5_1']:.3f}",
                      f"{e['mae']:.3f}")
    table.add_row("mean", "", f"{report['mean_pearson']:.3f}", f"{report['mean_pearson_gold_0.5_1']:.3f}", "",
                  style="bold")
    out.print(table)


@eval_app.command("wassa22")
def eval_wassa22_command(
    ctx: typer.Context, model: ModelOpt = DEFAULT_MODEL, data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    split: Annotated[str, typer.Option(help="dev (the test gold is not public) or train.")] = "dev",
    runtime: RuntimeOpt = DEFAULT_RUNTIME, limit: LimitOpt = None, reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Empathy and distress of WASSA-22 essays (Pearson r on the dev gold) and the essay's emotion (macro-F1)."""
    from affectlab.evaluate.readings import eval_wassa22

    report = _run(ctx, "wassa22", eval_wassa22, model, runtime, data_dir, split, limit, reports_dir)
    emotion = report["essay_emotion"]
    out.print(f"WASSA-22 {split} ({report['essays']} essays): Pearson r empathy {report['empathy']['pearson']:.3f}, "
              f"distress {report['distress']['pearson']:.3f}, mean {report['mean_pearson']:.3f}; essay emotion "
              f"(Ekman top label) macro-F1 {emotion['macro_f1']:.3f}, accuracy {emotion['accuracy']:.3f}")


@eval_app.command("emobank-perspectives")
def eval_emobank_perspectives_command(
    ctx: typer.Context, model: ModelOpt = DEFAULT_MODEL, data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    split: str = "test", runtime: RuntimeOpt = DEFAULT_RUNTIME, limit: LimitOpt = None,
    reports_dir: ReportsDirOpt = REPORTS,
) -> None:
    """Writer and reader VAD on EmoBank: Pearson r per dimension and perspective, and the hidden-anger rule."""
    from affectlab.evaluate.readings import eval_emobank_perspectives

    report = _run(ctx, "emobank-perspectives", eval_emobank_perspectives, model, runtime, data_dir, split, limit,
                  reports_dir)
    table = Table(title=f"EmoBank {split} by perspective ({report['texts']} texts, {runtime})", title_justify="left")
    for column in ("dimension", "writer r", "reader r", "gap r", "vad output r (writer / reader)"):
        table.add_column(column)
    for dim in report["pearson"]["writer"]:
        combined = report["combined_vad_output_pearson"]
        table.add_row(dim, f"{report['pearson']['writer'][dim]:.3f}", f"{report['pearson']['reader'][dim]:.3f}",
                      f"{report['gap_pearson'][dim]:.3f}",
                      f"{combined['writer'][dim]:.3f} / {combined['reader'][dim]:.3f}")
    out.print(table)
    hidden = report["hidden_anger"]
    out.print(f"hidden anger ({hidden['rule']}): {hidden['gold']} texts by the gold ratings, {hidden['flagged']} "
              f"flagged by the model, {hidden['flagged_and_gold']} of them in gold; "
              f"{hidden['gold_among_most_negative_gaps']} of them among the {hidden['gold']} texts of most negative "
              f"predicted valence gap (chance: {hidden['base_rate'] * hidden['gold']:.1f})")
