"""Loaders for the research datasets under ``../shared/data`` (see its README for formats and licences)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from affectlab.errors import AffectlabError
from affectlab.taxonomy import GOEMOTIONS, VAD

DEFAULT_DATA_DIR = Path("../shared/data")


class DatasetNotFound(AffectlabError, FileNotFoundError):
    """A dataset folder or split file is missing."""


@dataclass(frozen=True)
class GoEmotionsSplit:
    texts: list[str]
    labels: list[list[str]]  # GoEmotions label names per text


@dataclass(frozen=True)
class EmoBankSplit:
    texts: list[str]
    vad: list[tuple[float, float, float]]  # valence, arousal, dominance on the 1-5 scale


def _require(path: Path) -> Path:
    if not path.exists():
        raise DatasetNotFound(f"{path} not found; pass --data pointing at the shared data folder")
    return path


def load_goemotions(split: str, data_dir: Path = DEFAULT_DATA_DIR) -> GoEmotionsSplit:
    """Read ``goemotions/{split}.tsv`` (``text \\t label ids \\t comment id``)."""
    path = _require(Path(data_dir) / "goemotions" / f"{split}.tsv")
    texts: list[str] = []
    labels: list[list[str]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            text, ids, _ = line.rstrip("\n").split("\t")
            texts.append(text)
            labels.append([GOEMOTIONS[int(i)] for i in ids.split(",")])
    return GoEmotionsSplit(texts, labels)


def load_emobank(split: str, data_dir: Path = DEFAULT_DATA_DIR) -> EmoBankSplit:
    """Read the rows of ``emobank/emobank.csv`` (combined perspective) whose split column matches."""
    path = _require(Path(data_dir) / "emobank" / "emobank.csv")
    texts: list[str] = []
    vad: list[tuple[float, float, float]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["split"] == split and row["text"].strip():
                texts.append(row["text"])
                vad.append(tuple(float(row[k[0].upper()]) for k in VAD))  # type: ignore[arg-type]
    if not texts:
        raise DatasetNotFound(f"{path} has no rows for split {split!r}")
    return EmoBankSplit(texts, vad)
