"""Emotional stimuli: the packaged library, users' own files, and the conditions a prompt-eval run compares.

A stimulus is one sentence added to a task's instruction. A *condition* is a named set of stimuli; inside a
condition the stimuli take turns over a task's items (item ``k`` gets stimulus ``k mod n``), so each item is
asked once per condition and every stimulus still gets a share of the items.

>>> library = load_stimuli()                          # the packaged stimuli (positive, negative, stress 1-5)
>>> [c.name for c in parse_conditions("positive,stress:1-2", library)]
['positive', 'stress:1', 'stress:2']
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from affectlab.errors import AffectlabError
from affectlab.io.values import surrogate_problem


class StimulusError(AffectlabError, ValueError):
    """A stimulus file or a ``--stimuli`` specification is malformed."""


@dataclass(frozen=True)
class Stimulus:
    id: str
    group: str
    theory: str
    text: str
    level: int | None = None  # stress stimuli: 1 (no pressure) to 5 (acute)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Condition:
    """A named set of stimuli compared against the bare prompt (the condition ``none`` has no stimuli)."""

    name: str
    stimuli: tuple[Stimulus, ...]

    def stimulus_for(self, item_index: int) -> Stimulus | None:
        return self.stimuli[item_index % len(self.stimuli)] if self.stimuli else None


BASELINE = Condition("none", ())


def _read_stimulus(entry: dict, where: str) -> Stimulus:
    missing = [k for k in ("id", "group", "text") if not isinstance(entry.get(k), str) or not entry.get(k).strip()]
    if missing:
        raise StimulusError(f"{where}: missing or empty {', '.join(missing)}")
    for key in ("id", "group", "text"):
        problem = surrogate_problem(entry[key], f"{where}: {key}")
        if problem:
            raise StimulusError(problem)
    level = entry.get("level")
    if level is not None and (not isinstance(level, int) or not 1 <= level <= 5):
        raise StimulusError(f"{where}: level must be an integer from 1 to 5, not {level!r}")
    return Stimulus(entry["id"], entry["group"], str(entry.get("theory", "")), entry["text"].strip(), level)


def read_stimulus_file(path: str | Path) -> list[Stimulus]:
    """A stimulus file: ``{"stimuli": [{id, group, theory, text, level?}, ...]}``, or the reference format
    ``{"stimuli": {id: text}}`` (as in the EmotionPrompt/NegativePrompt reference files), whose stimuli form one
    group named after the file."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StimulusError(f"{path}: cannot read stimuli ({exc})") from None
    except RecursionError:  # brackets nested deeper than the decoder's stack
        raise StimulusError(f"{path}: cannot read stimuli (JSON nested too deeply)") from None
    entries = document.get("stimuli") if isinstance(document, dict) else None
    if isinstance(entries, dict):
        group = path.stem
        return [_read_stimulus({"id": k, "group": group, "theory": group, "text": v}, f"{path}: stimulus {k!r}")
                for k, v in entries.items()]
    if not isinstance(entries, list) or not entries:
        raise StimulusError(f"{path}: expected a non-empty 'stimuli' list or mapping")
    return [_read_stimulus(e if isinstance(e, dict) else {}, f"{path}: stimulus {i}") for i, e in enumerate(entries)]


def load_stimuli(*extra_files: str | Path) -> list[Stimulus]:
    """The packaged stimuli followed by those in ``extra_files``; ids must be unique."""
    packaged = resources.files("affectlab.prompting").joinpath("stimuli.json")
    with resources.as_file(packaged) as path:
        stimuli = read_stimulus_file(path)
    for extra in extra_files:
        stimuli += read_stimulus_file(extra)
    seen: set[str] = set()
    for s in stimuli:
        if s.id in seen:
            raise StimulusError(f"stimulus id {s.id!r} is defined twice")
        seen.add(s.id)
    return stimuli


def _levels(spec: str, token: str) -> list[int]:
    try:
        low, _, high = spec.partition("-")
        first, last = int(low), int(high or low)
    except ValueError:
        first, last = 0, 0
    if not 1 <= first <= last <= 5:  # checked before the range is made: 1-99999999999 is no list to build
        raise StimulusError(f"{token!r}: levels must look like 3 or 1-5, within 1 to 5")
    return list(range(first, last + 1))


def parse_conditions(spec: str, library: list[Stimulus]) -> list[Condition]:
    """Conditions from a comma list: a group (``positive``: its stimuli take turns), ``group:1-5`` (one condition
    per stress level), or a stimulus id (that stimulus alone). The baseline ``none`` is always added first."""
    groups: dict[str, list[Stimulus]] = {}
    for s in library:
        groups.setdefault(s.group, []).append(s)
    by_id = {s.id: s for s in library}
    conditions = [BASELINE]
    for token in (t.strip() for t in spec.split(",")):
        if not token or token == "none":
            continue
        name, _, levels = token.partition(":")
        if name in groups and levels:
            for level in _levels(levels, token):
                chosen = tuple(s for s in groups[name] if s.level == level)
                if not chosen:
                    raise StimulusError(f"{token!r}: group {name!r} has no stimuli at level {level}")
                conditions.append(Condition(f"{name}:{level}", chosen))
        elif name in groups:
            conditions.append(Condition(name, tuple(groups[name])))
        elif token in by_id:
            conditions.append(Condition(token, (by_id[token],)))
        else:
            raise StimulusError(f"unknown stimulus group or id {token!r}; groups: {', '.join(sorted(groups))}")
    names = [c.name for c in conditions]
    if len(conditions) == 1:
        raise StimulusError(f"no stimuli to compare with the bare prompt in {spec!r}; e.g. positive,negative")
    if len(set(names)) != len(names):
        raise StimulusError(f"a condition is named twice in {spec!r}")
    return conditions
