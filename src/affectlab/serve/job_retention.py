"""How corpus jobs leave the disk: removal that is atomic, tombstones that say why an id is gone, and the
refusals of a jobs folder that is full.

A job is removed in two steps: a tombstone ``.gone/<id>.json`` (why and when) is written, then the job's folder
is renamed into ``.trash/`` (one atomic step: no request sees part of it afterwards) and deleted there. The
tombstone is the commit point: a server stopped between the steps finishes the removal at its next start, and
never resumes a job that has one. The id answers 410 with the tombstone's reason for :data:`GONE_KEPT_S`, then
the tombstone is swept and the id answers 404 like one that never existed.

>>> bury(root, job_id, "expired", kept_s=86400)
>>> discard(root, job_id)
>>> raise JobGone(tombstone(root, job_id))   # 410: "the corpus job expired at ... (finished jobs are kept 24 hours)"
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

from affectlab.io.writers import atomic_write_text
from affectlab.serve.errors import ApiError

GONE_DIR = ".gone"
TRASH_DIR = ".trash"
GONE_KEPT_S = 30 * 86400
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class JobGone(ApiError):
    """410: the job existed and was deleted, or expired; the message says which and when."""

    def __init__(self, grave: dict) -> None:
        if grave["reason"] == "expired":
            why = f"expired at {grave['at']} (finished jobs are kept {span(grave['kept_s'])})"
        else:
            why = f"was deleted at {grave['at']}"
        super().__init__(410, "gone", f"the corpus job {why}; its upload and results are removed", field="id")


class StorageFull(ApiError):
    """507: the jobs folder holds as many jobs or bytes as the server allows, or its disk is full."""

    def __init__(self, why: str, expiring: bool) -> None:
        remedy = "delete finished jobs (DELETE /v1/corpus/{id})" + (" or wait for them to expire" if expiring else "")
        super().__init__(507, "insufficient_storage", f"no room for a new corpus job: {why}; {remedy}")


def now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    # microseconds: jobs are listed newest first by this stamp, and several can be created within one second
    return moment.isoformat(timespec="microseconds")


def span(seconds: float) -> str:
    """``seconds`` as a person would say it.

    >>> span(7 * 86400), span(90), span(0.5)
    ('168 hours', '1.5 minutes', '0.5 seconds')
    """
    for unit, size in (("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} seconds"


def _grave(root: Path, job_id: str) -> Path:
    return root / GONE_DIR / f"{job_id}.json"


def bury(root: Path, job_id: str, reason: str, kept_s: float | None = None, at: datetime | None = None) -> None:
    """Write the tombstone of ``job_id`` (``reason``: deleted or expired, after ``kept_s``; ``at``: when, default
    now)."""
    (root / GONE_DIR).mkdir(exist_ok=True, mode=0o700)
    record = {"reason": reason, "at": stamp(at or now()), "kept_s": kept_s}
    atomic_write_text(_grave(root, job_id), json.dumps(record) + "\n")


def tombstone(root: Path, job_id: str) -> dict | None:
    """The tombstone of ``job_id``, None when it has none."""
    try:
        return json.loads(_grave(root, job_id).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def is_buried(root: Path, job_id: str) -> bool:
    return _grave(root, job_id).exists()


def discard(root: Path, job_id: str) -> None:
    """Remove the folder of ``job_id``, atomically as far as readers can tell (nothing when there is none)."""
    trash = root / TRASH_DIR
    trash.mkdir(exist_ok=True, mode=0o700)
    doomed = trash / f"{job_id}-{secrets.token_hex(4)}"
    try:
        os.rename(root / job_id, doomed)
    except FileNotFoundError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


def empty_trash(root: Path) -> None:
    """Delete what removals left in ``.trash/`` (a server stopped while deleting)."""
    for doomed in (root / TRASH_DIR).glob("*"):
        shutil.rmtree(doomed, ignore_errors=True)


def sweep_tombstones(root: Path, moment: datetime) -> None:
    """Remove tombstones older than :data:`GONE_KEPT_S` (their ids then answer 404)."""
    for grave in (root / GONE_DIR).glob("*.json"):
        try:
            buried = datetime.fromisoformat(json.loads(grave.read_text(encoding="utf-8"))["at"])
        except (OSError, ValueError, KeyError, TypeError):
            buried = None  # unreadable: its job is gone either way
        if buried is None or (moment - buried).total_seconds() >= GONE_KEPT_S:
            grave.unlink(missing_ok=True)


def tree_bytes(folder: Path) -> int:
    """Bytes of every file under ``folder`` (files removed while it is walked are left out)."""
    total = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(parent, name)).st_size
            except FileNotFoundError:
                continue
    return total


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or the error it was raised from) is a full disk or quota."""
    return any(isinstance(e, OSError) and e.errno in DISK_FULL for e in (exc, exc.__cause__))
