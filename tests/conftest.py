"""The fixed cast: a technician, a reviewer (PI), an auditor and an outsider from another lab."""

import os

import pytest

from lims.models import Role
from tests import factories as f


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    # Every test signs up users and signatures re-check passwords; the production hasher (deliberately
    # slow) would spend most of the suite's time on it. Hashing itself is Django's, tested upstream.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    # The suite creates, truncates and deliberately damages its database: it works as the owner, the role
    # migrations run as. tests/guard checks what the application role may not do.
    from django.conf import settings
    from django.db import connections

    from lims.db_roles import owner_settings

    owner = owner_settings()
    if owner is not None:
        connections["default"].close()
        settings.DATABASES["default"].update(owner)
        connections["default"].settings_dict.update(owner)


def pytest_collection_modifyitems(items):
    # The files that take minutes go first, longest first, so that with `--dist loadfile --no-loadscope-reorder`
    # the two test processes start them early and end together, instead of one taking a long file last.
    # (The sort is stable, so each file's tests stay together and in order.)
    def minutes(item) -> float:
        marker = item.get_closest_marker("takes_minutes")
        return -marker.args[0] if marker else 0

    items.sort(key=minutes)


@pytest.fixture(autouse=True)
def _fresh_content_types():
    # A transactional test empties every table, and post_migrate writes the content types again under new ids;
    # Django's in-process cache of them would then name ids that no longer exist (signatures and the audit
    # trail look rows up by content type), depending on which test ran before in the same process.
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    yield


@pytest.fixture(autouse=True)
def _celery_join_flag_cleared():
    # Celery runs an eager task under a process-wide "joining a result would block" flag that it saves and
    # restores without a lock: two threads running eager tasks at once can leave it set, and then every later
    # `.delay(...).get()` in this process raises "Never call result.get() within a task!".
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


@pytest.fixture(autouse=True)
def _static_files_without_manifest(settings):
    # Production serves hashed files after collectstatic; tests render templates without running it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def lab(db):
    return f.LabFactory(name="Pain Lab", slug="pain-lab")


@pytest.fixture
def other_lab(db):
    return f.LabFactory(name="Other Lab", slug="other-lab")


def _member(lab, username: str, role: str, first: str, last: str):
    user = f.UserFactory(username=username, first_name=first, last_name=last)
    f.MembershipFactory(user=user, lab=lab, role=role)
    return user


@pytest.fixture
def technician(lab):
    return _member(lab, "tina", Role.TECHNICIAN, "Tina", "Technician")


@pytest.fixture
def reviewer(lab):
    return _member(lab, "paula", Role.REVIEWER, "Paula", "Investigator")


@pytest.fixture
def auditor(lab):
    return _member(lab, "audrey", Role.AUDITOR, "Audrey", "Auditor")


@pytest.fixture
def lab_admin(lab):
    return _member(lab, "adam", Role.LAB_ADMIN, "Adam", "Admin")


@pytest.fixture
def outsider(other_lab):
    return _member(other_lab, "otto", Role.TECHNICIAN, "Otto", "Outsider")


@pytest.fixture
def cast(technician, reviewer, auditor, lab_admin, outsider) -> dict:
    """The fixed cast by role name, the outsider (a technician of another lab) included."""
    return {
        "technician": technician,
        "reviewer": reviewer,
        "auditor": auditor,
        "lab_admin": lab_admin,
        "outsider": outsider,
    }


@pytest.fixture
def require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"
