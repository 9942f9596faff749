"""The request body limit: a body over ``max_bytes`` gets 413 before any of it is parsed, whether it declares
its length (refused at once) or arrives in chunks (refused as soon as the count passes the limit).

Uploads (the paths in ``streamed``, with their own limit) are not held in memory: they pass through to the app
as they arrive, counted, and the app's reading fails with 413 as soon as the count passes the limit.

>>> app = BodyLimit(app, max_bytes=1_048_576, streamed={"/v1/corpus": 64 * 1_048_576})
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from affectlab.serve.errors import ApiError


class UploadTooLarge(HTTPException):
    """Raised into the app's reading of a streamed body (an HTTPException, which FastAPI lets through its body
    parsing, where it turns any other error into a 400)."""

    field = "body"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the upload is over the limit of {max_bytes:,} bytes")


class BodyLimit:
    """ASGI middleware: reads the whole body (at most ``max_bytes``) before the app sees the request."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, streamed: dict[str, int] | None = None) -> None:
        self.app, self.max_bytes, self.streamed = app, max_bytes, streamed or {}

    def _too_large(self, max_bytes: int | None = None) -> ApiError:
        return ApiError(413, "too_large", f"the request body is over the limit of {max_bytes or self.max_bytes:,} "
                                          f"bytes", field="body")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and not declared.isdigit():
            refusal = ApiError(400, "bad_request", "Content-Length is not a number", field="Content-Length")
            return await refusal.response()(scope, receive, send)
        limit = self.streamed.get(scope["path"].rstrip("/"))
        if declared is not None and int(declared) > (limit or self.max_bytes):
            return await self._too_large(limit).response()(scope, receive, send)
        if limit is not None:
            return await self.app(scope, _counted(receive, limit), send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; there is no one to answer
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return await self._too_large().response()(scope, receive, send)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would tell it

        await self.app(scope, replay, send)


def _counted(receive: Receive, max_bytes: int) -> Receive:
    """``receive`` that raises :class:`UploadTooLarge` once the body passes ``max_bytes``."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > max_bytes:
            raise UploadTooLarge(max_bytes)
        return message

    return counted
