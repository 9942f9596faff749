"""The LLM's reading of the speaker's emotion, scored rather than generated so base models work: the
log-likelihood of each of the 32 EmpatheticDialogues labels after an emotion prompt.

Two-stage choice (after HEF, Yang et al. 2024): the prompt names the small model's top-k emotions and the
LLM picks the likeliest of them, unless a label outside them beats that pick by more than ``margin``
nats — then it falls back to the full label set."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from affectlab.empathy.classifier import LabelScore
from affectlab.empathy.prompts import emotion_prompt
from affectlab.llm.base import LanguageModel
from affectlab.taxonomy import ED_EMOTIONS

CONTENT_FREE = "Speaker: N/A"  # the conversation slot filled with nothing, for calibration


@dataclass(frozen=True)
class EmotionChoice:
    emotion: str
    candidates: list[LabelScore] = field(default_factory=list)  # the small model's top-k, if it was asked
    fell_back: bool = False  # the LLM chose outside the candidates
    scores: dict[str, float] = field(default_factory=dict)  # the LLM's score of every label

    def to_dict(self) -> dict:
        return asdict(self)


class LabelScorer:
    """Scores the labels after an emotion prompt; with ``calibrate`` each label's score on a content-free
    conversation is subtracted (Zhao et al. 2021), which removes the LM's prior for frequent words."""

    def __init__(self, llm: LanguageModel, labels: tuple[str, ...] = ED_EMOTIONS, calibrate: bool = False) -> None:
        self.llm, self.labels, self.calibrate = llm, labels, calibrate
        self._prior: np.ndarray | None = None

    def raw(self, conversation: str, candidates: list[str] | None = None) -> np.ndarray:
        prompt = emotion_prompt(conversation, candidates)
        return np.array(self.llm.score(prompt, [f" {label}" for label in self.labels]))

    def calibrated(self, raw: np.ndarray) -> np.ndarray:
        if self._prior is None:
            self._prior = self.raw(CONTENT_FREE)
        return raw - self._prior

    def scores(self, conversation: str, candidates: list[str] | None = None) -> np.ndarray:
        raw = self.raw(conversation, candidates)
        return self.calibrated(raw) if self.calibrate else raw


def two_stage(scores: np.ndarray, labels: tuple[str, ...], candidates: list[str], margin: float) -> tuple[str, bool]:
    """The best-scored candidate, unless the best label overall beats it by more than ``margin``."""
    inside = [labels.index(c) for c in candidates]
    best_inside = max(inside, key=lambda i: scores[i])
    best = int(np.argmax(scores))
    if best not in inside and scores[best] - scores[best_inside] > margin:
        return labels[best], True
    return labels[best_inside], False
