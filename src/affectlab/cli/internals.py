"""Commands that look inside the language model: ``probe``, ``directions``, ``steer``,
``eval probes`` and ``eval steering``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from affectlab.cli._llm import DEFAULT_KIND, LlmModelOpt, LlmOpt, SeedOpt, make_llm
from affectlab.cli._util import (
    REPORTS,
    DataDirOpt,
    ReportsDirOpt,
    ThreadsOpt,
    app,
    check_report_output,
    err,
    eval_app,
    fail,
    invoked_command,
    number,
    old_spellings,
    out,
    progress_bar,
    user_errors,
)
from affectlab.datasets import DEFAULT_DATA_DIR

# The dev picks of `affectlab eval steering --method goemotions` for the shipped goemotions directions: layers 5
# and 9 together and each emotion's own strength (reports/eval-steering-goemotions-two-layers.json); the
# scenario mean differences picked layer 9, strength 3 (reports/eval-steering.json).
MethodOpt = Annotated[str, typer.Option(help="Where directions come from: goemotions (emotional against neutral "
                                             "comments), or the packaged scenarios: mean_diff, pca, centered.")]


def _layer_spec(text: str) -> int | tuple[int, ...]:
    """'9' → 9; '8+9+10' → (8, 9, 10): layers steered together."""
    layers = tuple(int(x) for x in text.split("+"))
    return layers[0] if len(layers) == 1 else layers


def _check_method(method: str) -> None:
    from affectlab.evaluate.internals import STEERING_METHODS

    if method not in STEERING_METHODS:
        raise typer.BadParameter(f"unknown --method {method!r}; use one of {', '.join(STEERING_METHODS)}")


def _local_llm(llm: str, llm_model: str | None, threads):
    from affectlab.errors import AffectlabError
    from affectlab.internals import decoder_layers

    if llm == "openai":
        raise AffectlabError("probes, directions and steering read and change a model's layers, which a server does "
                             "not expose: use --llm local (the packaged Gemma 3 270M, or --llm-model with a GGUF file "
                             "or a transformers model folder)")
    lm = make_llm(llm, llm_model, None, None, False, threads, backend="transformers")
    decoder_layers(lm)  # a model whose blocks affectlab cannot find fails here, before any work
    return lm


def _probe_table(report: dict) -> Table:
    table = Table(title=f"Ekman-7 probes on {report['model']} — {report['dataset']} test ({report['items']['test']} "
                        f"balanced items); zero-shot prompting {report['zero_shot_prompting']['accuracy']:.3f}; "
                        "bold: the layer picked on dev")
    for column in ("layer", "dev accuracy", "probe accuracy", "macro-F1",
                   *(f"+{n} tokens" for n in report["persistence"]["accuracy_by_layer"] if n != "0")):
        table.add_column(column, justify="right")
    later = {n: acc for n, acc in report["persistence"]["accuracy_by_layer"].items() if n != "0"}
    for i, p in enumerate(report["probes"]):
        best = p["layer"] == report["best_layer"]["layer"]
        dev = f"{p['dev_accuracy']:.3f}" if "dev_accuracy" in p else "-"
        table.add_row(f"{'[bold]' if best else ''}{p['layer']}", dev, f"{p['accuracy']:.3f}", f"{p['macro_f1']:.3f}",
                      *(f"{acc[i]:.3f}" for acc in later.values()))
    return table


def _run_probes(dataset: str, data_dir: Path, lm, seed: int):
    from affectlab.evaluate.internals import eval_probes

    with progress_bar() as progress:
        bar = progress.add_task(f"probing ({dataset})", total=None)
        return eval_probes(lm, dataset, data_dir, seed=seed, on_progress=lambda k: progress.advance(bar, k))


def _write(report: dict, path: Path, command: str, plot=None) -> None:
    from affectlab.evaluate.report import write_report

    with user_errors():
        written = write_report(path.stem, report, command, path.parent)
        if plot is None:
            err.print(f"report: {written}")
            return
        plot(report, written.with_suffix(".png"))
    err.print(f"report: {written} (plot: {written.with_suffix('.png')})")


@app.command(cls=old_spellings(data="--dataset"))
def probe(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="goemotions-ekman or dailydialog.")] = "goemotions-ekman",
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    llm: LlmOpt = DEFAULT_KIND, llm_model: LlmModelOpt = None,
    threads: ThreadsOpt = None, seed: SeedOpt = 0,
    output: Annotated[Path, typer.Option("--output", "-o", help="The JSON report (a PNG goes beside it).")]
    = Path("reports/probe.json"),
) -> None:
    """Linear emotion probes on every layer, beside the LM's zero-shot prompting and persistence."""
    from affectlab.internals.plot import plot_probes

    check_report_output(output, (".png",))
    with user_errors():
        report = _run_probes(dataset, data_dir, _local_llm(llm, llm_model, threads), seed)
    out.print(_probe_table(report))
    _write(report, output, invoked_command(ctx), plot_probes)


@app.command()
def directions(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save them (.safetensors).")],
    method: MethodOpt = "mean_diff", data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    remove_shared: Annotated[float | None, typer.Option(
        help="goemotions only: the share (0 to 1) of the emotions' common part taken out of every direction "
             "(default: the shipped directions' share for each emotion).")] = None,
    llm: LlmOpt = DEFAULT_KIND, llm_model: LlmModelOpt = None, threads: ThreadsOpt = None,
) -> None:
    """Emotion directions of the language model, saved for `steer --directions`.

    From the packaged scenarios (--method mean_diff, pca or centered) or from GoEmotions train (--method
    goemotions, read from --data-dir); any model of the same shape can use them."""
    from affectlab.evaluate.internals import REMOVE_SHARED, goemotions_directions
    from affectlab.internals import emotion_directions
    from affectlab.internals.text_directions import check_shares
    from affectlab.io.writers import check_target

    _check_method(method)
    if remove_shared is not None and method != "goemotions":
        raise typer.BadParameter("--remove-shared applies to --method goemotions only")
    with user_errors():
        check_shares([] if remove_shared is None else [remove_shared])
        check_target(output)
        lm = _local_llm(llm, llm_model, threads)
        if method == "goemotions":
            with progress_bar() as progress:
                bar = progress.add_task("capturing GoEmotions train comments", total=None)
                found = goemotions_directions(lm, data_dir, on_progress=lambda k: progress.advance(bar, k),
                                              remove_shared=REMOVE_SHARED if remove_shared is None else remove_shared)
        else:
            found = emotion_directions(lm, method=method)
    with user_errors():
        found.save(output)
    agreement = "split-half cosine" if method == "goemotions" else "mean pairwise cosine across scenarios"
    table = Table(title=f"{method} directions of {found.model}: consistency ({agreement})")
    table.add_column("emotion")
    for layer in found.layers:
        table.add_column(str(layer), justify="right")
    for emotion in found.emotions:
        table.add_row(emotion, *(f"{c:.2f}" for c in found.consistency[emotion]))
    out.print(table)
    err.print(f"saved: {output}")


@app.command()
def steer(
    prompt: Annotated[str, typer.Argument(help="What the model continues (wrapped as 'Q: ...\\nA:').")],
    emotion: Annotated[str, typer.Option(help="anger, disgust, fear, joy, sadness or surprise.")],
    strength: Annotated[float | None, typer.Option(
        help="Multiples of the direction added (default: the emotion's own, chosen on dev for the shipped "
             "directions at their layers; in their config.json).")] = None,
    layer: Annotated[str | None, typer.Option(help="The decoder layer whose output is steered; '+' joins several "
                                                   "(8+9+10), which share the strength (default: the layers in "
                                                   "the shipped directions' config.json).")] = None,
    directions_file: Annotated[Path | None, typer.Option("--directions", help="Saved directions "
                                                            "(default: those of --method).")] = None,
    method: Annotated[str, typer.Option(help="goemotions (the packaged directions of the default LM) or a "
                                             "scenario method computed now: mean_diff, pca, centered.")] = "goemotions",
    raw: Annotated[bool, typer.Option(help="Continue the prompt as it is, without the Q/A wrapping.")] = False,
    max_new_tokens: Annotated[int, typer.Option(min=1)] = 40, seed: SeedOpt = 0,
    llm: LlmOpt = DEFAULT_KIND, llm_model: LlmModelOpt = None, threads: ThreadsOpt = None,
) -> None:
    """Generate with and without an emotion direction added, side by side (sampled, seeded)."""
    from affectlab.internals import (
        EmotionDirections,
        Steering,
        emotion_directions,
        packaged_directions,
        steering_settings,
    )
    from affectlab.internals.closed_loop import SAMPLING
    from affectlab.internals.steering import check_strength

    if not prompt.strip():
        fail("the prompt is empty; give the text the model should continue")
    with user_errors():
        settings = steering_settings()
        if strength is not None:
            check_strength(strength)
    layer = "+".join(map(str, settings.layers)) if layer is None else layer
    try:
        layers = _layer_spec(layer)
    except ValueError:
        raise typer.BadParameter(f"--layer takes a number or numbers joined by '+', not {layer!r}") from None
    _check_method(method)
    with user_errors():
        saved = EmotionDirections.load(directions_file) if directions_file else None
        lm = _local_llm(llm, llm_model, threads)
        if saved is not None:
            found = saved
            found.check_fits(lm)
        else:
            found = packaged_directions(lm) if method == "goemotions" else emotion_directions(lm, method=method)
        vector = found[emotion]
        strength = settings.strength(emotion) if strength is None else strength
        text = prompt if raw else f"Q: {prompt}\nA:"
        options = {**SAMPLING, "max_new_tokens": max_new_tokens, "seed": seed}
        steering = Steering(lm, vector, layers, strength)
        plain = lm.generate(text, **options).text.strip()
        with steering:
            steered = lm.generate(text, **options).text.strip()
    table = Table(title=f"{lm.name}, layer {layer}, strength {strength}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("unsteered", plain)
    table.add_row(f"steered: {emotion}", steered)
    out.print(table)


@eval_app.command("probes")
def eval_probes_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR, reports_dir: ReportsDirOpt = REPORTS,
    llm: LlmOpt = DEFAULT_KIND, llm_model: LlmModelOpt = None, threads: ThreadsOpt = None, seed: SeedOpt = 0,
) -> None:
    """Probes on GoEmotions (Ekman) and DailyDialog → reports/eval-probes-<data>.json and .png."""
    from affectlab.evaluate.internals import PROBE_DATASETS
    from affectlab.internals.plot import plot_probes

    for dataset in PROBE_DATASETS:
        check_report_output(reports_dir / f"eval-probes-{dataset}.json", (".png",))
    with user_errors():
        lm = _local_llm(llm, llm_model, threads)
        for dataset in PROBE_DATASETS:
            report = _run_probes(dataset, data_dir, lm, seed)
            out.print(_probe_table(report))
            _write(report, reports_dir / f"eval-probes-{dataset}.json", invoked_command(ctx), plot_probes)


def _steering_table(report: dict) -> Table:
    """The test arms of a steering report, with 95% intervals over prompts where the report has them."""
    from affectlab.evaluate.internals import COMPARED_ARMS

    test = report["test"]
    sweep = report.get("sweep")
    chosen = (sweep.get("chosen") if isinstance(sweep, dict) else None) or report.get("settings")
    chosen = chosen if isinstance(chosen, dict) else {}  # a hand-edited report may lack them: the table still shows
    removed = f", shared part x{chosen['remove_shared']:g} removed" if chosen.get("remove_shared") else ""
    strength = f"strength {chosen['strength']}" if "strength" in chosen else "the shipped settings, no sweep"
    layers = "+".join(map(str, chosen.get("layers", []))) or "?"
    table = Table(title=f"closed-loop steering on {report.get('model', '?')} (layers {layers}, "
                        f"{strength}{removed}), judged by {test.get('classifier', report.get('classifier', '?'))}",
                  caption="\n".join(report.get("caveats", [])))
    for column in ("arm", "accuracy (7)", "accuracy (6)", "fluent accuracy", "perplexity", "ratio", "repetition",
                   "degenerate"):
        table.add_column(column, justify="right")

    def figure(r: dict, name: str, digits: int = 3) -> str:
        value, low_high = r.get(name, 1.0), r.get("interval_95", {}).get(name)
        shown = number(value, digits)  # – where there was nothing to compute it from
        if shown == "–" or not low_high or None in low_high:
            return shown
        inner = min(digits, 2)
        return f"{shown} [{low_high[0]:.{inner}f}, {low_high[1]:.{inner}f}]"

    for arm in (a for a in ("unsteered", *COMPARED_ARMS) if a in test):
        r = test[arm]
        table.add_row(arm, figure(r, "accuracy"), figure(r, "accuracy_of_six"), figure(r, "accuracy_fluent"),
                      figure(r, "perplexity", 1), figure(r, "perplexity_ratio", 2), figure(r, "repetition"),
                      figure(r, "degenerate"))
    return table


def _print_steering(report: dict, per_emotion: dict, source: str) -> None:
    out.print(_steering_table(report))
    own = ", ".join(f"{e} {p['strength']:g}" + (f" (x{p['remove_shared']:g} removed)" if p.get("remove_shared") else "")
                    for e, p in per_emotion.items())
    out.print(f"steered_per_emotion, each emotion's {source}: {own}")


@eval_app.command("steering")
def eval_steering_command(
    ctx: typer.Context, reports_dir: ReportsDirOpt = REPORTS,
    layers: Annotated[str, typer.Option(help="Layers swept, comma-separated; '+' joins layers steered "
                                             "together (8+9+10).")] = "3,6,9,12",
    strengths: Annotated[str, typer.Option(help="Strengths swept, comma-separated.")] = "2,3,4,6",
    method: MethodOpt = "mean_diff",
    remove_shared: Annotated[str | None, typer.Option(
        help="goemotions only: shares (0 to 1) of the emotions' common part taken out of the directions, "
             "comma-separated, swept with layers and strengths (default: 0, 0.25 and 0.5).")] = None,
    samples: Annotated[int, typer.Option(min=1, help="Samples per test prompt.")] = 2,
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    llm: LlmOpt = DEFAULT_KIND, llm_model: LlmModelOpt = None, threads: ThreadsOpt = None, seed: SeedOpt = 0,
    rescore: Annotated[Path | None, typer.Option(
        help="Judge the test outputs a steering report keeps again with the installed text model and recompute "
             "its figures and intervals, in place, without generating (the other options are ignored).")] = None,
    shipped: Annotated[bool, typer.Option(
        "--shipped", help="No dev sweep: only the test arms, with the shipped directions at the layers and "
                          "strengths in their config.json → eval-steering-<method>-shipped.json (--layers, "
                          "--strengths, --method and --remove-shared are ignored).")] = False,
) -> None:
    """Closed-loop steering: sweep layer, strength (and share removed) on dev prompts, for all emotions and for
    each, then steered vs. prompted vs. unsteered
    on the test prompts, judged by affectlab's text model → reports/eval-steering.json and .png
    (eval-steering-<method>.* for a method other than mean_diff). With --shipped, the test arms alone at the
    shipped directions' settings (same prompts, samples, seed and judge) → eval-steering-<their method>-shipped.json."""
    from affectlab.evaluate.internals import (
        eval_steering,
        eval_steering_shipped,
        rescore_steering_file,
        shipped_report_name,
    )
    from affectlab.internals.plot import plot_steering
    from affectlab.internals.steering import check_strength
    from affectlab.internals.text_directions import check_shares
    from affectlab.text import Analyzer

    if rescore is not None:
        with user_errors():
            unused = tuple(p.name for p in ctx.command.params if p.name != "rescore")
            report = rescore_steering_file(rescore, invoked_command(ctx, ignored=unused), Analyzer())
        out.print(_steering_table(report))
        err.print(f"report: {rescore} (its test outputs judged again by {report['test']['classifier']})")
        return
    if shipped:
        with user_errors():
            report_path = reports_dir / f"{shipped_report_name()}.json"
        check_report_output(report_path)
        with user_errors():
            lm = _local_llm(llm, llm_model, threads)
            with progress_bar() as progress:
                bar = progress.add_task("steering (test arms)", total=None)
                report = eval_steering_shipped(lm, Analyzer(), samples=samples, seed=seed,
                                               on_progress=lambda k: progress.advance(bar, k))
        _print_steering(report, report["settings"]["per_emotion"], "shipped setting")
        sweep_only = ("layers", "strengths", "method", "remove_shared")
        _write(report, report_path, invoked_command(ctx, ignored=sweep_only))
        return
    _check_method(method)
    name = "eval-steering" if method == "mean_diff" else f"eval-steering-{method}"
    check_report_output(reports_dir / f"{name}.json", (".png",))
    with user_errors():
        try:
            layer_list = [_layer_spec(x) for x in layers.split(",")]
            strength_list = [float(x) for x in strengths.split(",")]
            shares = None if remove_shared is None else [float(x) for x in remove_shared.split(",")]
        except ValueError:
            raise typer.BadParameter("--layers, --strengths and --remove-shared take comma-separated numbers "
                                     "(layers joined by '+' are steered together)") from None
        if shares is not None and method != "goemotions":
            raise typer.BadParameter("--remove-shared applies to --method goemotions only")
        check_shares(shares or [])
        for strength in strength_list:
            check_strength(strength)
        lm = _local_llm(llm, llm_model, threads)
        with progress_bar() as progress:
            bar = progress.add_task("steering", total=None)
            report = eval_steering(lm, Analyzer(), layers=layer_list, strengths=strength_list, method=method,
                                   remove_shared=shares, samples=samples, seed=seed, data_dir=data_dir,
                                   on_progress=lambda k: progress.advance(bar, k))
    _print_steering(report, report["sweep"]["chosen_per_emotion"], "dev pick")
    _write(report, reports_dir / f"{name}.json", invoked_command(ctx), plot_steering)
