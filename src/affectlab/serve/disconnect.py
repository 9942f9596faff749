"""Work for a client that has gone is not done: on the ``paths`` given, a request whose client disconnects before its
answer has started is cancelled, so that its texts leave the micro-batch queue, and its pool job is dropped if it
has not started (one that has runs to its end on its thread; its answer is not awaited).

How a disconnect is heard: the server (uvicorn) does not cancel a handler whose client has left; it answers the
handler's next ``receive()`` with ``http.disconnect``, and until then a ``receive()`` after the whole body simply
waits. So once the app has read the body, a listener task of this middleware waits on ``receive()`` and cancels the
request's task (the app runs in it, with no task of its own) when the disconnect comes. That costs nothing while the
request runs (no polling, as ``Request.is_disconnected()`` would need) and is heard at once. The listener hears only
the client leaving (or the answer having been sent), so the app still gets every body message itself; its own later
``receive()`` calls get the disconnect the listener heard. A cancelled request's task ends here, quietly: there is
nobody to answer and nothing went wrong.

Not applied to corpus uploads: an accepted job belongs to the server, not to the connection that sent it.

>>> app = CancelOnDisconnect(app, paths={"/v1/analyze", "/v1/conversation"})
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CancelOnDisconnect:
    """ASGI middleware: cancels the app's handling of a request on ``paths`` whose client disconnects before
    the response starts."""

    def __init__(self, app: ASGIApp, *, paths: Collection[str]) -> None:
        self.app, self.paths = app, frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") not in self.paths:
            return await self.app(scope, receive, send)
        handling = asyncio.current_task()
        left: asyncio.Future[Message] = asyncio.get_running_loop().create_future()  # the disconnect, once heard
        listener: asyncio.Task | None = None
        answering = cancelled = False

        async def listen() -> None:
            nonlocal cancelled
            while (message := await receive())["type"] != "http.disconnect":
                pass
            left.set_result(message)
            if not answering:
                cancelled = True
                handling.cancel()

        async def app_receive() -> Message:
            nonlocal listener
            if listener is not None:  # the body is in: what is left to hear is the client leaving
                return await asyncio.shield(left)
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                listener = asyncio.get_running_loop().create_task(listen())
            return message

        async def app_send(message: Message) -> None:
            nonlocal answering
            answering = answering or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, app_receive, app_send)
        except asyncio.CancelledError:
            if not cancelled or handling.uncancel() > 0:
                raise  # cancelled by someone else too (the server is stopping), not just for the client leaving
        finally:
            if listener is not None:
                listener.cancel()
