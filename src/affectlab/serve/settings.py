"""What one ``affectlab serve`` process is allowed to do: where it listens, who may call it, and every limit.

>>> settings = Settings(port=8080, max_batch=32)
>>> settings.check()             # raises OptionError naming the setting at fault
>>> Settings(host="0.0.0.0").check()
Traceback (most recent call last):
affectlab.errors.OptionError: binding to 0.0.0.0 (beyond loopback) needs a token: ...
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from affectlab.cache import cache_root
from affectlab.errors import OptionError, check_count, check_threads
from affectlab.files import why_not_writable
from affectlab.http_access import LOOPBACK_NAMES, is_loopback
from affectlab.registry import DEFAULTS
from affectlab.text import DEFAULT_RUNTIME, RUNTIMES

TOKEN_ENV = "AFFECTLAB_SERVE_TOKEN"
MAX_KEEP_S = 3650 * 86400
MIN_TOKEN_CHARS = 16  # a token shorter than this is guessable; refusing it is cheaper than explaining it later


def read_token(token_file: Path | None) -> str | None:
    """The bearer token: the first line of ``token_file`` when given, else :data:`TOKEN_ENV`, else None."""
    if token_file is not None:
        try:
            lines = Path(token_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise OptionError(f"--token-file {token_file}: cannot read it ({exc})") from None
        token = lines[0].strip() if lines else ""
        if not token:
            raise OptionError(f"--token-file {token_file}: the file is empty")
        return token
    return os.environ.get(TOKEN_ENV, "").strip() or None


def default_jobs_dir() -> Path:
    """Where corpus jobs live unless ``--jobs-dir`` says otherwise: ``jobs/`` in affectlab's cache folder."""
    return cache_root() / "jobs"


@dataclass(frozen=True)
class Settings:
    """Every knob of the service, with safe defaults: loopback only, no token, no CORS, small bodies.

    Limits: ``max_body_bytes`` per request body (413 beyond), ``max_batch`` texts per ``/v1/analyze`` request (413),
    ``max_turns`` per conversation (413). Work: ``workers`` threads run the models (off the event loop); each model
    call uses ``threads`` CPU threads (default: all cores, except for the text model's micro-batches, which run
    ``workers`` at once and share the cores among them: :attr:`text_threads`). ``queue_size`` requests may wait for
    a worker (429 with ``Retry-After: retry_after_s`` beyond); a request has ``request_timeout_s`` seconds from its
    arrival, waiting included (504 beyond; ``respond_timeout_s`` for ``/v1/respond``, whose replies run one at a
    time on a thread of their own). Micro-batching: ``/v1/analyze`` requests that arrive within ``batch_wait_s`` of
    the first one, up to ``batch_texts`` texts, are scored in one call (as many calls at once as there are workers),
    which runs them through the network at most ``model_batch`` texts at a time, sorted by length and cut where
    padding would cost more than another pass (:func:`affectlab.text.runtime.plan_batches`; corpus jobs run the same
    way). Corpus jobs: each upload (at most ``max_upload_bytes``) gets a folder under ``jobs_dir``; jobs run one at
    a time, at most ``max_jobs_waiting`` queued (429 beyond), scored ``job_chunk_rows`` rows at a time (the unit of
    progress and of resuming after a restart). A finished job (complete or failed) is kept ``keep_jobs_s`` seconds
    (None: until deleted), then removed; the jobs folder holds at most ``max_jobs`` jobs and ``max_jobs_bytes``
    bytes (a new upload beyond either is refused with 507; nothing unexpired is removed to make room).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] | None = None  # Host headers accepted; None: loopback names on loopback, any else
    max_body_bytes: int = 1_048_576
    max_batch: int = 64
    max_turns: int = 200
    queue_size: int = 64
    retry_after_s: int = 1
    request_timeout_s: float = 30.0
    respond_timeout_s: float = 300.0  # a reply is generated token by token; the first also loads the LM
    batch_wait_s: float = 0.005
    batch_texts: int = 16
    model_batch: int = 16
    workers: int = 2
    threads: int | None = None
    runtime: str = DEFAULT_RUNTIME
    text_model: str = DEFAULTS["text"]
    turn_model: str = DEFAULTS["turn-emotions"]
    cause_model: str = DEFAULTS["causes"]
    responder: bool = True  # load the language model for /v1/respond on first use (503 when it cannot load)
    jobs_dir: Path = field(default_factory=default_jobs_dir)
    max_upload_bytes: int = 64 * 1_048_576
    max_jobs_waiting: int = 16
    job_chunk_rows: int = 1000
    keep_jobs_s: float | None = 7 * 86400
    max_jobs: int = 100
    max_jobs_bytes: int = 10 * 1024**3

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def text_threads(self) -> int:
        """CPU threads of one text-model call: ``threads``, else the cores divided among the workers. Two
        one-thread calls side by side score more texts a second than two-thread calls taking turns: a micro-batch
        is too small to keep two threads busy without them waiting on each other."""
        return self.threads or max(1, (os.cpu_count() or 1) // self.workers)

    @property
    def job_sweep_s(self) -> float:
        """How often expired jobs are looked for: a quarter of ``keep_jobs_s``, between 0.05 s and 10 minutes (a
        job asked for after it expired is removed then, whatever the sweep)."""
        return 600.0 if self.keep_jobs_s is None else max(0.05, min(600.0, self.keep_jobs_s / 4))

    @property
    def hosts(self) -> tuple[str, ...] | None:
        """The Host header names accepted (None: any). On loopback only loopback names, against DNS rebinding."""
        if self.allowed_hosts is not None:
            return self.allowed_hosts
        return tuple(sorted(LOOPBACK_NAMES)) if self.loopback else None

    def check(self) -> Settings:
        """Refuse settings that are unsafe or meaningless, naming the setting; returns ``self``."""
        if not self.loopback and self.token is None:
            raise OptionError(f"binding to {self.host} (beyond loopback) needs a token: --token-file FILE or "
                              f"the {TOKEN_ENV} environment variable")
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise OptionError(f"the token must be at least {MIN_TOKEN_CHARS} characters")
        if not 0 <= self.port <= 65535:
            raise OptionError(f"port must be between 0 and 65535, not {self.port}")
        for name in ("max_body_bytes", "max_batch", "max_turns", "queue_size", "batch_texts", "model_batch", "workers",
                     "max_upload_bytes", "max_jobs_waiting", "job_chunk_rows", "max_jobs", "max_jobs_bytes"):
            check_count(name, getattr(self, name))
        for name in ("request_timeout_s", "respond_timeout_s", "retry_after_s"):
            if getattr(self, name) <= 0:
                raise OptionError(f"{name} must be above 0, not {getattr(self, name)}")
        if self.keep_jobs_s is not None and not 0 < self.keep_jobs_s <= MAX_KEEP_S:
            raise OptionError(f"keep_jobs_s must be above 0 and at most {MAX_KEEP_S:,} (10 years), or None to keep "
                              f"jobs until deleted, not {self.keep_jobs_s}")
        check_threads(self.threads, "the cores shared among the workers")
        if self.batch_wait_s < 0:
            raise OptionError(f"batch_wait_s must be 0 or more, not {self.batch_wait_s}")
        if self.runtime not in RUNTIMES:
            raise OptionError(f"runtime must be one of {', '.join(RUNTIMES)}, not {self.runtime!r}")
        if "*" in self.cors_origins:
            raise OptionError("cors_origins: name each origin; '*' would let any web page call the API")
        reason = why_not_writable(self.jobs_dir)
        if reason:
            raise OptionError(f"jobs_dir {self.jobs_dir}: {reason}")
        return self
