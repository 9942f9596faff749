"""TextAnalyzer: texts → normalized → encoder windows → head outputs → per-text affect.

>>> from affectlab import Analyzer
>>> analyzer = Analyzer(batch_size=64, threads=2)
>>> analyzer.analyze("I can't believe you remembered my birthday!").labels
['surprise']
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from affectlab.encoders import load_tokenizer
from affectlab.encoders.named import named_model_dir
from affectlab.errors import AffectlabError, OptionError, check_count, check_threads
from affectlab.heads import head_layout, head_size, head_slices
from affectlab.heads.layout import BLOCK_SCALES, EMOINT_EMOTIONS, FITTED_BLOCKS
from affectlab.io.readers import is_missing
from affectlab.io.values import surrogate_problem
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD, VAD_SCALE
from affectlab.text.artifact import DEFAULT_PROFILE, STATIC_TASK, ArtifactConfig, resolve_artifact
from affectlab.text.chunking import Chunk, chunk_texts
from affectlab.text.irony import ironic_reading
from affectlab.text.label_head import LabelHead, check_head_profile, head_folder
from affectlab.text.normalize import (
    DEFAULT_MAX_CHARS,
    Normalized,
    check_on_long,
    is_blank,
    length_problem,
    normalize,
)
from affectlab.text.probabilities import sigmoid
from affectlab.text.result import ChunkSpan, TextAffect
from affectlab.text.runtime import OnnxRuntime, Runtime, TorchRuntime, run_sorted
from affectlab.text.static import StaticModel
from affectlab.text.windows import PRESENCE_BLOCKS, TONE_BLOCKS, length_weighted_mean, strongest, text_bounds

RUNTIMES = ("torch", "onnx", "onnx-int8")
DEFAULT_RUNTIME = "onnx"
DEFAULT_MAX_WINDOWS = 256  # 100,000 characters of English prose take about 215 windows of 128 tokens


class InvalidText(AffectlabError, ValueError):
    """A text that cannot be analyzed (missing, not a string, empty, not valid Unicode, too long)."""


class NotText(InvalidText, TypeError):
    """:meth:`Analyzer.analyze` was given neither a string nor an iterable of them (None, a number, bytes)."""


def check_text(value: object, max_chars: int | None = None) -> str:
    """Return ``value`` if it is analyzable text, else raise :class:`InvalidText` saying why: missing, not a
    string, blank, over ``max_chars`` characters (None: no bound), or holding a lone surrogate."""
    if is_missing(value):
        raise InvalidText(f"text is missing ({'None' if value is None else 'NaN'})")
    if not isinstance(value, str):
        raise InvalidText(f"text must be a string, got {type(value).__name__}")
    if is_blank(value):
        raise InvalidText("text is empty or whitespace only")
    problem = length_problem(value, max_chars) or surrogate_problem(value)
    if problem:
        raise InvalidText(problem)
    return value


class Analyzer:
    """Holds a loaded text model; call :meth:`analyze` as often as you like.

    ``runtime`` picks how the network runs: ``onnx`` (default, fp32), ``torch`` (same scores), or
    ``onnx-int8``: about twice as fast, but its activations are quantized with one scale per batch, so
    a text's scores move slightly with the texts batched beside it. ONNX files are built from the
    artifact on first use and cached.
    ``threads`` defaults to all cores; ``spin=False`` lets the ONNX threads sleep between batches rather than
    spin-wait (less CPU for a server whose cores also answer requests). Texts longer than the encoder window are
    read whole, in windows that overlap by ``overlap`` tokens, and their scores combined so that one strong sentence
    is not averaged away (:mod:`affectlab.text.windows`): ``emotions`` and ``ekman`` take each emotion's highest
    score over the windows (presence) and neutral's lowest (a text is only as neutral as its least neutral part),
    ``sentiment`` and ``vad`` the mean weighted by window length (overall tone). ``labels`` apply the usual
    thresholds to those scores, and ``drivers`` names the window each label's score came from, with its character
    span in the text as passed. A text that fits one window keeps that window's scores.

    Each text is bounded, so that one huge row cannot exhaust memory or time: ``max_chars`` characters
    (default 100,000, checked before tokenizing) and ``max_windows`` encoder windows (default 256, which
    catches emoji-heavy texts: each emoji is spelled out in several tokens). ``on_long="error"`` (default)
    gives a text over either bound an ``error`` naming the limit and the text's size;
    ``on_long="truncate"`` reads only its beginning (the first ``max_chars`` characters, then the first
    ``max_windows`` windows) and sets ``truncated`` on its result. ``None`` turns a bound off; only
    ``max_chars`` bounds memory (windows are counted after tokenizing the whole text). A text with
    a lone UTF-16 surrogate (not valid Unicode) gets an ``error`` too; it is never silently repaired.

    ``profile="fast"`` runs a model of static token vectors instead of the transformer (numpy only, several
    thousand texts a second on two cores, a few points of macro-F1 lower; see its model card): each text is
    read whole in one pass, so ``chunks`` is 1, ``max_windows`` and ``overlap`` do not apply, and ``runtime``
    is ``static``. ``explain`` needs the accurate profile. ``model`` defaults to the profile's shipped model.

    ``model`` may also be the folder of a head of one's own (``affectlab train head``): the analyzer then runs
    the text model that head was trained on and adds the head's reading to each result as ``custom``
    (:class:`~affectlab.text.result.CustomLabels`), from the same pass. A text over one window is read by the
    head as the length-weighted mean of its windows' pooled vectors, as in training.

    >>> Analyzer(max_chars=1_000, on_long="truncate").analyze("so happy! " * 500).truncated
    True
    >>> result = Analyzer().analyze(notes)  # 1,000 calm words about a town, then one furious sentence
    >>> result.chunks, result.labels, result.drivers["anger"]
    (12, ['anger', 'annoyance'], ChunkSpan(window=11, start=4928, end=5427))
    >>> Analyzer(profile="fast").analyze(["so happy for you!", "this is awful"])[1].sentiment["negative"] > 0.5
    True
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        profile: str = DEFAULT_PROFILE,
        runtime: str = DEFAULT_RUNTIME,
        batch_size: int = 64,
        threads: int | None = None,
        spin: bool = True,
        overlap: int = 32,
        max_chars: int | None = DEFAULT_MAX_CHARS,
        max_windows: int | None = DEFAULT_MAX_WINDOWS,
        on_long: str = "error",
    ) -> None:
        check_on_long(max_chars, on_long)
        check_count("max_windows", max_windows, "no bound; 0 on the command line")
        if runtime not in RUNTIMES:
            raise OptionError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
        check_count("batch_size", batch_size)
        check_threads(threads)
        own_head = head_folder(model)
        self.head = LabelHead.load(own_head) if own_head is not None else None
        if self.head is not None:
            check_head_profile(profile)
        self.folder = resolve_artifact(self.head.config.base_model if self.head else model, profile)
        if self.head is not None:
            self.head.check_base(self.folder)
        self.config = ArtifactConfig.load(self.folder)
        self.profile = profile
        self.runtime_name = "static" if self.config.task == STATIC_TASK else runtime
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self.spin = spin
        if not 0 <= overlap < self.config.max_length // 2:
            raise OptionError(f"overlap must be between 0 and {self.config.max_length // 2 - 1}")
        self.overlap = overlap
        self.max_chars, self.max_windows, self.on_long = max_chars, max_windows, on_long
        self.tokenizer = load_tokenizer(self.config.max_length, named_model_dir(self.config.encoder))
        self.tokenizer.no_truncation()
        self.static = StaticModel.load(self.folder, self.tokenizer) if self.config.task == STATIC_TASK else None
        self._runtime: Runtime | None = None
        self._pooled_runtime: Runtime | None = None
        self._torch_model = None
        self._slices = head_slices(tuple(self.config.blocks))
        self._thresholds = np.array(self.config.thresholds["goemotions"])

    @property
    def model_name(self) -> str:
        return self.config.name

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            if self.runtime_name == "torch":
                self._runtime = TorchRuntime(self.torch_model)
            else:
                from affectlab.text.onnx_export import onnx_path

                precision = "int8" if self.runtime_name == "onnx-int8" else "fp32"
                self._runtime = OnnxRuntime(onnx_path(self.folder, precision), self.threads, self.runtime_name,
                                            self.spin)
        return self._runtime

    @property
    def pooled_runtime(self) -> Runtime:
        """:attr:`runtime` with each output row followed by the pooled sentence vector it was computed from."""
        if self._pooled_runtime is None:
            if self.runtime_name == "torch":
                from affectlab.text.model import WithPooled

                self._pooled_runtime = TorchRuntime(WithPooled(self.torch_model).eval())
            else:
                from affectlab.text.onnx_export import onnx_path

                precision = "int8" if self.runtime_name == "onnx-int8" else "fp32"
                self._pooled_runtime = OnnxRuntime(onnx_path(self.folder, precision, pooled=True), self.threads,
                                                   self.runtime_name, self.spin)
        return self._pooled_runtime

    def sentence_vectors(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None, *,
                         bounded: bool = False) -> np.ndarray:
        """float32 ``[texts, hidden]``: the text model's pooled sentence vector of each text, what a head of
        one's own reads (a text over one window: the length-weighted mean of its windows' vectors). Texts are
        read whole; ``bounded``: as :meth:`analyze_batch` reads them (over ``max_chars`` refused, past
        ``max_windows`` cut), what the fitted reading blocks are fitted on. An invalid text raises
        :class:`InvalidText` naming its position.

        The head is linear, so a head row fitted on these vectors gives through the analyzer exactly its
        prediction on the vector: the length-weighted mean of its outputs over the windows is its output on
        the length-weighted mean of their vectors.

        >>> Analyzer().sentence_vectors(["so happy for you", "this is awful"]).shape
        (2, 384)
        """
        if self.static is not None:
            raise OptionError("sentence vectors need the accurate profile")
        checked = []
        for position, text in enumerate(texts):
            try:
                checked.append(check_text(text, self.max_chars if bounded else None))
            except InvalidText as exc:
                raise InvalidText(f"text {position}: {exc}") from None
        if not checked:
            return np.zeros((0, 0), dtype=np.float32)
        chunks, _ = chunk_texts(self.tokenizer, [normalize(t).text for t in checked], self.config.max_length,
                                self.overlap, self.max_windows if bounded else None)
        raw = run_sorted(self.pooled_runtime, [c.ids for c in chunks], self.batch_size, on_progress)
        return self._text_vectors(raw, chunks, len(checked))

    def _text_vectors(self, raw: np.ndarray, chunks: list[Chunk], n_texts: int) -> np.ndarray:
        """Pooled-runtime rows → one vector per text (length-weighted mean of its windows')."""
        owner = np.array([c.text_index for c in chunks])
        weights = np.array([max(1, c.weight) for c in chunks], dtype=np.float64)
        pooled = raw[:, head_size(tuple(self.config.blocks)):]
        return length_weighted_mean(pooled, owner, weights, n_texts).astype(np.float32)

    @property
    def torch_model(self):
        """The artifact as a torch module (used by the torch runtime and for explanations)."""
        if self._torch_model is None:
            import torch

            from affectlab.text.model import AffectModel

            torch.set_num_threads(self.threads)
            self._torch_model = AffectModel.from_artifact(self.folder)
        return self._torch_model

    def analyze(
        self,
        texts: str | Iterable[object],
        *,
        explain: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> TextAffect | list[TextAffect]:
        """One text → :class:`TextAffect`; any other iterable (list, pandas Series, numpy array) → a
        list in the same order.

        A single invalid text raises :class:`InvalidText` (with ``on_long="error"``, a text over a bound
        too); anything that is neither a string nor an iterable (None, a number, bytes) raises
        :class:`NotText`, an :class:`InvalidText` that is also a TypeError; so does a mapping or a DataFrame, whose
        keys would otherwise be read as the texts. In a sequence, an invalid row
        gets a result whose ``error`` says why, and the others are analyzed as usual. ``on_progress`` is
        called with the number of encoder windows finished after each batch (and with 0 before each text it
        explains); an exception it raises stops the work and reaches the caller.
        """
        if isinstance(texts, str):
            (result,) = self.analyze_batch([texts], explain=explain, on_progress=on_progress)
            if result.error is not None:
                raise InvalidText(result.error)
            return result
        if texts is None:
            raise NotText("text is missing (None): analyze takes a string or an iterable of strings")
        table = isinstance(texts, Mapping) or hasattr(texts, "columns")  # a dict or a DataFrame: its keys iterate
        if table or isinstance(texts, (bytes, bytearray)) or not isinstance(texts, Iterable):
            raise NotText(f"analyze takes a string or an iterable of strings, not {type(texts).__name__}"
                          + (" (for a table, pass its text column, or use analyze_frame)" if table else ""))
        return self.analyze_batch(list(texts), explain=explain, on_progress=on_progress)

    __call__ = analyze

    def analyze_frame(
        self,
        frame,
        text_column: str = "text",
        *,
        explain: bool = False,
        batch_size: int = 512,
        on_rows: Callable[[int], None] | None = None,
    ):
        """:func:`affectlab.analyze_frame` with this model: a DataFrame's rows with their affect columns appended."""
        from affectlab.text.frame import analyze_frame

        return analyze_frame(frame, text_column, analyzer=self, explain=explain, batch_size=batch_size, on_rows=on_rows)

    def analyze_batch(
        self,
        rows: Sequence[object],
        *,
        explain: bool = False,
        literal: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> list[TextAffect]:
        """Like :meth:`analyze` on a sequence: one result per row, an ``error`` on each row that could not be read.
        ``literal=True`` leaves the irony rule off (:mod:`affectlab.text.irony`): positive words read at face value
        even where ``irony`` is high, as turn models read texts."""
        results: list[TextAffect | None] = [None] * len(rows)
        texts: dict[int, str] = {}  # row → the text to read (its beginning, when truncated)
        for index, value in enumerate(rows):
            try:
                texts[index] = self._bounded(value)
            except InvalidText as exc:
                results[index] = TextAffect.failed(str(exc))
        if self.static is not None:
            return self._analyze_static(rows, texts, results, explain, on_progress)
        normalized = {index: normalize(text) for index, text in texts.items()}
        chunks, needed = chunk_texts(self.tokenizer, [n.text for n in normalized.values()], self.config.max_length,
                                     self.overlap, self.max_windows)
        over = {row for row, count in zip(normalized, needed) if self.max_windows and count > self.max_windows}
        if over and self.on_long == "error":
            for row, count in zip(normalized, needed):
                if row in over:
                    results[row] = TextAffect.failed(
                        f"text needs {count:,} encoder windows ({len(texts[row]):,} characters), "
                        f"over the limit of {self.max_windows:,} (max_windows)"
                    )
            chunks, normalized = _without(chunks, normalized, over)
        valid = list(normalized)
        if valid:
            raw = run_sorted(self.pooled_runtime if self.head else self.runtime, [c.ids for c in chunks],
                             self.batch_size, on_progress)
            readings = None
            if self.head is not None:
                readings = self.head.probabilities(self._text_vectors(raw, chunks, len(valid)))
                raw = raw[:, : head_size(tuple(self.config.blocks))]
            if "irony" in self._slices and self.config.irony_rule is not None and not literal:
                raw = ironic_reading(raw, self._slices, self.config.irony_rule)
            for position, affect in enumerate(self._aggregate(raw, chunks, list(normalized.values()))):
                row = valid[position]
                if explain:
                    if on_progress is not None:
                        on_progress(0)  # explaining is the slow part: a caller may stop between texts
                    affect = self._with_evidence(affect, chunks, position, normalized[row])
                if row in over or len(texts[row]) < len(rows[row]):  # type: ignore[arg-type]
                    affect = replace(affect, truncated=True)
                if readings is not None:
                    affect = replace(affect, custom=self.head.reading(readings[position]))
                results[row] = affect
        return results  # type: ignore[return-value]

    def _bounded(self, value: object) -> str:
        """The text to read of one row: checked, and cut to ``max_chars`` when ``on_long`` is truncate."""
        if self.on_long == "truncate" and isinstance(value, str) and self.max_chars is not None:
            value = value[: self.max_chars]
        return check_text(value, self.max_chars)

    def _analyze_static(self, rows: Sequence[object], texts: dict[int, str], results: list[TextAffect | None],
                        explain: bool, on_progress: Callable[[int], None] | None) -> list[TextAffect]:
        """The fast profile: every valid text whole through the static model, each scored as one window."""
        if explain:
            raise OptionError("explain needs the accurate profile: the fast profile has no encoder to attribute "
                              "through")
        if texts:
            normalized = [normalize(text) for text in texts.values()]
            raw = self.static.run([n.text for n in normalized], on_progress)
            one_window = [Chunk(position, [], []) for position in range(len(normalized))]
            for row, affect in zip(texts, self._aggregate(raw, one_window, normalized)):
                results[row] = replace(affect, truncated=True) if len(texts[row]) < len(rows[row]) else affect
        return results  # type: ignore[return-value]

    def scores(self, raw: np.ndarray) -> dict[str, np.ndarray]:
        """Raw head outputs → probabilities per class block, VAD on the 1-5 scale, fitted readings on their scales."""
        out = {}
        for name, _, kind in head_layout(tuple(self.config.blocks)):
            block = raw[:, self._slices[name]]
            if kind == "sigmoid":
                out[name] = sigmoid(block)
            elif kind == "clipped":
                out[name] = np.clip(block, *BLOCK_SCALES[name])
            else:
                vad = block * np.array(self.config.vad_std) + np.array(self.config.vad_mean)
                out[name] = np.clip(vad, *VAD_SCALE)
        return out

    def _aggregate(self, raw: np.ndarray, chunks: list[Chunk], texts: list[Normalized]) -> list[TextAffect]:
        """Per text: presence blocks from its strongest window (neutral: its least neutral), tone blocks as
        the length-weighted mean of its windows (see :mod:`affectlab.text.windows`), fitted readings as the
        length-weighted mean of the windows' raw outputs, clipped to their scale: their prediction on the mean
        vector they were fitted on (:meth:`sentence_vectors`)."""
        owner = np.array([c.text_index for c in chunks])
        weights = np.array([max(1, c.weight) for c in chunks], dtype=np.float64)
        bounds = text_bounds(owner, len(texts))
        scores = self.scores(raw)
        per_text, sources = {}, {}
        for name, names in PRESENCE_BLOCKS.items():
            sources[name] = strongest(raw[:, self._slices[name]], bounds, [names.index("neutral")])
            taken = scores[name][bounds[:-1, None] + sources[name], np.arange(len(names))]
            per_text[name] = taken.astype(np.float64)
        for name in TONE_BLOCKS:
            per_text[name] = length_weighted_mean(scores[name], owner, weights, len(texts))
        if "irony" in scores:  # present if any window is ironic
            per_text["irony"] = np.maximum.reduceat(scores["irony"][:, 0], bounds[:-1])
        for name in FITTED_BLOCKS:
            if name in self._slices:
                mean = length_weighted_mean(raw[:, self._slices[name]], owner, weights, len(texts))
                per_text[name] = np.clip(mean, *BLOCK_SCALES[name])
        affects = []
        for t, text in enumerate(texts):
            emotions = per_text["goemotions"][t]
            passing = [i for i in np.argsort(-emotions) if emotions[i] >= self._thresholds[i]]
            labels = [GOEMOTIONS[i] for i in passing] or ["neutral"]
            windows = chunks[bounds[t] : bounds[t + 1]]
            drivers = None
            if len(windows) > 1:
                source = sources["goemotions"][t]
                drivers = {label: _span(windows, int(source[GOEMOTIONS.index(label)]), text) for label in labels}
            affects.append(
                TextAffect(
                    emotions=_named(GOEMOTIONS, emotions),
                    labels=labels,
                    ekman=_named(EKMAN, per_text["ekman"][t]),
                    sentiment=_named(SENTIMENT, per_text["sentiment"][t]),
                    vad=_named(VAD, per_text["vad"][t]),
                    chunks=len(windows),
                    drivers=drivers,
                    irony=round(float(per_text["irony"][t]), 6) if "irony" in per_text else None,
                    **_readings(per_text, t),
                )
            )
        return affects

    def _with_evidence(
        self, affect: TextAffect, chunks: list[Chunk], text_index: int, normalized: Normalized
    ) -> TextAffect:
        """Evidence for up to three predicted labels, each read in the window that drove it (the text's only
        window, or its driver: the window the label's score was taken from)."""
        from affectlab.text.explain import evidence_words

        mine = [c for c in chunks if c.text_index == text_index]
        targets = [label for label in affect.labels if label != "neutral"][:3] or affect.labels[:1]
        evidence = {}
        for label in targets:
            column = self._slices["goemotions"].start + GOEMOTIONS.index(label)
            window = mine[affect.drivers[label].window] if affect.drivers else mine[0]
            evidence[label] = evidence_words(self.torch_model, self.tokenizer, window, column, normalized)
        return replace(affect, evidence=evidence)


def _without(
    chunks: list[Chunk], normalized: dict[int, Normalized], rows: set[int]
) -> tuple[list[Chunk], dict[int, Normalized]]:
    """Chunks and texts less the given rows, the chunks' text indices renumbered to match."""
    positions = {row: position for position, row in enumerate(normalized)}
    dropped = {positions[row] for row in rows}
    kept = [position for position in range(len(normalized)) if position not in dropped]
    renumber = {old: new for new, old in enumerate(kept)}
    return (
        [replace(c, text_index=renumber[c.text_index]) for c in chunks if c.text_index not in dropped],
        {row: text for row, text in normalized.items() if row not in rows},
    )


def _span(windows: list[Chunk], window: int, text: Normalized) -> ChunkSpan:
    """Window ``window`` of a text as a :class:`ChunkSpan` in the characters the caller passed."""
    chunk = windows[window]
    start, end = text.span(chunk.start, chunk.end)
    return ChunkSpan(window, start, end)


def _readings(per_text: dict[str, np.ndarray], t: int) -> dict:
    """The fitted readings of text ``t`` as :class:`TextAffect` fields (None for a block the model lacks)."""
    def named(block: str, names: Sequence[str]) -> dict[str, float] | None:
        return _named(names, per_text[block][t]) if block in per_text else None

    def single(block: str) -> float | None:
        return round(float(per_text[block][t][0]), 6) if block in per_text else None

    writer, reader = named("vad_writer", VAD), named("vad_reader", VAD)
    gap = {d: round(reader[d] - writer[d], 6) for d in VAD} if writer and reader else None
    return {"intensity": named("intensity", EMOINT_EMOTIONS), "vad_writer": writer, "vad_reader": reader,
            "vad_gap": gap, "empathy": single("empathy"), "distress": single("distress")}


def _named(names: Sequence[str], values: np.ndarray) -> dict[str, float]:
    return {name: round(float(v), 6) for name, v in zip(names, values)}
