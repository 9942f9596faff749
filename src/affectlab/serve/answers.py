"""Answers written to JSON once, by orjson, straight from the library's result types: no deep copy of each result
into dicts (``dataclasses.asdict``), and no second pass through FastAPI's response model, which validates the
answer and then serializes it. ``/v1/analyze`` answers this way, as it is the endpoint under load; the response
models stay in the OpenAPI schema, and the tests check that the answers match them.

>>> JsonAnswer({"schema_version": 1, "model": "text-minilm", **fields_of(affect)}).body
b'{"schema_version":1,"model":"text-minilm","emotions":{"admiration":0.01,...'
"""

from __future__ import annotations

from dataclasses import fields
from functools import cache

import orjson
from starlette.responses import Response


class JsonAnswer(Response):
    """A JSON response rendered by orjson (nested dataclasses as objects, NaN as null)."""

    media_type = "application/json"

    def render(self, content: object) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(kind))


def fields_of(result: object) -> dict:
    """A dataclass result's fields, one level deep: what its ``to_dict()`` holds, with the nested dataclasses
    (a driver's span, an evidence word) left for orjson to write."""
    return {name: getattr(result, name) for name in _field_names(type(result))}
