"""Commands of the emotional prompting lab: ``prompt-eval`` and ``heart``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from affectlab.cli._llm import (
    DEFAULT_KIND,
    ApiKeyOpt,
    BackendOpt,
    BaseUrlOpt,
    ChatOpt,
    ConcurrencyOpt,
    LlmModelOpt,
    LlmOpt,
    SeedOpt,
    make_llm,
)
from affectlab.cli._util import (
    DataDirOpt,
    ThreadsOpt,
    app,
    check_report_output,
    err,
    invoked_command,
    out,
    progress_bar,
    user_errors,
)
from affectlab.datasets import DEFAULT_DATA_DIR

TasksOpt = Annotated[str, typer.Option("--tasks", "--task", help="instruction-induction (all 24), a comma list of "
                                                                "its task names, or JSONL files of {input, output}.")]
ItemsOpt = Annotated[int | None, typer.Option(help="Items asked per instruction-induction task (seeded sample; "
                                                      "default all).")]
ShotsOpt = Annotated[int, typer.Option(help="Solved examples shown before each item (a base LM needs a few).")]
InstructionOpt = Annotated[str, typer.Option(help="JSONL tasks: the instruction shown before the examples.")]
MetricOpt = Annotated[str, typer.Option(help="JSONL tasks: exact, contains, f1, set, or module:function.")]
BatchOpt = Annotated[int, typer.Option(min=1, help="Prompts generated together (local backend).")]
CacheOpt = Annotated[Path | None, typer.Option(help="Where generations are cached (default: the user cache); "
                                                       "a re-run resumes from it.")]


def _tasks(tasks: str, data_dir: Path, items: int | None, shots: int, instruction: str, metric: str, seed: int):
    from affectlab.prompting import resolve_tasks

    chosen = resolve_tasks(tasks, data_dir, items=items, shots=shots, seed=seed, instruction=instruction,
                           metric=metric)
    files = {Path(part.strip()).stem for part in tasks.split(",") if Path(part.strip()).is_file()}
    for task in chosen:
        if task.name in files and task.demos:
            err.print(f"{task.name}: {len(task.items)} items asked; its first {len(task.demos)} lines are the solved "
                      "examples shown before each (--shots)")
    return chosen


def _cache(cache_dir: Path | None):
    from affectlab.prompting import GenerationCache, default_cache_dir

    return GenerationCache(cache_dir or default_cache_dir())


def _write(document: dict, output: Path, command: str) -> None:
    from affectlab.evaluate.report import write_report

    write_report(output.stem, document, command, output.parent)


def _records(path: Path, rows: list[dict]) -> None:
    from affectlab.io import atomic_write_text

    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _cell(c, interval: bool = False) -> str:
    mark = " [bold]*[/bold]" if c.significant else ""
    bounds = f" [{c.low:+.2f}, {c.high:+.2f}]" if interval else ""
    return f"{c.accuracy:.2f} ({c.delta:+.2f}{bounds}){mark}"


@app.command("prompt-eval")
def prompt_eval(
    ctx: typer.Context,
    tasks: TasksOpt = "instruction-induction",
    stimuli: Annotated[str, typer.Option(help="Conditions: groups (positive, negative, stress, or a group from "
                                              "--stimuli-file), stress:1-5 (one per level) or stimulus ids.")]
    = "positive,negative,stress:1-5",
    stimuli_file: Annotated[list[Path] | None, typer.Option(help="More stimuli (JSON); repeatable.")] = None,
    position: Annotated[str, typer.Option(help="append or prepend the stimulus to the instruction.")] = "append",
    items: ItemsOpt = None, shots: ShotsOpt = 3, instruction: InstructionOpt = "", metric: MetricOpt = "exact",
    llm: LlmOpt = DEFAULT_KIND, llm_model: LlmModelOpt = None, backend: BackendOpt = "auto",
    base_url: BaseUrlOpt = None, api_key: ApiKeyOpt = None, chat: ChatOpt = False, concurrency: ConcurrencyOpt = 4,
    threads: ThreadsOpt = None,
    data_dir: DataDirOpt = DEFAULT_DATA_DIR, batch_size: BatchOpt = 16, seed: SeedOpt = 0, cache_dir: CacheOpt = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The JSON report; the per-item records go beside "
                                                                 "it (.records.jsonl), and the plot (.png, .html).")]
    = Path("reports/prompting.json"),
) -> None:
    """Accuracy with and without emotional stimuli, item by item, with 95% bootstrap intervals."""
    from affectlab.prompting import load_stimuli, parse_conditions, run_prompt_eval
    from affectlab.prompting.harness import check_position
    from affectlab.prompting.plot import write_plots

    check_report_output(output, (".records.jsonl", ".png", ".html"), [tasks, *(stimuli_file or ())])
    with user_errors():
        check_position(position)
        conditions = parse_conditions(stimuli, load_stimuli(*(stimuli_file or ())))
        chosen = _tasks(tasks, data_dir, items, shots, instruction, metric, seed)
        lm = make_llm(llm, llm_model, base_url, api_key, chat, threads, backend=backend, concurrency=concurrency)
        cache = _cache(cache_dir)
        total = sum(len(t.items) for t in chosen) * len(conditions)
        with progress_bar() as progress:
            bar = progress.add_task("prompting", total=total)
            result = run_prompt_eval(lm, chosen, conditions, position=position, cache=cache, batch_size=batch_size,
                                     seed=seed, on_progress=lambda k: progress.advance(bar, k))
    with user_errors():
        _write(result.to_dict(), output, invoked_command(ctx))
        _records(output.with_suffix(".records.jsonl"), [r.__dict__ for r in result.records])
        write_plots(result, output.with_suffix(".png"), output.with_suffix(".html"))

    table = Table(title=f"accuracy (change vs. no stimulus; * its 95% interval excludes 0) — {result.model}")
    names = [c.name for c in conditions]
    table.add_column("task")
    for name in names:
        table.add_column(name, justify="right")
    cells = {(c.scope, c.condition): _cell(c) for c in result.by_task}
    cells.update({(c.scope, c.condition): _cell(c, interval=True) for c in result.overall})
    for t in chosen:
        base = result.baseline_accuracy[t.name]
        table.add_row(t.name, "-" if base is None else f"{base:.2f}", *(cells.get((t.name, n), "-") for n in names[1:]))
    overall_base = sum(v for v in result.baseline_accuracy.values() if v is not None) / max(1, len(chosen))
    table.add_row("[bold]all tasks[/bold]", f"{overall_base:.2f}",
                  *(cells.get(("all tasks", n), "-") for n in names[1:]))
    out.print(table)
    failed = sum(r.error is not None for r in result.records)
    if failed:
        err.print(f"[yellow]{failed} answers could not be scored; see the records (error field)[/yellow]")
    err.print(f"report: {output} (records, plot: {output.with_suffix('.records.jsonl')}, {output.with_suffix('.png')}, "
              f"{output.with_suffix('.html')})")


def _verifier(spec: str | None):
    from affectlab.prompting import oracle
    from affectlab.prompting.scoring import resolve_metric

    if spec is None:
        return oracle
    check = resolve_metric(spec)
    return lambda task, item, answer: bool(check(answer, item.answers))


@app.command()
def heart(
    ctx: typer.Context,
    task: Annotated[str, typer.Option("--task", "--tasks", help="A JSONL file of {input, output}, "
                                      "instruction-induction task names, or instruction-induction.")],
    max_rounds: Annotated[int, typer.Option(help="Answers per item at most (1 + rounds of feedback).")] = 4,
    verifier: Annotated[str | None, typer.Option(help="module:function(answer, answers) -> bool (default: the "
                                                         "task's metric must give full marks).")] = None,
    items: ItemsOpt = None, shots: ShotsOpt = 3, instruction: InstructionOpt = "", metric: MetricOpt = "exact",
    llm: LlmOpt = DEFAULT_KIND, llm_model: LlmModelOpt = None, backend: BackendOpt = "auto",
    base_url: BaseUrlOpt = None, api_key: ApiKeyOpt = None, chat: ChatOpt = False, concurrency: ConcurrencyOpt = 4,
    threads: ThreadsOpt = None,
    data_dir: DataDirOpt = DEFAULT_DATA_DIR, batch_size: BatchOpt = 16, seed: SeedOpt = 0, cache_dir: CacheOpt = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The JSON report; traces go beside it "
                                                                 "(.traces.jsonl).")] = Path("reports/heart.json"),
) -> None:
    """Self-correction with emotionally toned feedback (Ekman's six in turn) against neutral feedback."""
    from affectlab.prompting import run_heart
    from affectlab.prompting.heart import check_max_rounds

    check_report_output(output, (".traces.jsonl",), [task])
    with user_errors():
        check_max_rounds(max_rounds)
        check = _verifier(verifier)
        chosen = _tasks(task, data_dir, items, shots, instruction, metric, seed)
        lm = make_llm(llm, llm_model, base_url, api_key, chat, threads, backend=backend, concurrency=concurrency)
        cache = _cache(cache_dir)
        with progress_bar() as progress:
            bar = progress.add_task("answering", total=None)
            result = run_heart(lm, chosen, max_rounds=max_rounds, verifier=check, cache=cache, batch_size=batch_size,
                               seed=seed, on_progress=lambda k: progress.advance(bar, k))
    with user_errors():
        _write(result.to_dict(), output, invoked_command(ctx))
        _records(output.with_suffix(".traces.jsonl"), result.to_dict(traces=True)["traces"])
    table = Table(title=f"share solved by round (mean over {len(chosen)} tasks) — {result.model}")
    for column in ("round", "feedback tone", "emotional", "neutral", "change [95% CI]"):
        table.add_column(column, justify="right")
    for r, c in enumerate(result.emotional_vs_neutral, 1):
        tone = result.rounds[2 * (r - 1)].tone or "-"
        mark = " *" if c.significant else ""
        table.add_row(str(r), tone, f"{c.accuracy:.3f}", f"{c.baseline:.3f}",
                      f"{c.delta:+.3f} [{c.low:+.3f}, {c.high:+.3f}]{mark}")
    out.print(table)
    failed = result.settings["verifier_errors"]
    if failed:
        err.print(f"[yellow]the verifier failed on {failed} answers (counted wrong); see the traces (error field)"
                  "[/yellow]")
    err.print(f"report: {output}")
