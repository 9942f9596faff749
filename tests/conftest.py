import os
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA_DIR.exists(), reason="../shared/data is not beside the repo")


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
    """The packaged Gemma 3 270M, converted once into this session's cache."""
    from affectlab.llm import load_llm

    return load_llm()
