"""The text model's readings of every training and dev turn, computed once per run and kept in the run folder.

Reading about 110,000 distinct turns takes minutes on two cores, so a re-run (a crash, another epoch count)
reuses them, but only when they were made for exactly the same texts, in the same order, by the same text
model (its fingerprint); anything else is read afresh and the file replaced.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affectlab.dialogue.text_readings import text_features_record, text_readings
from affectlab.io import atomic_target
from affectlab.train.text_ratings import texts_digest

READINGS_FILE = "text-readings.npz"


def _stored(path: Path, digest: str, fingerprint: str) -> np.ndarray | None:
    if not path.is_file():
        return None
    with np.load(path) as stored:
        if str(stored["texts_sha256"]) != digest or str(stored["fingerprint"]) != fingerprint:
            return None
        return stored["readings"]


def cached_readings(folder: Path, texts: list[str], analyzer) -> np.ndarray:
    """:func:`~affectlab.dialogue.text_readings.text_readings` of ``texts``, from ``folder/text-readings.npz``
    when that file holds the readings of these texts by this text model, else read now and written there."""
    path = Path(folder) / READINGS_FILE
    digest, fingerprint = texts_digest(texts), text_features_record(analyzer)["fingerprint"]
    found = _stored(path, digest, fingerprint)
    if found is not None:
        return found
    readings = text_readings(analyzer, texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_target(path) as temporary, open(temporary, "wb") as stream:
        np.savez(stream, readings=readings, texts_sha256=digest, fingerprint=fingerprint)
    return readings
