"""How cell values that an output format cannot hold as they are get written: as JSON values (JSONL) or as
text (CSV cells, Parquet columns widened to text).

- date, time, datetime (also pandas' Timestamp): ISO 8601, ``2024-05-01T12:00:00+00:00``;
  timedelta: an ISO 8601 duration in seconds, ``PT90.5S``;
- bytes: base64 (standard alphabet, padded), ``b"\\x00\\xff"`` → ``"AP8="``;
- Decimal: its exact decimal text, ``Decimal("1.10")`` → ``"1.10"`` (a JSON string, so no digit is lost);
- NumPy scalars and arrays: the Python number or list; sets: a list, sorted by text;
- None and pandas' NaT and NA: JSON null, an empty CSV cell, a Parquet null;
- anything else: ``str(value)``.

A lone surrogate in a text (``"\\ud83d"`` read from a JSONL file) stays an escape in JSONL and becomes U+FFFD in
CSV and Parquet, which cannot hold it.

As text (CSV, Parquet), lists and dicts are JSON, booleans ``true``/``false`` and numbers as Python writes them.

>>> json_line({"when": datetime(2024, 5, 1), "raw": b"\\x00\\xff", "price": Decimal("1.10")})
'{"when": "2024-05-01T00:00:00", "raw": "AP8=", "price": "1.10"}'
>>> text_value([1, "a"]), text_value(True), text_value(None)
('[1, "a"]', 'true', None)
"""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from affectlab.io.readers import is_missing

_SURROGATES = re.compile("[\ud800-\udfff]")


def json_value(value: object) -> object:
    """A JSON-ready stand-in for ``value`` (the ``default=`` of :func:`json.dumps`)."""
    if isinstance(value, (datetime, date, time)):
        return None if is_missing(value) else value.isoformat()
    if isinstance(value, timedelta):
        return f"PT{value.total_seconds():g}S"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if is_missing(value):
        return None
    return str(value)


def json_line(row: dict) -> str:
    """One JSONL line (without the newline) for ``row``, whatever its cells hold; a NaN or infinite float,
    which JSON has no word for, is null."""
    try:
        return json.dumps(row, ensure_ascii=False, default=json_value, allow_nan=False)
    except ValueError:  # rare: walk the row once more, replacing the floats JSON cannot hold
        return json.dumps(_finite(row), ensure_ascii=False, default=json_value, allow_nan=False)


def _finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return _finite(json_value(value)) if type(value).__module__ == "numpy" else value


def text_value(value: object) -> str | None:
    """``value`` as text for a CSV cell or a Parquet text column; None stays None (an empty cell, a null)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    plain = value if isinstance(value, (list, tuple, dict)) else json_value(value)
    if plain is None or isinstance(plain, (str, int, float)):  # int covers bool
        return text_value(plain)
    return json.dumps(plain, ensure_ascii=False, default=json_value)


def surrogate_problem(text: str, what: str = "text") -> str | None:
    """Why ``text`` cannot be tokenized or written as UTF-8 (it holds a surrogate code point), or None;
    ``what`` names it in the message.

    >>> surrogate_problem("x \\ud83d")
    'text contains an unpaired surrogate U+D83D at character index 2 (half of a UTF-16 pair: not valid Unicode)'
    """
    found = _SURROGATES.search(text)
    if found is None:
        return None
    return (f"{what} contains an unpaired surrogate U+{ord(found.group()):04X} at character index {found.start()} "
            "(half of a UTF-16 pair: not valid Unicode)")


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (which no UTF-8 file can hold) replaced by U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)
