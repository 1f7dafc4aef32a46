"""The API client fixture and the real-worker fixtures (a Redis queue of the test's own, worker processes)."""

from tests.api.conftest import api  # noqa: F401
from tests.batches.test_tasks_worker import queue, redis_client, workers  # noqa: F401
