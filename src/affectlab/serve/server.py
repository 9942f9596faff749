"""Running the app under uvicorn on a socket this module binds itself, so that ``port=0`` (any free port)
can be reported, and so that bad settings, a port in use or a model that does not load fail before anything
is served.

>>> serve(Settings(port=0), on_ready=lambda url: print("serving", url))   # blocks until SIGINT / SIGTERM
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from affectlab.errors import OptionError
from affectlab.serve.app import create_app
from affectlab.serve.models import Models
from affectlab.serve.settings import Settings


def bind(settings: Settings) -> socket.socket:
    """A listening socket on the settings' host and port (raises :class:`OptionError` when it cannot be had)."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    try:
        sock = socket.create_server((settings.host.strip("[]"), settings.port), family=family)
    except OSError as exc:
        raise OptionError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from None
    # Accepted connections inherit it. Without it, uvicorn's two writes per response (head, then body) meet the
    # client's delayed acknowledgement: every request on a kept-alive connection waited about 40 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def serve(settings: Settings, on_ready: Callable[[str], None] | None = None, log_level: str = "warning") -> None:
    """Check ``settings``, bind, load the models, call ``on_ready(url)`` and serve until SIGINT or SIGTERM.
    Bad settings, a port in use or a model that does not load raise before anything is served."""
    import uvicorn

    settings.check()
    sock = bind(settings)
    try:
        url = url_of(sock)
        app = create_app(settings, Models.load(settings), on_ready=None if on_ready is None else lambda: on_ready(url))
        # uvicorn takes httptools and uvloop (the serve extra) where they are installed
        config = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=5, server_header=False,
                                proxy_headers=False)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
