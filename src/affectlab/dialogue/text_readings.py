"""The text model's reading of each turn, an input of turn models that were trained with it: its literal Ekman and
sentiment probabilities (11 numbers a turn, read with the irony rule off), joined to the turn's pooled vector before
the turn model's head. Literal, so that refitting the text model's irony output leaves turn models valid; the turn
model reads irony from the words itself.

A turn model records which text model it learned these numbers from (name, and the fingerprint of what those
outputs depend on, :func:`~affectlab.text.fingerprints.outputs_fingerprint`, in its config's ``text_features``).
Another text model reads turns differently, so a turn model is refused beside one whose fingerprint differs,
rather than run on numbers it never saw; reading blocks fitted onto the same text model later, and a refitted
irony row, change nothing here:

>>> record = text_features_record(Analyzer())
>>> record["model"], len(record["readings"])
('text-minilm', 11)
"""

from __future__ import annotations

import numpy as np

from affectlab.errors import AffectlabError
from affectlab.taxonomy import EKMAN, SENTIMENT
from affectlab.text.fingerprints import outputs_fingerprint
from affectlab.text.probabilities import logit

READINGS = tuple(f"ekman_{label}" for label in EKMAN) + tuple(f"sentiment_{label}" for label in SENTIMENT)
READ_BLOCKS = ("ekman", "sentiment")


class TextModelMismatch(AffectlabError, ValueError):
    """A turn model beside a text model other than the one whose readings it was trained on."""


def text_features_record(analyzer) -> dict:
    """What a turn model's config records about the text model that read its turns."""
    return {"model": analyzer.model_name,
            "fingerprint": outputs_fingerprint(analyzer.folder, READ_BLOCKS, literal=True),
            "readings": list(READINGS)}


def check_text_model(record: dict, analyzer, turn_model: str) -> None:
    """Refuse ``analyzer`` unless it is the text model of ``record`` (the turn model's ``text_features``)."""
    found = outputs_fingerprint(analyzer.folder, READ_BLOCKS, literal=True)
    if found != record["fingerprint"] or list(record.get("readings", [])) != list(READINGS):
        raise TextModelMismatch(
            f"turn model {turn_model} was trained on the readings of text model {record['model']} "
            f"(fingerprint {record['fingerprint']}), but the text model found at {analyzer.folder} has "
            f"fingerprint {found}: retrain the turn model (affectlab train turns) beside this text model, or "
            "install the affectlab version it came with")


def text_readings(analyzer, texts: list[str]) -> np.ndarray:
    """``[len(texts), 11]`` float32: each text's literal Ekman then sentiment probabilities (:data:`READINGS`),
    every distinct text read once, all in one batch."""
    distinct = list(dict.fromkeys(texts))
    results = analyzer.analyze_batch(distinct, literal=True)
    rows = {}
    for text, result in zip(distinct, results):
        if result.error is not None:
            raise AffectlabError(f"the text model cannot read the turn {text[:60]!r}: {result.error}")
        rows[text] = [result.ekman[label] for label in EKMAN] + [result.sentiment[label] for label in SENTIMENT]
    return np.array([rows[text] for text in texts], dtype=np.float32).reshape(len(texts), len(READINGS))


def ekman_readings(readings: np.ndarray) -> np.ndarray:
    """``[turns, 11]`` readings → ``[turns, 7]``: the Ekman probabilities among them, in :data:`EKMAN` order."""
    return readings[:, : len(EKMAN)]


def ekman_evidence(readings: np.ndarray) -> np.ndarray:
    """``[turns, 11]`` readings → ``[turns, 7]`` log-odds of the text model's Ekman probabilities, the evidence a
    register adds to the turn model's logits with its tuned weight (:func:`~affectlab.dialogue.registers.calibrate`)."""
    return logit(np.clip(ekman_readings(readings), 1e-3, 1 - 1e-3)).astype(np.float32)
