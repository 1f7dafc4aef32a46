"""A real Celery worker on the real Redis, against this test database.

With REQUIRE_SERVICES=1 (CI) these tests fail when Redis cannot be reached; otherwise they skip.
Each test starts `celery -A lims worker` as a subprocess on a queue of its own, so other test runs
sharing the Redis database are not disturbed.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import transaction
from kombu import pools as kombu_pools

from batches import models as m
from batches.checklist import evaluate_batch
from batches.checklist.outbox import dispatch_suspended
from batches.models.checklist import ChecklistOutbox
from batches.services import checklist as checklist_services
from batches.services.records import batch_update
from batches.tasks import batch_check
from lims.celery import app as celery_app
from tests import factories as f
from tests.batches.checklist.builders import complete_batch
from tests.batches.checklist.support import database_url, psycopg_conninfo

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
BASE_DIR = Path(settings.BASE_DIR)
DEADLINE_S = 90  # how long to wait for the worker before declaring the test failed
# The killed worker's task must come back within the test: visibility timeout = 2 × this (settings).
WORKER_TIME_LIMIT_S = 6


@pytest.fixture(scope="module")
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but Redis at {REDIS_URL} is not reachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {exc}")
    yield client
    client.close()


def _reset_publisher() -> None:
    """Forget connections and queues cached under the previous broker settings."""
    kombu_pools.reset()  # kombu keeps producer pools per broker URL, across apps
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    for cached in ("queues", "default_queue", "router"):
        celery_app.amqp.__dict__.pop(cached, None)


@pytest.fixture
def queue(redis_client, settings):
    """Publish this process's tasks to Redis, on a queue only this test's workers read."""
    name = f"checklist-tests-{uuid.uuid4().hex[:12]}"
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.update(broker_url=REDIS_URL, task_always_eager=False, task_default_queue=name)
    _reset_publisher()
    yield name
    celery_app.conf.update(saved)
    _reset_publisher()
    redis_client.delete(name)


class Worker:
    """One `celery -A lims worker` process (and its pool child) in its own process group."""

    def __init__(self, queue: str, log_path: Path, time_limit: int = 20):
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            # Short limits so a late-acknowledged task of a killed worker comes back within the test.
            "CELERY_TASK_TIME_LIMIT": str(time_limit),
            "CELERY_TASK_SOFT_TIME_LIMIT": str(time_limit - 1),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("TEST_DATABASE_NAME", None)
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "lims",
                "worker",
                "-Q",
                queue,
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{queue}-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_for("ready.")

    def _wait_for(self, text: str) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited early:\n{self.log_path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)
        pytest.fail(f"the worker never said {text!r}:\n{self.log_path.read_text(errors='replace')[-4000:]}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool: nothing is acknowledged or cleaned up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def workers(queue, tmp_path):
    started: list[Worker] = []

    def start(**options) -> Worker:
        worker = Worker(queue, tmp_path / f"worker-{len(started)}.log", **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _wait_until(condition, what: str, logs: list[Path] = ()):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    tails = "\n".join(path.read_text(errors="replace")[-3000:] for path in logs)
    pytest.fail(f"timed out waiting for {what}\n{tails}")


@pytest.fixture
def batch(lab, technician):
    with dispatch_suspended():
        built = complete_batch(lab, technician, product_type="EV")
    ChecklistOutbox.objects.all().delete()
    return built


def _queued_checks(client: redis.Redis, queue: str) -> list[tuple[str, dict]]:
    """The tasks waiting in the Redis list of the queue: (task name, kwargs)."""
    found = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], body[1]))
    return found


def test_a_worker_checks_a_batch_after_a_change_made_through_a_service(batch, technician, workers, tmp_path):
    worker = workers()
    batch_update(batch=batch, actor=technician, data={"conditioning_o2_percent": 5.0}, version=batch.version)
    expected = evaluate_batch(batch).fingerprint
    _wait_until(
        lambda: m.ChecklistReport.objects.filter(batch=batch, fingerprint=expected).exists(),
        "the worker's report",
        [worker.log_path],
    )
    assert m.ChecklistReport.objects.filter(batch=batch).count() == 1
    assert "batches.tasks.batch_check" in worker.log_path.read_text()


def test_a_worker_killed_mid_task_and_restarted_leaves_exactly_one_report(batch, workers):
    lock_key = checklist_services._LOCK_NAMESPACE["batch"] + batch.pk
    holder = psycopg.connect(**psycopg_conninfo())
    try:
        # Hold the batch's check lock so the worker's task starts and then waits inside its transaction.
        holder.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key])
        checklist_services.batch_check_queue(batch_ids=[batch.pk])
        first = workers(time_limit=WORKER_TIME_LIMIT_S)

        def waiting_backends() -> list[int]:
            rows = holder.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND ((classid::bigint << 32) | objid::bigint) = %s",
                [lock_key],
            ).fetchall()
            return [row[0] for row in rows]

        _wait_until(lambda: bool(waiting_backends()), "the task to be running", [first.log_path])
        first.kill()
        killed_at = time.monotonic()
        # The killed worker's connection would wait for the lock forever; end it as the server would.
        for pid in waiting_backends():
            holder.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        holder.rollback()
        holder.close()
    assert not m.ChecklistReport.objects.filter(batch=batch).exists()

    # The unacknowledged message becomes visible again once the Redis visibility timeout has passed;
    # a worker restores such messages when it starts polling.
    time.sleep(max(0.0, killed_at + 2 * WORKER_TIME_LIMIT_S + 1 - time.monotonic()))
    second = workers(time_limit=WORKER_TIME_LIMIT_S)
    expected = evaluate_batch(batch).fingerprint
    _wait_until(
        lambda: m.ChecklistReport.objects.filter(fingerprint=expected).exists(),
        "the redelivered check",
        [first.log_path, second.log_path],
    )
    # A duplicate delivery of the same check is harmless.
    assert batch_check.delay(batch_id=batch.pk).get(timeout=DEADLINE_S) == expected
    assert m.ChecklistReport.objects.filter(fingerprint=expected).count() == 1
    assert m.ChecklistReport.objects.filter(batch=batch).count() == 1


def test_a_transaction_touching_50_qc_rows_queues_one_check_on_the_broker(batch, technician, queue, redis_client):
    with transaction.atomic():
        for index in range(50):
            f.QCResultFactory(
                lab=batch.lab, batch=batch, assay="cytokine", analyte=f"factor-{index}", performed_by=technician
            )
    assert _queued_checks(redis_client, queue) == [("batches.tasks.batch_check", {"batch_id": batch.pk})]
