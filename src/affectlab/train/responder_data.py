"""Training examples for the responder adapter: each gold reply with the prompt the responder would build.

Hints are drawn at random so that one adapter learns guided and plain replies alike (hint dropout):
an EmpatheticDialogues example shows its gold emotion with probability ``hint_share``; an ESConv
example shows the small empathetic model's top emotion with that probability (ESConv's own emotion
types are not the 32 labels the responder uses) and its gold strategy with probability ``strategy_share``.
An example with an emotion also has that emotion's cause words marked (integrated gradients on the small
model, as at inference) with probability ``cause_share``. The prompts come from the responder's own
functions, so training and inference read the same frame.

>>> sem = load_emotion_model()
>>> prompted = prompted_reply(example, sem, random.Random(0), HintShares(), count_tokens, 192)
>>> prompted.prompt.endswith("Listener:"), prompted.reply
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass

from affectlab.datasets import ReplyExample
from affectlab.dialogue.context_classifier import ContextClassifier
from affectlab.dialogue.turns import Turn
from affectlab.empathy.prompts import response_prompt
from affectlab.empathy.responder import EmpatheticResponder

MARKED_CAUSES = 3  # the responder's default ``mark_causes``


@dataclass(frozen=True)
class HintShares:
    emotion: float = 0.5
    causes: float = 0.6  # of the examples that show an emotion
    strategy: float = 0.5  # of the ESConv examples


@dataclass(frozen=True)
class PromptedReply:
    id: str
    dialogue: str
    prompt: str
    reply: str  # the text the adapter learns to write after the prompt: a space, the reply, a newline
    emotion: str | None
    causes: list[str]
    strategy: str | None
    dropped_turns: int  # oldest turns left out so the prompt fits

    def to_dict(self) -> dict:
        return asdict(self)


def prompted_reply(example: ReplyExample, sem: ContextClassifier, rng: random.Random, shares: HintShares,
                   count_tokens: Callable[[str], int], max_prompt_tokens: int) -> PromptedReply | None:
    """The example with its hints and prompt, or None where even its last turn alone does not fit."""
    turns = [Turn(role, text) for role, text in zip(example.roles, example.texts)]
    emotion = strategy = None
    heard = "speaker" in example.roles  # an opening the listener gives before anyone speaks has no emotion to read
    if rng.random() < shares.emotion and (example.emotion or heard):
        emotion = example.emotion or sem.predict(turns, top_k=1, listener="listener").label
    if example.strategy and rng.random() < shares.strategy:
        strategy = example.strategy
    causes = []
    if emotion and rng.random() < shares.causes:
        causes = sem.cause_words(turns, emotion, MARKED_CAUSES, listener="listener")
    marks: dict[int, list[tuple[int, int]]] = {}
    for word in causes:
        marks.setdefault(word.turn, []).append((word.start, word.end))
    for start in range(len(turns)):
        shown = EmpatheticResponder.conversation(turns, example.roles, marks, start)
        prompt = response_prompt(shown, emotion, bool(causes), strategy)
        if count_tokens(prompt) <= max_prompt_tokens:
            return PromptedReply(example.id, example.dialogue, prompt, f" {' '.join(example.reply.split())}\n",
                                 emotion, [w.word for w in causes], strategy, start)
    return None


def sample_replies(examples: list[ReplyExample], n: int, rng: random.Random, per_dialogue: int) -> list[ReplyExample]:
    """``n`` examples, at most ``per_dialogue`` from any one conversation, drawn without replacement."""
    by_dialogue: dict[str, list[ReplyExample]] = {}
    for example in examples:
        by_dialogue.setdefault(example.dialogue, []).append(example)
    pool = []
    for dialogue in sorted(by_dialogue):
        replies = by_dialogue[dialogue]
        pool += rng.sample(replies, min(per_dialogue, len(replies)))
    rng.shuffle(pool)
    return pool[:n]
