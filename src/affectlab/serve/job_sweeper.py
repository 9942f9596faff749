"""The periodic removal of expired corpus jobs: a thread that calls :meth:`JobStore.sweep` every ``every_s``
seconds until stopped. (A job asked for after it expired is removed then, whatever the sweep.)

>>> sweeper = Sweeper(store, every_s=600)
>>> sweeper.start()
>>> sweeper.stop()
"""

from __future__ import annotations

import logging
import threading

from affectlab.serve.jobs import JobStore

log = logging.getLogger("affectlab.serve")


class Sweeper:
    def __init__(self, store: JobStore, every_s: float) -> None:
        self.store, self.every_s = store, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sweep, name="affectlab-serve-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _sweep(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.store.sweep()
            except Exception:  # a sweep that fails (a disk error) is retried at the next; the server goes on
                log.exception("sweeping the corpus jobs failed")
