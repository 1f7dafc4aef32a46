"""Published SOPs for the protocol tests: drafts with typed parameters, published by a reviewer."""

import pytest
from django.utils import timezone

from protocols.models import ProtocolVersion
from protocols.services import protocol_version_publish
from tests import factories as f

SIGNING_PASSWORD = "correct-horse-battery"  # every tests.factories.UserFactory user's password
CONDITIONING_24H = {"name": "conditioning_time_h", "unit": "h", "default": "24", "min_value": 24, "max_value": 24}


@pytest.fixture
def publish_sop(lab, reviewer):
    """An effective version of a new (or the given) protocol; parameters are given as dicts.

    In the fixture lab it is published through the service by the reviewer; in another lab it is
    marked effective directly (the reviewer is no member there).
    """

    def make(
        *,
        category: str = "conditioning",
        parameters: tuple[dict, ...] = (CONDITIONING_24H,),
        protocol=None,
        body: str = "1. Wash the cells twice with PBS.\n2. Add serum-free medium.\n3. Condition for 24 h.",
        owner=None,
    ) -> ProtocolVersion:
        owner = owner or lab
        protocol = protocol or f.ProtocolFactory(lab=owner, category=category)
        number = (protocol.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        draft = f.ProtocolVersionFactory(lab=owner, protocol=protocol, number=number, body=body)
        for values in parameters:
            f.ProtocolParameterFactory(lab=owner, protocol_version=draft, **values)
        if owner == lab:
            return protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
        ProtocolVersion.objects.filter(pk=draft.pk).update(
            status="effective", approved_by=reviewer, approved_at=timezone.now()
        )
        draft.refresh_from_db()
        return draft

    return make
