"""The form every mapping takes: a label set read from GoEmotions' 28 labels, with its sources and rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from affectlab.taxonomy.labels import GOEMOTIONS
from affectlab.taxonomy.sources import SOURCES


@dataclass(frozen=True)
class LabelMapping:
    """How the labels of one set are read from GoEmotions' labels, and the reason for each placement.

    ``groups`` maps a label of the set to the GoEmotions labels that express it (one GoEmotions label may
    serve several). A label no GoEmotions label expresses is in ``unreachable`` with the reason; ``folds``
    may still send it to GoEmotions labels it implies, used only when converting *from* this set (a
    seeker's "depression" implies sadness; sadness does not imply depression). A GoEmotions label no label
    of the set holds is in ``unplaced`` with the reason. ``sources`` are keys of :data:`SOURCES`; ``rule``
    says how labels the sources do not place were placed; ``notes`` gives, by GoEmotions label, the reason
    for a placement that needed judgement.

    >>> sketch = LabelMapping("moods", ("up", "down"), {"up": ("joy",), "down": ("sadness",)}, ("demszky2020",),
    ...                       "a sketch")
    >>> sketch.problems()[0][:61]  # the other 26 GoEmotions labels are neither placed nor explained
    "GoEmotions labels neither placed nor explained: ['admiration'"
    """

    name: str
    labels: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]
    sources: tuple[str, ...]
    rule: str
    unplaced: dict[str, str] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    folds: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """What keeps the mapping from covering both label sets, one line each; empty when it covers them."""
        found = []
        placed = {g for members in self.groups.values() for g in members}
        loose = [g for g in GOEMOTIONS if g not in placed and g not in self.unplaced]
        if loose:
            found.append(f"GoEmotions labels neither placed nor explained: {loose}")
        both = sorted(placed & set(self.unplaced))
        if both:
            found.append(f"GoEmotions labels both placed and unplaced: {both}")
        empty = [label for label in self.labels if not self.groups.get(label) and label not in self.unreachable]
        if empty:
            found.append(f"labels of {self.name} neither read nor explained: {empty}")
        read_anyway = sorted(set(self.unreachable) & {label for label, members in self.groups.items() if members})
        if read_anyway:
            found.append(f"labels of {self.name} both read and unreachable: {read_anyway}")
        stray = sorted({g for members in (*self.groups.values(), *self.folds.values()) for g in members}
                       - set(GOEMOTIONS))
        stray += sorted((set(self.unplaced) | set(self.notes)) - set(GOEMOTIONS))
        if stray:
            found.append(f"not GoEmotions labels: {stray}")
        foreign = sorted((set(self.groups) | set(self.unreachable) | set(self.folds)) - set(self.labels))
        if foreign:
            found.append(f"not labels of {self.name}: {foreign}")
        unexplained_folds = sorted(set(self.folds) - set(self.unreachable))
        if unexplained_folds:
            found.append(f"folds for labels that are read directly: {unexplained_folds}")
        uncited = [key for key in self.sources if key not in SOURCES]
        if uncited or not self.sources:
            found.append(f"sources not in SOURCES: {uncited or 'none given'}")
        return found
