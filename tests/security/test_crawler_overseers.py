"""Every page is scoped, crawled as an auditor and a lab admin of a second lab.

The crawl is in crawling.py; the other roles are in the other test_crawler_*.py file, so that two test
processes share it."""

import pytest

from lims.models import Role
from tests.security.crawling import crawl_as

pytestmark = [pytest.mark.django_db, pytest.mark.takes_minutes(8)]
CRAWLED_HERE = (Role.AUDITOR, Role.LAB_ADMIN)


@pytest.mark.parametrize("role", CRAWLED_HERE, ids=str)
def test_no_page_of_the_installation_shows_the_first_labs_data_to_the_second_lab(two_labs, role):
    crawl_as(two_labs, role)
