"""The models one server answers with: the text and conversation models, loaded (and warmed up) once at
start-up, and the empathetic responder, whose language model loads on the first ``/v1/respond`` (it takes
seconds to minutes and needs the ``llm`` extra; until then, and if it cannot load, the rest is unaffected).

>>> models = Models.load(Settings())
>>> models.text.analyze_batch(["so happy"])[0].labels
['joy']
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from affectlab.dialogue import ConversationAnalyzer
from affectlab.errors import AffectlabError
from affectlab.serve.errors import ApiError
from affectlab.serve.settings import Settings
from affectlab.text import Analyzer

log = logging.getLogger("affectlab.serve")
WARM_UP = [{"speaker": "A", "text": "I passed my driving test!"}, {"speaker": "B", "text": "That's brilliant!"}]


class ResponderUnavailable(ApiError):
    def __init__(self, reason: str) -> None:
        super().__init__(503, "unavailable", f"the responder is not available: {reason}")


class Responder:
    """The empathetic responder behind a lock (one language model, one generation at a time), built by
    ``build`` on first use. A failed build is remembered: every later request gets the same 503 at once."""

    def __init__(self, build: Callable[[], object] | None, off_reason: str = "") -> None:
        self._build, self._off_reason = build, off_reason
        self._responder = None
        self._failure: str | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self._build is None:
            return "off"
        if self._failure is not None:
            return "unavailable"
        return "not loaded" if self._responder is None else "ready"

    @property
    def model(self) -> str | None:
        return None if self._responder is None else self._responder.llm.name

    def respond(self, turns: list[dict], strategy: str | None, listener: str | None):
        """The responder's :class:`~affectlab.empathy.Response` (blocking: run it on the work pool)."""
        if self._build is None:
            raise ResponderUnavailable(self._off_reason)
        with self._lock:
            if self._failure is None and self._responder is None:
                self._responder = self._load()
            if self._failure is not None:
                raise ResponderUnavailable(self._failure)
            return self._responder.respond(turns, strategy, listener)

    def _load(self):
        try:
            return self._build()
        except (AffectlabError, ImportError) as exc:
            self._failure = (f"its language model did not load ({exc}); it needs the llm extra: "
                             f"pip install 'affectlab[llm]'")
        except Exception:
            log.exception("the responder's language model failed to load")
            self._failure = "its language model failed to load (the server log says why)"
        return None


def packaged_responder(threads: int | None) -> Callable[[], object]:
    """A builder of the shipped responder: the packaged Gemma 3 270M with its responder adapter."""

    def build():
        from affectlab.empathy import EmpatheticResponder
        from affectlab.llm import RESPONDER_ADAPTER, load_llm

        return EmpatheticResponder(load_llm(None, threads, adapter=RESPONDER_ADAPTER))

    return build


@dataclass
class Models:
    """``corpus``: the text model that corpus jobs run on, one job at a time with every core the server may use
    (None: ``text``, when its calls already have them all)."""

    text: Analyzer
    conversation: ConversationAnalyzer
    responder: Responder
    corpus: Analyzer | None = None

    @classmethod
    def load(cls, settings: Settings) -> Models:
        """Load and warm up the text and conversation models (the first calls build the ONNX copy and load
        the networks, so that no client pays for them). The text model's threads sleep between batches
        (``spin=False``): spinning, they would take the CPU that the event loop needs to answer requests."""
        text = Analyzer(settings.text_model, runtime=settings.runtime, threads=settings.text_threads,
                        batch_size=settings.model_batch, spin=False)
        text.analyze_batch(["warming up"], explain=True)  # the ONNX session, and the torch copy for evidence
        conversation = ConversationAnalyzer(settings.turn_model, settings.cause_model, threads=settings.threads)
        conversation.analyze(WARM_UP, causes=False)
        conversation.causes(WARM_UP, 1, "happiness")
        corpus = None
        if settings.text_threads < (settings.threads or os.cpu_count() or 1):
            corpus = Analyzer(settings.text_model, runtime=settings.runtime, threads=settings.threads, spin=False)
        builder = packaged_responder(settings.threads) if settings.responder else None
        return cls(text, conversation, Responder(builder, "the server was started with --no-responder"), corpus)
