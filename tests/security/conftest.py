"""The API client fixture, the real-worker fixtures (a Redis queue of the test's own, worker processes) and the
crawler's two labs."""

from tests.api.conftest import api  # noqa: F401
from tests.batches.test_tasks_worker import queue, redis_client, workers  # noqa: F401
from tests.security.crawling import two_labs  # noqa: F401
