"""Does an emotional stimulus change a language model's accuracy? Ask every item under each condition and
compare with the bare prompt, item by item.

>>> from affectlab.llm import load_llm
>>> from affectlab.prompting import load_stimuli, parse_conditions, resolve_tasks, run_prompt_eval
>>> tasks = resolve_tasks("antonyms,sum", "../shared/data", items=50)
>>> result = run_prompt_eval(load_llm(), tasks, parse_conditions("positive,negative", load_stimuli()))
>>> [(c.condition, c.delta, c.low, c.high) for c in result.overall]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TypeVar

import numpy as np

from affectlab.errors import OptionError, check_count, is_whole_number
from affectlab.llm.base import LanguageModel
from affectlab.metrics import bootstrap_delta
from affectlab.prompting.generation import GenerationCache, generate_cached
from affectlab.prompting.stimuli import BASELINE, Condition, Stimulus, StimulusError
from affectlab.prompting.tasks import Item, Task

T = TypeVar("T")

POSITIONS = ("append", "prepend")


def check_position(position: str) -> None:
    if position not in POSITIONS:
        raise StimulusError(f"position must be one of {', '.join(POSITIONS)}, not {position!r}")


def build_prompt(task: Task, item: Item, stimulus: Stimulus | None = None, position: str = "append") -> str:
    """The instruction (with the stimulus after or before it), the demonstrations, then the item:
    ``Instruction: …\\n\\nInput: …\\nOutput: …\\n\\n…Input: <item>\\nOutput:``."""
    check_position(position)
    parts = [task.instruction.strip()]
    if stimulus is not None:
        parts.insert(0 if position == "prepend" else 1, stimulus.text)
    head = " ".join(p for p in parts if p)
    demos = "".join(f"Input: {d.input}\nOutput: {d.answers[0]}\n\n" for d in task.demos)
    return f"Instruction: {head}\n\n{demos}Input: {item.input}\nOutput:"


def check_run(batch_size: object, seed: object, resamples: object) -> None:
    """What a prompt-eval or HEART run is asked to do, checked before any answer is made: an
    :class:`~affectlab.errors.OptionError` naming the first bad option."""
    check_count("batch_size", batch_size)
    check_count("resamples", resamples)
    if not is_whole_number(seed) or seed < 0:  # the bootstrap's NumPy seed
        raise OptionError(f"seed must be a whole number of at least 0, not {seed!r}")


def user_call(what: str, function: Callable[..., T], *args) -> tuple[T | None, str | None]:
    """``function(*args)`` and None, or None and why it failed: ``function`` runs a user's code (a task metric,
    a verifier), which may fail in any way on one answer; that answer is recorded and the run goes on."""
    try:
        return function(*args), None
    except Exception as exc:
        return None, f"{what} failed: {type(exc).__name__}: {exc}"


def score_answer(task: Task, item: Item, answer: str) -> tuple[float | None, str | None]:
    """The task metric's score in [0, 1], or ``(None, message)`` when the metric raises or returns junk."""
    value, error = user_call("metric", lambda *a: float(task.scorer(*a)), answer.strip(), item.answers)
    if value is not None and not 0.0 <= value <= 1.0:
        return None, f"metric returned {value}, outside [0, 1]"
    return value, error


def decoding(task: Task, temperature: float, seed: int) -> dict:
    """One line of answer: stop at the newline; greedy unless ``temperature`` > 0 (then ``seed`` counts)."""
    options = {"max_new_tokens": task.max_new_tokens, "stop": ["\n"], "temperature": temperature}
    return {**options, "seed": seed} if temperature > 0 else options


@dataclass(frozen=True)
class ItemRecord:
    task: str
    item_id: str
    condition: str
    stimulus_id: str | None
    output: str
    score: float | None
    error: str | None = None


@dataclass(frozen=True)
class Comparison:
    """A condition against the baseline on the same items: accuracy, the paired difference and its 95%
    bootstrap interval; ``significant`` when the interval excludes zero. ``scope`` is a task name,
    ``"all tasks"`` (mean over tasks) or a stimulus id."""

    scope: str
    condition: str
    n: int
    accuracy: float
    baseline: float
    delta: float
    low: float
    high: float
    errors: int = 0

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0

    def to_dict(self) -> dict:
        return {**asdict(self), "significant": self.significant}


@dataclass(frozen=True)
class PromptEvalResult:
    model: str
    settings: dict
    by_task: list[Comparison]
    overall: list[Comparison]
    by_stimulus: list[Comparison]
    baseline_accuracy: dict[str, float | None]
    records: list[ItemRecord] = field(repr=False)

    def to_dict(self, records: bool = False) -> dict:
        document = {
            "model": self.model, "settings": self.settings, "baseline_accuracy": self.baseline_accuracy,
            "overall": [c.to_dict() for c in self.overall], "by_task": [c.to_dict() for c in self.by_task],
            "by_stimulus": [c.to_dict() for c in self.by_stimulus],
        }
        if records:
            document["records"] = [asdict(r) for r in self.records]
        return document


def _paired(records: list[ItemRecord], baseline: dict[tuple[str, str], ItemRecord]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(r.score, baseline[(r.task, r.item_id)].score) for r in records
             if r.score is not None and baseline[(r.task, r.item_id)].score is not None]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def _compare(scope: str, condition: str, groups: list[tuple[np.ndarray, np.ndarray]], errors: int,
             resamples: int, seed: int) -> Comparison | None:
    groups = [(a, b) for a, b in groups if len(a)]
    if not groups:
        return None
    delta, low, high = bootstrap_delta([a - b for a, b in groups], resamples, seed)
    return Comparison(scope, condition, sum(len(a) for a, _ in groups), float(np.mean([a.mean() for a, _ in groups])),
                      float(np.mean([b.mean() for _, b in groups])), delta, low, high, errors)


def compare_records(records: list[ItemRecord], conditions: list[Condition], resamples: int = 2000,
                    seed: int = 0) -> tuple[list[Comparison], list[Comparison], list[Comparison]]:
    """Per task, over all tasks (each task weighs the same) and per stimulus (pooled over its items)."""
    baseline = {(r.task, r.item_id): r for r in records if r.condition == BASELINE.name}
    tasks = list(dict.fromkeys(r.task for r in records))
    by_task, overall, by_stimulus = [], [], []
    for condition in (c for c in conditions if c.stimuli):
        mine = [r for r in records if r.condition == condition.name]
        per_task = {t: _paired([r for r in mine if r.task == t], baseline) for t in tasks}
        for t in tasks:
            errors = sum(r.error is not None for r in mine if r.task == t)
            found = _compare(t, condition.name, [per_task[t]], errors, resamples, seed)
            by_task += [found] if found else []
        found = _compare("all tasks", condition.name, list(per_task.values()),
                         sum(r.error is not None for r in mine), resamples, seed)
        overall += [found] if found else []
        if len(condition.stimuli) > 1:
            for stimulus in condition.stimuli:
                given = [r for r in mine if r.stimulus_id == stimulus.id]
                found = _compare(stimulus.id, condition.name, [_paired(given, baseline)],
                                 sum(r.error is not None for r in given), resamples, seed)
                by_stimulus += [found] if found else []
    return by_task, overall, by_stimulus


def run_prompt_eval(llm: LanguageModel, tasks: list[Task], conditions: list[Condition], *,
                    position: str = "append", cache: GenerationCache | None = None, batch_size: int = 16,
                    temperature: float = 0.0, seed: int = 0, resamples: int = 2000,
                    on_progress: Callable[[int], None] | None = None) -> PromptEvalResult:
    """Ask every item of every task under every condition (greedy unless ``temperature`` > 0), score the
    answers and compare each condition with ``none``. A backend error propagates after the finished
    batches are cached; the same call again resumes."""
    check_run(batch_size, seed, resamples)
    check_position(position)
    if not tasks:
        raise OptionError("tasks: none to ask; give at least one")
    if not conditions or conditions[0] != BASELINE:
        conditions = [BASELINE, *(c for c in conditions if c != BASELINE)]
    if len(conditions) == 1:
        raise OptionError("conditions: nothing to compare with the bare prompt; give at least one besides 'none'")
    records: list[ItemRecord] = []
    for task in tasks:
        offset = sum(map(ord, task.name))  # tasks start the stimulus rotation at different places
        for condition in conditions:
            stimuli = [condition.stimulus_for(k + offset) for k in range(len(task.items))]
            prompts = [build_prompt(task, item, s, position) for item, s in zip(task.items, stimuli)]
            generations = generate_cached(llm, prompts, cache, batch_size=batch_size, on_progress=on_progress,
                                          **decoding(task, temperature, seed))
            for item, stimulus, generation in zip(task.items, stimuli, generations):
                score, error = score_answer(task, item, generation.text)
                records.append(ItemRecord(task.name, item.id, condition.name, stimulus.id if stimulus else None,
                                          generation.text.strip(), score, error))
    by_task, overall, by_stimulus = compare_records(records, conditions, resamples, seed)
    scored = {t.name: [r.score for r in records if r.task == t.name and r.condition == BASELINE.name
                       and r.score is not None] for t in tasks}
    settings = {"position": position, "temperature": temperature, "seed": seed, "resamples": resamples,
                "conditions": {c.name: [s.id for s in c.stimuli] for c in conditions},
                "tasks": {t.name: {"instruction": t.instruction, "items": len(t.items), "shots": len(t.demos),
                                   "metric": t.metric if isinstance(t.metric, str) else t.metric.__name__}
                          for t in tasks}}
    return PromptEvalResult(llm.name, settings, by_task, overall, by_stimulus,
                            {t: float(np.mean(v)) if v else None for t, v in scored.items()}, records)
