"""The JSON the API takes and gives, as pydantic models (they are also the OpenAPI schema at /openapi.json).

Results mirror the library's own types field for field (``TextAffect.to_dict()``, ``ConversationAffect``,
``Cause``, ``Response``), with the ``model`` that made them and :data:`SCHEMA_VERSION`, which changes only
when a field is removed or changes meaning (new fields may appear within a version).

>>> AnalyzeRequest(text="I can't believe you remembered my birthday!")
>>> AnalyzeRequest(texts=["so happy", "so sad"], explain=True)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from affectlab.dialogue.turns import speaker_number_as_text

SCHEMA_VERSION = 1


class _Closed(BaseModel):
    # a misspelt field is an error, not silently ignored; "yes" is not a boolean nor true a turn index
    model_config = ConfigDict(extra="forbid", strict=True)


class AnalyzeRequest(_Closed):
    """One ``text`` or a batch of ``texts`` (not both). ``explain``: also the words behind the top emotions
    (slower: gradients through the model)."""

    text: str | None = Field(None, examples=["I can't believe you remembered my birthday!"])
    texts: list[str] | None = Field(None, examples=[["so happy for you", "this is the worst"]])
    explain: bool = False


class WordAttribution(BaseModel):
    word: str
    score: float
    start: int = Field(description="character offset in the text as sent")
    end: int


class ChunkSpan(BaseModel):
    window: int = Field(description="0-based index of the encoder window among the text's windows")
    start: int = Field(description="character offset in the text as sent")
    end: int


class CustomLabels(BaseModel):
    """What a head of one's own reads in a text: every label's score, and the chosen labels."""

    model: str
    labels: list[str]
    scores: dict[str, float]
    multi_label: bool


class TextAffect(BaseModel):
    """The affect of one text, as ``affectlab.TextAffect.to_dict()``; ``error`` set (scores empty) for a row
    of a batch that could not be analyzed. A text over one encoder window takes ``emotions`` and ``ekman``
    from its strongest window (neutral: its least neutral), ``sentiment`` and ``vad`` as the length-weighted
    mean of its windows."""

    emotions: dict[str, float] = Field(description="28 GoEmotions probabilities (independent sigmoids)")
    labels: list[str] = Field(description="emotions at or above their tuned thresholds, else ['neutral']")
    ekman: dict[str, float]
    sentiment: dict[str, float]
    vad: dict[str, float] = Field(description="valence, arousal, dominance on a 1-5 scale")
    chunks: int
    drivers: dict[str, ChunkSpan] | None = Field(
        None, description="per label, the window its score was taken from; null for a text read in one window")
    irony: float | None = Field(
        None, description="probability that the text is ironic; null for a model without an irony output")
    intensity: dict[str, float] | None = Field(
        None, description="anger, fear, joy, sadness intensity 0-1; null for a model without the fitted block")
    vad_writer: dict[str, float] | None = Field(None, description="VAD as the writer meant it (1-5)")
    vad_reader: dict[str, float] | None = Field(None, description="VAD as a reader would take it (1-5)")
    vad_gap: dict[str, float] | None = Field(None, description="vad_reader minus vad_writer")
    empathy: float | None = Field(None, description="the empathy an essay expresses, 1-7 (WASSA-22)")
    distress: float | None = Field(None, description="the distress an essay expresses, 1-7 (WASSA-22)")
    evidence: dict[str, list[WordAttribution]] | None = None
    error: str | None = None
    truncated: bool = False
    custom: CustomLabels | None = Field(None, description="the reading of a head of one's own (train head)")


class Versioned(BaseModel):
    schema_version: int = SCHEMA_VERSION
    model: str = Field(description="the name of the model that made the result")


class AnalyzeResult(TextAffect, Versioned):
    """The answer to one ``text``."""


class AnalyzeBatch(Versioned):
    """The answer to ``texts``: one result per text, in order."""

    results: list[TextAffect]


class TurnIn(_Closed):
    speaker: Annotated[str, BeforeValidator(speaker_number_as_text)] = Field(examples=["A"])
    text: str = Field(examples=["I passed my driving test!"])


class ConversationRequest(_Closed):
    turns: list[TurnIn]
    causes: bool = Field(True, description="also the causes of every non-neutral turn")


class Cause(BaseModel):
    turn: int = Field(description="0-based index of the causing turn")
    span: str
    score: float
    start: int = Field(description="character offsets of the span in that turn's text")
    end: int


class TurnAffect(BaseModel):
    index: int
    speaker: str
    text: str
    emotion: str
    emotions: dict[str, float] = Field(description="Ekman-7 probabilities, summing to 1")
    causes: list[Cause]
    truncated: bool = False
    read_alone: dict[str, float] | None = Field(
        None, description="the text model's Ekman probabilities for this turn read alone, without the turns "
                          "before it (each label's own, not summing to 1); null for a turn model that reads none")


class ConversationResult(Versioned):
    cause_model: str | None = Field(description="the cause model, when causes were asked for")
    turns: list[TurnAffect]
    windows: int


class CausesRequest(_Closed):
    turns: list[TurnIn]
    target: int = Field(ge=0, description="0-based index of the turn whose emotion is explained")
    emotion: str | None = Field(None, description="its emotion (RECCON's, IEMOCAP's or Ekman names); "
                                                  "null: the predicted one", examples=["happiness"])


class CausesResult(Versioned):
    target: int
    emotion: str | None
    causes: list[Cause] = Field(description="turns at or above the tuned threshold, most likely first")


class RespondRequest(_Closed):
    turns: list[TurnIn]
    strategy: str | None = Field("auto", description="auto (predicted), null (none) or an ESConv strategy name")
    listener: str | None = Field(None, description="the responder's speaker name, if it spoke before")


class LabelScore(BaseModel):
    label: str
    score: float


class CauseWord(BaseModel):
    turn: int
    word: str
    score: float
    start: int
    end: int


class RespondResult(Versioned):
    text: str
    emotion_hint: str | None
    cause_hint: list[CauseWord]
    strategy: str | None
    prompt: str
    emotion_candidates: list[LabelScore]
    emotion_fell_back: bool
    emotion_method: str | None
    trimmed_turns: int
    finish_reason: str


class ShippedModel(BaseModel):
    name: str
    task: str
    summary: str
    licence: str
    size_bytes: int


class ModelsResult(BaseModel):
    schema_version: int = SCHEMA_VERSION
    serving: dict[str, str | None] = Field(description="the model behind each endpoint (responder: null until "
                                                       "it has loaded)")
    responder: str = Field(description="off, not loaded (loads on the first /v1/respond), ready or unavailable")
    shipped: list[ShippedModel]


class Health(BaseModel):
    status: str
    version: str
    waiting: int = Field(description="requests queued for the models")


class JobProgress(BaseModel):
    stage: str = Field(description="planning, scoring or reporting")
    rows_done: int
    rows_total: int | None = Field(description="null until the upload has been counted")


class JobRowError(BaseModel):
    row: int
    error: str


class JobSummary(BaseModel):
    counts: dict[str, int] = Field(description="rows, ok, skipped (no text), errors, time_missing, time_unparsed")
    seconds: float = Field(description="time spent by the corpus runner on its last run of the job")
    model: str
    ekman_shares: dict[str, float] = Field(description="share of the scored rows whose dominant Ekman emotion is each")
    row_errors: list[JobRowError] = Field(description="the first 20 rows that could not be scored")


class CorpusJob(BaseModel):
    """A corpus job: its state, its progress while it runs, and when complete its summary and where to fetch its
    report and its scored table."""

    schema_version: int = SCHEMA_VERSION
    id: str
    state: str = Field(description="queued, running, complete or failed")
    created: str
    finished: str | None = Field(None, description="when it completed or failed")
    expires: str | None = Field(None, description="when a finished job and its files will be removed (null: not "
                                                  "finished, or this server keeps jobs until deleted)")
    format: str = Field(description="csv or parquet, as the upload was read")
    bytes: int
    text_column: str
    time_column: str | None
    group_column: str | None
    position: int | None = Field(description="while queued: how many jobs run or wait before it")
    progress: JobProgress | None
    error: str | None
    summary: JobSummary | None
    report: str | None = Field(description="path of the HTML report, once complete")
    table: str | None = Field(description="path of every scored row as Parquet, once complete")


class DeletedJob(BaseModel):
    """A deleted corpus job. Its id answers 410 from now on."""

    schema_version: int = SCHEMA_VERSION
    id: str
    was: str = Field(description="its state when it was deleted: queued, running, complete or failed")
    removed: bool = Field(description="its files are gone; false (answered 202) for a running job whose current "
                                      "batch had not ended in time: they go when it ends")


class ListedJob(BaseModel):
    """A corpus job as ``GET /v1/corpus`` lists it: its full status is at ``GET /v1/corpus/{id}``."""

    id: str
    state: str = Field(description="queued, running, complete or failed")
    created: str
    finished: str | None = Field(description="when it completed or failed")
    expires: str | None = Field(description="when a finished job will be removed (null: not finished, or kept "
                                            "until deleted)")
    rows_done: int | None = Field(description="rows scored so far (null for a failed job)")
    rows_total: int | None = Field(description="rows in the upload (null until counted)")
    error: str | None
    report: str | None = Field(description="path of the HTML report, once complete")
    table: str | None = Field(description="path of every scored row as Parquet, once complete")


class JobList(BaseModel):
    """A page of the corpus jobs this server keeps, newest first."""

    schema_version: int = SCHEMA_VERSION
    jobs: list[ListedJob]
    total: int = Field(description="jobs in the listing (with its state filter), over every page")
    next_cursor: str | None = Field(description="pass it as cursor for the next page; null on the last page")
