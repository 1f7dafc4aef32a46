"""Sign-in security: lockout after repeated failures (visible to lab admins), session expiry, deploy checks."""

import datetime as dt
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.contrib.sessions.models import Session
from django.utils import timezone

from lims.services.sign_in import sign_in_locked_until
from lims.sign_in import SignInAttempt, SignInChannel, SignInOutcome
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def staff_lab_admin(lab_admin):
    lab_admin.is_staff = True
    lab_admin.save(update_fields=["is_staff"])
    return lab_admin


def _admin_login(client, username, password):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def _outcomes(user) -> list[str]:
    return list(SignInAttempt.objects.filter(user_id=user.pk).order_by("at", "pk").values_list("outcome", flat=True))


def test_an_account_locks_after_the_failure_limit_and_then_refuses_even_the_right_password(
    client, staff_lab_admin, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert _admin_login(client, "adam", "wrong").status_code == 200

    response = _admin_login(client, "adam", PASSWORD)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert _outcomes(staff_lab_admin) == ["failed", "failed", "failed", "locked_out"]
    assert sign_in_locked_until(user=staff_lab_admin) is not None


def test_the_api_token_endpoint_is_under_the_same_lockout(client, technician, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    url = "/api/v1/auth/token/"
    for _ in range(2):
        wrong = client.post(url, {"username": "tina", "password": "wrong"}, content_type="application/json")
        assert wrong.status_code == 400

    refused = client.post(url, {"username": "tina", "password": PASSWORD}, content_type="application/json")

    assert refused.status_code == 400 and "token" not in refused.json()
    assert _outcomes(technician) == ["failed", "failed", "locked_out"]


def test_a_successful_sign_in_before_the_limit_starts_the_count_again(technician, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for password in ["wrong", "wrong", PASSWORD, "wrong", "wrong"]:
        authenticate(username="tina", password=password)
    assert authenticate(username="tina", password=PASSWORD) == technician
    assert _outcomes(technician) == ["failed", "failed", "succeeded", "failed", "failed", "succeeded"]


def test_the_lock_lifts_lockout_minutes_after_the_failure_that_set_it(technician, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_LOCKOUT_MINUTES = 15
    now = timezone.now()
    for minutes_ago in (16, 14):
        SignInAttempt.objects.create(
            at=now - dt.timedelta(minutes=minutes_ago),
            username="tina",
            user=technician,
            outcome=SignInOutcome.FAILED,
            channel=SignInChannel.PASSWORD,
        )
    assert sign_in_locked_until(user=technician) is None

    SignInAttempt.objects.create(
        at=now - dt.timedelta(minutes=1),
        username="tina",
        user=technician,
        outcome=SignInOutcome.FAILED,
        channel=SignInChannel.PASSWORD,
    )
    assert sign_in_locked_until(user=technician) == now - dt.timedelta(minutes=14) + dt.timedelta(minutes=15)


def test_an_unknown_user_name_is_recorded_and_locks_nothing(db, settings):
    settings.LOGIN_FAILURE_LIMIT = 1
    assert authenticate(username="mallory", password="x") is None
    assert authenticate(username="mallory", password="y") is None
    attempts = SignInAttempt.objects.filter(username="mallory")
    assert list(attempts.values_list("outcome", "user_id")) == [("failed", None), ("failed", None)]


def test_a_lab_admin_sees_the_attempts_of_their_labs_members_and_not_of_other_labs(
    client, staff_lab_admin, technician, outsider
):
    authenticate(username="tina", password="wrong")
    authenticate(username="otto", password="wrong")
    client.force_login(staff_lab_admin)

    response = client.get("/admin/lims/signinattempt/")

    assert response.status_code == 200
    shown = {attempt.username for attempt in response.context["cl"].result_list}
    assert "tina" in shown and "otto" not in shown


def test_a_lab_admin_unlocks_a_locked_member_and_the_unlock_is_recorded(client, staff_lab_admin, technician, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    authenticate(username="tina", password="wrong")
    authenticate(username="tina", password="wrong")
    assert authenticate(username="tina", password=PASSWORD) is None
    client.force_login(staff_lab_admin)
    attempt = SignInAttempt.objects.filter(user_id=technician.pk).first()

    response = client.post(
        "/admin/lims/signinattempt/", {"action": "unlock_accounts", "_selected_action": [attempt.pk]}
    )

    assert response.status_code == 302
    unlock = SignInAttempt.objects.get(user_id=technician.pk, outcome=SignInOutcome.UNLOCKED)
    assert unlock.recorded_by_id == staff_lab_admin.pk
    assert authenticate(username="tina", password=PASSWORD) == technician


def test_a_technician_cannot_read_the_sign_in_log(client, technician):
    technician.is_staff = True
    technician.save(update_fields=["is_staff"])
    client.force_login(technician)
    assert client.get("/admin/lims/signinattempt/").status_code == 302  # no admin at all for technicians


def test_a_session_lasts_at_most_session_cookie_age_and_ends_with_the_browser(client, staff_lab_admin):
    assert _admin_login(client, "adam", PASSWORD).status_code == 302
    assert 0 < client.session.get_expiry_age() <= django_settings.SESSION_COOKIE_AGE
    assert client.session.get_expire_at_browser_close()


def test_an_expired_session_is_signed_out(client, staff_lab_admin):
    assert _admin_login(client, "adam", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_check_deploy_is_clean_under_production_settings():
    secret = "".join(secrets.choice(string.ascii_letters + string.digits + "!@#%^&*(-_=+)") for _ in range(50))
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lims.settings",
        "LIMS_PRODUCTION": "1",
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": "lims.example.org",
        "DEBUG": "0",
    }
    environment["DATABASE_URL"] = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/lims"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(django_settings.BASE_DIR),
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_lab_admin_reads_the_lab_audit_trail_page_and_downloads_it_as_csv(client, lab_admin, lab, technician):
    f.DonorFactory(lab=lab, code="D-TRAIL")
    client.force_login(lab_admin)

    page = client.get("/admin/lims/audittrail/", {"lab": lab.pk, "limit": 100})
    download = client.get("/admin/lims/audittrail/", {"lab": lab.pk, "limit": 100, "format": "csv"})

    assert page.status_code == 200
    assert "D-TRAIL" in page.content.decode()
    assert download["Content-Type"].startswith("text/csv")
    assert "D-TRAIL" in download.content.decode()


def test_a_lab_admin_of_another_lab_cannot_read_this_labs_trail(client, lab, other_lab):
    f.DonorFactory(lab=lab, code="D-PRIVATE")
    stranger = f.UserFactory(username="ivy", is_staff=True)
    f.MembershipFactory(user=stranger, lab=other_lab, role="lab_admin")
    client.force_login(stranger)

    response = client.get("/admin/lims/audittrail/", {"lab": lab.pk})

    assert response.status_code == 200
    assert "lab" in response.context["form"].errors
    assert "D-PRIVATE" not in response.content.decode()


@pytest.mark.parametrize("role", ["technician", "reviewer", "auditor"])
def test_only_lab_admins_have_the_admin_audit_trail_page(client, lab, role):
    # The admin is a lab administrator's tool (DESIGN.md); the others read history in the app and the API.
    member = f.UserFactory(is_staff=True)
    f.MembershipFactory(user=member, lab=lab, role=role)
    client.force_login(member)
    assert client.get("/admin/lims/audittrail/", {"lab": lab.pk}).status_code == 302
