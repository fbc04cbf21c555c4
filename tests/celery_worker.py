"""A real Celery worker process for tests: same Redis broker, the test database, its own queue.

``celery_worker_process`` is the fixture; ``start_worker`` / ``wait_until_ready`` let a test start
(and kill, and start again) workers of its own on one queue.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def start_worker(queue: str, *, concurrency: int = 2, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """``celery worker`` (threads pool) consuming ``queue``, on the test database; call
    ``wait_until_ready`` before relying on it."""
    db = settings.DATABASES["default"]
    name = f"{queue}-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pms.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_QUEUE": queue,
        "REDIS_URL": settings.REDIS_URL,
        **(extra_env or {}),
    }
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pms",
            "worker",
            "-Q",
            queue,
            f"--concurrency={concurrency}",
            "--pool=threads",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}@%h",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proc.nodename = f"{name}@{socket.gethostname()}"  # type: ignore[attr-defined]
    return proc


def wait_until_ready(proc: subprocess.Popen, *, timeout: float = 60) -> None:
    """Until this worker (not another run's on the same broker) answers a ping; it then consumes."""
    from pms.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited: {proc.stdout.read()}")
        if app.control.ping(destination=[proc.nodename], timeout=0.5):
            return
    raise RuntimeError("celery worker did not answer a ping in time")


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@contextlib.contextmanager
def own_queue():
    """Tasks published meanwhile go to a queue of their own (not eager); restored afterwards."""
    from pms.celery import app

    queue = f"pms-test-worker-{uuid.uuid4().hex[:8]}"
    old = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = old


@pytest.fixture
def celery_worker_process(transactional_db):
    with own_queue() as queue:
        proc = start_worker(queue)
        try:
            wait_until_ready(proc)
            yield proc
        finally:
            stop_worker(proc)
