"""ConversationAnalyzer: turns → emotion of each turn in context → causes of each non-neutral turn.

>>> from affectlab import ConversationAnalyzer
>>> analyzer = ConversationAnalyzer()
>>> c = analyzer.analyze([{"speaker": "A", "text": "I got the job!"}, {"speaker": "B", "text": "That's wonderful!"}])
>>> c.turns[1].emotion, c.turns[1].causes
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from affectlab.dialogue.artifact import CAUSE_MODEL, TURN_MODEL, DialogueConfig, resolve_dialogue_model
from affectlab.dialogue.packing import TurnTokenizer, TurnTokens, speaker_letters
from affectlab.dialogue.result import Cause, ConversationAffect, TurnAffect
from affectlab.dialogue.turns import InvalidConversation, Turn, check_emotion, check_target, check_turns
from affectlab.registry import WEIGHTS_FILE


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


class _Loaded:
    """One conversation model: its config and tokenizer read at once (a wrong name fails early), its
    network loaded on first use."""

    def __init__(self, model: str | Path, task: str) -> None:
        self.folder = resolve_dialogue_model(model, task)
        self.config = DialogueConfig.load(self.folder)
        self.tokenizer = TurnTokenizer(self.config.turn_tokens)
        self._network = None

    def network(self, threads: int):
        if self._network is None:
            import torch

            from affectlab.dialogue.models import CauseModel, TurnEmotionModel
            from affectlab.encoders.finetuned import load_finetuned

            torch.set_num_threads(threads)
            blank = TurnEmotionModel(len(self.config.labels)) if self.config.task == "turn-emotions" else CauseModel()
            self._network = load_finetuned(blank, self.folder / WEIGHTS_FILE)
        return self._network

    def tokenize(self, turns: list[Turn]) -> tuple[list[TurnTokens], list[str]]:
        tokens = self.tokenizer.turns([t.text for t in turns])
        for index, turn_tokens in enumerate(tokens):
            if not turn_tokens.ids:
                raise InvalidConversation(f"turn {index}: text has no readable characters")
        return tokens, speaker_letters([t.speaker for t in turns])


class ConversationAnalyzer:
    """Holds the turn-emotion and cause models (each network loaded when first needed).

    Turn emotions read each turn with the turns before it in its window (never after). Conversations
    longer than one encoder window are split into windows that each carry up to ``context_turns`` earlier
    turns (from the model's config). Causes are scored over windows that each start with the target turn,
    so every earlier turn is scored however long the conversation is: the cost grows with the square of
    the number of turns. ``lookback`` limits how many turns before a target are considered as causes
    (``None``: all of them).
    """

    def __init__(self, turn_model: str | Path = TURN_MODEL, cause_model: str | Path = CAUSE_MODEL,
                 threads: int | None = None, batch_size: int = 16, lookback: int | None = None) -> None:
        self.turns_model = _Loaded(turn_model, "turn-emotions")
        self.causes_model = _Loaded(cause_model, "causes")
        self.threads = threads or os.cpu_count() or 1
        self.batch_size = batch_size
        self.lookback = lookback

    @property
    def cause_threshold(self) -> float:
        return self.causes_model.config.threshold

    def turn_probabilities(self, conversations: list[tuple[list[TurnTokens], list[str]]]) -> tuple[list[np.ndarray], int]:
        """Tokenized conversations (tokens and speaker letters) → ``[turns, 7]`` Ekman probabilities for each,
        with the tuned neutral bias applied, and the number of windows read."""
        from affectlab.dialogue.predict import turn_emotion_logits

        loaded = self.turns_model
        cfg = loaded.config
        logits, windows = turn_emotion_logits(loaded.network(self.threads), loaded.tokenizer, conversations,
                                              cfg.window_tokens, cfg.context_turns, self.batch_size)
        for conversation in logits:
            conversation[:, cfg.labels.index("neutral")] += cfg.neutral_bias
        return [_softmax(conversation) for conversation in logits], windows

    def turn_emotions(self, turns: Iterable[object]) -> tuple[list[Turn], list[TurnTokens], np.ndarray, int]:
        """Validated turns, their tokens, ``[turns, 7]`` Ekman probabilities and the number of windows."""
        checked = check_turns(turns)
        tokens, letters = self.turns_model.tokenize(checked)
        (probs,), windows = self.turn_probabilities([(tokens, letters)])
        return checked, tokens, probs, windows

    def cause_candidates(self, turns: Iterable[object], targets: list[tuple[int, str]]) -> list[list[Cause]]:
        """For each (target, emotion), every turn up to the target (within ``lookback``) as a
        :class:`Cause` with its probability and best span, most likely first (no threshold applied)."""
        from affectlab.dialogue.predict import CauseQuery, cause_scores

        checked = check_turns(turns)
        loaded = self.causes_model
        tokens, letters = loaded.tokenize(checked)
        queries = [CauseQuery(tokens, letters, check_target(checked, target), check_emotion(emotion))
                   for target, emotion in targets]
        if not queries:
            return []
        scores = cause_scores(loaded.network(self.threads), loaded.tokenizer, queries,
                              loaded.config.window_tokens, self.batch_size, self.lookback)
        out = []
        for query, score in zip(queries, scores):
            first = 0 if self.lookback is None else max(0, query.target - self.lookback)
            causes = [
                Cause(turn, checked[turn].text[begin:end], float(score.probs[turn]), begin, end)
                for turn, (begin, end) in enumerate(score.spans) if turn >= first
            ]
            out.append(sorted(causes, key=lambda c: -c.score))
        return out

    def causes(self, turns: Iterable[object], target: int, emotion: str | None = None) -> list[Cause]:
        """The turns that cause ``target``'s emotion (score at or above the tuned threshold), most likely
        first. Without ``emotion``, the turn-emotion model's prediction is used; a neutral turn has none."""
        checked = check_turns(turns)
        check_target(checked, target)
        if emotion is None:
            _, _, probs, _ = self.turn_emotions(checked)
            emotion = self.turns_model.config.labels[int(probs[target].argmax())]
        if check_emotion(emotion) == "neutral":
            return []
        (candidates,) = self.cause_candidates(checked, [(target, emotion)])
        return [c for c in candidates if c.score >= self.cause_threshold]

    def analyze(self, turns: Iterable[object], causes: bool = True) -> ConversationAffect:
        checked, tokens, probs, windows = self.turn_emotions(turns)
        labels = self.turns_model.config.labels
        emotions = [labels[int(p.argmax())] for p in probs]
        found: dict[int, list[Cause]] = {}
        if causes:
            targets = [(i, e) for i, e in enumerate(emotions) if e != "neutral"]
            for (target, _), candidates in zip(targets, self.cause_candidates(checked, targets)):
                found[target] = [c for c in candidates if c.score >= self.cause_threshold]
        return ConversationAffect(
            [
                TurnAffect(i, turn.speaker, turn.text, emotions[i],
                           {label: round(float(p), 4) for label, p in zip(labels, probs[i])},
                           found.get(i, []), tokens[i].truncated)
                for i, turn in enumerate(checked)
            ],
            windows,
        )
