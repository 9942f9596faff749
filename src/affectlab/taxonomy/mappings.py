"""Every label set affectlab converts to, by name, each with its mapping from GoEmotions."""

from __future__ import annotations

from affectlab.errors import OptionError
from affectlab.taxonomy.corpora import EMORYNLP_MAPPING, EMPATHETIC_DIALOGUES_MAPPING, ESCONV_MAPPING
from affectlab.taxonomy.demszky import (
    DAILYDIALOG_MAPPING,
    EKMAN_MAPPING,
    GOEMOTIONS_MAPPING,
    MELD_MAPPING,
    SENTIMENT_MAPPING,
)
from affectlab.taxonomy.mapping import LabelMapping
from affectlab.taxonomy.parrott import PARROTT_MAPPING, PARROTT_SECONDARY_MAPPING
from affectlab.taxonomy.plutchik import PLUTCHIK_MAPPING

LABEL_MAPPINGS: dict[str, LabelMapping] = {
    mapping.name: mapping
    for mapping in (
        GOEMOTIONS_MAPPING, EKMAN_MAPPING, SENTIMENT_MAPPING, PLUTCHIK_MAPPING, PARROTT_MAPPING,
        PARROTT_SECONDARY_MAPPING, EMPATHETIC_DIALOGUES_MAPPING, DAILYDIALOG_MAPPING, MELD_MAPPING,
        EMORYNLP_MAPPING, ESCONV_MAPPING,
    )
}
LABEL_SETS: tuple[str, ...] = tuple(LABEL_MAPPINGS)


class UnknownLabelSet(OptionError):
    """A label set name affectlab does not know."""


def label_mapping(name: str) -> LabelMapping:
    """The mapping of the label set called ``name`` (one of :data:`LABEL_SETS`).

    >>> label_mapping("plutchik").groups["trust"]
    ('admiration', 'approval', 'love')
    """
    if not isinstance(name, str) or name not in LABEL_MAPPINGS:
        raise UnknownLabelSet(f"unknown label set {name!r}; choose one of {', '.join(LABEL_SETS)}")
    return LABEL_MAPPINGS[name]
