"""Served mode: three server processes share one throttle through the Redis cache (not 3x the rate)."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.batches.checklist.support import database_url

pytestmark = pytest.mark.django_db(transaction=True)

RATE = 5
SERVERS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token/",
        data=b'{"username": "nobody", "password": "wrong"}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _wait_until_up(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"server on port {port} did not start")


@pytest.fixture
def redis_url(require_services):
    url = os.environ.get("REDIS_URL")
    if not url:
        if require_services:
            pytest.fail("REDIS_URL is required (REQUIRE_SERVICES=1)")
        pytest.skip("REDIS_URL is not set: no Redis for the served-mode cache")
    return url


def test_three_server_processes_allow_the_configured_sign_in_rate_not_three_times_it(redis_url):
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CACHE_URL": redis_url,
        "CACHE_KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
        "API_TOKEN_RATE": f"{RATE}/minute",
        "CELERY_BROKER_URL": "",
        "DEBUG": "0",
    }
    environment.pop("CELERY_BROKER_URL")
    ports = [_free_port() for _ in range(SERVERS)]
    servers = [
        subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "lims.wsgi:application",
            ],
            cwd=Path(settings.BASE_DIR),
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        for port, server in zip(ports, servers, strict=True):
            _wait_until_up(port, server)
        answers = [_post(ports[n % SERVERS]) for n in range(SERVERS * RATE)]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(30)
    allowed = [code for code in answers if code != 429]
    assert len(allowed) == RATE, answers
    assert answers.count(429) == (SERVERS - 1) * RATE, answers
