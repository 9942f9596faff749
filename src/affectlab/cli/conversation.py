"""Commands of the conversation models: ``conversation``, ``train turns|causes|cause-teacher``,
``eval conversation|dailydialog|reccon`` and ``bench conversation`` (old spelling ``bench-conversation``, hidden)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from affectlab.cli._util import (
    REPORTS,
    ArtifactOutputOpt,
    BF16Opt,
    DataDirOpt,
    JsonOpt,
    LimitOpt,
    ModelOpt,
    ReportsDirOpt,
    ThreadsOpt,
    app,
    bench_app,
    err,
    eval_app,
    fail,
    out,
    positive_ints,
    progress_bar,
    run_training,
    save_report,
    train_app,
    user_errors,
    with_training_progress,
)
from affectlab.datasets import DEFAULT_DATA_DIR
from affectlab.dialogue.analyzer import DEFAULT_LOOKBACK
from affectlab.dialogue.artifact import CAUSE_MODEL, TURN_MODEL
from affectlab.dialogue.registers import DEFAULT_REGISTER, REGISTERS
from affectlab.text.normalize import DEFAULT_MAX_CHARS

EMOTION_STYLE = {"anger": "red", "disgust": "green", "fear": "magenta", "joy": "yellow", "sadness": "blue",
                 "surprise": "cyan", "neutral": "dim"}
TurnModelOpt = Annotated[str, typer.Option(help="Turn-emotion model: a shipped name or an artifact folder.")]
CauseModelOpt = Annotated[str, typer.Option(help="Emotion-cause model: a shipped name or an artifact folder.")]
LookbackOpt = Annotated[str, typer.Option(
    help="Turns before an emotional turn considered as its causes (the target itself always is); 'all' for "
         "every earlier turn, whose cost grows with the square of the conversation's length.")]

RegisterOpt = Annotated[str, typer.Option(
    help="Which conversations the turn model's share of neutral turns is calibrated for: general (default; all "
         "at once), dailydialog (written everyday chat), meld (TV-series talk), goemotions (one-off comments), "
         "support (people telling what happened to them).")]


def parse_register(value: str) -> str:
    if value not in REGISTERS:
        raise typer.BadParameter(f"one of {', '.join(REGISTERS)}, not {value!r}", param_hint="--register")
    return value


def parse_lookback(value: str) -> int | None:
    if value.strip().lower() == "all":
        return None
    try:
        lookback = int(value)
    except ValueError:
        lookback = -1
    if lookback < 0:
        raise typer.BadParameter(f"a number of turns (0 or more) or 'all', not {value!r}", param_hint="--lookback")
    return lookback


def render_conversation(result, with_causes: bool = True) -> None:
    """Each turn with its emotion (and, where it differs, the text model's reading of the turn alone); the spans
    that cause a later turn's emotion are underlined in that emotion's colour, and each emotional turn lists its
    causes."""
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
        emotion = Text(f"{turn.emotion} {turn.emotions[turn.emotion]:.2f}", style=style)
        alone = turn.alone_emotion
        if alone is not None and alone[0] != turn.emotion:
            emotion.append(f"\nalone: {alone[0]} {alone[1]:.2f}", style="dim")
        table.add_row(str(turn.index), Text(turn.speaker), text, emotion, causes)
    out.print(table)


def _emit(document: dict, output: Path | None, as_json: bool) -> bool:
    """Write ``document`` to ``output`` and/or print it as JSON; True when it was printed."""
    from affectlab.io import atomic_write_text

    text = json.dumps(document, ensure_ascii=False, indent=2)
    if output is not None:
        with user_errors():
            atomic_write_text(output, text + "\n")
        err.print(f"written: {output}")
    if as_json:
        out.print_json(text)
    return as_json


@app.command()
def conversation(
    path: Annotated[Path, typer.Argument(help="json (list of {speaker, text}), jsonl, or csv with speaker,text "
                                              "columns; or a long table (csv/tsv/jsonl/parquet) of many "
                                              "conversations, one row per turn.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the result as JSON here; for a "
                                                "long table, one row per turn (.csv, .jsonl or .parquet).")] = None,
    as_json: JsonOpt = False,
    causes: Annotated[bool, typer.Option(help="Find the causes of every non-neutral turn.")] = True,
    conversation_column: Annotated[str | None, typer.Option(
        help="Column naming each row's conversation: the file is a long table (the default when it has a "
             "conversation_id column).")] = None,
    order_column: Annotated[str | None, typer.Option(help="Long tables: column giving the turn order "
                                                          "(default: the table's order).")] = None,
    speaker_column: Annotated[str, typer.Option(help="Long tables: column holding the speaker.")] = "speaker",
    text_column: Annotated[str, typer.Option(help="Long tables: column holding the turn's text.")] = "text",
    turn_model: TurnModelOpt = TURN_MODEL,
    cause_model: CauseModelOpt = CAUSE_MODEL,
    register: RegisterOpt = DEFAULT_REGISTER,
    lookback: LookbackOpt = str(DEFAULT_LOOKBACK),
    threads: ThreadsOpt = None,
    max_chars: Annotated[int, typer.Option(
        help="Longest turn, in characters (0: no bound); the models read about 96 tokens of a turn.")]
    = DEFAULT_MAX_CHARS,
    on_long: Annotated[str, typer.Option(
        help="A turn over --max-chars: 'error' (its conversation gets an error naming the turn) or 'truncate' "
             "(its beginning is kept and the turn is marked truncated).")] = "error",
    encoding: Annotated[str, typer.Option(help="Encoding of a csv/tsv/jsonl/json input, e.g. latin-1.")] = "utf-8",
) -> None:
    """Emotion of every turn in context, and the turns and spans that cause each emotion."""
    from affectlab.dialogue import ConversationAnalyzer, InvalidConversation, read_conversation
    from affectlab.dialogue.tables import table_columns
    from affectlab.io.writers import check_json_target, check_target

    register = parse_register(register)
    if conversation_column is None and "conversation_id" in table_columns(path, encoding):
        conversation_column = "conversation_id"
    with user_errors():
        if output is not None and conversation_column is not None:
            check_target(output, path)  # a long table's output format is checked with its rows
        elif output is not None:
            check_json_target(output, path, " (a table of many conversations, with a conversation_id column or "
                                            "--conversation-column, is written as a table)")
    if conversation_column is None and (order_column, speaker_column, text_column) != (None, "speaker", "text"):
        fail("--order-column, --speaker-column and --text-column are for long tables: give --conversation-column "
             "too (a conversation_id column is found by itself)")
    if conversation_column is not None:
        columns = {"conversation_column": conversation_column, "order_column": order_column,
                   "speaker_column": speaker_column, "text_column": text_column}
        models = {"turn_model": turn_model, "cause_model": cause_model, "threads": threads, "register": register,
                  "lookback": parse_lookback(lookback), "max_chars": max_chars or None, "on_long": on_long}
        _conversation_table(path, output, as_json, causes, columns, models, encoding)
        return
    with user_errors():
        analyzer = ConversationAnalyzer(turn_model, cause_model, threads=threads, lookback=parse_lookback(lookback),
                                        max_chars=max_chars or None, on_long=on_long, register=register)
        turns = read_conversation(path, None if on_long == "truncate" else analyzer.max_chars, encoding)
        with err.status(f"analyzing {len(turns)} turns"):
            try:
                result = analyzer.analyze(turns, causes=causes)
            except InvalidConversation as problem:  # found only once read (e.g. a turn of no readable characters)
                raise InvalidConversation(f"{path}: {problem}", problem.turn) from None
    if not _emit(result.to_dict(), output, as_json):
        render_conversation(result, with_causes=causes)


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _conversation_table(source: Path, target: Path | None, as_json: bool, causes: bool, columns: dict,
                        models: dict, encoding: str) -> None:
    """Every conversation of a long table, one row per turn to ``target``; a broken conversation is listed and
    its rows carry its error, the others go on."""
    from rich.markup import escape

    from affectlab.dialogue import ConversationAnalyzer, analyze_conversations
    from affectlab.io.writers import check_not_source, check_output

    target = target or source.with_name(f"{source.stem}.affect.jsonl")
    with user_errors():
        check_not_source(target, source)
        check_output(target)
        analyzer = ConversationAnalyzer(**models)
        with progress_bar() as progress:
            bar = progress.add_task(f"conversations in {source.name}", total=None)
            results = analyze_conversations(
                source, **columns, causes=causes, analyzer=analyzer, encoding=encoding,
                progress=lambda done, total: progress.update(bar, completed=done, total=total),
            )
        results.write(target)
    errors = results.errors
    summary = {"input": str(source), "output": str(target), "conversations": len(results),
               "turns": sum(len(c.turns) for c in results), "conversations_with_errors": len(errors),
               "errors": [c.error for c in errors]}
    if as_json:
        out.print_json(json.dumps(summary, ensure_ascii=False))
        return
    out.print(f"{_counted(len(results), 'conversation')}, {_counted(summary['turns'], 'turn')} → {target} "
              f"({len(errors)} with errors)", highlight=False, soft_wrap=True)
    for message in summary["errors"][:10]:
        err.print(f"[yellow]conversation error:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)
    if len(errors) > 10:
        err.print(f"... and {len(errors) - 10} more: see the error column of {target}", highlight=False)


@train_app.command("turns")
def train_turns_command(
    data_dir: DataDirOpt = DEFAULT_DATA_DIR, output: ArtifactOutputOpt = None, epochs: int = 2, seed: int = 13,
    threads: int = 2, limit: LimitOpt = None,
    goemotions: Annotated[int, typer.Option(
        min=0, help="GoEmotions train comments (of one Ekman class) sampled as one-turn conversations.")] = 15_000,
    meld_repeat: Annotated[int, typer.Option(min=1, help="Times each MELD window is seen per epoch.")] = 2,
    text_features: Annotated[bool, typer.Option(
        help="Join the text model's reading of each turn (Ekman and sentiment probabilities) to the turn's "
             "vector.")] = True,
    register_heads: Annotated[bool, typer.Option(
        help="A head per register: each corpus's trained on its own turns, `general`'s on every turn.")] = False,
    bf16: BF16Opt = False,
    calibrate_only: Annotated[bool, typer.Option(
        "--calibrate-only", help="Do not train: tune the registers of the turn model already in --output again "
                                 "(on the dev splits of the recipe it was trained with).")] = False,
) -> None:
    """The turn-emotion model on DailyDialog, MELD and GoEmotions; each register's neutral bias and text-model
    weight tuned on their dev splits."""
    from affectlab.train.turns import TurnsRecipe, calibrate_turns, train_turns

    if calibrate_only:
        if output is None:
            fail("--calibrate-only needs --output: the run folder of a trained turn model")
        config = with_training_progress(lambda folder, on_progress: calibrate_turns(folder, threads, on_progress),
                                        output)
        out.print(f"registers of {output} calibrated: neutral bias {config.neutral_bias}, "
                  f"text weight {config.text_weight}", highlight=False, soft_wrap=True)
        return
    run_training(train_turns, TurnsRecipe(data_dir=data_dir, out_dir=output, epochs=epochs, seed=seed,
                                          threads=threads, limit=limit, goemotions=goemotions,
                                          meld_repeat=meld_repeat, text_features=text_features,
                                          register_heads=register_heads, bf16=bf16))


@train_app.command("causes")
def train_causes_command(
    data_dir: DataDirOpt = DEFAULT_DATA_DIR, output: ArtifactOutputOpt = None, epochs: int = 3, seed: int = 13,
    threads: int = 1, limit: LimitOpt = None,
    teacher: Annotated[Path | None, typer.Option(
        help="A `train cause-teacher` run folder: learn its ratings of DailyDialog train as well.")] = None,
) -> None:
    """The emotion-cause model (turns and spans) on RECCON-DD train; threshold tuned on valid."""
    from affectlab.train.dialogue import DialogueRecipe, train_dialogue

    run_training(train_dialogue, DialogueRecipe(data_dir=data_dir, out_dir=output, epochs=epochs, seed=seed,
                                                threads=threads, limit=limit, teacher=teacher))


@train_app.command("cause-teacher")
def train_cause_teacher_command(
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where weights and ratings are written.")]
    = Path("runs/cause-teacher-mpnet"),
    epochs: int = 1,
    seed: int = 13,
    targets: Annotated[int, typer.Option(help="DailyDialog train targets to rate.")] = 8000,
    threads: int = 2,
    limit: Annotated[int | None, typer.Option(
        help="Use only the first N dialogues of each RECCON split and rate N targets (smoke runs).")] = None,
) -> None:
    """All-mpnet-base-v2 fine-tuned as a cause model on RECCON-DD rates DailyDialog train (for `train causes
    --teacher`)."""
    from affectlab.train.cause_teacher import CauseTeacherRecipe, train_cause_teacher

    recipe = CauseTeacherRecipe(data_dir=data_dir, out_dir=output, epochs=epochs, seed=seed, targets=targets,
                                threads=threads, limit=limit)
    summary = with_training_progress(train_cause_teacher, recipe)
    out.print(f"ratings of {summary['targets_rated']} targets written to {output} "
              f"(dev macro-F1 {summary['dev']['macro_f1']:.3f}, span F1_pos {summary['dev']['span_f1_pos']:.3f})")


def _conversation_eval(ctx: typer.Context, name: str, runner, data_dir: Path, reports_dir: Path,
                       threads: int | None, limit: int | None, models: dict) -> dict:
    from affectlab.dialogue import ConversationAnalyzer

    with user_errors():
        analyzer = ConversationAnalyzer(**models, threads=threads)
        with progress_bar() as progress:
            bar = progress.add_task(name, total=None)
            report = runner(analyzer, data_dir, on_progress=lambda n: progress.advance(bar, n), limit=limit)
        save_report(ctx, name, report, reports_dir)
    return report


@eval_app.command("conversation")
def eval_conversation_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR, reports_dir: ReportsDirOpt = REPORTS,
    threads: ThreadsOpt = None, limit: LimitOpt = None, model: ModelOpt = TURN_MODEL,
    register: RegisterOpt = DEFAULT_REGISTER,
    chat: Annotated[Path, typer.Option(help="The conversation whose turns 4-6 (counted from 0) are listed.")]
    = Path("examples/chat.json"),
) -> None:
    """Turn emotions across registers: DailyDialog test (also de-duplicated), MELD's held-out part, RECCON-IEMOCAP,
    one table with the published figures; and the emotions of examples/chat.json's turns 4-6 (counted from 0)."""
    from affectlab.evaluate.conversation import eval_conversation

    models = {"turn_model": model, "register": parse_register(register)}
    report = _conversation_eval(ctx, "eval-conversation", partial(eval_conversation, chat=chat), data_dir,
                                reports_dir, threads, limit, models)
    table = Table(title=f"turn emotions, register {report['register']}", title_justify="left")
    for column in ("set", "metric", "turns", "score", "own register", "target", "published"):
        table.add_column(column)
    for row in report["table"]:
        own = "–" if row["own_register"] is None else f"{row['own_register_value']:.3f} ({row['own_register']})"
        anchors = "; ".join(
            f"{a['model']} {'–'.join(map(str, a['value'])) if isinstance(a['value'], list) else a['value']}"
            for a in row["anchors"])
        table.add_row(f"{row['corpus']} {row['set']}", row["metric"], str(row["turns"]), f"{row['value']:.3f}", own,
                      f"≥ {row['target']:.2f}", anchors or "–")
    out.print(table)
    out.print("The published MELD figures are on MELD's official test split, not on this held-out part of train.")
    for turn in report["chat"]["turns"]:
        neutral = "" if turn["emotion"] == "neutral" else f" (neutral {turn['neutral']:.2f})"
        alone = "".join(f"; read alone: {label} {p:.2f}" for label, p in (turn["read_alone"] or {}).items())
        out.print(f"{report['chat']['file']} turn {turn['turn']} ({turn['speaker']}): {turn['emotion']} "
                  f"{turn['probability']:.2f}{neutral}{alone}", highlight=False, soft_wrap=True)


@eval_app.command("dailydialog")
def eval_dailydialog_command(ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR,
                             reports_dir: ReportsDirOpt = REPORTS, threads: ThreadsOpt = None,
                             limit: LimitOpt = None, model: ModelOpt = TURN_MODEL,
                             register: RegisterOpt = DEFAULT_REGISTER) -> None:
    """Turn emotions in context: DailyDialog test and RECCON-IEMOCAP turns (F1 without neutral)."""
    from affectlab.evaluate.dialogue import eval_dailydialog

    report = _conversation_eval(ctx, "eval-dailydialog", eval_dailydialog, data_dir, reports_dir, threads, limit,
                                {"turn_model": model, "register": parse_register(register)})
    table = Table(title="turn emotions (test)", title_justify="left")
    for column in ("set", "turns", "micro-F1 w/o neutral", "weighted-F1 w/o neutral", "accuracy"):
        table.add_column(column)
    for name in ("dailydialog", "dailydialog_without_copies", "dailydialog_without_near_copies", "reccon_iemocap"):
        if name not in report:  # the de-duplicated sets exist beside a split other than train
            continue
        m = report[name]
        table.add_row(name, str(m["turns"]), f"{m['micro_f1_without_neutral']:.3f}",
                      f"{m['weighted_f1_without_neutral']:.3f}", f"{m['accuracy']:.3f}")
    out.print(table)


@eval_app.command("reccon")
def eval_reccon_command(ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR,
                        reports_dir: ReportsDirOpt = REPORTS, threads: ThreadsOpt = None,
                        limit: LimitOpt = None, model: ModelOpt = CAUSE_MODEL,
                        lookback: LookbackOpt = str(DEFAULT_LOOKBACK),
                        sets: Annotated[str, typer.Option(help="Comma-separated RECCON sets, e.g. dailydialog_valid "
                                                              "for dev.")] = "dailydialog_test,iemocap_test",
                        report_name: Annotated[str, typer.Option(help="Report file name under --reports-dir.")]
                        = "eval-reccon") -> None:
    """Emotion causes on RECCON-DD and IEMOCAP test: entailment (Pos/Neg/macro-F1) and spans (EM_pos, F1_pos, F1),
    with the default lookback and, for comparison, over every earlier turn."""
    from affectlab.datasets import RECCON_SETS
    from affectlab.evaluate.dialogue import eval_reccon

    chosen = tuple(name.strip() for name in sets.split(",") if name.strip())
    unknown = [name for name in chosen if name not in RECCON_SETS]
    if unknown or not chosen:
        raise typer.BadParameter(f"choose from {', '.join(RECCON_SETS)}", param_hint="--sets")
    report = _conversation_eval(
        ctx, report_name, partial(eval_reccon, sets=chosen), data_dir, reports_dir, threads, limit,
        {"cause_model": model, "lookback": parse_lookback(lookback)})
    table = Table(title=f"RECCON (pair threshold {report['threshold']:.2f}, tuned on DD valid; lookback "
                        f"{'all' if report['lookback'] is None else report['lookback']})", title_justify="left")
    for column in ("set", "pairs", "gold outside lookback", "Pos.F1", "Neg.F1", "macro-F1", "EM_pos", "F1_pos",
                   "span F1", "target-only macro-F1"):
        table.add_column(column)
    for name in chosen:
        outside = report[f"{name}_outside_lookback"]["share_outside"]
        for row in (name, f"{name}_without_copies", f"{name}_without_near_copies", f"{name}_every_turn"):
            if row not in report:
                continue
            m = report[row]
            e, s = m["entailment"], m["spans"]
            table.add_row(row, str(m["pairs"]), "–" if row.endswith("every_turn") else f"{outside:.1%}",
                          f"{e['pos_f1']:.3f}", f"{e['neg_f1']:.3f}", f"{e['macro_f1']:.3f}", f"{s['em_pos']:.3f}",
                          f"{s['f1_pos']:.3f}", f"{s['f1']:.3f}",
                          f"{m['baseline_target_is_its_own_cause']['macro_f1']:.3f}")
    out.print(table)


def bench_conversation_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    turns: Annotated[str, typer.Option(help="Comma-separated conversation lengths, each timed in a fresh process.")]
    = "30,300,2000",
    rounds: Annotated[int, typer.Option(min=1, help="Timed rounds per length (the median is reported).")] = 3,
    threads: int = 2, reports_dir: ReportsDirOpt = REPORTS,
    compare_turn_model: Annotated[str | None, typer.Option(
        help="Another turn model (a shipped name or an artifact folder) timed end to end in the same rounds, for a "
             "side-by-side ratio.")] = None,
    report_name: Annotated[str, typer.Option(help="Report file name under --reports-dir.")] = "bench-conversation",
) -> None:
    """Seconds per turn and peak memory of conversations of several lengths end to end (emotions + causes),
    beside scoring their turns as plain texts."""
    from affectlab.dialogue.artifact import resolve_dialogue_model
    from affectlab.evaluate.bench_conversation import bench_conversation

    lengths = positive_ints(turns, "--turns", "30,300,2000")
    with user_errors(), err.status("benchmarking") as status:
        compare = None if compare_turn_model is None else resolve_dialogue_model(compare_turn_model, "turn-emotions")
        report = bench_conversation(data_dir, lengths, rounds, threads,
                                    on_step=lambda s: status.update(f"benchmarking: {s}"), compare=compare)
    table = Table(title=f"one conversation end to end, {threads} threads, lookback {report['lookback']}, median of "
                        f"{rounds}", title_justify="left")
    for column in ("turns", "emotional", "seconds", "s/turn", "every turn emotional", "plain texts", "peak memory"):
        table.add_column(column, justify="right")
    for m in report["lengths"]:
        table.add_row(str(m["turns"]), str(m["emotional_turns"]), f"{m['seconds']:.2f}",
                      f"{m['seconds_per_turn'] * 1000:.1f} ms", f"{m['every_turn_emotional_seconds']:.2f} s",
                      f"{m['baseline_seconds']:.2f} s", f"{m['peak_memory_gb']:.2f} GB")
    out.print(table)
    for m in report["lengths"]:
        if "ratio_to_compared" in m:
            spread = m["ratio_to_compared_by_round"]
            out.print(f"{m['turns']} turns: {m['seconds']:.2f} s against {m['compared_seconds']:.2f} s with "
                      f"{m['compared_turn_model']} ({m['ratio_to_compared']:.2f}×; round by round "
                      f"{spread['q1']:.2f}–{spread['q3']:.2f}× from first to third quartile)")
    save_report(ctx, report_name, report, reports_dir, path="affectlab bench conversation")


bench_app.command("conversation")(bench_conversation_command)
app.command("bench-conversation", hidden=True)(bench_conversation_command)
