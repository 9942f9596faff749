"""Timestamps as people write them: ISO 8601, Unix epochs, e-mail dates and a few common layouts.

Naive times are taken as UTC. Day-first and month-first dates cannot be told apart in general, so
slash dates are read year-first or month-first (``2023/01/05``, ``01/05/2023`` = 5 January), the
way most US-made exports write them; anything else is reported as not understood, never guessed.
Whole numbers of 8 or 14 digits are compact dates (``20230105``, ``20230105143000``), as exports of date columns
write them, not Unix times of 1970-73 or after 2286; other whole numbers of fewer than 9 digits are refused (a
year alone, or a Unix time before 1973), and Unix times after the year 2200 are out of range.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

from affectlab.io.readers import is_missing

_LAYOUTS = (
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
    "%d %b %Y %H:%M", "%d %b %Y", "%b %d, %Y %H:%M", "%b %d, %Y", "%B %d, %Y", "%d %B %Y",
    "%Y%m%dT%H%M%S",
)
_COMPACT = {8: "%Y%m%d", 14: "%Y%m%d%H%M%S"}  # digits alone: a date, or a date and time
_EPOCH_MS = 1e11  # a number above this is milliseconds (1e11 s is the year 5138)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC).timestamp()


class TimeError(ValueError):
    """A timestamp that is missing or not understood; the message says which."""


def parse_time(value: object) -> datetime:
    """``value`` as a UTC datetime, or :class:`TimeError`.

    >>> parse_time("2023-05-01T12:00:00+02:00").isoformat()
    '2023-05-01T10:00:00+00:00'
    >>> parse_time(1700000000).year
    2023
    """
    if is_missing(value):
        raise TimeError("time is missing")
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool):
        raise TimeError(f"time {value!r} is not a timestamp")
    if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0 and value == int(value):
        return _digits(str(int(value)), value)  # a whole float too: integer columns with gaps are read as floats
    if isinstance(value, (int, float)):
        return _epoch(float(value), value)
    text = str(value).strip()
    if not text:
        raise TimeError("time is missing")
    if text.isascii() and text.isdigit():
        return _digits(text, value)
    try:
        number = float(text) if text.isascii() else None  # float() would read other scripts' digits too
    except ValueError:
        number = None
    if number is not None:
        return _epoch(number, value)
    try:
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text))
    except ValueError:
        pass
    for layout in _LAYOUTS:
        try:
            return _utc(datetime.strptime(text, layout))
        except ValueError:
            continue
    try:
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        raise TimeError(f"time {_shown(value)} is not a date format affectlab reads") from None


def _digits(text: str, original: object) -> datetime:
    """A whole number: a compact date (8 or 14 digits), else a Unix time in seconds or milliseconds."""
    layout = _COMPACT.get(len(text))
    if layout is not None:
        try:
            return _utc(datetime.strptime(text, layout))
        except ValueError:
            shape = "YYYYMMDD" if len(text) == 8 else "YYYYMMDDhhmmss"
            raise TimeError(f"time {_shown(original)} is not a date ({shape})") from None
    if len(text) < 9:
        raise TimeError(f"time {_shown(original)} is not a date, and as a Unix time it would fall before 1973: "
                        "write the whole date (2023-01-05)")
    return _epoch(float(text), original)


def _epoch(seconds: float, original: object) -> datetime:
    if not math.isfinite(seconds) or seconds < 0:
        raise TimeError(f"time {_shown(original)} is not a Unix time")
    if seconds > _EPOCH_MS:
        seconds /= 1000.0
    if seconds >= _LATEST:
        raise TimeError(f"time {_shown(original)} is out of range (Unix times are read up to the year 2200)")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
