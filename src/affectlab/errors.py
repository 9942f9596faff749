"""The base of every error that is the user's to fix (bad input, missing file, unknown option)."""

import math
import numbers
import os


class AffectlabError(Exception):
    """Raised with a message that names the file, row, field or option at fault."""


class OptionError(AffectlabError, ValueError):
    """An argument outside what the function accepts."""


def is_whole_number(value: object) -> bool:
    """Whether ``value`` is a whole number: an int or a NumPy integer, not a bool and not 5.0."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_finite_number(value: object) -> bool:
    """Whether ``value`` is a finite real number (an int, a float, a NumPy number), not a bool, NaN or infinite."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def check_count(name: str, value: object, none_means: str | None = None) -> None:
    """Raise :class:`OptionError` unless ``value`` is a whole number of at least 1, or None where ``none_means``
    says what None stands for.

    >>> check_count("batch_size", "64")
    Traceback (most recent call last):
    affectlab.errors.OptionError: batch_size must be a whole number of at least 1, not '64'
    """
    if value is None and none_means is not None:
        return
    if not is_whole_number(value) or value < 1:
        also = f", or None ({none_means})" if none_means is not None else ""
        raise OptionError(f"{name} must be a whole number of at least 1{also}, not {value!r}")


def check_threads(value: object, none_means: str = "all cores") -> None:
    """:func:`check_count` for a thread count, which also may not exceed four per core: far more threads than cores
    only slow a run, and tens of thousands exhaust memory before the first text is read."""
    check_count("threads", value, none_means)
    cores = os.cpu_count()
    most = 4 * cores if cores else None  # no bound where the cores cannot be counted
    if value is not None and most is not None and value > most:
        raise OptionError(f"threads must be at most {most} (four per core of this machine), not {value}")
