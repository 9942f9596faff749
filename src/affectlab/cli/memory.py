"""Commands of the emotional memory: ``memory add|recall|reembed|index|info``, ``eval memory`` and
``bench memory``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from affectlab.cli._util import (
    REPORTS,
    App,
    DataDirOpt,
    JsonOpt,
    ReportsDirOpt,
    app,
    bench_app,
    err,
    eval_app,
    fail,
    out,
    positive_ints,
    progress_bar,
    save_report,
    user_errors,
)
from affectlab.datasets import DEFAULT_DATA_DIR
from affectlab.memory.strategies import DEFAULT_STRATEGY, STRATEGIES

memory_app = App(help="An agent's emotional memory: store texts, recall them by meaning and by feeling.",
                 no_args_is_help=True)
app.add_typer(memory_app, name="memory")

StoreArg = Annotated[Path, typer.Argument(help="The memory's folder (created on first add).")]
EncodingOpt = Annotated[str, typer.Option(help="Encoding of a csv/jsonl/txt input, e.g. latin-1.")]


def _open(store: Path, create: bool = False):
    from affectlab.memory import EmotionalMemory

    return EmotionalMemory(store, create=create)


def _records(paths: list[Path], text_column: str, encoding: str) -> list[tuple[Path, int, dict, str]]:
    """Every row of every file as (file, row number, record, text); a row without a usable text stops all."""
    from affectlab.io import check_input, read_rows
    from affectlab.text.analyzer import InvalidText, check_text

    rows = []
    for path in paths:
        check_input(path, encoding)
        for block in read_rows(path, text_column, encoding=encoding):
            for row in block:
                if row.error is not None:
                    fail(f"{path}: {row.error}")
                try:
                    check_text(row.text)
                except InvalidText as exc:
                    fail(f"{path}: row {row.number}: column {text_column!r}: {exc}")
                rows.append((path, row.number, row.record, row.text))
    return rows


@memory_app.command("add")
def memory_add(
    store: StoreArg,
    inputs: Annotated[list[Path], typer.Argument(help="csv/tsv/jsonl/parquet/txt files, one memory per row.")],
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    speaker_column: Annotated[str | None, typer.Option(help="Column holding the speaker.")] = None,
    speaker: Annotated[str | None, typer.Option(help="One speaker for every row (instead of a column).")] = None,
    time_column: Annotated[str | None, typer.Option(help="Column holding the time (ISO 8601 or epoch seconds; "
                                                          "default: now).")] = None,
    encoding: EncodingOpt = "utf-8",
) -> None:
    """Add every row of the files to the memory, all in one commit (an error or Ctrl-C keeps none of them).
    Columns other than the text, speaker and time are kept as each memory's metadata."""
    if speaker is not None and speaker_column is not None:
        fail("give --speaker or --speaker-column, not both")
    from affectlab.memory.errors import InvalidRow
    from affectlab.memory.memory import to_utc

    with user_errors():
        rows = _records(inputs, text_column, encoding)
        used = {text_column, speaker_column, time_column}
        for column in (speaker_column, time_column):
            missing = next(((p, n) for p, n, record, _ in rows if column and column not in record), None)
            if missing:
                fail(f"{missing[0]}: row {missing[1]}: no column {column!r}")
        times = [None if time_column is None else to_utc(_cell(r[time_column]), f"{p}: row {n}: {time_column!r}")
                 for p, n, r, _ in rows]
        memory = _open(store, create=True)
        speakers = [speaker if speaker_column is None else _cell(r[speaker_column]) for _, _, r, _ in rows]
        metadata = [json.loads(json.dumps({k: v for k, v in r.items() if k not in used}, default=str))
                    for _, _, r, _ in rows]
        with progress_bar() as progress:
            task = progress.add_task("encoding", total=len(rows))
            try:
                memory.add([t for *_, t in rows], speaker=speakers, time=times, metadata=metadata,
                           on_progress=lambda n: progress.advance(task, n))
            except InvalidRow as exc:  # numbered among all the files' rows
                path, number, *_ = rows[exc.row]
                fail(f"{path}: row {number}: {exc.field}: {exc.reason}")
    out.print(f"added {len(rows):,} {'memory' if len(rows) == 1 else 'memories'} to {store} ({len(memory):,} in all)")


def _cell(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _emotion(value: str | None):
    if value is None or not value.strip().startswith("{"):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        fail(f"--emotion: not valid JSON ({exc.msg})")


def _render(recall) -> None:
    table = Table(title=f"{recall.strategy}: {escape(recall.query)}", title_justify="left")
    for column in ("#", "memory", "speaker", "time", "semantic", "emotion", "why"):
        table.add_column(column)
    for rank, hit in enumerate(recall, 1):
        table.add_row(str(rank), escape(hit.text), escape(hit.speaker or "-"), hit.time.strftime("%Y-%m-%d %H:%M"),
                      f"{hit.semantic:.2f}", f"{hit.emotion:.2f} ({hit.situation})", escape(hit.why))
    out.print(table)


@memory_app.command("recall")
def memory_recall(
    store: StoreArg,
    query: Annotated[str | None, typer.Argument(help="What to recall memories for.")] = None,
    input: Annotated[Path | None, typer.Option("--input", "-i", help="A file of queries (csv/tsv/jsonl/parquet/txt); "
                                                                      "one JSON line per query goes to --output.",
                                               readable=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="JSONL output of --input (default: "
                                                                        "beside it, .recall.jsonl).")] = None,
    text_column: Annotated[str, typer.Option(help="Column of --input holding the query.")] = "text",
    k: Annotated[int, typer.Option("-k", help="Memories to recall.")] = 5,
    strategy: Annotated[str, typer.Option(help=f"One of {', '.join(STRATEGIES)}.")] = DEFAULT_STRATEGY,
    emotion_weight: Annotated[float | None, typer.Option(help="combined: weight of emotion (0-1; default "
                                                              "chosen by `eval memory`).")] = None,
    candidates: Annotated[int | None, typer.Option(help="Sequential strategies: size of the first ranking.")]
    = None,
    emotion: Annotated[str | None, typer.Option(help="The current emotional state instead of the query's own: a "
                                                     "GoEmotions or EmpatheticDialogues name, or JSON such as "
                                                     "'{\"joy\": 0.8}'.")] = None,
    speaker: Annotated[list[str] | None, typer.Option(help="Only memories of this speaker (repeatable).")] = None,
    since: Annotated[str | None, typer.Option(help="Only memories at or after this time (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Only memories before this time (ISO 8601).")] = None,
    exact: Annotated[bool, typer.Option(help="Compare every memory even when a vector index exists.")] = False,
    encoding: EncodingOpt = "utf-8",
    as_json: JsonOpt = False,
) -> None:
    """The memories that best match a query (or each query of a file), each with both similarities and why."""
    if (query is None) == (input is None):
        fail("give either a query or --input FILE")
    options = {"strategy": strategy, "emotion_weight": emotion_weight, "candidates": candidates,
               "emotion": _emotion(emotion), "speaker": speaker or None, "since": since, "until": until}
    from affectlab.io import TableWriter, check_input, count_rows, read_rows
    from affectlab.io.writers import check_target
    from affectlab.memory.memory import recall_options

    with user_errors():
        recall_options(k, **options)  # a bad option is one error now, not one per query after loading the models
        if input is not None:
            check_input(input, encoding)
            output = output or input.with_name(f"{input.stem}.recall.jsonl")
            if output.suffix != ".jsonl":
                fail(f"--output: recalls are written as JSON lines; name a .jsonl file, not {output.name}")
            check_target(output, input)
        memory = _open(store)
        if query is not None:
            recall = memory.recall(query, k, exact=exact, **options)
            out.print_json(json.dumps(recall.to_dict())) if as_json else _render(recall)
            return
        errors = 0
        with progress_bar() as progress, TableWriter(output) as writer:
            task = progress.add_task("recalling", total=count_rows(input))
            for block in read_rows(input, text_column, encoding=encoding):
                for row in block:
                    record = _recall_record(memory, row, k, exact, options)
                    errors += "error" in record
                    writer.write([record])
                    progress.advance(task)
    out.print(f"recalled for each query of {input} into {output} ({errors:,} with errors)", highlight=False,
              soft_wrap=True)


def _recall_record(memory, row, k: int, exact: bool, options: dict) -> dict:
    """A line of ``recall --input``'s output: the recall of the row's query, or the error that names the row (the
    options were checked before, so an error here is the query's own)."""
    from affectlab.memory import InvalidMemory

    if row.error is not None:
        return {"row": row.number, "error": row.error}
    try:
        return {"row": row.number, **memory.recall(row.text, k, exact=exact, **options).to_dict()}
    except InvalidMemory as exc:
        return {"row": row.number, "error": f"row {row.number}: {exc}"}


@memory_app.command("reembed")
def memory_reembed(store: StoreArg) -> None:
    """Re-compute the vectors of memories stored by another model version (resumable: each batch commits)."""
    with user_errors():
        memory = _open(store)
        stale = memory.info().stale
        with progress_bar() as progress:
            task = progress.add_task("re-embedding", total=stale)
            done = memory.reembed(on_progress=lambda n: progress.advance(task, n))
    out.print(f"re-embedded {done:,} memories of {store} with {memory.model_id}")


@memory_app.command("index")
def memory_index(
    store: StoreArg,
    index_type: Annotated[str, typer.Option("--type", help="IVF_FLAT, IVF_PQ or IVF_SQ.")] = "IVF_FLAT",
    partitions: Annotated[int | None, typer.Option(help="IVF partitions (default: LanceDB's choice).")] = None,
) -> None:
    """Compact the memory's files and build its approximate vector index (worth it from ~100k memories)."""
    with user_errors():
        memory = _open(store)
        with err.status("compacting"):
            memory.optimize()
        with err.status(f"building the {index_type} index over {len(memory):,} memories"):
            memory.create_index(index_type, partitions)
    out.print(f"{store}: {index_type} index built")


@memory_app.command("info")
def memory_info(store: StoreArg, as_json: JsonOpt = False) -> None:
    """How many memories, which model wrote them, index and disk size."""
    with user_errors():
        info = _open(store).info()
    if as_json:
        out.print_json(json.dumps(info.to_dict()))
        return
    table = Table(show_header=False)
    for name, value in info.to_dict().items():
        table.add_row(name.replace("_", " "), f"{value:,}" if isinstance(value, int) and value > 9999 else str(value))
    out.print(table)


@eval_app.command("memory")
def eval_memory_command(
    ctx: typer.Context,
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    work_dir: Annotated[Path, typer.Option(help="Where vectors and the memory are kept (re-runs reuse them).")]
    = Path("runs/memory-eval"),
    limit: Annotated[int | None, typer.Option(help="Only the first N situations of each split (smoke runs).")]
    = None,
    reports_dir: ReportsDirOpt = REPORTS,
    name: Annotated[str, typer.Option(help="Report name: reports/<name>.json.")] = "eval-memory",
) -> None:
    """Same-emotion recall@5 and semantic similarity of each strategy: EmpatheticDialogues train situations as
    memories, test situations as queries, parameters chosen on valid."""
    from affectlab.evaluate.memory import eval_memory

    with user_errors(), progress_bar() as progress:
        tasks: dict[str, int] = {}

        def on_progress(task: str, n: int) -> None:
            if task not in tasks:
                tasks[task] = progress.add_task(task, total=None)
            progress.advance(tasks[task], n)

        report = eval_memory(data_dir, work_dir, limit, on_step=lambda s: progress.console.print(s),
                             on_progress=on_progress)
    table = Table(title=f"recall@{report['k']} on {report['data']['test_queries']:,} test situations, "
                        f"{report['data']['memories']:,} memories (chance {report['chance_same_emotion']:.3f})",
                  title_justify="left")
    for column in ("strategy", "same emotion", "Δ vs semantic", "hit", "semantic sim", "kept"):
        table.add_column(column)
    for strategy, entry in report["test"].items():
        gain, kept = entry.get("same_emotion_gain"), entry.get("semantic_kept")
        table.add_row(
            f"{strategy} {entry['options'] or ''}", _ci(entry["same_emotion"]), _ci(gain) if gain else "-",
            _ci(entry["hit"]), _ci(entry["semantic"]), _ci(kept) if kept else "-")
    out.print(table)
    unseen = report["test_from_unseen_memories"]
    out.print(f"From the {unseen['memories']:,} valid situations instead (never seen by the 32-emotion model): "
              f"combined {_ci(unseen['same_emotion']['combined'])}, Δ {_ci(unseen['same_emotion_gain'])}, "
              f"kept {_ci(unseen['semantic_kept'])}")
    save_report(ctx, name, report, reports_dir)


def _ci(values: list[float]) -> str:
    return f"{values[0]:.3f} [{values[1]:.3f}, {values[2]:.3f}]"


@bench_app.command("memory")
def bench_memory_command(
    ctx: typer.Context,
    sizes: Annotated[str, typer.Option(help="Memory counts, comma-separated.")] = "100000,1000000",
    queries: Annotated[int, typer.Option(help="Recalls timed per strategy through each index.")] = 300,
    exact_queries: Annotated[int, typer.Option(help="Of those, recalls timed with every memory compared.")] = 50,
    index_types: Annotated[str, typer.Option(help="Vector indexes built in turn, comma-separated.")]
    = "IVF_FLAT,IVF_PQ",
    work_dir: Annotated[Path, typer.Option(help="Where the stores are built (GBs at 1M; removed after).")]
    = Path("runs/memory-bench"),
    eval_dir: Annotated[Path, typer.Option(help="Where `eval memory` cached the situations' vectors (encoded "
                                                "here if missing).")] = Path("runs/memory-eval"),
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    reports_dir: ReportsDirOpt = REPORTS,
    name: Annotated[str, typer.Option(help="Report name: reports/<name>.json.")] = "bench-memory",
) -> None:
    """Insert rate, recall latency p50/p99 with and without a vector index, and disk size at each size."""
    from affectlab.evaluate.bench_memory import bench_memory

    counts = list(positive_ints(sizes, "--sizes", "100000,1000000"))
    kinds = tuple(k.strip() for k in index_types.split(",") if k.strip())
    with user_errors(), progress_bar() as progress:
        task = progress.add_task("benchmarking", total=None)
        report = bench_memory(counts, queries, exact_queries, kinds, work_dir, eval_dir, data_dir,
                              on_step=lambda s: progress.update(task, description=s))
    table = Table(title=f"memory at scale on {report['cores']} cores (k=5; ms p50 / p99)", title_justify="left")
    for column in ("memories", "strategy", "exact", *(f"{k}" for k in kinds), "overlap / score kept"):
        table.add_column(column)
    for run in report["runs"]:
        out.print(f"{run['memories']:,} memories: {run['inserts_per_second']:,} inserts/s, {run['disk_mb']:,} MB; "
                  + "; ".join(f"{k} built in {v['build_seconds']} s, {v['index_mb']} MB" for k, v in
                              run["indexes"].items()))
        for strategy, timing in run["exact_recall"].items():
            indexed = [run["indexes"][k]["recall"][strategy] for k in kinds]
            table.add_row(f"{run['memories']:,}", strategy, _ms(timing), *(_ms(t) for t in indexed),
                          "  ".join(f"{t['overlap_at_5']:.2f}/{t['score_kept']:.3f}" for t in indexed))
    out.print(table)
    save_report(ctx, name, report, reports_dir)


def _ms(timing: dict) -> str:
    return f"{timing['p50_ms']:.1f} / {timing['p99_ms']:.1f}"
