"""A long evaluation's answers (generations, scores), kept in a JSON-lines file as they are made, so that a run
stopped part-way (killed, or failing after hours of generation) goes on where it stopped: a re-run with the same
settings makes only the answers the file lacks.

>>> answers = Journal(Path("runs/hef.answers.jsonl"), {"split": "test", "seed": 0}, "eval hef")
>>> answers.get(("reply", "hit:3_conv:7", "plain"), lambda: {"text": "Oh no!"})
{'text': 'Oh no!'}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from affectlab.evaluate.report import EvaluationError
from affectlab.io.writers import atomic_write_text

HEADER_START = '{"settings"'  # how a journal's first line begins


class Journal:
    """Answers already given, read from a JSON-lines file and appended to as new ones come, so that a long
    evaluation interrupted part-way goes on where it stopped (a line cut short by a kill is dropped). Its first
    line holds the settings the answers were made with; a run with other settings refuses the file."""

    def __init__(self, path: Path | None, settings: dict, command: str) -> None:
        self.path, self.answers = path, {}
        if path is None:
            return
        try:
            read = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else []
        except (OSError, UnicodeDecodeError) as problem:
            raise EvaluationError(f"cannot read the answers file {path}: {problem}") from None
        lines = [line for line in read if line.endswith("\n")]
        if not lines:
            if read and not read[0].startswith(HEADER_START):
                raise _not_a_journal(f"{path} is", command)
            path.parent.mkdir(parents=True, exist_ok=True)  # new, empty, or only a header cut short
            atomic_write_text(path, json.dumps({"settings": settings}) + "\n")
            return
        records = [_journal_line(path, number, line, command) for number, line in enumerate(lines, start=1)]
        kept = records[0].get("settings")
        if not isinstance(kept, dict) or any(set(r) != {"key", "answer"} or not isinstance(r["key"], list)
                                             or not all(isinstance(k, str) for k in r["key"]) for r in records[1:]):
            raise _not_a_journal(f"{path} is", command)
        if kept != settings:
            unset = object()
            differs = ", ".join(sorted(k for k in {*kept, *settings} if kept.get(k, unset) != settings.get(k, unset)))
            raise EvaluationError(f"{path} holds answers of another evaluation (different {differs}); "
                                  "remove it or use another file")
        self.answers = {tuple(r["key"]): r["answer"] for r in records[1:]}
        if len(lines) < len(read):  # hours of answers: rewritten only to drop a cut line, and atomically
            atomic_write_text(path, "".join(lines))

    def get(self, key: tuple[str, ...], make: Callable[[], dict]) -> dict:
        if key not in self.answers:
            self.answers[key] = make()
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps({"key": list(key), "answer": self.answers[key]}) + "\n")
        return self.answers[key]


def _journal_line(path: Path, number: int, line: str, command: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _not_a_journal(f"{path}, line {number}: not JSON ({exc.msg}), so", command) from exc
    if not isinstance(record, dict):
        raise _not_a_journal(f"{path}, line {number}: not an answer, so", command)
    return record


def _not_a_journal(where: str, command: str) -> EvaluationError:
    return EvaluationError(f"{where} not an answers file of `affectlab {command}`; use another file")
