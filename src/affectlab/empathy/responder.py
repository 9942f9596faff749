"""The empathetic responder: a small emotion model guides the LLM (HEF, Yang et al. 2024).

1. the small empathetic model (SEM) ranks the speaker's 32 possible emotions;
2. the LLM is shown the SEM's top-k and chooses among them (two-stage, see :mod:`.emotion_choice`);
3. integrated gradients on the SEM find the speaker's words behind that emotion; they are marked in the
   conversation the LLM reads (emotion-cause perception);
4. optionally a support strategy (given, or predicted by the ESConv strategy model) steers the reply;
5. optionally an :class:`~affectlab.memory.EmotionalMemory` recalls what the speaker's last turn brings back,
   and the recalled memories are listed in the prompt;
6. the LLM writes the listener's next line.

With ``guided=False`` it is the plain baseline: the same prompt frame without any hint.

>>> from affectlab.llm import RESPONDER_ADAPTER, load_llm
>>> from affectlab.empathy import EmpatheticResponder
>>> responder = EmpatheticResponder(load_llm(adapter=RESPONDER_ADAPTER))
>>> r = responder.respond([{"speaker": "me", "text": "I failed my driving test again."}])
>>> r.text, r.emotion_hint, [w.word for w in r.cause_hint]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from affectlab.dialogue.artifact import EMOTION_CONTEXT_MODEL, STRATEGY_MODEL
from affectlab.dialogue.context_classifier import (
    CauseWord,
    ContextClassifier,
    LabelScore,
    load_emotion_model,
    load_strategy_model,
    roles_for,
)
from affectlab.dialogue.turns import InvalidConversation, Turn, check_turns
from affectlab.empathy.emotion_choice import EmotionChoice, LabelScorer, choose_without_scores, two_stage
from affectlab.empathy.prompts import CAUSE_MARK, emotion_prompt, render_turn, response_prompt
from affectlab.errors import OptionError
from affectlab.llm.base import LanguageModel, ScoringUnsupported
from affectlab.memory.prompt import memory_lines
from affectlab.memory.strategies import DEFAULT_STRATEGY
from affectlab.taxonomy import ESCONV_STRATEGIES

if TYPE_CHECKING:
    from affectlab.memory import EmotionalMemory

AUTO = "auto"


@dataclass(frozen=True)
class Response:
    text: str
    emotion_hint: str | None  # the emotion the LLM was told (None: plain)
    cause_hint: list[CauseWord] = field(default_factory=list)  # the speaker's words marked as its cause
    strategy: str | None = None
    prompt: str = ""
    emotion_candidates: list[LabelScore] = field(default_factory=list)  # the SEM's top-k
    emotion_fell_back: bool = False  # the LLM chose an emotion outside the SEM's top-k
    emotion_method: str | None = None  # how the LLM chose it (see affectlab.empathy.emotion_choice.METHODS)
    trimmed_turns: int = 0  # oldest turns left out of the prompt so it fits the LLM's context
    finish_reason: str = ""
    memories: list[dict] = field(default_factory=list)  # what the memory recalled (MemoryHit.to_dict), in the prompt

    def to_dict(self) -> dict:
        return asdict(self)


def _model(value, loader):
    if value is None or isinstance(value, ContextClassifier):
        return value
    return loader(value)


def _smallest(low: int, high: int, ok) -> int:
    """The smallest value in ``[low, high]`` for which the monotone predicate ``ok`` holds (``ok(high)`` does)."""
    while low < high:
        middle = (low + high) // 2
        if ok(middle):
            high = middle
        else:
            low = middle + 1
    return low


def check_strategy(strategy: str | None) -> str | None:
    """``strategy`` as :meth:`EmpatheticResponder.respond` takes it: None, ``"auto"`` or an ESConv strategy name."""
    if strategy is not None and strategy != AUTO and strategy not in ESCONV_STRATEGIES:
        raise OptionError(f"unknown strategy {strategy!r}; expected auto or one of {', '.join(ESCONV_STRATEGIES)}")
    return strategy


class EmpatheticResponder:
    def __init__(self, llm: LanguageModel, *,
                 emotion_model: str | Path | ContextClassifier | None = EMOTION_CONTEXT_MODEL,
                 strategy_model: str | Path | ContextClassifier | None = STRATEGY_MODEL, guided: bool = True,
                 top_k: int = 3, fallback_margin: float = 2.0, calibrate: bool = True, mark_causes: int = 3,
                 max_new_tokens: int = 48,
                 temperature: float = 0.7, top_p: float = 0.9, seed: int | None = 0,
                 memory: EmotionalMemory | None = None, recall_k: int = 3,
                 recall_strategy: str = DEFAULT_STRATEGY) -> None:
        self.llm = llm
        self.guided = guided
        self.emotion_model = _model(emotion_model, load_emotion_model) if guided else None
        self._strategy_source = strategy_model
        self._strategy_model: ContextClassifier | None = None
        self.top_k, self.fallback_margin, self.mark_causes = top_k, fallback_margin, mark_causes
        self.generation = {"max_new_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p, "seed": seed}
        self.scorer = LabelScorer(llm, calibrate=calibrate)
        self.memory, self.recall_k, self.recall_strategy = memory, recall_k, recall_strategy

    @property
    def strategy_model(self) -> ContextClassifier:
        if self._strategy_model is None:
            if self._strategy_source is None:
                raise InvalidConversation("strategy='auto' needs a strategy model; this responder has none")
            self._strategy_model = _model(self._strategy_source, load_strategy_model)
        return self._strategy_model

    def choose_emotion(self, turns: list[Turn], roles: list[str], listener: str | None = None) -> EmotionChoice:
        ranked = self.emotion_model.predict(turns, top_k=self.top_k, listener=listener)
        candidates = [c.label for c in ranked.labels]
        window = self._fit(turns, lambda s, c: emotion_prompt(self.conversation(turns, roles, {}, s, c), candidates),
                           room=self.llm.context_length - 8)
        conversation = self.conversation(turns, roles, {}, *window)
        try:
            scores = self.scorer.scores(conversation, candidates)
        except ScoringUnsupported:
            return choose_without_scores(self.llm, emotion_prompt(conversation, candidates), ranked.labels)
        emotion, fell_back = two_stage(scores, self.scorer.labels, candidates, self.fallback_margin)
        return EmotionChoice(emotion, ranked.labels, fell_back,
                             {label: round(float(s), 4) for label, s in zip(self.scorer.labels, scores)})

    @staticmethod
    def conversation(turns: list[Turn], roles: list[str], marks: dict[int, list[tuple[int, int]]],
                     start: int = 0, cut: int = 0) -> str:
        """Turns from ``start`` on as prompt lines, cause spans marked; the last turn loses its first ``cut``
        characters (only when it alone is too long for the context)."""
        lines = []
        for i in range(start, len(turns)):
            text, spans = turns[i].text, marks.get(i, [])
            if cut and i == len(turns) - 1:
                text = "…" + text[cut:]
                spans = [(s - cut + 1, e - cut + 1) for s, e in spans if s >= cut]
            lines.append(render_turn(roles[i], text, spans))
        return "\n".join(lines)

    def _fit(self, turns: list[Turn], build, room: int) -> tuple[int, int]:
        """``(start, cut)``: the fewest oldest turns to leave out, then the fewest characters to cut from the
        last turn's start, so that the prompt ``build(start, cut)`` fits in ``room`` tokens. Both by
        bisection (the prompt only shrinks as either grows), so long conversations cost few tokenizations."""
        def fits(start: int, cut: int) -> bool:
            return self.llm.count_tokens(build(start, cut)) <= room

        last = len(turns) - 1
        if fits(last, 0):
            return _smallest(0, last, lambda start: fits(start, 0)), 0
        longest = len(turns[last].text)
        if not fits(last, longest):
            raise InvalidConversation(f"the prompt frame alone is longer than {self.llm.name}'s context")
        return last, _smallest(0, longest, lambda cut: fits(last, cut))

    def respond(self, turns: Iterable[object], strategy: str | None = None, listener: str | None = None) -> Response:
        """The listener's next line. ``strategy``: None, an ESConv strategy name, or ``"auto"`` (predicted
        from the dialogue). ``listener``: the responder's speaker name in ``turns``, if it spoke before."""
        checked = check_turns(turns)
        roles = roles_for(checked, listener)
        if check_strategy(strategy) == AUTO:
            strategy = self.strategy_model.predict(checked, top_k=1, listener=listener).label
        choice, causes, marks = None, [], {}
        if self.guided:
            choice = self.choose_emotion(checked, roles, listener)
            if self.mark_causes:
                causes = self.emotion_model.cause_words(checked, choice.emotion, self.mark_causes, listener)
            for word in causes:
                marks.setdefault(word.turn, []).append((word.start, word.end))
        emotion = choice.emotion if choice else None
        recalled = []
        if self.memory is not None:
            last_said = checked[max((i for i, role in enumerate(roles) if role == "speaker"), default=-1)].text
            recalled = self.memory.recall(last_said, self.recall_k, strategy=self.recall_strategy).hits

        def build(start: int, cut: int) -> str:
            shown = self.conversation(checked, roles, marks, start, cut)
            return response_prompt(shown, emotion, bool(causes), strategy, memory_lines(recalled))

        window = self._fit(checked, build, room=self.llm.context_length - self.generation["max_new_tokens"])
        prompt = build(*window)
        out = self.llm.generate(prompt, stop=["\n"], **self.generation)
        text = out.text.replace(CAUSE_MARK, "") if causes else out.text  # small LMs copy the marks
        return Response(
            text.strip(), emotion, causes, strategy, prompt, choice.candidates if choice else [],
            choice.fell_back if choice else False, choice.method if choice else None, window[0], out.finish_reason,
            [hit.to_dict() for hit in recalled],
        )
