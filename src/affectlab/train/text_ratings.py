"""What a text teacher rates and how its ratings are stored and read back (no torch needed).

The teacher (:mod:`affectlab.train.text_teacher`) rates GoEmotions train and texts of other registers
(:data:`RATED_SOURCES`); ``ratings.npz`` holds its raw head outputs per source and ``ratings.json`` the
digest of the texts each array belongs to, so the student (:mod:`affectlab.train.text`) can check that
it reads the ratings of exactly the texts it trains on.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affectlab.datasets import (
    load_dailydialog,
    load_emobank,
    load_empathetic_dialogues,
    load_esconv,
    load_goemotions,
    load_irony,
    load_meld,
)
from affectlab.errors import AffectlabError

RATINGS_FILE = "ratings.npz"
SUMMARY_FILE = "ratings.json"
RATED_SOURCES = ("goemotions", "emobank", "dailydialog", "empathetic_dialogues", "esconv", "meld", "irony")


class TeacherMismatch(AffectlabError, ValueError):
    """Teacher ratings that are missing, or were made for other texts than the ones being trained on."""


def texts_digest(texts: list[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()


def _utterances(turn_lists: list[list[str]], cap: int, seed: int) -> list[str]:
    """Distinct non-blank utterances in a fixed order, at most ``cap`` of them (a seeded sample)."""
    distinct = sorted({t.strip() for turns in turn_lists for t in turns if t.strip()})
    if len(distinct) > cap:
        distinct = sorted(random.Random(seed).sample(distinct, cap))
    return distinct


def rated_texts(source: str, data_dir: Path, per_source: int, seed: int) -> list[str]:
    """The texts of one source that the teacher rates: all of GoEmotions train, at most ``per_source`` of
    each other register (the same list every time for the same arguments)."""
    if source == "goemotions":
        return load_goemotions("train", data_dir).texts
    if source == "emobank":
        return load_emobank("train", data_dir).texts[:per_source]
    if source == "irony":
        return load_irony("train", data_dir).texts[:per_source]
    if source == "dailydialog":
        turns = [d.texts for d in load_dailydialog("train", data_dir)]
    elif source == "meld":
        turns = [d.texts for d in load_meld("train", data_dir)]
    elif source == "empathetic_dialogues":
        turns = [e.texts for e in load_empathetic_dialogues("train", data_dir)]
    elif source == "esconv":
        turns = [e.texts for e in load_esconv("train", data_dir)]
    else:
        raise ValueError(f"unknown rated source {source!r}; choose from {', '.join(RATED_SOURCES)}")
    return _utterances(turns, per_source, seed)


@dataclass(frozen=True)
class RatedSource:
    texts: list[str]
    raw: np.ndarray  # the teacher's head outputs, one row per text


@dataclass(frozen=True)
class TextRatings:
    sources: dict[str, RatedSource]
    vad_mean: np.ndarray  # the teacher's VAD scale: its raw VAD outputs are standardized by these
    vad_std: np.ndarray


def load_text_ratings(folder: Path, data_dir: Path, limit: int | None = None) -> TextRatings:
    """Every source's texts (re-read from ``data_dir``) with the teacher's ratings of them, checked by digest."""
    summary_path = Path(folder) / SUMMARY_FILE
    if not summary_path.exists():
        raise TeacherMismatch(f"{folder} holds no teacher ratings: run `affectlab train text-teacher -o {folder}`")
    summary = json.loads(summary_path.read_text())
    recipe = summary["recipe"]
    rated = {}
    with np.load(Path(folder) / RATINGS_FILE) as ratings:
        for source, made in summary["sources"].items():
            texts = rated_texts(source, data_dir, recipe["per_source"], recipe["seed"])[:limit]
            if made["texts_sha256"] != texts_digest(texts):
                raise TeacherMismatch(f"{folder} rates other {source} texts than {data_dir} holds: re-run the teacher")
            rated[source] = RatedSource(texts, ratings[source])
    return TextRatings(rated, np.array(summary["vad_mean"]), np.array(summary["vad_std"]))


def save_text_ratings(folder: Path, rated: dict[str, RatedSource], summary: dict) -> dict:
    """Write ``ratings.npz`` and ``ratings.json`` (``summary`` plus each source's count and digest), atomically;
    returns what ``ratings.json`` holds."""
    from affectlab.io.writers import atomic_target, atomic_write_text

    with atomic_target(Path(folder) / RATINGS_FILE) as tmp, tmp.open("wb") as handle:
        np.savez(handle, **{source: r.raw.astype(np.float32) for source, r in rated.items()})
    sources = {source: {"texts": len(r.texts), "texts_sha256": texts_digest(r.texts)} for source, r in rated.items()}
    summary = {**summary, "sources": sources}
    atomic_write_text(Path(folder) / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
    return summary
