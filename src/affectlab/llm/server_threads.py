"""The threads and sockets under :mod:`affectlab.llm.server`: a fixed pool of connection threads
(:class:`PooledHTTPServer`), reads held to one deadline (:class:`DeadlineReader`, against clients that trickle),
a check that a client is still there (:func:`client_gone`) and a first-come-first-served turn on the model
(:class:`ModelTurns`).

>>> turns = ModelTurns(max_waiting=8)
>>> with turns.turn(check=lambda: None):
...     pass  # the model is this request's alone here
"""

from __future__ import annotations

import io
import json
import logging
import queue
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import HTTPServer

from affectlab.llm.server_requests import RequestError

POLL_SECONDS = 0.05  # how often a request waiting for the model checks that its client is still there

_log = logging.getLogger("affectlab.llm.server")


def client_gone(sock: socket.socket) -> bool:
    """True once the peer has closed: the socket reads as ready but holds no data."""
    try:
        ready, _, _ = select.select([sock], [], [], 0)
        return bool(ready) and sock.recv(1, socket.MSG_PEEK) == b""
    except ValueError:  # a descriptor select cannot watch: assume the client is still there
        return False
    except OSError:
        return True


class DeadlineReader(io.RawIOBase):
    """A socket's reads, all before one deadline, so a request trickled a byte at a time still ends in time."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock, self.deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.sock.settimeout(left)
        return self.sock.recv_into(buffer)


class ModelTurns:
    """One request at a time on the model, first come first served; at most ``max_waiting`` wait their turn."""

    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max_waiting
        self._lock = threading.Lock()
        self._busy = False
        self._waiting: deque[threading.Event] = deque()

    @contextmanager
    def turn(self, check: Callable[[], None]) -> Iterator[None]:
        """Hold the model for the ``with`` block. ``check`` is called while waiting; an exception from it
        gives the place up and propagates."""
        with self._lock:
            if not self._busy:
                self._busy = True
                mine = None
            elif len(self._waiting) >= self.max_waiting:
                raise RequestError(503, "the model is busy; try again shortly", kind="server_busy",
                                   headers={"Retry-After": "1"})
            else:
                mine = threading.Event()
                self._waiting.append(mine)
        if mine is not None:
            try:
                while not mine.wait(POLL_SECONDS):
                    check()
            except BaseException:
                with self._lock:
                    handed_over = mine.is_set()
                    if not handed_over:
                        self._waiting.remove(mine)
                if handed_over:
                    self._pass_on()
                raise
        try:
            yield
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._busy = False


class PooledHTTPServer(HTTPServer):
    """An HTTP server whose connections ``workers`` threads handle; up to ``max_pending`` more wait for one
    (a 503 beyond), and the listen ``backlog`` holds a burst of new ones (not reset)."""

    def __init__(self, address: tuple[str, int], handler, *, workers: int, max_pending: int, backlog: int) -> None:
        self.request_queue_size = backlog
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self._pending: queue.Queue = queue.Queue(max_pending)
        self._workers: list[threading.Thread] = []  # server_close runs inside __init__ when the bind fails
        super().__init__(address, handler)
        self._workers = [threading.Thread(target=self._work, name=f"affectlab-server-{i}", daemon=True)
                         for i in range(workers)]
        for worker in self._workers:
            worker.start()

    def process_request(self, request, client_address) -> None:
        try:
            self._pending.put_nowait((request, client_address))
        except queue.Full:
            body = json.dumps(RequestError(503, "the server is busy; try again shortly", kind="server_busy").body())
            head = (f"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
            try:
                request.setblocking(False)  # a fresh socket's send buffer takes this at once, or it is dropped
                request.send((head + body).encode())
            except OSError:
                pass
            self.shutdown_request(request)

    def _work(self) -> None:
        while (item := self._pending.get()) is not None:
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except OSError:  # the client reset the connection mid-request: nobody to answer, nothing to log
                pass
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        _log.exception("error on the connection from %s", client_address)

    def server_close(self) -> None:
        super().server_close()
        while True:
            try:
                item = self._pending.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self.shutdown_request(item[0])
        for _ in self._workers:
            self._pending.put(None)
