"""Commands of the empathy capability: ``respond``, ``train sem|strategies``, ``eval sem|strategies|hef``."""

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
    LlmModelOpt,
    LlmOpt,
    make_llm,
)
from affectlab.cli._util import (
    REPORTS,
    ArtifactOutputOpt,
    DataDirOpt,
    JsonOpt,
    LimitOpt,
    ReportsDirOpt,
    ThreadsOpt,
    app,
    bench_app,
    err,
    eval_app,
    invoked_command,
    number,
    old_spellings,
    out,
    progress_bar,
    run_training,
    save_report,
    train_app,
    user_errors,
)
from affectlab.datasets import DEFAULT_DATA_DIR


def _adapter(choice: str, llm_model: str | None) -> str | None:
    from affectlab.llm import DEFAULT_LLM, RESPONDER_ADAPTER

    if choice == "none":
        return None
    if choice == "default":
        return RESPONDER_ADAPTER if llm_model in (None, DEFAULT_LLM) else None
    return choice


@app.command()
def respond(
    path: Annotated[Path, typer.Argument(help="The conversation so far: json, jsonl or csv of {speaker, text}.")],
    llm: LlmOpt = DEFAULT_KIND, llm_model: LlmModelOpt = None, backend: BackendOpt = "auto",
    adapter: Annotated[str, typer.Option(help="local: default (the shipped responder adapter on the packaged model, "
                                              "none on any other), none (the base model), or an adapter folder.")]
    = "default",
    base_url: BaseUrlOpt = None, api_key: ApiKeyOpt = None, chat: ChatOpt = False,
    strategy: Annotated[str, typer.Option(help="auto (predicted), none, or an ESConv strategy name.")] = "auto",
    listener: Annotated[str | None, typer.Option(help="The responder's speaker name, if it spoke before "
                                                          "(default: everyone but the last speaker).")] = None,
    plain: Annotated[bool, typer.Option(help="No emotion, cause or strategy hints (the baseline).")] = False,
    seed: int = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the response as JSON here.")] = None,
    as_json: JsonOpt = False,
    threads: ThreadsOpt = None,
) -> None:
    """The listener's next line: a small emotion model guides the language model (HEF)."""
    from affectlab.dialogue import read_conversation
    from affectlab.empathy import EmpatheticResponder
    from affectlab.empathy.responder import check_strategy
    from affectlab.io import atomic_write_text
    from affectlab.io.writers import check_json_target

    with user_errors():
        if output is not None:
            check_json_target(output, path)  # before the language model is loaded or run
        strategy = check_strategy(None if strategy == "none" else strategy)
        turns = read_conversation(path)
        with err.status("loading the language model"):
            lm = make_llm(llm, llm_model, base_url, api_key, chat, threads, backend=backend,
                          adapter=_adapter(adapter, llm_model))
        responder = EmpatheticResponder(lm, guided=not plain, seed=seed)
        with err.status(f"responding to {len(turns)} turns"):
            response = responder.respond(turns, strategy, listener)
    document = json.dumps(response.to_dict(), ensure_ascii=False, indent=2)
    if output is not None:
        with user_errors():
            atomic_write_text(output, document + "\n")
        err.print(f"written: {output}")
    if as_json:
        out.print_json(document)
        return
    if response.trimmed_turns:
        err.print(f"[yellow]note:[/yellow] the {response.trimmed_turns} oldest turns were left out of the prompt "
                  f"to fit {lm.name}'s context of {lm.context_length} tokens")
    if response.emotion_hint:
        candidates = ", ".join(f"{c.label} {c.score:.2f}" for c in response.emotion_candidates)
        fell_back = " (the LLM chose outside them)" if response.emotion_fell_back else ""
        if response.emotion_method != "score":
            fell_back += f" [chosen by {response.emotion_method}: this LLM cannot score text]"
        err.print(f"emotion: [bold]{response.emotion_hint}[/bold] — small model's "
                  f"top-{len(response.emotion_candidates)}: {candidates}{fell_back}")
        err.print(f"cause words: {', '.join(w.word for w in response.cause_hint) or '—'}")
    if response.strategy:
        err.print(f"strategy: {response.strategy}")
    out.print(f"[bold]listener:[/bold] {response.text or '(the model produced nothing)'}")


def _train_context(task: str, data_dir: Path, output: Path | None, epochs: int, seed: int, threads: int,
                   limit: int | None) -> None:
    from affectlab.train.context import ContextRecipe, train_context

    run_training(train_context, ContextRecipe(task=task, data_dir=data_dir, out_dir=output, epochs=epochs, seed=seed,
                                              threads=threads, limit=limit, prior_correction=task == "next-strategy"))


@train_app.command("sem")
def train_sem_command(data_dir: DataDirOpt = DEFAULT_DATA_DIR, output: ArtifactOutputOpt = None, epochs: int = 2,
                      seed: int = 13, threads: int = 1, limit: LimitOpt = None) -> None:
    """The small empathetic model (32 EmpatheticDialogues emotions) on ED train; best epoch on valid."""
    _train_context("speaker-emotion", data_dir, output, epochs, seed, threads, limit)


@train_app.command("strategies")
def train_strategies_command(data_dir: DataDirOpt = DEFAULT_DATA_DIR, output: ArtifactOutputOpt = None,
                             epochs: int = 2, seed: int = 13, threads: int = 1, limit: LimitOpt = None) -> None:
    """The next-strategy model (8 ESConv strategies) on ESConv train; best epoch on valid."""
    _train_context("next-strategy", data_dir, output, epochs, seed, threads, limit)


@eval_app.command("sem")
def eval_sem_command(ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR, reports_dir: ReportsDirOpt = REPORTS,
                     split: str = "test", limit: LimitOpt = None) -> None:
    """The small empathetic model on EmpatheticDialogues: accuracy, top-3, macro-F1; turns only and with the
    situation."""
    from affectlab.evaluate.empathy import eval_sem

    with user_errors(), err.status("scoring"):
        report = eval_sem(data_dir, split=split, limit=limit)
    save_report(ctx, f"eval-sem-{split}", report, reports_dir)
    table = Table(title=f"SEM on ED {split} ({report['conversations']} conversations)", title_justify="left")
    for column in ("input", "accuracy", "top-3", "macro-F1"):
        table.add_column(column)
    for name in ("turns_only", "every_speaker_turn", "situation_included"):
        m = report[name]
        table.add_row(name, f"{m['accuracy']:.3f}", f"{m['top3_accuracy']:.3f}", f"{m['macro_f1']:.3f}")
    out.print(table)


@eval_app.command("strategies")
def eval_strategies_command(ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR,
                            reports_dir: ReportsDirOpt = REPORTS, split: str = "test",
                            limit: LimitOpt = None) -> None:
    """The next-strategy model on ESConv: accuracy, macro-F1 and preference bias, beside always-majority."""
    from affectlab.evaluate.empathy import eval_strategies

    with user_errors(), err.status("scoring"):
        report = eval_strategies(data_dir, split=split, limit=limit)
    save_report(ctx, f"eval-strategies-{split}", report, reports_dir)
    table = Table(title=f"ESConv {split} ({report['examples']} supporter turns)", title_justify="left")
    for column in ("predictor", "accuracy", "macro-F1", "weighted-F1", "preference bias"):
        table.add_column(column)
    for name in ("with_strategy_history", "with_strategy_history_no_prior_correction", "without_strategy_history",
                 "baseline_always_majority"):
        m = report[name]
        table.add_row(name, f"{m['accuracy']:.3f}", f"{m['macro_f1']:.3f}", f"{m['weighted_f1']:.3f}",
                      f"{m['preference_bias']:.3f}")
    out.print(table)


@eval_app.command("hef", cls=old_spellings(responses="--responses-per-emotion"))
def eval_hef_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR, reports_dir: ReportsDirOpt = REPORTS,
    split: str = "test",
    conversations: Annotated[int, typer.Option(help="A fixed random sample of this many conversations (0: all).")]
    = 500,
    responses_per_emotion: Annotated[int, typer.Option(
        help="Plain and HEF replies to this many conversations of every gold emotion (0: none).")] = 10,
    seed: int = 0, llm: LlmOpt = DEFAULT_KIND, llm_model: LlmModelOpt = None, backend: BackendOpt = "auto",
    base_url: BaseUrlOpt = None, api_key: ApiKeyOpt = None, chat: ChatOpt = False, threads: ThreadsOpt = None,
    rescore: Annotated[Path | None, typer.Option(
        help="Judge the replies a HEF report keeps again with the installed text model and recompute their tone "
             "figures, in place, without generating (the other options are ignored).")] = None,
    journal: Annotated[Path | None, typer.Option(help="Keep every score and reply in this file as it is made; a "
                                                      "re-run with the same settings makes only what it lacks.")]
    = None,
) -> None:
    """HEF's claim on EmpatheticDialogues: LLM emotion accuracy alone vs with the small model's hint; replies
    plain vs HEF."""
    from affectlab.evaluate.empathy import eval_hef, rescore_hef_file

    if rescore is not None:
        with user_errors():
            unused = tuple(p.name for p in ctx.command.params if p.name != "rescore")
            report = rescore_hef_file(rescore, invoked_command(ctx, ignored=unused))
        out.print(_replies_table(report["responses"]))
        err.print(f"report: {rescore} (its replies judged again by {report['responses']['tone_judge']['classifier']})")
        return
    with user_errors():
        lm = make_llm(llm, llm_model, base_url, api_key, chat, threads, backend=backend)
        with progress_bar() as progress:
            n = conversations or None
            bar = progress.add_task("emotion scoring, then replies", total=None)
            report = eval_hef(lm, data_dir, split, n, responses_per_emotion=responses_per_emotion, seed=seed,
                              journal=journal, on_progress=lambda k: progress.advance(bar, k))
    save_report(ctx, f"eval-hef-{split}", report, reports_dir)
    table = Table(title=f"{report['llm']}: emotion accuracy on {report['conversations']} ED {split} conversations "
                        f"(SEM alone {report['sem']['accuracy']:.3f})", title_justify="left")
    for column in ("scoring", "LLM alone", "LLM + hint (all labels)", "two-stage, margin 2",
                   "two-stage, never fall back"):
        table.add_column(column)
    for kind, m in report["emotion_accuracy"].items():
        stages = m["llm_two_stage_by_margin"]
        table.add_row(kind, f"{m['llm_alone']:.3f}", f"{m['llm_with_hint_all_labels']:.3f}",
                      number(stages.get("2.0")), number(stages.get("inf")))
    out.print(table)
    if "responses" in report:
        out.print(_replies_table(report["responses"]))


def _replies_table(responses: dict) -> Table:
    """The reply arms of a HEF report; a figure a (hand-edited) report lacks shows as –."""
    replies = Table(title=f"replies on {responses.get('conversations', '?')} conversations", title_justify="left")
    for column in ("", "aligned tone", "distinct-1", "distinct-2", "mean words", "emotion hint = gold"):
        replies.add_column(column)
    for name in ("plain", "hef"):
        m = responses[name]
        replies.add_row(name, number(m.get("aligned")), number(m.get("distinct_1")), number(m.get("distinct_2")),
                        number(m.get("mean_words"), 1), number(m.get("emotion_hint_accuracy")))
    return replies


@train_app.command("responder")
def train_responder_command(
    data_dir: DataDirOpt = DEFAULT_DATA_DIR,
    run_dir: Annotated[Path, typer.Option(help="Run folder: prepared examples and checkpoints; a re-run resumes.")]
    = Path("runs/responder"),
    output: ArtifactOutputOpt = None,
    ed_examples: Annotated[int, typer.Option(help="EmpatheticDialogues listener replies to train on.")] = 2400,
    esconv_examples: Annotated[int, typer.Option(help="ESConv supporter replies to train on.")] = 1200,
    seed: int = 13, threads: int = 2,
) -> None:
    """A LoRA adapter that teaches the packaged LM to reply as a listener, with and without hints; the adapter of
    the best dev loss is kept and exported (default runs/responder-gemma3-270m)."""
    from affectlab.train.responder import ResponderRecipe, export_adapter, train_responder

    recipe = ResponderRecipe(data_dir=str(Path(data_dir).resolve()), ed_examples=ed_examples,
                             esconv_examples=esconv_examples, seed=seed, threads=threads)
    with user_errors(), progress_bar() as progress:
        preparing = progress.add_task("preparing examples (hints, cause words)",
                                      total=ed_examples + esconv_examples + recipe.dev_examples)
        training = progress.add_task("training", total=None)

        def stepped(record: dict) -> None:
            progress.update(training, completed=record["step"], total=record["of"],
                            description=f"training, loss {record['loss']:.3f}"
                                        + (f", dev {record['dev_loss']:.3f}" if "dev_loss" in record else ""))

        summary = train_responder(recipe, run_dir, on_example=lambda k: progress.advance(preparing, k),
                                  on_step=stepped)
        folder = export_adapter(run_dir, output or Path("runs") / "responder-gemma3-270m", "responder-gemma3-270m")
    out.print(f"adapter written to {folder}: dev loss {summary['base_dev_loss']} (base) → "
              f"{summary['best_dev_loss']} (step {summary['best_step']} of {summary['steps']})")


@eval_app.command("responder")
def eval_responder_command(
    ctx: typer.Context,
    adapter: Annotated[str, typer.Option(help="The responder adapter to compare with the base model (a shipped "
                                              "name or a folder).")] = "responder-gemma3-270m",
    data_dir: DataDirOpt = DEFAULT_DATA_DIR, reports_dir: ReportsDirOpt = REPORTS, split: str = "test",
    per_emotion: Annotated[int, typer.Option(help="EmpatheticDialogues conversations per gold emotion.")] = 20,
    esconv: Annotated[int, typer.Option(help="ESConv dialogues (one supporter reply each).")] = 150,
    journal: Annotated[Path | None, typer.Option(help="Keep every answer in this file as it is made; a re-run "
                                                     "with the same settings, adapter and emotion model goes on "
                                                     "from it.")] = None,
    seed: int = 0, backend: BackendOpt = "auto", threads: ThreadsOpt = None,
) -> None:
    """Base and tuned model, plain and guided, on EmpatheticDialogues and ESConv: gold-reply perplexity, BLEU-2,
    ROUGE-L, distinct-n, tone, relevance, degenerate replies, with intervals over conversations."""
    from affectlab.evaluate.responder import ARMS, eval_responder
    from affectlab.llm import load_llm

    with user_errors():
        base = load_llm(None, threads, backend=backend)
        tuned = load_llm(None, threads, adapter=adapter, backend=backend)
        with progress_bar() as progress:
            bar = progress.add_task("replies", total=None)
            report = eval_responder(base, tuned, data_dir, split, per_emotion, esconv, seed, journal,
                                    on_progress=lambda k: progress.advance(bar, k))
    save_report(ctx, f"eval-responder-{split}", report, reports_dir)
    for dataset, figures in report["datasets"].items():
        table = Table(title=f"{dataset} {split}: {figures['items']} replies", title_justify="left")
        for column in ("arm", "perplexity", "BLEU-2", "ROUGE-L", "distinct-2", "tone", "relevance / gold",
                       "degenerate"):
            table.add_column(column)
        for arm in ARMS:
            m = figures["arms"][arm]
            table.add_row(arm, f"{m['perplexity'][0]:.1f}", f"{m['bleu_2'][0]:.3f}", f"{m['rouge_l'][0]:.3f}",
                          f"{m['distinct_2']:.3f}", f"{m['tone_aligned'][0]:.3f}", f"{m['relevance_vs_gold'][0]:.2f}",
                          f"{m['degenerate'][0]:.3f}")
        out.print(table)


@bench_app.command("llm")
def bench_llm_command(
    ctx: typer.Context, data_dir: DataDirOpt = DEFAULT_DATA_DIR, reports_dir: ReportsDirOpt = REPORTS,
    prompts: int = 8, new_tokens: int = 48, rounds: int = 3, threads: int = 2,
    adapter: Annotated[str, typer.Option(help="The responder adapter both run with (a name or folder), or none.")]
    = "responder-gemma3-270m",
) -> None:
    """Generation speed of the llama.cpp backend beside transformers, same model, adapter, prompts and threads."""
    from affectlab.evaluate.bench_llm import bench_llm

    with user_errors(), progress_bar() as progress:
        bar = progress.add_task("rounds", total=rounds)
        report = bench_llm(data_dir, prompts, new_tokens, rounds, threads, None if adapter == "none" else adapter,
                           on_round=lambda k: progress.advance(bar, k))
    save_report(ctx, "bench-llm", report, reports_dir)
    table = Table(title=f"{prompts} prompts × {new_tokens} new tokens, {threads} threads, median of {rounds}",
                  title_justify="left")
    for column in ("backend", "tokens/s", "load s"):
        table.add_column(column)
    for name, m in report["backends"].items():
        table.add_row(name, f"{m['tokens_per_second']:.1f}", f"{m['load_seconds']:.1f}")
    out.print(table)
    out.print(f"llama.cpp / transformers: {report['speedup_llama_cpp_over_transformers']:.2f}×")
