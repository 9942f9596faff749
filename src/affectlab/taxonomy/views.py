"""A GoEmotions reading (its scores and thresholded labels) seen in another label set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from affectlab.taxonomy.conversion import convert_labels, convert_scores
from affectlab.taxonomy.mappings import label_mapping
from affectlab.taxonomy.plutchik import PETALS, PRIMARY_DYADS, intensity_word


@dataclass(frozen=True)
class LabelView:
    """Scores and labels in the label set ``label_set`` (see :mod:`affectlab.taxonomy.conversion`). A label
    no GoEmotions label reads (the mapping's ``unreachable``) has no score."""

    label_set: str
    scores: dict[str, float]
    labels: list[str]

    def to_dict(self) -> dict:
        return asdict(self)

    def to_row(self) -> dict:
        """Flat columns for tables: ``as_<set>_<label>`` per label of the set (None when unreachable or when
        the text could not be read) and ``as_<set>_labels``."""
        prefix = f"as_{self.label_set}"
        row: dict = {f"{prefix}_{label}": self.scores.get(label) for label in label_mapping(self.label_set).labels}
        row[f"{prefix}_labels"] = self.labels
        return row


@dataclass(frozen=True)
class PlutchikView(LabelView):
    """The Plutchik view adds, for each petal among the labels, the wheel's word for its intensity (the most
    intense its GoEmotions labels express: annoyance alone is mild anger, grief intense sadness), and the eight
    primary dyads: each scores the lower of its two petals (both must be felt), and is a label when both
    petals are."""

    intensity: dict[str, str]
    dyads: dict[str, float]
    dyad_labels: list[str]

    def to_row(self) -> dict:
        row = super().to_row()
        row["as_plutchik_intensity"] = [self.intensity[petal] for petal in self.labels if petal in self.intensity]
        row.update({f"as_plutchik_dyad_{dyad}": self.dyads.get(dyad) for dyad in PRIMARY_DYADS})
        row["as_plutchik_dyad_labels"] = self.dyad_labels
        return row


def view(scores: Mapping[str, float], labels: Sequence[str], label_set: str) -> LabelView:
    """GoEmotions ``scores`` (all 28) and ``labels`` (those at or above their thresholds) in ``label_set``.
    Empty ``scores`` (a text that could not be read) give an empty view.

    >>> v = view(scores, ["annoyance"], "plutchik")  # scores: the 28 GoEmotions probabilities
    >>> v.labels, v.intensity
    (['anger'], {'anger': 'annoyance'})
    """
    mapping = label_mapping(label_set)
    if not scores:
        return PlutchikView(label_set, {}, [], {}, {}, []) if label_set == "plutchik" else LabelView(label_set, {}, [])
    converted = convert_scores(scores, label_set)
    labelled = convert_labels(labels, label_set)
    if label_set != "plutchik":
        return LabelView(label_set, converted, labelled)
    intensity = {petal: intensity_word(petal, [g for g in mapping.groups[petal] if g in labels])
                 for petal in labelled if petal in PETALS}
    dyads = {dyad: min(converted[a], converted[b]) for dyad, (a, b) in PRIMARY_DYADS.items()}
    dyad_labels = [dyad for dyad, (a, b) in PRIMARY_DYADS.items() if a in labelled and b in labelled]
    return PlutchikView(label_set, converted, labelled, intensity, dyads, dyad_labels)
