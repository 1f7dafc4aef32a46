"""Tokens: hashed, expiring, revocable; sessions work too, with CSRF."""

import datetime as dt

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _token(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_a_user_gets_a_token_and_uses_it(lab, technician):
    client = APIClient()
    response = _token(client, "tina")
    assert response.status_code == 200
    token = response.data["token"]
    assert response.data["expiry"] is not None
    assert not AuthToken.objects.filter(digest=token).exists()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/auth/me/")
    assert me.data["username"] == "tina"
    assert me.data["memberships"] == [{"lab": lab.pk, "lab_name": lab.name, "role": "technician"}]
    assert client.get("/api/v1/batches/").status_code == 200


def test_a_wrong_password_gets_no_token(technician):
    response = _token(APIClient(), "tina", "nope")
    assert response.status_code == 400
    assert "non_field_errors" in response.data
    assert not AuthToken.objects.exists()


def test_a_revoked_token_stops_working(technician):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token(client, 'tina').data['token']}")
    assert client.post("/api/v1/auth/token/revoke/").status_code == 204
    assert client.get("/api/v1/batches/").status_code == 401


def test_revoking_all_tokens_ends_every_session_of_the_user(technician):
    first, second = APIClient(), APIClient()
    first.credentials(HTTP_AUTHORIZATION=f"Token {_token(first, 'tina').data['token']}")
    second.credentials(HTTP_AUTHORIZATION=f"Token {_token(second, 'tina').data['token']}")
    assert first.post("/api/v1/auth/token/revoke-all/").status_code == 204
    assert second.get("/api/v1/batches/").status_code == 401


def test_an_expired_token_is_refused(technician):
    client = APIClient()
    token = _token(client, "tina").data["token"]
    AuthToken.objects.update(expiry=timezone.now() - dt.timedelta(minutes=1))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/batches/").status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        b"Token",
        b"Token a b",
        b"Token \xff\xfe",
        b"Token " + b"\x00" * 8,
        b"Token " + b"a" * 5000,
        b"Token \xc3\xa9t\xc3\xa9",
    ],
)
def test_a_malformed_authorization_header_answers_401(technician, header):
    client = APIClient()
    response = client.get("/api/v1/batches/", HTTP_AUTHORIZATION=header.decode("latin-1"))
    assert response.status_code == 401


def test_a_session_needs_the_csrf_token_to_write(lab, technician):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(technician)
    assert client.get("/api/v1/donors/").status_code == 200
    payload = {"code": "D-S", "species": "human", "tissue_source": "adipose"}
    assert client.post("/api/v1/donors/", payload, format="json").status_code == 403


def test_too_many_token_requests_are_throttled(settings, technician):
    client = APIClient()
    statuses = {_token(client, "tina", "wrong").status_code for _ in range(31)}
    assert 429 in statuses


def test_a_user_of_no_lab_sees_nothing(api, lab):
    f.DonorFactory(lab=lab)
    loner = f.UserFactory()
    assert api(loner).get("/api/v1/donors/").data["count"] == 0
