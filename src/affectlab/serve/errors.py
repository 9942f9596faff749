"""Every error the service answers, as JSON that names the field at fault, and never a stack trace.

The body of any error: ``{"error": {"status": 422, "type": "invalid_request", "message": "...", "field":
"texts[2]"}}`` (``field`` is null when no one field is at fault; a validation error also lists every problem
under ``errors``). An unexpected exception is a 500 whose message is ``internal error``: its traceback goes to
the ``affectlab.serve`` logger, never to the client.

>>> raise ApiError(413, "too_large", "at most 64 texts per request, got 65", field="texts")
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from affectlab.dialogue import InvalidConversation
from affectlab.errors import AffectlabError

log = logging.getLogger("affectlab.serve")

STATUS_TYPES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "not_ready", 410: "gone", 413: "too_large",
                415: "unsupported_media_type", 422: "invalid_request", 429: "busy", 500: "internal",
                503: "unavailable", 504: "timeout", 507: "insufficient_storage"}


class ApiError(Exception):
    """An answer other than success: status, a machine-readable type, a sentence, the field at fault, and for
    a request that fails validation, every ``problem`` found (each with its field and message)."""

    def __init__(self, status: int, kind: str, message: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None, problems: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.field = status, kind, message, field
        self.headers, self.problems = headers or {}, problems

    def response(self) -> JSONResponse:
        body: dict = {"status": self.status, "type": self.kind, "message": self.message, "field": self.field}
        if self.problems is not None:
            body["errors"] = self.problems
        return JSONResponse({"error": body}, status_code=self.status, headers=self.headers)


def field_path(location: tuple | list) -> str | None:
    """A validation location as the client wrote it: ``("body", "turns", 0, "text")`` → ``turns[0].text``.

    >>> field_path(("body", "texts", 3))
    'texts[3]'
    """
    path = ""
    for part in location[1:] if location and location[0] in ("body", "query", "path", "header") else location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path or None


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def is_json(content_type: str) -> bool:
    media = media_type(content_type)
    return media == "application/json" or media.endswith("+json")


def invalid_request(exc: RequestValidationError, content_type: str = "application/json") -> ApiError:
    """A failed validation as one error: 415 for a body sent as another type than JSON or with none (FastAPI then
    does not read it as JSON), 400 for a body that is not JSON or is missing, else 422 naming the first field at
    fault and listing every problem."""
    found = exc.errors()
    first = found[0] if found else {}
    if first.get("loc") == ("body",) and not is_json(content_type):
        return ApiError(415, "unsupported_media_type", "the body must be JSON sent as Content-Type: application/json, "
                        f"not {media_type(content_type) or 'without a Content-Type'}", field="body")
    if first.get("type") == "json_invalid":
        detail = first.get("ctx", {}).get("error", "cannot be parsed")
        return ApiError(400, "bad_json", f"the body is not valid JSON ({detail})", field="body")
    if first.get("loc") == ("body",) and first.get("type") == "missing":
        return ApiError(400, "bad_request", "the request needs a JSON body", field="body")
    # a body of the wrong kind as a whole (a JSON array, null) is located at ("body",): name it "body"
    problems = [{"field": field_path(e.get("loc", ())) or next(iter(e.get("loc", ())), None),
                 "message": e.get("msg", "invalid")} for e in found]
    field = problems[0]["field"] if problems else None
    message = f"{field}: {problems[0]['message']}" if field else problems[0]["message"] if problems else "invalid"
    return ApiError(422, "invalid_request", message, field=field, problems=problems)


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` as JSON (see the module docstring)."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_request(exc, request.headers.get("content-type", "")).response()

    @app.exception_handler(AffectlabError)
    async def user_error(request: Request, exc: AffectlabError) -> JSONResponse:
        field = None
        if isinstance(exc, InvalidConversation):
            field = exc.field or (f"turns[{exc.turn}]" if exc.turn is not None else None)
        return ApiError(422, "invalid_request", str(exc), field=field).response()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if (exc.status_code == 400 and message == "There was an error parsing the body"  # FastAPI's words
                and is_json(request.headers.get("content-type", ""))):
            return ApiError(400, "bad_json", "the body is not valid JSON (not UTF-8, or nested too deeply)",
                            field="body").response()
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return ApiError(exc.status_code, STATUS_TYPES.get(exc.status_code, "error"), message,
                        field=getattr(exc, "field", None), headers=headers).response()

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return ApiError(500, "internal", "internal error").response()


def allowed_methods(request: Request) -> list[str]:
    """Every method the API serves at the request's path, from its OpenAPI description (the router's own 405
    names only the first route that matches the path: ``PUT /v1/corpus`` said GET alone where POST is served)."""
    methods = set()
    for template, operations in request.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), request.url.path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)
