"""Label sets and the mappings between them: data with their sources, and one rule to convert scores.

affectlab predicts GoEmotions' 28 labels; every other set (Ekman, sentiment, Plutchik, Parrott's two tiers,
EmpatheticDialogues, DailyDialog, MELD, EmoryNLP, ESConv) is read from them by a :class:`LabelMapping`
(:data:`LABEL_MAPPINGS`), and converted by :func:`convert_scores` (a label's score is the highest of the
labels that feed it) and :func:`convert_labels`. :func:`view` shows a GoEmotions reading in any set.

>>> from affectlab.taxonomy import convert_labels
>>> convert_labels(["love", "annoyance"], "plutchik")
['joy', 'trust', 'anger']
"""

from affectlab.taxonomy.aliases import (
    EMOTION_ALIASES,
    GOEMOTIONS_TO_EKMAN,
    GOEMOTIONS_TO_SENTIMENT,
    group_labels,
    to_ekman,
)
from affectlab.taxonomy.conversion import convert_labels, convert_scores, feeders
from affectlab.taxonomy.labels import (
    DAILYDIALOG,
    DAILYDIALOG_IDS,
    ED_EMOTIONS,
    EKMAN,
    EMORYNLP,
    ESCONV_EMOTIONS,
    ESCONV_STRATEGIES,
    GOEMOTIONS,
    MELD,
    PARROTT,
    PARROTT_SECONDARY,
    PARROTT_TREE,
    PLUTCHIK,
    SENTIMENT,
    VAD,
    VAD_SCALE,
)
from affectlab.taxonomy.mapping import LabelMapping
from affectlab.taxonomy.mappings import LABEL_MAPPINGS, LABEL_SETS, UnknownLabelSet, label_mapping
from affectlab.taxonomy.sources import SOURCES
from affectlab.taxonomy.views import LabelView, PlutchikView, view

__all__ = [
    "DAILYDIALOG", "DAILYDIALOG_IDS", "ED_EMOTIONS", "EKMAN", "EMORYNLP", "EMOTION_ALIASES", "ESCONV_EMOTIONS",
    "ESCONV_STRATEGIES", "GOEMOTIONS", "GOEMOTIONS_TO_EKMAN", "GOEMOTIONS_TO_SENTIMENT", "LABEL_MAPPINGS",
    "LABEL_SETS", "MELD", "PARROTT", "PARROTT_SECONDARY", "PARROTT_TREE", "PLUTCHIK", "SENTIMENT", "SOURCES",
    "VAD", "VAD_SCALE", "LabelMapping", "LabelView", "PlutchikView", "UnknownLabelSet", "convert_labels",
    "convert_scores", "feeders", "group_labels", "label_mapping", "to_ekman", "view",
]
