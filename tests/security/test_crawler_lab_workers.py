"""Every page is scoped, crawled as a technician and a reviewer of a second lab.

The crawl is in crawling.py; the other roles are in the other test_crawler_*.py file, so that two test
processes share it."""

import pytest

from lims.models import Role
from tests.security.crawling import ROLES, crawl_as

pytestmark = [pytest.mark.django_db, pytest.mark.takes_minutes(7)]
CRAWLED_HERE = (Role.TECHNICIAN, Role.REVIEWER)


@pytest.mark.parametrize("role", CRAWLED_HERE, ids=str)
def test_no_page_of_the_installation_shows_the_first_labs_data_to_the_second_lab(two_labs, role):
    crawl_as(two_labs, role)


def test_the_two_crawler_files_cover_every_role():
    from tests.security import test_crawler_lab_workers, test_crawler_overseers

    crawled = test_crawler_lab_workers.CRAWLED_HERE + test_crawler_overseers.CRAWLED_HERE
    assert sorted(crawled) == sorted(ROLES) == sorted(Role.values)
