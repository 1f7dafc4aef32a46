import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    """api(user) -> a client authenticated as that user; api() -> an anonymous client."""

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for
