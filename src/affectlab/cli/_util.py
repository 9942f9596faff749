"""What every command shares: the app and its ``train``/``eval``/``bench`` groups, the option types (one meaning
per name), error handling, progress bars and the re-run line written into reports.

Old option spellings stay accepted for one release as hidden aliases: :class:`Command` rewrites them before
parsing, so they work without showing up in ``--help``.
"""

from __future__ import annotations

import math
import shlex
import signal
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from typer.core import TyperCommand, TyperGroup

from affectlab.errors import AffectlabError
from affectlab.text import DEFAULT_MAX_CHARS, DEFAULT_MAX_WINDOWS, RUNTIMES

# old spelling -> new, applied to a command that has the new option and lacks the old one
OLD_SPELLINGS = {"--data": "--data-dir", "--out": "--output", "--out-dir": "--output", "--reports": "--reports-dir",
                 "--model": "--llm-model"}
SECRET_PARAMS = {"api_key"}  # never written into a report's re-run line
REPRODUCTION = "Reproduction (reports under reports/)"


def respell(args: list[str], aliases: dict[str, str]) -> list[str]:
    """``args`` with old option spellings (``--out x``, ``--out=x``) replaced by the new ones, up to ``--``.

    >>> respell(["--out=x", "--", "--out"], {"--out": "--output"})
    ['--output=x', '--', '--out']
    """
    fixed = []
    for i, arg in enumerate(args):
        if arg == "--":
            return fixed + args[i:]
        name, sep, value = arg.partition("=")
        fixed.append(aliases[name] + sep + value if name in aliases else arg)
    return fixed


class _Respelling:
    old_spellings: dict[str, str] = {}  # a command's own aliases, before OLD_SPELLINGS

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        known = {opt for p in self.params for opt in (*p.opts, *p.secondary_opts)}
        table = {**OLD_SPELLINGS, **self.old_spellings}
        aliases = {old: new for old, new in table.items() if old not in known and new in known}
        return super().parse_args(ctx, respell(args, aliases))


class Command(_Respelling, TyperCommand):
    """A command that still accepts the old spellings of its options."""


class Group(_Respelling, TyperGroup):
    """A group whose own (callback) options still accept their old spellings."""


def old_spellings(**aliases: str) -> type[Command]:
    """A :class:`Command` with its own hidden aliases: ``old_spellings(data="--dataset")`` accepts ``--data``."""
    table = {"--" + old.replace("_", "-"): new for old, new in aliases.items()}
    return type("Command", (Command,), {"old_spellings": table})


class App(typer.Typer):
    """A Typer app whose commands are :class:`Command` unless told otherwise; run as a program, it turns
    SIGTERM and SIGINT into :class:`Stopped` (see :func:`stop_on_signals`)."""

    def command(self, name: str | None = None, *, cls: type | None = None, **kwargs):
        return super().command(name, cls=cls or Command, **kwargs)

    def __call__(self, *args, **kwargs):
        with stop_on_signals():
            return super().__call__(*args, **kwargs)


class Stopped(SystemExit):
    """Raised where a run is when SIGTERM or SIGINT arrives. It unwinds like any exception, so every ``with``
    block cleans up (a :class:`~affectlab.io.TableWriter` removes its partial file), and click lets it through."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)


@contextmanager
def stop_on_signals():
    """SIGTERM and SIGINT stop the run with one line and exit code 128 + signal (143, 130); a second signal
    during the clean-up ends the process at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    received: list[int] = []

    def stop(signum, frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        received.append(signum)
        raise Stopped(signum)

    previous = {each: signal.signal(each, stop) for each in (signal.SIGTERM, signal.SIGINT)
                if signal.getsignal(each) is not signal.SIG_IGN}  # a signal ignored on purpose stays ignored
    try:
        yield
    except BaseException:
        if not received:
            raise
        # some libraries (DuckDB) swallow the Stopped raised in them and fail another way; the signal still decides
        err.print(f"[red]stopped[/red] by {signal.Signals(received[0]).name}", highlight=False)
        raise SystemExit(128 + received[0]) from None
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def _group(help: str, **kwargs) -> App:
    return App(help=help, cls=Group, no_args_is_help=True, **kwargs)


app = App(help="Emotion intelligence for text and conversations, offline.", no_args_is_help=True,
          add_completion=False)
train_app = _group("Reproduce a shipped model from the shared data, or train a head for your own labels (train head).")
eval_app = _group("Measure a model on a held-out split; JSON report under reports/.")
bench_app = _group("Speed and memory beside a baseline; JSON report under reports/. Alone: `bench text`.",
                   invoke_without_command=True)
app.add_typer(train_app, name="train", rich_help_panel=REPRODUCTION)
app.add_typer(eval_app, name="eval", rich_help_panel=REPRODUCTION)
app.add_typer(bench_app, name="bench", rich_help_panel=REPRODUCTION)


def _print_version(asked: bool) -> None:
    if asked:
        from affectlab.version import __version__

        typer.echo(f"affectlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                                help="Print affectlab's version and exit.")] = False) -> None:
    pass  # the app's options; its help is the App's


out = Console()
err = Console(stderr=True)

ModelOpt = Annotated[str, typer.Option("--model", help="A shipped model name (see `affectlab models`) or an "
                                                       "artifact folder.")]
RuntimeOpt = Annotated[str, typer.Option(help=f"One of {', '.join(RUNTIMES)}.")]
ProfileOpt = Annotated[str, typer.Option(
    help="accurate (the fine-tuned transformer) or fast (static token vectors: thousands of texts/s, a few points "
         "of F1 lower; needs the fast extra). --runtime, --max-windows and --explain are the accurate profile's.")]
TextModelOpt = Annotated[str | None, typer.Option(
    "--model", help="A shipped text model name (see `affectlab models`) or an artifact folder (a head trained by "
                    "`affectlab train head` too); default: the profile's shipped model.", show_default=False)]
DataDirOpt = Annotated[Path, typer.Option("--data-dir", help="The shared data folder.")]
ReportsDirOpt = Annotated[Path, typer.Option("--reports-dir", help="Where JSON reports are written.")]
ThreadsOpt = Annotated[int | None, typer.Option(help="CPU threads (default: all cores).")]
MaxCharsOpt = Annotated[int, typer.Option(
    help=f"Longest text read, in characters (0: no bound; default {DEFAULT_MAX_CHARS:,}); checked before "
         "tokenizing.", show_default=False)]
MaxWindowsOpt = Annotated[int, typer.Option(
    help=f"Most encoder windows one text may take (0: no bound; default {DEFAULT_MAX_WINDOWS}); catches "
         "emoji-heavy texts.", show_default=False)]
OnLongOpt = Annotated[str, typer.Option(
    help="A text over --max-chars or --max-windows: 'error' (its row gets an error naming the limit) or "
         "'truncate' (only its beginning is read; the row's truncated column is true).")]
LimitOpt = Annotated[int | None, typer.Option(help="Use only the first N dialogues of each split (smoke runs).")]
ArtifactOutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Where the artifact is written "
                                                                              "(default runs/<name>).")]
RefittedOutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Where the refitted artifact is written.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
BF16Opt = Annotated[bool, typer.Option(
    "--bf16", help="Forward passes in bfloat16 (weights and losses in float32): faster on CPUs with AVX512-BF16, "
                   "slower on others. Part of the recipe: a run resumes only with the same choice.")]
REPORTS = Path("reports")


@contextmanager
def user_errors():
    """Turn problems with the user's input into one red line and exit code 2."""
    try:
        yield
    except AffectlabError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def fail(message: str) -> None:
    """Stop with one red line and exit code 2."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def check_report_output(output: Path, beside: tuple[str, ...] = (), inputs: Sequence[str | Path] = ()) -> None:
    """Before any work: the report is JSON, and it and the files named after it (``beside``: their suffixes) can be
    written without replacing an input (``inputs``: files, or comma-separated lists of them, that are read)."""
    from affectlab.io.writers import check_not_source, check_target

    if output.suffix != ".json":
        fail(f"{output}: the report is JSON; end the name in .json")
    sources = [Path(part.strip()) for each in inputs for part in str(each).split(",")]
    with user_errors():
        for target in (output, *(output.with_suffix(suffix) for suffix in beside)):
            check_target(target)
            for source in sources:
                if source.is_file():
                    check_not_source(target, source)


def positive_ints(value: str, option: str, example: str) -> tuple[int, ...]:
    """Comma-separated positive whole numbers (``--turns 30,300``); else one red line naming the option, exit 2."""
    parts = [part.strip() for part in value.split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        fail(f"{option} takes positive whole numbers, e.g. {example}, not {value!r}")
    return tuple(int(part) for part in parts)


def _long(names: list[str]) -> str | None:
    return next((n for n in names if n.startswith("--")), names[0] if names else None)


def invoked_command(ctx: typer.Context, path: str | None = None, ignored: tuple[str, ...] = ()) -> str:
    """The running command with every option spelled out (new spellings), so a report says how to re-run it.
    ``path`` replaces the command path, e.g. ``"affectlab bench text"`` for plain ``affectlab bench``;
    ``ignored`` names parameters the run did not use (left out, so the line does not claim them)."""
    words = ["affectlab", *(path or ctx.command_path).split()[1:]]
    arguments: list[str] = []
    options: list[str] = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if value is None or param.name in SECRET_PARAMS or param.name in ignored:
            continue
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if param.param_type_name == "argument":
            arguments += [str(v) for v in values]
        elif isinstance(value, bool):
            flag = _long(param.opts) if value else _long(param.secondary_opts)
            options += [flag] if flag else []
        else:
            for each in values:
                options += [_long(param.opts), str(each)]
    return shlex.join(words + arguments + options)


def save_report(ctx: typer.Context, name: str, report: dict, reports_dir: Path, path: str | None = None) -> Path:
    """Write ``reports_dir/name.json`` with the re-run line and say where."""
    from affectlab.evaluate.report import write_report

    written = write_report(name, report, invoked_command(ctx, path), reports_dir)
    err.print(f"report: {written}")
    return written


def number(value: object, digits: int = 3) -> str:
    """A report's figure for a table: ``digits`` decimals, or – where the report has no number (missing, NaN)."""
    return f"{value:.{digits}f}" if isinstance(value, int | float) and math.isfinite(value) else "–"


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=False,
    )


def with_training_progress(train: Callable, recipe):
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


def run_training(train: Callable, recipe) -> None:
    """Train an artifact with a progress bar and say where it was written."""
    config = with_training_progress(train, recipe)
    kept = f", kept: epoch {config.trained['kept_epoch']}" if "kept_epoch" in config.trained else ""
    out.print(f"artifact written to {recipe.out_dir or Path('runs') / recipe.name} "
              f"(epochs done: {config.trained['epochs_done']}{kept})")
