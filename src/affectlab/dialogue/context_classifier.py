"""Context classifiers at inference: the small empathetic model (the speaker's emotion, 32
EmpatheticDialogues labels) and the support-strategy model (the listener's next move, 8 ESConv labels).

>>> from affectlab.empathy import load_emotion_model
>>> sem = load_emotion_model()
>>> turns = [{"speaker": "me", "text": "My dog died this morning."}]
>>> prediction = sem.predict(turns, top_k=3)
>>> prediction.labels[0].label, sem.cause_words(turns, prediction.labels[0].label)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from affectlab.dialogue.artifact import (
    EMOTION_CONTEXT_MODEL,
    STRATEGY_MODEL,
    DialogueConfig,
    resolve_dialogue_model,
)
from affectlab.dialogue.context import EncodedContext, encode_context
from affectlab.dialogue.packing import TurnTokenizer
from affectlab.dialogue.turns import InvalidConversation, Turn, check_turns
from affectlab.io.values import surrogate_problem
from affectlab.text.explain import continues_word, token_attributions
from affectlab.text.normalize import DEFAULT_MAX_CHARS, length_problem


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float


@dataclass(frozen=True)
class CauseWord:
    """A word of a speaker's turn that raises the predicted label; ``start``/``end`` index that turn's text."""

    turn: int
    word: str
    score: float
    start: int
    end: int


@dataclass(frozen=True)
class ContextPrediction:
    labels: list[LabelScore]  # the ``top_k`` most likely, most likely first
    first_turn: int  # the oldest turn the model saw (older ones did not fit)
    truncated: bool

    @property
    def label(self) -> str:
        return self.labels[0].label

    def to_dict(self) -> dict:
        return asdict(self)


def roles_for(turns: list[Turn], listener: str | None = None) -> list[str]:
    """``listener`` for the turns of the one who will answer, ``speaker`` for everyone else. Without a
    name, whoever spoke last is the speaker and every other participant a listener."""
    if listener is None:
        last = turns[-1].speaker
        return ["speaker" if t.speaker == last else "listener" for t in turns]
    return ["listener" if t.speaker == listener else "speaker" for t in turns]


class ContextClassifier:
    def __init__(self, model: str | Path, task: str, threads: int | None = None, batch_size: int = 32) -> None:
        import torch

        from affectlab.dialogue.context_model import ContextModel

        self.folder = folder = resolve_dialogue_model(model, task)
        self.config = DialogueConfig.load(folder)
        self.labels = tuple(self.config.labels)
        if threads:
            torch.set_num_threads(threads)
        self.model = ContextModel.from_artifact(folder, len(self.labels))
        self.tokenizer = TurnTokenizer(self.config.turn_tokens)
        self.batch_size = batch_size

    def encode(self, turns: Iterable[object], listener: str | None = None, situation: str = "",
               tags: list[str] | None = None) -> tuple[list[Turn], list[str], EncodedContext]:
        checked = check_turns(turns)
        problem = length_problem(situation, DEFAULT_MAX_CHARS) or surrogate_problem(situation)
        if problem:
            raise InvalidConversation(f"situation: {problem}", field="situation")
        if tags is not None and len(tags) != len(checked):
            raise InvalidConversation(f"{len(tags)} strategy tags for {len(checked)} turns")
        roles = roles_for(checked, listener)
        if "speaker" not in roles:
            raise InvalidConversation(f"every turn is by the listener {listener!r}; there is nobody to answer",
                                      field="listener")
        return checked, roles, encode_context(self.tokenizer, [t.text for t in checked], roles,
                                              self.config.window_tokens, tags, situation)

    def probabilities(self, contexts: list[EncodedContext]) -> np.ndarray:
        """``[contexts, labels]`` softmax probabilities, batched by length."""
        import torch

        from affectlab.text.runtime import TorchRuntime, run_sorted

        logits = run_sorted(TorchRuntime(self.model), [c.ids for c in contexts], self.batch_size)
        if self.config.label_bias:
            logits = logits + np.array(self.config.label_bias, dtype=np.float32)
        return torch.softmax(torch.from_numpy(logits), -1).numpy()

    def read_told(self, texts: list[str]) -> np.ndarray:
        """``[texts, labels]`` probabilities of texts already checked, each read as a one-turn conversation by
        the speaker (someone telling what happened: a memory, a situation)."""
        return self.probabilities([encode_context(self.tokenizer, [text], ["speaker"], self.config.window_tokens)
                                   for text in texts])

    def predict(self, turns: Iterable[object], top_k: int = 3, listener: str | None = None, situation: str = "",
                tags: list[str] | None = None) -> ContextPrediction:
        _, _, context = self.encode(turns, listener, situation, tags)
        probs = self.probabilities([context])[0]
        order = np.argsort(-probs)[: max(1, top_k)]
        return ContextPrediction([LabelScore(self.labels[i], round(float(probs[i]), 4)) for i in order],
                                 context.first_turn, context.truncated)

    def cause_words(self, turns: Iterable[object], label: str, top_k: int = 5, listener: str | None = None,
                    situation: str = "") -> list[CauseWord]:
        """The words of the speaker's turns that raise ``label`` most (integrated gradients, as for text
        evidence), highest first."""
        if label not in self.labels:
            raise InvalidConversation(f"unknown label {label!r}; expected one of {', '.join(self.labels)}")
        checked, roles, context = self.encode(turns, listener, situation)
        scores = token_attributions(self.model, context.ids, self.labels.index(label))
        words: list[list] = []  # [turn, score, start, end]
        for token_id, turn, score, (start, end) in zip(context.ids, context.turns, scores, context.offsets):
            if turn < 0 or roles[turn] != "speaker":
                continue
            token = self.tokenizer.tokenizer.id_to_token(token_id)
            if words and words[-1][0] == turn and continues_word(token, words[-1][3], start, checked[turn].text):
                words[-1][1] += float(score)
                words[-1][3] = end
            else:
                words.append([turn, float(score), start, end])
        ranked = sorted((w for w in words if w[1] > 0 and any(c.isalnum() for c in checked[w[0]].text[w[2]:w[3]])),
                        key=lambda w: -w[1])
        return [CauseWord(t, checked[t].text[s:e], round(v, 4), s, e) for t, v, s, e in ranked[:top_k]]


def load_emotion_model(model: str | Path = EMOTION_CONTEXT_MODEL, threads: int | None = None) -> ContextClassifier:
    """The small empathetic model: which of the 32 EmpatheticDialogues emotions the speaker feels."""
    return ContextClassifier(model, "speaker-emotion", threads)


def load_strategy_model(model: str | Path = STRATEGY_MODEL, threads: int | None = None) -> ContextClassifier:
    """Which ESConv support strategy the listener should use next."""
    return ContextClassifier(model, "next-strategy", threads)
