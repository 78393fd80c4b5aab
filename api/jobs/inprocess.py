"""The embedded worker: a thread in the server process draining the job table. Nothing to start;
it also picks up jobs a previous server left running when it was stopped."""

from __future__ import annotations

import logging
import threading

from api.jobs.runner import run_one, worker_name
from api.service import Service

log = logging.getLogger("monitor.jobs")


class InProcessWorker:
    def __init__(self, service: Service, idle_poll_s: float = 2.0) -> None:
        self._service = service
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle_poll_s = idle_poll_s
        self._thread = threading.Thread(target=self._loop, name="monitor-worker", daemon=True)
        self.name = f"{worker_name()}:inprocess"

    def start(self) -> None:
        self._thread.start()

    def notify(self, _job_id: str) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = run_one(self._service, self.name)
            except Exception:  # the database went away for a moment: wait and go on
                log.exception("worker loop")
                worked = False
            if not worked:
                self._wake.wait(self._idle_poll_s)
                self._wake.clear()
