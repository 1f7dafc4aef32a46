"""The app served the way it is deployed: static files collected with production settings (hashed names and a
manifest, as the Dockerfile does), DEBUG off, the main pages answering 200 with their security headers, and
nothing in them that the Content-Security-Policy would block."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from batches import models as m

pytestmark = pytest.mark.takes_minutes(1)

ROOT = Path(__file__).resolve().parents[2]
STATIC_REFERENCE = re.compile(r'(?:href|src)="(/static/[^"]+)"')
HASHED = re.compile(r"\.[0-9a-f]{12}\.[a-z0-9]+$")


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    var = tmp_path_factory.mktemp("production-var")
    environment = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "collectstatic-only",
        "DATABASE_URL": "postgres://unused@localhost/unused",  # as in the Dockerfile: no database needed
        "LIMS_VAR_DIR": str(var),
    }
    finished = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert (var / "staticfiles" / "staticfiles.json").exists()
    return var / "staticfiles"


@pytest.fixture
def production(settings, collected):
    settings.DEBUG = False
    settings.STATIC_ROOT = collected
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    return settings


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
    return {
        "batch": m.SecretomeBatch.objects.get(code="SB-25-001", lab__slug="demo-lab"),
        "box": m.StorageLocation.objects.get(name="Box A1", lab__slug="demo-lab"),
        "study": m.Study.objects.get(lab__slug="demo-lab"),
        "pi": get_user_model().objects.get(username="pi"),
    }


def _main_pages(demo) -> list[str]:
    return [
        "/",
        "/batches/",
        f"/batches/{demo['batch'].pk}/",
        "/review/",
        "/qc/trends/",
        f"/storage/box/{demo['box'].pk}/",
        f"/studies/{demo['study'].pk}/",
        "/members/",
        "/api/docs/",
    ]


def _assert_no_inline_code(url: str, html: str) -> None:
    inline_scripts = [
        tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag and "application/json" not in tag
    ]
    assert not inline_scripts, f"{url}: inline script {inline_scripts[0]}"
    assert "<style" not in html, f"{url}: inline <style>"
    assert not re.search(r"\sstyle=\"", html), f"{url}: style attribute"
    assert not re.search(r"\son[a-z]+=\"", html), f"{url}: inline event handler"


def test_the_main_pages_answer_200_with_debug_off_through_the_manifest(production, demo, client):
    client.force_login(demo["pi"])
    statics = set()
    for url in _main_pages(demo):
        response = client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        html = response.content.decode()
        statics.update(STATIC_REFERENCE.findall(html))
        _assert_no_inline_code(url, html)
    client.logout()
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    statics.update(STATIC_REFERENCE.findall(response.content.decode()))

    names = {re.sub(r"\.[0-9a-f]{12}\.", ".", path) for path in statics}
    assert {"/static/lims/app.css", "/static/lims/app.js", "/static/vendor/htmx-2.0.4.min.js"} <= names, names
    for path in sorted(statics):
        assert HASHED.search(path), f"{path} is not a hashed (manifest) name"
        served = client.get(path)
        assert served.status_code == 200, f"{path} answered {served.status_code}"
        served.close()


def test_every_response_carries_a_content_security_policy_without_unsafe_inline(production, demo, client):
    client.force_login(demo["pi"])
    for url in [*_main_pages(demo), "/api/v1/batches/", "/admin/login/"]:
        response = client.get(url)
        policy = response.headers.get("Content-Security-Policy", "")
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives.get("script-src") == "'self'", (url, policy)
        assert directives.get("style-src") == "'self'", (url, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (url, policy)
        assert directives.get("frame-ancestors") == "'none'" and directives.get("object-src") == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
