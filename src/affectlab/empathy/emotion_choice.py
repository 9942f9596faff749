"""The LLM's reading of the speaker's emotion, scored rather than generated so base models work: the
log-likelihood of each of the 32 EmpatheticDialogues labels after an emotion prompt.

Two-stage choice (after HEF, Yang et al. 2024): the prompt names the small model's top-k emotions and the
LLM picks the likeliest of them, unless a label outside them beats that pick by more than ``margin``
nats — then it falls back to the full label set.

A backend that cannot score text (a chat server without prompt echo) still chooses, with what it has
(:func:`choose_without_scores`); :attr:`EmotionChoice.method` says how the emotion was chosen:

- ``score``: every label scored (the two-stage choice above);
- ``top-logprobs``: the candidate whose first token is likeliest among the server's top next tokens;
- ``generation``: the first emotion label in a short greedy answer;
- ``small-model``: the small model's top choice, where the LLM named no label."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np

from affectlab.dialogue.context_classifier import LabelScore
from affectlab.empathy.prompts import emotion_prompt
from affectlab.llm.base import LanguageModel, ScoringUnsupported
from affectlab.taxonomy import ED_EMOTIONS

CONTENT_FREE = "Speaker: N/A"  # the conversation slot filled with nothing, for calibration
METHODS = ("score", "top-logprobs", "generation", "small-model")
ANSWER_TOKENS = 8  # enough for "The speaker feels <label>" from a chat model


@dataclass(frozen=True)
class EmotionChoice:
    emotion: str
    candidates: list[LabelScore] = field(default_factory=list)  # the small model's top-k, if it was asked
    fell_back: bool = False  # the LLM chose outside the candidates
    scores: dict[str, float] = field(default_factory=dict)  # the LLM's score of every label it scored
    method: str = "score"  # one of METHODS

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


def first_token_scores(top: dict[str, float], candidates: list[str]) -> dict[str, float]:
    """Each candidate's best log-probability among the top next tokens that begin it (``" ang"`` begins
    ``angry``; chat servers give tokens without the leading space); candidates no top token begins are left out."""
    found: dict[str, float] = {}
    for token, logprob in top.items():
        piece = token.strip().lower()
        if not piece:
            continue
        for label in candidates:
            if label.startswith(piece) and logprob > found.get(label, -np.inf):
                found[label] = logprob
    return found


def choose_without_scores(llm: LanguageModel, prompt: str, ranked: list[LabelScore],
                          labels: tuple[str, ...] = ED_EMOTIONS) -> EmotionChoice:
    """The emotion by the first way the backend offers (see the module docstring); ``ranked`` is the small
    model's top-k, best first, which also breaks ties."""
    candidates = [c.label for c in ranked]
    top_of = getattr(llm, "next_token_logprobs", None)
    if top_of is not None:
        try:
            found = first_token_scores(top_of(prompt), candidates)
        except ScoringUnsupported:
            found = {}
        if found:
            best = max(candidates, key=lambda c: found.get(c, -np.inf))  # max keeps the first of equals
            return EmotionChoice(best, ranked, False, {k: round(v, 4) for k, v in found.items()}, "top-logprobs")
    answer = llm.generate(prompt, max_new_tokens=ANSWER_TOKENS, temperature=0.0, stop=["\n"]).text.lower()
    named = next((w for w in re.findall(r"[a-z]+", answer) if w in labels), None)
    if named is not None:
        return EmotionChoice(named, ranked, named not in candidates, {}, "generation")
    return EmotionChoice(candidates[0], ranked, False, {}, "small-model")
