"""Who may call the service: the Host header must name this server (against DNS rebinding), and with a token
every ``/v1/`` request needs ``Authorization: Bearer <token>``. The web app, ``/healthz`` and the OpenAPI
schema stay open: they hold no data, and the page asks for the token itself.

>>> app = Access(app, token="a-long-random-token", hosts=("127.0.0.1", "localhost", "::1"))
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from affectlab.http_access import bearer_matches, host_name
from affectlab.serve.errors import ApiError

PROTECTED = "/v1/"


class Access:
    """ASGI middleware: 400 for a Host this server does not answer to, 401 for a ``/v1/`` request without the
    token (when one is set)."""

    def __init__(self, app: ASGIApp, *, token: str | None, hosts: tuple[str, ...] | None) -> None:
        self.app, self.token, self.hosts = app, token, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = authorization = b""
        for name, value in scope["headers"]:  # the two it needs, without a dict of every header per request
            if name == b"host":
                host = value
            elif name == b"authorization":
                authorization = value
        if self.hosts is not None and host_name(host.decode("latin-1")) not in self.hosts:
            refusal = ApiError(400, "bad_host", "this server does not answer to that Host name", field="Host")
        elif (self.token is not None and scope["path"].startswith(PROTECTED)
              and not bearer_matches(authorization.decode("latin-1"), self.token)):
            refusal = ApiError(401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer <token>)",
                               headers={"WWW-Authenticate": "Bearer"})
        else:
            return await self.app(scope, receive, send)
        await refusal.response()(scope, receive, send)
