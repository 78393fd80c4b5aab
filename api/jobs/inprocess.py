"""The embedded worker: a thread in the server process draining the job table. Nothing to start;
it also picks up jobs a previous server left running when it was stopped.

The thread claims jobs; by default it runs them in one child process that it starts and owns
(`worker_process`), because analysis and judging are CPU-bound Python: run in a thread they
would share the server's one interpreter lock with every request (measured: ingestion fell to a
third while judging ran). A child that dies hands its job back (the lease is cut short) and is
started again for the next job.

The thread is also the embedded deployment's timer: every `job_sweep_s` it queues the day's
retention job when that is due (api/jobs/retention.py), so nothing outside has to."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from api.jobs.handlers import register_all
from api.jobs.retention import schedule_retention
from api.jobs.runner import claim, hand_back, run, worker_name
from api.core.service import Service
from api.core.settings import ServiceSettings
from models.tables import Job

log = logging.getLogger("monitor.jobs")


def _child_main(settings: dict[str, Any], connection: Connection) -> None:
    """The child: a Service of its own, then job ids in, 'done' out, until told to stop."""
    register_all()
    service = Service.from_settings(ServiceSettings(**settings))
    while True:
        message = connection.recv()
        if message is None:
            return
        job_id, worker = message
        with service.session() as db:
            job = db.get(Job, job_id)
        if job is not None and job.worker == worker:
            run(service, job)
        connection.send("done")


class _Child:
    def __init__(self, settings: ServiceSettings) -> None:
        context = multiprocessing.get_context("spawn")  # not fork: the server has threads and open connections
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_child_main, args=(settings.model_dump(), theirs),
                                       name="monitor-worker-child", daemon=True)
        self.process.start()
        theirs.close()

    def run(self, job: Job) -> bool:
        """True when the child finished the job; False when it died on the way."""
        try:
            self.connection.send((job.id, job.worker))
            while not self.connection.poll(1.0):
                if not self.process.is_alive():
                    return False
            return self.connection.recv() == "done"
        except (EOFError, OSError, BrokenPipeError):
            return False

    def stop(self, timeout_s: float) -> None:
        try:
            self.connection.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.process.join(timeout_s)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


class InProcessWorker:
    def __init__(self, service: Service, idle_poll_s: float = 1.0) -> None:
        register_all()  # jobs may run in this process too (worker_process off)
        self._service = service
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle_poll_s = idle_poll_s
        self._thread = threading.Thread(target=self._loop, name="monitor-worker", daemon=True)
        self._child: _Child | None = None
        self._next_timers = 0.0  # time.monotonic() of the next look at the daily jobs
        self.name = f"{worker_name()}:inprocess"

    def start(self) -> None:
        self._thread.start()

    def notify(self, _job_id: str) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout_s)
        if self._child is not None:
            self._child.stop(timeout_s)

    def _execute(self, job: Job) -> None:
        if not self._service.settings.worker_process:
            run(self._service, job)
            return
        if self._child is None or not self._child.process.is_alive():
            self._child = _Child(self._service.settings)
        if not self._child.run(job):
            log.error("the worker process died during job %s; the job is handed back", job.id)
            self._child = None
            hand_back(self._service, job, count_attempt=True)

    def _timers(self) -> None:
        """The daily jobs, looked at once every `job_sweep_s` (one cheap insert that usually does
        nothing)."""
        if time.monotonic() < self._next_timers:
            return
        self._next_timers = time.monotonic() + self._service.settings.job_sweep_s
        schedule_retention(self._service)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._timers()
                job = claim(self._service, self.name)
                if job is not None:
                    self._execute(job)
            except Exception:  # the database went away for a moment: wait and go on
                log.exception("worker loop")
                job = None
            if job is None:
                self._wake.wait(self._idle_poll_s)
                self._wake.clear()
