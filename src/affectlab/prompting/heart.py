"""A HEART-style self-correction loop: after a wrong answer the model hears feedback and tries again.

In the emotional arm the feedback's tone cycles through Ekman's six emotions, one per round (anger after
the first wrong answer, then disgust, fear, joy, sadness, surprise); the control arm hears neutral
feedback. A verifier (by default the task's own metric as an exact-match oracle) judges each answer; a
solved item stops. Accuracy by round is the share of items solved at or before that round.

>>> result = run_heart(llm, tasks, max_rounds=4)
>>> [(r.arm, r.round, r.accuracy) for r in result.rounds]
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import resources

import numpy as np

from affectlab.errors import is_whole_number
from affectlab.llm.base import LanguageModel
from affectlab.metrics import bootstrap_delta
from affectlab.prompting.generation import GenerationCache, generate_cached
from affectlab.prompting.harness import Comparison, build_prompt, check_run, decoding, score_answer, user_call
from affectlab.prompting.stimuli import StimulusError
from affectlab.prompting.tasks import Item, Task

EMOTION_CYCLE = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
ARMS = ("emotional", "neutral")
# each round adds an answer and a feedback line to the prompt and a column to every table of results: past some
# dozens the prompt outgrows a small model's use, and a billion rounds would exhaust memory before the first answer
MAX_ROUNDS = 100
Verifier = Callable[[Task, Item, str], bool]


def load_feedback() -> dict[str, list[str]]:
    """The packaged feedback phrases: ``neutral`` and one list per emotion in :data:`EMOTION_CYCLE`."""
    text = resources.files("affectlab.prompting").joinpath("feedback.json").read_text(encoding="utf-8")
    return {k: v for k, v in json.loads(text).items() if k != "about"}


def check_max_rounds(max_rounds: object) -> None:
    """:class:`StimulusError` unless ``max_rounds`` is a whole number from 1 to :data:`MAX_ROUNDS`."""
    if not is_whole_number(max_rounds) or not 1 <= max_rounds <= MAX_ROUNDS:
        raise StimulusError(f"max_rounds must be a whole number of at least 1 and at most {MAX_ROUNDS}, "
                            f"not {max_rounds!r}")


def oracle(task: Task, item: Item, answer: str) -> bool:
    """Right when the task's metric gives full marks."""
    return score_answer(task, item, answer)[0] == 1.0


def _judge(verifier: Verifier, task: Task, item: Item, answer: str) -> tuple[bool, str | None]:
    """Whether ``answer`` is right, and why it could not be judged: the oracle's failures are the task metric's."""
    if verifier is oracle:
        score, error = score_answer(task, item, answer)
        return score == 1.0, error
    correct, error = user_call("verifier", lambda *a: bool(verifier(*a)), task, item, answer)
    return bool(correct), error


def feedback_for(arm: str, after_round: int, item_index: int, phrases: dict[str, list[str]]) -> tuple[str, str]:
    """The (tone, phrase) said after a wrong answer in round ``after_round`` (1-based)."""
    tone = EMOTION_CYCLE[(after_round - 1) % len(EMOTION_CYCLE)] if arm == "emotional" else "neutral"
    choices = phrases[tone]
    return tone, choices[item_index % len(choices)]


@dataclass(frozen=True)
class Attempt:
    answer: str
    correct: bool
    feedback: str | None = None  # what the model heard next, when it was wrong and another round followed
    tone: str | None = None
    error: str | None = None  # the verifier failed on this answer (counted wrong; the run goes on)


@dataclass(frozen=True)
class ItemTrace:
    task: str
    item_id: str
    arm: str
    attempts: list[Attempt]

    @property
    def solved_round(self) -> int | None:
        return next((k for k, a in enumerate(self.attempts, 1) if a.correct), None)


@dataclass(frozen=True)
class RoundAccuracy:
    arm: str
    round: int
    tone: str | None  # the feedback tone heard before this round (None for round 1)
    accuracy: float   # mean over tasks of the share solved by this round


@dataclass(frozen=True)
class HeartResult:
    model: str
    settings: dict
    rounds: list[RoundAccuracy]
    emotional_vs_neutral: list[Comparison]  # per round, paired on items
    traces: list[ItemTrace] = field(repr=False)

    def to_dict(self, traces: bool = False) -> dict:
        document = {"model": self.model, "settings": self.settings, "rounds": [asdict(r) for r in self.rounds],
                    "emotional_vs_neutral": [c.to_dict() for c in self.emotional_vs_neutral]}
        if traces:
            document["traces"] = [{**asdict(t), "solved_round": t.solved_round} for t in self.traces]
        return document


def _transcript(attempts: list[Attempt]) -> str:
    return "".join(f" {a.answer}\nFeedback: {a.feedback}\nOutput:" for a in attempts)


def _run_arm(llm: LanguageModel, task: Task, arm: str, max_rounds: int, verifier: Verifier, phrases: dict,
             cache: GenerationCache | None, batch_size: int, options: dict, on_progress) -> list[ItemTrace]:
    attempts: list[list[Attempt]] = [[] for _ in task.items]
    base = [build_prompt(task, item) for item in task.items]
    for round_ in range(1, max_rounds + 1):
        open_items = [k for k, a in enumerate(attempts) if not (a and a[-1].correct)]
        if not open_items:
            break
        generations = generate_cached(llm, [base[k] + _transcript(attempts[k]) for k in open_items], cache,
                                      batch_size=batch_size, on_progress=on_progress, **options)
        for k, generation in zip(open_items, generations):
            answer = generation.text.strip()
            correct, error = _judge(verifier, task, task.items[k], answer)
            tone, phrase = (None, None) if correct or round_ == max_rounds else \
                feedback_for(arm, round_, k, phrases)
            attempts[k].append(Attempt(answer, correct, phrase, tone, error))
        if round_ == 1 and all(attempts[k][0].error for k in open_items):  # broken, not one answer it cannot read
            judge = "task's metric" if verifier is oracle else "verifier"
            raise StimulusError(f"the {judge} failed on every first answer of task {task.name!r} "
                                f"({attempts[open_items[0]][0].error}); mend it and run again")
    return [ItemTrace(task.name, item.id, arm, a) for item, a in zip(task.items, attempts)]


def run_heart(llm: LanguageModel, tasks: list[Task], *, max_rounds: int = 4, verifier: Verifier = oracle,
              cache: GenerationCache | None = None, batch_size: int = 16, temperature: float = 0.0, seed: int = 0,
              resamples: int = 2000, on_progress: Callable[[int], None] | None = None) -> HeartResult:
    """Both arms on every item of every task, up to ``max_rounds`` answers each."""
    check_max_rounds(max_rounds)
    check_run(batch_size, seed, resamples)
    phrases = load_feedback()
    traces: list[ItemTrace] = []
    for task in tasks:
        for arm in ARMS:
            traces += _run_arm(llm, task, arm, max_rounds, verifier, phrases, cache, batch_size,
                               decoding(task, temperature, seed), on_progress)
    solved = {(arm, t.name): np.array([[tr.solved_round is not None and tr.solved_round <= r
                                        for r in range(1, max_rounds + 1)]
                                       for tr in traces if tr.arm == arm and tr.task == t.name], dtype=float)
              for arm in ARMS for t in tasks}
    rounds, comparisons = [], []
    for r in range(max_rounds):
        for arm in ARMS:
            tone = None if r == 0 else ("neutral" if arm == "neutral" else EMOTION_CYCLE[(r - 1) % 6])
            rounds.append(RoundAccuracy(arm, r + 1, tone, float(np.mean([solved[arm, t.name][:, r].mean()
                                                                          for t in tasks]))))
        differences = [solved["emotional", t.name][:, r] - solved["neutral", t.name][:, r] for t in tasks]
        delta, low, high = bootstrap_delta(differences, resamples, seed)
        comparisons.append(Comparison(f"round {r + 1}", "emotional", sum(len(d) for d in differences),
                                      rounds[-2].accuracy, rounds[-1].accuracy, delta, low, high))
    settings = {"max_rounds": max_rounds, "temperature": temperature, "seed": seed,
                "verifier": getattr(verifier, "__name__", str(verifier)),
                "verifier_errors": sum(bool(a.error) for tr in traces for a in tr.attempts),
                "tasks": {t.name: len(t.items) for t in tasks}, "emotion_cycle": list(EMOTION_CYCLE)}
    return HeartResult(llm.name, settings, rounds, comparisons, traces)
