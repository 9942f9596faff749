"""Tasks a prompt-eval or HEART run asks: the 24 instruction-induction tasks, or a user's JSONL file.

A :class:`Task` holds an instruction, a few solved demonstrations (the base model needs to see the answer
format) and the items to ask, each with every answer that counts as right.

>>> tasks = load_instruction_induction("../shared/data", ["antonyms"], items=20, shots=3, seed=0)
>>> task = load_jsonl_task("my_task.jsonl", instruction="Answer the question.", metric="contains")
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from affectlab.errors import AffectlabError, check_count, is_whole_number
from affectlab.io.values import surrogate_problem
from affectlab.prompting.scoring import Metric, resolve_metric


class TaskError(AffectlabError, ValueError):
    """A task cannot be found or its file is malformed (the message names the line)."""


@dataclass(frozen=True)
class Item:
    id: str
    input: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Task:
    name: str
    instruction: str
    items: tuple[Item, ...]
    demos: tuple[Item, ...] = ()
    metric: str | Metric = "exact"
    max_new_tokens: int = 32
    scorer: Metric = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.items:
            raise TaskError(f"task {self.name!r} has no items to ask")
        object.__setattr__(self, "scorer", resolve_metric(self.metric))


INSTRUCTION_INDUCTION = (
    "active_to_passive", "antonyms", "cause_and_effect", "common_concept", "diff", "first_word_letter",
    "informal_to_formal", "larger_animal", "letters_list", "negation", "num_to_verbal", "orthography_starts_with",
    "rhymes", "second_word_letter", "sentence_similarity", "sentiment", "singular_to_plural", "sum", "synonyms",
    "taxonomy_animal", "translation_en-de", "translation_en-es", "translation_en-fr", "word_in_context",
)
# the tasks whose original evaluation is not exact match (Honovich et al. 2022 score these two by token F1)
_METRIC = {"common_concept": "f1", "informal_to_formal": "f1", "taxonomy_animal": "set"}
# fields that list further accepted answers besides "output"
_ALTERNATIVES = ("possible_translations", "other_rhymes", "possible_outputs", "all_common_concepts")


def _ii_item(task: str, key: str, example: dict, rng: random.Random) -> Item:
    if task == "cause_and_effect":
        pair = [example["cause"], example["effect"]]
        rng.shuffle(pair)  # the cause must be recognized, not found by position
        return Item(key, f"Sentence 1: {pair[0]} Sentence 2: {pair[1]}", (example["cause"],))
    if task == "common_concept":
        return Item(key, ", ".join(example["items"]), tuple(example["all_common_concepts"]))
    answers = [example["output"]]
    for name in _ALTERNATIVES:
        answers += [a for a in example.get(name, ()) if isinstance(a, str) and a not in answers]
    if task == "sentence_similarity":  # "3 - probably": the number alone or the words alone also count
        answers += [part.strip() for part in example["output"].split(" - ")]
    return Item(key, example["input"], tuple(answers))


def _token_budget(items: tuple[Item, ...]) -> int:
    longest = max(len(a) for item in items for a in item.answers[:1])
    return min(64, max(8, longest // 3 + 8))  # ~3 characters a token, and room to spare


def load_instruction_induction(data_dir: str | Path, names: list[str] | None = None, *, items: int | None = None,
                               shots: int = 3, seed: int = 0, instruction_index: int = 0) -> list[Task]:
    """Tasks from ``instruction_induction/execute`` with the human instruction number ``instruction_index``
    from ``annotations``. Per task the examples are shuffled with ``seed``; the first ``shots`` become the
    demonstrations and the next ``items`` (all, if None) are asked."""
    _check_shots(shots)
    check_count("items", items, none_means="all")
    root = Path(data_dir) / "instruction_induction"
    unknown = [n for n in names or () if n not in INSTRUCTION_INDUCTION]
    if unknown:
        raise TaskError(f"unknown instruction-induction task(s) {', '.join(unknown)}; known: "
                        f"{', '.join(INSTRUCTION_INDUCTION)}")
    if not root.is_dir():
        raise TaskError(f"{root} not found: point --data-dir at the folder holding instruction_induction")
    tasks = []
    for name in names or INSTRUCTION_INDUCTION:
        rng = random.Random(f"{seed}:{name}")
        files = [root / "execute" / f"{name}.json", root / "annotations" / f"{name}.json"]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise TaskError(f"task {name}: {missing[0]} not found")
        examples = json.loads(files[0].read_text(encoding="utf-8"))["examples"]
        instructions = json.loads(files[1].read_text(encoding="utf-8"))["annotations"]
        keys = sorted(examples, key=lambda k: (len(k), k))
        rng.shuffle(keys)
        converted = tuple(_ii_item(name, k, examples[k], rng) for k in keys)
        if shots >= len(converted):
            raise TaskError(f"task {name}: {len(converted)} examples, not enough for {shots} demonstrations and at "
                            "least one to ask")
        asked = converted[shots:] if items is None else converted[shots:shots + items]
        tasks.append(Task(name, instructions[instruction_index % len(instructions)], asked, converted[:shots],
                          _METRIC.get(name, "exact"), _token_budget(asked)))
    return tasks


def _check_shots(shots: object) -> None:
    if not is_whole_number(shots) or shots < 0:
        raise TaskError(f"shots must be a whole number of at least 0, not {shots!r}")


def _check_text(text: str, what: str) -> None:
    """A text that goes into a prompt: no lone surrogate, which no tokenizer or cache file can hold."""
    problem = surrogate_problem(text, what)
    if problem:
        raise TaskError(problem)


def _jsonl_item(path: Path, number: int, line: str) -> Item:
    """The item on line ``number`` of a task file: a string ``input`` and a non-blank answer or list of them."""
    where = f"{path}, line {number}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TaskError(f"{where}: not valid JSON ({exc.msg})") from None
    except RecursionError:  # brackets nested deeper than the decoder's stack
        raise TaskError(f"{where}: not valid JSON (nested too deeply)") from None
    if not isinstance(row, dict):
        raise TaskError(f"{where}: expected an object with input and output")
    output = row.get("output")
    answers = [output] if isinstance(output, str) else output
    if not isinstance(row.get("input"), str) or not isinstance(answers, list) or not answers \
            or not all(isinstance(a, str) for a in answers):
        raise TaskError(f"{where}: needs a string 'input' and an 'output' string or list of strings")
    if not all(a.strip() for a in answers):
        raise TaskError(f"{where}: an empty 'output' (an empty answer would count as right)")
    key = str(row.get("id", number))
    for text in (key, row["input"], *answers):
        _check_text(text, where)
    return Item(key, row["input"], tuple(answers))


def load_jsonl_task(path: str | Path, *, instruction: str = "", metric: str | Metric = "exact", shots: int = 3,
                    name: str | None = None, max_new_tokens: int | None = None) -> Task:
    """A task from JSONL lines ``{"input": ..., "output": ...}`` (``output`` a string or a list of accepted
    answers; an optional ``id``). The first ``shots`` lines serve as demonstrations (3, as for instruction induction
    and on the command line: a base LM needs the answer format)."""
    path = Path(path)
    _check_shots(shots)
    _check_text(instruction, "the instruction")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"{path}: cannot read ({exc})") from None
    converted = [_jsonl_item(path, number, line) for number, line in enumerate(lines, 1) if line.strip()]
    if len(converted) <= shots:
        raise TaskError(
            f"{path}: {len(converted)} items, not enough for {shots} demonstrations and at least one to ask"
        )
    asked = tuple(converted[shots:])
    return Task(name or path.stem, instruction, asked, tuple(converted[:shots]), metric,
                max_new_tokens or _token_budget(asked))


def resolve_tasks(spec: str, data_dir: str | Path, **options) -> list[Task]:
    """``instruction-induction`` (all 24), a comma list of its task names, or paths of JSONL files (the
    ``instruction``/``metric``/``shots`` options then apply to those files)."""
    check_count("items", options.get("items"), none_means="all")
    ii_options = {k: options[k] for k in ("items", "shots", "seed") if k in options}
    jsonl_options = {k: options[k] for k in ("instruction", "metric", "shots") if k in options}
    tasks: list[Task] = []
    names = [part.strip() for part in spec.split(",") if part.strip()]
    if not names:
        raise TaskError("no task given")
    builtin = [n for n in names if n in INSTRUCTION_INDUCTION]
    if "instruction-induction" in names:
        tasks += load_instruction_induction(data_dir, None, **ii_options)
    elif builtin:
        tasks += load_instruction_induction(data_dir, builtin, **ii_options)
    for n in names:
        if n == "instruction-induction" or n in INSTRUCTION_INDUCTION:
            continue
        if not Path(n).is_file():
            raise TaskError(f"unknown task {n!r}: not an instruction-induction task name and not a file")
        tasks.append(load_jsonl_task(n, **jsonl_options))
    return tasks
