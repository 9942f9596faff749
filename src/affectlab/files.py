"""Two facts about the file system that writers of files and of model folders share: where a path still to be
made would go, and the permissions a plain ``open`` would give a new file or folder (temporary ones are made
private, and a finished output should not stay so)."""

from __future__ import annotations

import os
from pathlib import Path


def nearest_existing(path: str | Path) -> Path:
    """``path`` itself or the nearest of its parents that exists: where a folder still to be made would go
    (``OSError`` where a folder on the way cannot be looked into)."""
    absolute = Path(path).absolute()
    return next(p for p in (absolute, *absolute.parents) if p.exists())


def usual_permissions(path: str | Path) -> None:
    """Give ``path`` the permissions it would have had if made by ``open`` (a file) or ``mkdir`` (a folder)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~mask)
