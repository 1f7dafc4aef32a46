"""Helpers for tests that leave the test process: a database URL for another process, task counting."""

from collections.abc import Iterator
from contextlib import contextmanager

from celery.signals import task_prerun
from django.conf import settings

from lims.database import settings_conninfo, settings_database_url


def database_url() -> str:
    """The test database as a DATABASE_URL another process can use (the host may be a unix-socket directory)."""
    return settings_database_url(settings.DATABASES["default"])


def psycopg_conninfo() -> dict:
    return settings_conninfo(settings.DATABASES["default"])


@contextmanager
def tasks_run() -> Iterator[list[tuple[str, dict]]]:
    """Record (task name, kwargs) of every task that starts in this process (eager mode)."""
    seen: list[tuple[str, dict]] = []

    def record(sender=None, task=None, kwargs=None, **_):
        seen.append((task.name, dict(kwargs or {})))

    task_prerun.connect(record, weak=False)
    try:
        yield seen
    finally:
        task_prerun.disconnect(record)
