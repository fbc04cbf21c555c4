"""Smoke test of the README's first command, in CI's own terms: `make demo` from this checkout on free
ports (its own database, a small seed), then the home page, a property page with its drawn photo, the
favicon and /admin/login/ over real HTTP; then the demo is stopped and its database dropped."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.slow

ROOT = Path(settings.BASE_DIR)
START_TIMEOUT = 420  # migrate a fresh database, seed two homes, boot gunicorn + Celery


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_sql(sql: str) -> None:
    db = settings.DATABASES["default"]
    with psycopg.connect(dbname="postgres", user=db["USER"] or None, host=db["HOST"] or None, autocommit=True) as c:
        c.execute(sql)


@pytest.fixture
def demo_db():
    name = f"{settings.DATABASES['default']['NAME'].removeprefix('test_')}_smoke"
    assert re.fullmatch(r"[a-z0-9_]+", name)
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    yield name
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)  # the demo's queue, cache and channel keys
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)
    for key in client.scan_iter(f"_kombu.binding*.{name}"):
        client.delete(key)


def wait_for(url: str, proc: subprocess.Popen, log: Path) -> requests.Response:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"make demo exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            return requests.get(url, timeout=30)
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still booting
            time.sleep(2)
    pytest.fail(f"{url} did not answer within {START_TIMEOUT} s:\n{log.read_text()[-4000:]}")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_serves_the_site(demo_db, tmp_path):
    port, stripe_port = free_port(), free_port()
    # The demo's own settings only: nothing of the test run (settings module, database, queue, prefixes).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "CACHE_", "CHANNEL_", "STRIPE_", "PYTEST"))
        and k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "READ_DOT_ENV", "SITE_URL", "PORT")
    }
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    log = tmp_path / "demo.log"
    args = [
        "make",
        "demo",
        f"DB_NAME={demo_db}",
        f"PORT={port}",
        f"STRIPE_SANDBOX_PORT={stripe_port}",
        "ENV_FILE=",
        "SEED_ARGS=--homes 2",
    ]
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    site = f"http://127.0.0.1:{port}"
    try:
        home = wait_for(site + "/", proc, log)
        print(f"make demo answered after {time.monotonic() - started:.0f} s")  # noqa: T201
        assert home.status_code == 200, home.text[:500]
        slug = re.search(r'href="/properties/([a-z0-9-]+)/', home.text).group(1)
        page = requests.get(f"{site}/properties/{slug}/", timeout=30)
        assert page.status_code == 200 and 'class="month"' in page.text
        photo = re.search(r'<img src="(/media/demo/[^"]+\.svg)"', page.text).group(1)
        image = requests.get(site + photo, timeout=30)
        assert image.status_code == 200 and image.headers["Content-Type"].startswith("image/svg")
        assert requests.get(site + "/favicon.ico", timeout=30).status_code == 200
        login = requests.get(site + "/admin/login/", timeout=30)
        assert login.status_code == 200 and 'name="password"' in login.text
        # SITE_URL follows the port: links in e-mails and the simulator's base URL point here.
        assert f"SITE_URL=http://127.0.0.1:{port}" in log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        for _ in range(30):  # honcho stops its processes; wait until the ports are free again
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    time.sleep(1)
            except OSError:
                break
        else:
            os.killpg(proc.pid, signal.SIGKILL)
