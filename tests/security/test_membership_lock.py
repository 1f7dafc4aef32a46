"""Changes to a lab's memberships lock the lab: two lab admins demoting each other at once leave exactly one."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from lims.models import Membership, Role
from lims.services.memberships import membership_change_role
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_lab_admins_demoting_each_other_at_once_leave_exactly_one(lab):
    for _round in range(5):
        Membership.objects.filter(lab=lab).delete()
        first, second = f.UserFactory(), f.UserFactory()
        mine = Membership.objects.create(user=first, lab=lab, role=Role.LAB_ADMIN)
        theirs = Membership.objects.create(user=second, lab=lab, role=Role.LAB_ADMIN)
        start = threading.Barrier(2)
        outcomes: list[str] = []

        def demote(actor, membership, start=start, outcomes=outcomes):
            try:
                start.wait()
                membership_change_role(membership=membership, role=Role.TECHNICIAN, actor=actor)
                outcomes.append("demoted")
            except (ValidationError, PermissionDenied) as exc:
                outcomes.append(type(exc).__name__)
            finally:
                connection.close()  # each thread has its own connection

        threads = [
            threading.Thread(target=demote, args=(first, theirs)),
            threading.Thread(target=demote, args=(second, mine)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(outcomes) == 2, outcomes
        assert outcomes.count("demoted") == 1, outcomes
        assert Membership.objects.filter(lab=lab, role=Role.LAB_ADMIN).count() == 1
