"""Result types of text analysis: frozen, JSON-serializable."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from affectlab.heads.layout import EMOINT_EMOTIONS
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD, LabelView, view

READING_COLUMNS = (
    *(f"intensity_{name}" for name in EMOINT_EMOTIONS),
    *(f"{prefix}_{name}" for prefix in ("writer", "reader", "gap") for name in VAD),
    "empathy",
    "distress",
)


@dataclass(frozen=True)
class WordAttribution:
    """A word of the input and how much it pushed one emotion's score up (positive) or down."""

    word: str
    score: float
    start: int  # character offsets in the analyzed text
    end: int


@dataclass(frozen=True)
class ChunkSpan:
    """One encoder window of a text: its place among the text's windows (0-based, in reading order) and the
    characters it read, as offsets in the text as passed (``text[start:end]``).

    >>> result = Analyzer().analyze(report)  # a long text, read in several windows
    >>> span = result.drivers[result.labels[0]]
    >>> span.window, report[span.start : span.end]
    """

    window: int
    start: int
    end: int


@dataclass(frozen=True)
class CustomLabels:
    """What a head of one's own (``affectlab train head``, ``Analyzer(model=<its folder>)``) reads in a text.

    ``scores`` holds every label of the head: softmax probabilities that sum to 1 for a single-label head,
    independent sigmoid probabilities for a multi-label one. ``labels`` are the chosen ones, best first: the
    top label of a single-label head; for a multi-label head those at or above their dev-tuned thresholds,
    which may be none. ``model`` is the head's name.

    >>> Analyzer(model="runs/tickets-head").analyze("The app logs me out every hour").custom.labels
    ['bug']
    """

    model: str
    labels: list[str]
    scores: dict[str, float]
    multi_label: bool = False


@dataclass(frozen=True)
class TextAffect:
    """The affect of one text.

    ``emotions``, ``ekman`` and ``sentiment`` are independent sigmoid probabilities (several can be
    high at once); ``labels`` are the GoEmotions labels at or above their dev-tuned thresholds, or
    ``["neutral"]`` when none is. ``vad`` is on EmoBank's 1-5 scale. ``chunks`` is the number of
    encoder windows the text was split into. ``truncated`` is true when the text was over the analyzer's
    ``max_chars`` or ``max_windows`` and only its beginning was read (``on_long="truncate"``). ``evidence``
    maps each top emotion to the words that drive it (integrated gradients), present only when asked for.
    ``error`` is set, and the scores are empty, when the input row could not be analyzed.

    A text over one window (``chunks > 1``) is scored by two rules, so that a strong emotion in one
    sentence of a long neutral text stays visible:

    - presence, for ``emotions`` and ``ekman``: each emotion's score is its highest over the windows
      (an emotion is present if some part of the text expresses it), and ``neutral``'s is its lowest
      (a text is only as neutral as its least neutral part). ``labels`` follow from these scores by the
      same thresholds, so an emotion that passes in any window is a label, and ``neutral`` is a label
      beside it only if every window, that one included, passes neutral's threshold too;
    - overall tone, for ``sentiment`` and ``vad``: the mean over windows weighted by their length in tokens.

    ``drivers`` maps each label to the :class:`ChunkSpan` its score was taken from: the window that scores
    the emotion highest (for ``neutral``, lowest); evidence words are read in that window. It is None for
    a text read in one window (the whole text drove every label, and its scores are that window's own) and
    for a row with an ``error``.

    ``irony`` is the probability that the text is ironic (its most ironic window's), or None for a model
    without an irony output. Where it reaches the model's irony threshold, the positive outputs of that
    window are discounted (ironic praise is not praise; the rule is in :mod:`affectlab.text.irony`).

    Fitted readings (ridge regressions on the model's sentence vector, docs/readings.md), each None for a model
    without that block; a long text takes the length-weighted mean over its windows:

    - ``intensity``: how intensely the text expresses anger, fear, joy and sadness, 0-1 (EmoInt). Each is fitted
      on tweets known to express that emotion, so read it beside ``ekman``: it grades an emotion, it does not
      detect one.
    - ``vad_writer`` and ``vad_reader``: valence, arousal, dominance on EmoBank's 1-5 scale as the writer meant
      it and as a reader perceives it; ``vad_gap`` is reader minus writer (a negative valence gap: it reads
      worse than it was meant, as in "hidden anger").
    - ``empathy`` and ``distress``: the writer's empathy and personal distress on WASSA-22's 1-7 scale (fitted
      on essays written in reaction to news stories).

    >>> r = Analyzer("runs/text-minilm-readings").analyze("Fine. Do whatever you want, as always.")
    >>> r.vad_writer["valence"], r.vad_reader["valence"], r.vad_gap["valence"]

    ``custom`` is the reading of a head of one's own (:class:`CustomLabels`) when the analyzer was given one
    (``Analyzer(model=<folder written by affectlab train head>)``), else None; the shipped readings above come
    with it from the same pass of the text model.
    """

    emotions: dict[str, float]
    labels: list[str]
    ekman: dict[str, float]
    sentiment: dict[str, float]
    vad: dict[str, float]
    chunks: int = 1
    drivers: dict[str, ChunkSpan] | None = None
    irony: float | None = None
    intensity: dict[str, float] | None = None
    vad_writer: dict[str, float] | None = None
    vad_reader: dict[str, float] | None = None
    vad_gap: dict[str, float] | None = None
    empathy: float | None = None
    distress: float | None = None
    evidence: dict[str, list[WordAttribution]] | None = None
    error: str | None = None
    truncated: bool = False
    custom: CustomLabels | None = None

    @property
    def top(self) -> str | None:
        """The single most probable GoEmotions label."""
        return max(self.emotions, key=self.emotions.__getitem__) if self.emotions else None

    def as_labels(self, label_set: str) -> LabelView:
        """The emotions in another label set (one of :data:`affectlab.taxonomy.LABEL_SETS`: ``"plutchik"``,
        ``"parrott"``, ``"meld"``...), converted from ``emotions`` and ``labels`` by
        :mod:`affectlab.taxonomy` (a label scores the highest GoEmotions score that feeds it).

        >>> analyze("My grandmother passed away last night.").as_labels("plutchik").intensity
        {'sadness': 'grief'}
        """
        return view(self.emotions, self.labels, label_set)

    def to_dict(self) -> dict:
        return asdict(self)

    def driver_records(self) -> list[dict] | None:
        """``drivers`` as table records, ``{"label", "window", "start", "end"}`` in label order, or None."""
        if self.drivers is None:
            return None
        return [{"label": label, **asdict(span)} for label, span in self.drivers.items()]

    def to_row(self) -> dict:
        """A flat record for tables: one column per score (``emotion_joy``, ``ekman_joy``, ...; the fitted
        readings as ``intensity_joy``, ``writer_valence``, ``reader_valence``, ``gap_valence``, ``empathy``,
        ``distress``, empty for a model without them), and ``drivers`` as :meth:`driver_records`."""
        row: dict = {"labels": self.labels, "top": self.top}
        for prefix, names, scores in (
            ("emotion", GOEMOTIONS, self.emotions),
            ("ekman", EKMAN, self.ekman),
            ("sentiment", SENTIMENT, self.sentiment),
        ):
            row.update({f"{prefix}_{name}": scores.get(name) for name in names})
        row.update({name: self.vad.get(name) for name in VAD})
        row["irony"] = self.irony
        row.update(self.reading_columns())
        row["chunks"] = self.chunks
        row["drivers"] = self.driver_records()
        row["truncated"] = self.truncated
        if self.evidence is not None:
            row["evidence"] = {label: [w.word for w in words] for label, words in self.evidence.items()}
        if self.custom is not None:
            row["custom_labels"] = self.custom.labels
            row.update({f"custom_{label}": score for label, score in self.custom.scores.items()})
        row["error"] = self.error
        return row

    def reading_columns(self) -> dict[str, float | None]:
        """The fitted readings as flat columns (:data:`READING_COLUMNS`), None for a model without them."""
        row: dict[str, float | None] = {}
        for prefix, names, scores in (
            ("intensity", EMOINT_EMOTIONS, self.intensity),
            ("writer", VAD, self.vad_writer),
            ("reader", VAD, self.vad_reader),
            ("gap", VAD, self.vad_gap),
        ):
            row.update({f"{prefix}_{name}": scores[name] if scores else None for name in names})
        row["empathy"] = self.empathy
        row["distress"] = self.distress
        return row

    @classmethod
    def failed(cls, error: str) -> TextAffect:
        return cls(emotions={}, labels=[], ekman={}, sentiment={}, vad={}, chunks=0, error=error)
