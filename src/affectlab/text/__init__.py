"""Text analysis: one call to start (:func:`analyze`), an :class:`Analyzer` to hold a model, and a
DataFrame's text column in, the same DataFrame with affect columns out (:func:`analyze_frame`)."""

from __future__ import annotations

from collections.abc import Iterable

from affectlab.registry import ModelNotFound
from affectlab.text.analyzer import DEFAULT_MAX_WINDOWS, DEFAULT_RUNTIME, RUNTIMES, Analyzer, InvalidText, NotText
from affectlab.text.artifact import DEFAULT_MODEL, DEFAULT_PROFILE, PROFILES
from affectlab.text.frame import analyze_frame
from affectlab.text.normalize import DEFAULT_MAX_CHARS
from affectlab.text.result import ChunkSpan, TextAffect, WordAttribution

_default: Analyzer | None = None


def default_analyzer() -> Analyzer:
    """The default model, loaded on first use and then kept (behind :func:`analyze` and :func:`analyze_frame`)."""
    global _default
    if _default is None:
        _default = Analyzer()
    return _default


def analyze(texts: str | Iterable[object], *, explain: bool = False) -> TextAffect | list[TextAffect]:
    """Analyze one text or a list of texts with the default model (loaded once, then reused).

    >>> from affectlab import analyze
    >>> r = analyze("I can't believe you remembered my birthday!")
    >>> r.labels, r.ekman["surprise"], r.vad["valence"]
    """
    return default_analyzer().analyze(texts, explain=explain)


__all__ = [
    "DEFAULT_MAX_CHARS", "DEFAULT_MAX_WINDOWS", "DEFAULT_MODEL", "DEFAULT_PROFILE", "DEFAULT_RUNTIME", "PROFILES",
    "RUNTIMES", "Analyzer",
    "ChunkSpan", "InvalidText", "ModelNotFound", "NotText",
    "TextAffect", "WordAttribution", "analyze", "analyze_frame", "default_analyzer",
]
