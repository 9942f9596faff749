"""TextAnalyzer: texts → normalized → encoder windows → head outputs → per-text affect.

>>> from affectlab import Analyzer
>>> analyzer = Analyzer(batch_size=64, threads=2)
>>> analyzer.analyze("I can't believe you remembered my birthday!").labels
['surprise']
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from affectlab.encoders import load_tokenizer
from affectlab.errors import AffectlabError, OptionError
from affectlab.heads import HEAD_LAYOUT, head_slices
from affectlab.io.readers import is_missing
from affectlab.taxonomy import EKMAN, GOEMOTIONS, SENTIMENT, VAD, VAD_SCALE
from affectlab.text.artifact import DEFAULT_MODEL, ArtifactConfig, resolve_artifact
from affectlab.text.chunking import Chunk, chunk_texts
from affectlab.text.normalize import Normalized, normalize
from affectlab.text.result import TextAffect
from affectlab.text.runtime import OnnxRuntime, Runtime, TorchRuntime, run_sorted

RUNTIMES = ("torch", "onnx", "onnx-int8")
DEFAULT_RUNTIME = "onnx"


class InvalidText(AffectlabError, ValueError):
    """A text that cannot be analyzed (missing, not a string, empty)."""


def check_text(value: object) -> str:
    """Return ``value`` if it is analyzable text, else raise :class:`InvalidText` saying why."""
    if is_missing(value):
        raise InvalidText(f"text is missing ({'None' if value is None else 'NaN'})")
    if not isinstance(value, str):
        raise InvalidText(f"text must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidText("text is empty or whitespace only")
    return value


class Analyzer:
    """Holds a loaded text model; call :meth:`analyze` as often as you like.

    ``runtime`` picks how the network runs: ``onnx`` (default, fp32), ``torch`` (same scores), or
    ``onnx-int8``: about twice as fast, but its activations are quantized with one scale per batch, so
    a text's scores move slightly with the texts batched beside it. ONNX files are built from the
    artifact on first use and cached.
    ``threads`` defaults to all cores. Texts longer than the encoder window are split into
    overlapping windows whose scores are averaged, weighted by window length.
    """

    def __init__(
        self,
        model: str | Path = DEFAULT_MODEL,
        *,
        runtime: str = DEFAULT_RUNTIME,
        batch_size: int = 64,
        threads: int | None = None,
        overlap: int = 32,
    ) -> None:
        if runtime not in RUNTIMES:
            raise OptionError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
        if batch_size < 1:
            raise OptionError("batch_size must be at least 1")
        self.folder = resolve_artifact(model)
        self.config = ArtifactConfig.load(self.folder)
        self.runtime_name = runtime
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        if not 0 <= overlap < self.config.max_length // 2:
            raise OptionError(f"overlap must be between 0 and {self.config.max_length // 2 - 1}")
        self.overlap = overlap
        self.tokenizer = load_tokenizer(self.config.max_length)
        self.tokenizer.no_truncation()
        self._runtime: Runtime | None = None
        self._torch_model = None
        self._slices = head_slices()
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
                self._runtime = OnnxRuntime(onnx_path(self.folder, precision), self.threads, self.runtime_name)
        return self._runtime

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

        A single invalid text raises :class:`InvalidText`; in a sequence, an invalid row gets a
        result whose ``error`` says why, and the others are analyzed as usual. ``on_progress`` is
        called with the number of encoder windows finished after each batch.
        """
        if isinstance(texts, str):
            return self.analyze_batch([check_text(texts)], explain=explain, on_progress=on_progress)[0]
        if isinstance(texts, (bytes, bytearray)) or not isinstance(texts, Iterable):
            raise TypeError(f"analyze takes a string or an iterable of strings, not {type(texts).__name__}")
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
        on_progress: Callable[[int], None] | None = None,
    ) -> list[TextAffect]:
        results: list[TextAffect | None] = [None] * len(rows)
        valid: list[int] = []
        for index, value in enumerate(rows):
            try:
                check_text(value)
                valid.append(index)
            except InvalidText as exc:
                results[index] = TextAffect.failed(str(exc))
        if valid:
            normalized = [normalize(rows[i]) for i in valid]  # type: ignore[arg-type]
            chunks = chunk_texts(self.tokenizer, [n.text for n in normalized], self.config.max_length, self.overlap)
            raw = run_sorted(self.runtime, [c.ids for c in chunks], self.batch_size, on_progress)
            for position, affect in enumerate(self._aggregate(raw, chunks, len(valid))):
                if explain:
                    affect = self._with_evidence(affect, raw, chunks, position, normalized[position])
                results[valid[position]] = affect
        return results  # type: ignore[return-value]

    def scores(self, raw: np.ndarray) -> dict[str, np.ndarray]:
        """Raw head outputs → probabilities per class block and VAD on the 1-5 scale."""
        out = {}
        for name, _, kind in HEAD_LAYOUT:
            block = raw[:, self._slices[name]]
            if kind == "sigmoid":
                out[name] = 1.0 / (1.0 + np.exp(-block))
            else:
                vad = block * np.array(self.config.vad_std) + np.array(self.config.vad_mean)
                out[name] = np.clip(vad, *VAD_SCALE)
        return out

    def _aggregate(self, raw: np.ndarray, chunks: list[Chunk], n_texts: int) -> list[TextAffect]:
        owner = np.array([c.text_index for c in chunks])
        weights = np.array([max(1, c.weight) for c in chunks], dtype=np.float64)
        totals = np.bincount(owner, weights=weights, minlength=n_texts)
        counts = np.bincount(owner, minlength=n_texts)
        per_text = {}
        for name, block in self.scores(raw).items():
            summed = np.zeros((n_texts, block.shape[1]))
            np.add.at(summed, owner, block * weights[:, None])
            per_text[name] = summed / totals[:, None]
        affects = []
        for t in range(n_texts):
            emotions = per_text["goemotions"][t]
            passing = [i for i in np.argsort(-emotions) if emotions[i] >= self._thresholds[i]]
            affects.append(
                TextAffect(
                    emotions=_named(GOEMOTIONS, emotions),
                    labels=[GOEMOTIONS[i] for i in passing] or ["neutral"],
                    ekman=_named(EKMAN, per_text["ekman"][t]),
                    sentiment=_named(SENTIMENT, per_text["sentiment"][t]),
                    vad=_named(VAD, per_text["vad"][t]),
                    chunks=int(counts[t]),
                )
            )
        return affects

    def _with_evidence(
        self, affect: TextAffect, raw: np.ndarray, chunks: list[Chunk], text_index: int, normalized: Normalized
    ) -> TextAffect:
        """Evidence for up to three predicted labels, each read in the window that scores it highest."""
        from affectlab.text.explain import evidence_words

        mine = [i for i, c in enumerate(chunks) if c.text_index == text_index]
        targets = [label for label in affect.labels if label != "neutral"][:3] or affect.labels[:1]
        evidence = {}
        for label in targets:
            column = self._slices["goemotions"].start + GOEMOTIONS.index(label)
            best = max(mine, key=lambda i: raw[i, column])
            evidence[label] = evidence_words(self.torch_model, self.tokenizer, chunks[best], column, normalized)
        return replace(affect, evidence=evidence)


def _named(names: Sequence[str], values: np.ndarray) -> dict[str, float]:
    return {name: round(float(v), 6) for name, v in zip(names, values)}
