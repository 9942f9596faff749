"""ConversationAnalyzer: turns → emotion of each turn in context → causes of each non-neutral turn.

>>> from affectlab import ConversationAnalyzer
>>> analyzer = ConversationAnalyzer()
>>> c = analyzer.analyze([{"speaker": "A", "text": "I got the job!"}, {"speaker": "B", "text": "That's wonderful!"}])
>>> c.turns[1].emotion, c.turns[1].causes
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from affectlab.dialogue.artifact import CAUSE_MODEL, TURN_MODEL, DialogueConfig, resolve_dialogue_model
from affectlab.dialogue.packing import TurnTokenizer, TurnTokens, speaker_letters
from affectlab.dialogue.registers import (
    DEFAULT_REGISTER,
    calibrate,
    check_head,
    check_register,
    register_logits,
    register_value,
)
from affectlab.dialogue.result import Cause, ConversationAffect, TurnAffect
from affectlab.dialogue.text_readings import check_text_model, ekman_evidence, ekman_readings, text_readings
from affectlab.dialogue.turns import InvalidConversation, Turn, check_emotion, check_target, check_turns
from affectlab.errors import OptionError, check_count, check_threads
from affectlab.registry import WEIGHTS_FILE
from affectlab.taxonomy import EKMAN
from affectlab.text.normalize import DEFAULT_MAX_CHARS, check_on_long
from affectlab.text.probabilities import softmax

# Turns before a target considered as its causes: in RECCON-DD train 99.6% of gold cause turns are at most
# 10 turns back; the choice and its dev figures are in docs/conversations.md.
DEFAULT_LOOKBACK = 10


class TurnLogits(NamedTuple):
    """Turn-emotion scores of several conversations before a register's calibration."""

    logits: list[np.ndarray]  # per conversation, [turns, heads × 7] from the turn model (registers.register_logits)
    readings: list[np.ndarray] | None  # per conversation, [turns, 11] the text model's literal readings (None: none)
    windows: list[int]  # windows read per conversation


@dataclass
class _Conversation:
    """Checked turns with their speaker letters, and their tokens for each tokenizer that has read them, so one
    public call checks and tokenizes a conversation once."""

    turns: list[Turn]
    letters: list[str]
    cut: set[int] = field(default_factory=set)  # turns over max_chars, of which only the beginning is read
    tokens: dict[int, list[TurnTokens]] = field(default_factory=dict)  # by id() of the TurnTokenizer


class _Loaded:
    """One conversation model: its config and tokenizer read at once (a wrong name fails early), its
    network loaded on first use. With ``share``, that model's tokenizer is reused when it cuts turns alike."""

    def __init__(self, model: str | Path, task: str, share: _Loaded | None = None) -> None:
        self.folder = resolve_dialogue_model(model, task)
        self.config = DialogueConfig.load(self.folder)
        if share is not None and share.config.turn_tokens == self.config.turn_tokens:
            self.tokenizer = share.tokenizer
        else:
            self.tokenizer = TurnTokenizer(self.config.turn_tokens)
        self._network = None

    def network(self, threads: int):
        if self._network is None:
            import torch

            from affectlab.dialogue.models import CauseModel, TurnEmotionModel
            from affectlab.encoders.finetuned import load_finetuned

            torch.set_num_threads(threads)
            if self.config.task == "turn-emotions":
                blank = TurnEmotionModel(len(self.config.labels), self.config.n_features,
                                         n_heads=self.config.n_heads)
            else:
                blank = CauseModel()
            self._network = load_finetuned(blank, self.folder / WEIGHTS_FILE)
        return self._network

    def tokens(self, conversation: _Conversation) -> list[TurnTokens]:
        """The conversation's turns in this model's tokens (tokenized on the first request only)."""
        key = id(self.tokenizer)
        if key not in conversation.tokens:
            tokens = self.tokenizer.turns([t.text for t in conversation.turns])
            for index, turn_tokens in enumerate(tokens):
                if not turn_tokens.ids:
                    raise InvalidConversation(f"turn {index}: text has no readable characters", index)
            conversation.tokens[key] = tokens
        return conversation.tokens[key]


class ConversationAnalyzer:
    """Holds the turn-emotion and cause models (each network loaded when first needed).

    Turn emotions read each turn with the turns before it in its window (never after). Conversations
    longer than one encoder window are split into windows that each carry up to ``context_turns`` earlier
    turns (from the model's config). Causes are scored over windows that each start with the target turn;
    the candidates are the target and the ``lookback`` turns before it (default :data:`DEFAULT_LOOKBACK`),
    so time and memory grow linearly with the conversation's length. ``lookback=None`` scores every earlier
    turn, at a cost that grows with the square of the length.

    A turn is read up to the model's turn budget (its ``truncated`` says when it was longer), but the
    tokenizer would still read it whole, so turns are also bounded in characters, as texts are:
    ``max_chars`` (default 100,000; None: no bound). ``on_long="error"`` (default) refuses a conversation
    with a longer turn (:class:`InvalidConversation` naming the turn and its size); ``on_long="truncate"``
    keeps the turn's first ``max_chars`` characters and sets its ``truncated``.

    ``register`` picks the neutral bias of a turn model calibrated on several corpora
    (:mod:`affectlab.dialogue.registers`): ``general`` (default), or the corpus closest to the conversations:
    ``dailydialog`` (written everyday chat), ``meld`` (TV-series talk, several speakers), ``goemotions``
    (one-off comments), ``support`` (people telling what happened to them). A turn model that reads the
    text model's view of each turn runs that text model too (all turns of a call in one batch); it is refused
    beside a text model other than the one it was trained with
    (:class:`~affectlab.dialogue.text_readings.TextModelMismatch`).

    >>> ConversationAnalyzer(register="meld").analyze(scene, causes=False).turns[0].emotion
    """

    def __init__(self, turn_model: str | Path = TURN_MODEL, cause_model: str | Path = CAUSE_MODEL,
                 threads: int | None = None, batch_size: int = 16, lookback: int | None = DEFAULT_LOOKBACK,
                 max_chars: int | None = DEFAULT_MAX_CHARS, on_long: str = "error",
                 register: str = DEFAULT_REGISTER) -> None:
        check_on_long(max_chars, on_long)
        check_threads(threads)
        check_count("batch_size", batch_size)
        self.register = check_register(register)
        if lookback is not None and (isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 0):
            raise OptionError(f"lookback must be a number of turns (0 or more) or None (every turn), not {lookback!r}")
        self.turns_model = _Loaded(turn_model, "turn-emotions")
        # the bias added to the neutral logit; a register the turn model was not calibrated for fails here
        self.neutral_bias, _ = self._calibration(self.register)
        check_head(self.turns_model.config.heads, self.register)
        self.causes_model = _Loaded(cause_model, "causes", share=self.turns_model)
        self.threads = threads or os.cpu_count() or 1
        self.batch_size = batch_size
        self.lookback = lookback
        self.max_chars, self.on_long = max_chars, on_long
        self.text_analyzer = self._text_analyzer()

    @property
    def cause_threshold(self) -> float:
        return self.causes_model.config.threshold

    def turn_logits(self, conversations: Iterable[Iterable[object]]) -> TurnLogits:
        """Conversations (each a list of turns) → each one's ``[turns, heads × 7]`` Ekman logits and the text model's
        readings before a register's calibration, and the windows read (for evaluations that try several registers
        on one pass)."""
        return self._logits([self._prepare(turns) for turns in conversations])

    def turn_probabilities(self, scores: TurnLogits, register: str | None = None) -> list[np.ndarray]:
        """:meth:`turn_logits` → probabilities, calibrated for ``register`` (default: the analyzer's)."""
        register = register or self.register
        bias, weight = self._calibration(register)
        evidence = [None] * len(scores.logits) if scores.readings is None else map(ekman_evidence, scores.readings)
        heads = self.turns_model.config.heads
        return [softmax(calibrate(register_logits(logits, heads, register), found, bias, weight))
                for logits, found in zip(scores.logits, evidence)]

    def _calibration(self, register: str) -> tuple[float, float]:
        """``register``'s neutral bias and text-evidence weight from the turn model's config."""
        cfg = self.turns_model.config
        return register_value(cfg.neutral_bias, register), register_value(cfg.text_weight, register, "text weight")

    def turn_emotions(self, turns: Iterable[object]) -> tuple[list[Turn], list[TurnTokens], np.ndarray, int]:
        """Validated turns, their tokens, ``[turns, 7]`` Ekman probabilities and the number of windows."""
        conversation = self._prepare(turns)
        (probs,), (windows,) = self._probabilities([conversation])
        return conversation.turns, self.turns_model.tokens(conversation), probs, windows

    def cause_candidates(self, turns: Iterable[object], targets: list[tuple[int, str]]) -> list[list[Cause]]:
        """For each (target, emotion), every turn up to the target (within ``lookback``) as a
        :class:`Cause` with its probability and best span, most likely first (no threshold applied)."""
        (candidates,) = self._candidates([(self._prepare(turns), targets)])
        return candidates

    def causes(self, turns: Iterable[object], target: int, emotion: str | None = None) -> list[Cause]:
        """The turns that cause ``target``'s emotion (score at or above the tuned threshold), most likely
        first. Without ``emotion``, the turn-emotion model's prediction is used; a neutral turn has none."""
        conversation = self._prepare(turns)
        check_target(conversation.turns, target)
        if emotion is None:
            (probs,), _ = self._probabilities([conversation])
            emotion = self.turns_model.config.labels[int(probs[target].argmax())]
        if check_emotion(emotion) == "neutral":
            return []
        ((candidates,),) = self._candidates([(conversation, [(target, emotion)])])
        return [c for c in candidates if c.score >= self.cause_threshold]

    def analyze(self, turns: Iterable[object], causes: bool = True) -> ConversationAffect:
        (result,) = self._analyze([self._prepare(turns)], causes)
        return result

    def analyze_many(
        self, conversations: Iterable[Iterable[object]], causes: bool = True
    ) -> list[ConversationAffect | InvalidConversation]:
        """Several conversations in one go, their windows batched together (much faster than one call each
        for short conversations). A conversation that fails its checks gets its :class:`InvalidConversation`
        in its place and the others are analyzed as usual.

        >>> results = analyzer.analyze_many([chat, [{"speaker": "A", "text": ""}]])
        >>> results[1]
        InvalidConversation('turn 0: text is empty')
        """
        prepared: list[_Conversation | InvalidConversation] = []
        for turns in conversations:
            try:
                prepared.append(self._prepare(turns))
            except InvalidConversation as exc:
                prepared.append(exc)
        analyzed = iter(self._analyze([c for c in prepared if isinstance(c, _Conversation)], causes))
        return [next(analyzed) if isinstance(c, _Conversation) else c for c in prepared]

    def _prepare(self, turns: Iterable[object]) -> _Conversation:
        """Check the turns and tokenize them (a turn with no readable characters fails here, before any model runs)."""
        truncate = self.on_long == "truncate" and self.max_chars is not None
        checked = check_turns(turns, None if truncate else self.max_chars)
        cut = {i for i, turn in enumerate(checked) if truncate and len(turn.text) > self.max_chars}
        checked = [Turn(t.speaker, t.text[: self.max_chars]) if i in cut else t for i, t in enumerate(checked)]
        conversation = _Conversation(checked, speaker_letters([t.speaker for t in checked]), cut)
        self.turns_model.tokens(conversation)
        return conversation

    def _text_analyzer(self):
        """The text model whose readings the turn model takes, checked to be the one it was trained with."""
        record = self.turns_model.config.text_features
        if record is None:
            return None
        from affectlab.text import Analyzer

        analyzer = Analyzer(record["model"], threads=self.threads, on_long="truncate")
        check_text_model(record, analyzer, self.turns_model.config.name)
        return analyzer

    def _logits(self, conversations: list[_Conversation]) -> TurnLogits:
        from affectlab.dialogue.predict import turn_emotion_logits

        loaded = self.turns_model
        cfg = loaded.config
        features = None
        if self.text_analyzer is not None:
            readings = text_readings(self.text_analyzer, [t.text for c in conversations for t in c.turns])
            features = np.split(readings, np.cumsum([len(c.turns) for c in conversations])[:-1])
        logits, windows = turn_emotion_logits(loaded.network(self.threads), loaded.tokenizer,
                                              [(loaded.tokens(c), c.letters) for c in conversations],
                                              cfg.window_tokens, cfg.context_turns, self.batch_size, features)
        return TurnLogits(logits, features, windows)

    def _probabilities(self, conversations: list[_Conversation]) -> tuple[list[np.ndarray], list[int]]:
        scores = self._logits(conversations)
        return self.turn_probabilities(scores), scores.windows

    def _candidates(self, requests: list[tuple[_Conversation, list[tuple[int, str]]]]) -> list[list[list[Cause]]]:
        """:meth:`cause_candidates` for several conversations at once, their windows batched together."""
        from affectlab.dialogue.predict import CauseQuery, cause_scores

        loaded = self.causes_model
        queries, owners = [], []
        for owner, (conversation, targets) in enumerate(requests):
            tokens = loaded.tokens(conversation)
            for target, emotion in targets:
                target = check_target(conversation.turns, target)
                queries.append(CauseQuery(tokens, conversation.letters, target, check_emotion(emotion)))
                owners.append(owner)
        out: list[list[list[Cause]]] = [[] for _ in requests]
        if not queries:
            return out
        scores = cause_scores(loaded.network(self.threads), loaded.tokenizer, queries,
                              loaded.config.window_tokens, self.batch_size, self.lookback)
        for owner, score in zip(owners, scores):
            turns = requests[owner][0].turns
            causes = [
                Cause(turn, turns[turn].text[begin:end], float(prob), begin, end)
                for turn, prob, (begin, end) in zip(score.turns, score.probs, score.spans)
            ]
            out[owner].append(sorted(causes, key=lambda c: -c.score))
        return out

    def _analyze(self, conversations: list[_Conversation], causes: bool) -> list[ConversationAffect]:
        if not conversations:
            return []
        scores = self._logits(conversations)
        probs, windows = self.turn_probabilities(scores), scores.windows
        labels = self.turns_model.config.labels
        alone = [None] * len(conversations) if scores.readings is None else [
            [{label: round(float(p), 4) for label, p in zip(EKMAN, turn)} for turn in ekman_readings(readings)]
            for readings in scores.readings]
        emotions = [[labels[int(p.argmax())] for p in conversation] for conversation in probs]
        found: list[dict[int, list[Cause]]] = [{} for _ in conversations]
        if causes:
            targets = [[(i, e) for i, e in enumerate(each) if e != "neutral"] for each in emotions]
            for n, per_target in enumerate(self._candidates(list(zip(conversations, targets)))):
                for (target, _), candidates in zip(targets[n], per_target):
                    found[n][target] = [c for c in candidates if c.score >= self.cause_threshold]
        return [
            ConversationAffect(
                [
                    TurnAffect(i, turn.speaker, turn.text, emotions[n][i],
                               {label: round(float(p), 4) for label, p in zip(labels, probs[n][i])},
                               found[n].get(i, []),
                               self.turns_model.tokens(conversation)[i].truncated or i in conversation.cut,
                               None if alone[n] is None else alone[n][i])
                    for i, turn in enumerate(conversation.turns)
                ],
                windows[n],
            )
            for n, conversation in enumerate(conversations)
        ]


_shared: ConversationAnalyzer | None = None


def shared_analyzer() -> ConversationAnalyzer:
    """The default models, loaded on first use and then kept (behind :func:`affectlab.analyze_conversation`)."""
    global _shared
    if _shared is None:
        _shared = ConversationAnalyzer()
    return _shared
