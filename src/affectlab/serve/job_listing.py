"""The list of corpus jobs (``GET /v1/corpus``): newest first, filtered by state, a page at a time.

Pages follow a cursor rather than an offset: ``next_cursor`` names the last job of a page (its creation time and
id, encoded), and the next page starts after it. Jobs created meanwhile are newer and so never shift a page, and a
job deleted meanwhile never makes one skip another. A cursor is opaque to clients: base64 of ``created|id``.

>>> first = page(jobs, states=("complete",), limit=2, cursor=None)
>>> [job.id for job in first.jobs], first.next_cursor
(['9b2f...', '41ac...'], 'MjAyNi0wMS0wMlQxMDowMDowMCswMDowMHw0MWFj...')
>>> page(jobs, states=("complete",), limit=2, cursor=first.next_cursor).jobs
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from affectlab.serve.errors import ApiError
from affectlab.serve.jobs import JOB_ID, Job

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Page:
    jobs: list[Job]
    total: int  # jobs in every page of this listing (its states)
    next_cursor: str | None  # None: this page is the last


def _key(job: Job) -> tuple[str, str]:
    return job.created, job.id


def encode_cursor(job: Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created}|{job.id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (created, id) a cursor names; :class:`ApiError` 422 naming ``cursor`` for anything that is not one."""
    try:
        created, _, job_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        datetime.fromisoformat(created)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        created, job_id = "", ""
    if not JOB_ID.fullmatch(job_id):
        raise ApiError(422, "invalid_request", "not a cursor this server gave (use next_cursor of the page before, "
                                               "or leave it out for the first page)", field="cursor")
    return created, job_id


def page(jobs: Sequence[Job], *, states: Collection[str], limit: int, cursor: str | None) -> Page:
    """The ``limit`` newest of ``jobs`` in ``states`` (all, when empty) after ``cursor`` (from the newest when
    None)."""
    chosen = sorted((job for job in jobs if not states or job.state in states), key=_key, reverse=True)
    after = decode_cursor(cursor) if cursor is not None else None
    start = 0 if after is None else next((i for i, job in enumerate(chosen) if _key(job) < after), len(chosen))
    shown = chosen[start:start + limit]
    more = start + limit < len(chosen)
    return Page(shown, len(chosen), encode_cursor(shown[-1]) if more else None)
