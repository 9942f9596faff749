"""What writers of files and of model folders ask of the file system: where a path still to be made would go,
whether it could be made there, and the permissions a plain ``open`` would give a new file or folder (temporary
ones are made private, and a finished output should not stay so)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def nearest_existing(path: str | Path) -> Path:
    """``path`` itself or the nearest of its parents that exists: where a folder still to be made would go
    (``OSError`` where a folder on the way cannot be looked into)."""
    absolute = Path(path).absolute()
    return next(p for p in (absolute, *absolute.parents) if p.exists())


def why_not_writable(path: str | Path) -> str | None:
    """Why nothing could be written at ``path`` (a folder that exists, or a file or folder still to be made in its
    nearest existing parent), or None where it could. Checked before a long job, so it fails at once.

    >>> why_not_writable("/etc/hostname/out")
    '/etc/hostname is a file, not a folder'
    """
    try:
        existing = nearest_existing(path)
    except OSError as error:
        return f"cannot look into {error.filename or 'a folder on the way'} ({error.strerror or error})"
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write in {existing} (permission denied)"
    return None


def usual_permissions(path: str | Path) -> None:
    """Give ``path`` the permissions it would have had if made by ``open`` (a file) or ``mkdir`` (a folder)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~mask)


@contextmanager
def exclusive_lock(path: str | Path) -> Iterator[bool]:
    """Try to hold the lock on ``path`` (a file, made if missing) for the block; yields whether it was got. The
    holder removes the file when the block ends; the operating system lets the lock go when the process ends,
    however it ends, so a killed run leaves at most the file, never a lock that is still held.

    >>> with exclusive_lock("/tmp/job.lock") as mine, exclusive_lock("/tmp/job.lock") as theirs:
    ...     mine, theirs
    (True, False)
    """
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        if not _try_lock(descriptor):
            os.close(descriptor)
            yield False
            return
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(os.fstat(descriptor), current):
            break
        os.close(descriptor)  # the holder before removed this file as we opened it: lock the one there now
    try:
        yield True
    finally:
        with suppress(OSError):  # Windows keeps an open file: it stays, unlocked
            os.unlink(path)
        os.close(descriptor)  # releases the lock


def _try_lock(descriptor: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError: held elsewhere
        return False
    return True
