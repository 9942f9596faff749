"""Optional dependencies: a feature whose extra is not installed says which ``pip install`` brings it."""

from __future__ import annotations

import importlib
from types import ModuleType

from affectlab.errors import AffectlabError


class MissingExtra(AffectlabError, ImportError):
    """A feature needs a package from an extra that is not installed."""


def require(module: str, extra: str, package: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtra` naming the extra to install (``package``: the name
    to show when it differs from the module's).

    >>> pandas = require("pandas", "corpus")
    >>> sklearn = require("sklearn", "train", package="scikit-learn")
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is not None and exc.name.split(".")[0] != module.split(".")[0]:
            raise  # the package is there but something it imports is broken: not a missing extra
        raise MissingExtra(f"{package or module} is not installed: pip install 'affectlab[{extra}]'") from None
