"""Settings come from the environment; a bad value stops start-up with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from lims import env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("reader", "name", "value"),
    [
        (lambda: env.env_bool("DEBUG"), "DEBUG", "maybe"),
        (lambda: env.env_int("SESSION_COOKIE_AGE", 10, minimum=60), "SESSION_COOKIE_AGE", "ten"),
        (lambda: env.env_int("SESSION_COOKIE_AGE", 10, minimum=60), "SESSION_COOKIE_AGE", "5"),
        (lambda: env.env_database("DATABASE_URL"), "DATABASE_URL", "mysql://root@localhost/lims"),
        (lambda: env.env_database("DATABASE_URL"), "DATABASE_URL", "postgres://localhost"),
        (lambda: env.env_url("CELERY_BROKER_URL", ("redis",)), "CELERY_BROKER_URL", "amqp://guest@localhost//"),
        (lambda: env.env_choice("LOG_LEVEL", "INFO", ("INFO", "DEBUG")), "LOG_LEVEL", "LOUD"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch, reader, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        reader()


def test_good_values_are_read_with_their_types(monkeypatch):
    monkeypatch.setenv("DEBUG", "yes")
    monkeypatch.setenv("SESSION_COOKIE_AGE", "3600")
    monkeypatch.setenv("DATABASE_URL", "postgres://lims:secret@db.internal:5433/lims")
    assert env.env_bool("DEBUG") is True
    assert env.env_int("SESSION_COOKIE_AGE", 10, minimum=60) == 3600
    database = env.env_database("DATABASE_URL")
    assert (database["HOST"], database["PORT"], database["NAME"], database["USER"]) == (
        "db.internal",
        5433,
        "lims",
        "lims",
    )


def test_the_project_refuses_to_start_with_a_bad_environment_value():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "perhaps"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stderr and "perhaps" in result.stderr


def test_debug_is_off_unless_turned_on(settings):
    assert os.environ.get("DEBUG") in (None, "", "0", "false") or settings.DEBUG
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','lims.settings');"
            "django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DEBUG"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr
