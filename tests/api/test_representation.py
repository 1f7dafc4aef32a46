"""The fast representation of lab records gives exactly what DRF's own Serializer.to_representation gives."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from batches.models import SecretomeBatch
from lims.api.serializers import LabOwnedSerializer
from lims.api.urls import router
from tests import factories as f
from tests.api import test_contracts
from tests.api.contract import ResourceContract

pytestmark = pytest.mark.django_db

CONTRACTS = {cls.url: cls for cls in vars(test_contracts).values() if isinstance(cls, type) and issubclass(
    cls, ResourceContract) and cls is not ResourceContract}  # fmt: skip


def _drf(serializer, instance):
    return serializers.Serializer.to_representation(serializer, instance)


LAB_OWNED = [
    (prefix, viewset)
    for prefix, viewset, _ in router.registry
    if issubclass(viewset.serializer_class, LabOwnedSerializer)
]


@pytest.mark.parametrize(("prefix", "viewset"), LAB_OWNED)
def test_every_resource_renders_as_drf_would(prefix, viewset, lab, technician, reviewer, auditor, lab_admin, outsider):
    cast = {"technician": technician, "reviewer": reviewer, "auditor": auditor, "lab_admin": lab_admin,
            "outsider": outsider}  # fmt: skip
    instance = CONTRACTS[f"/api/v1/{prefix}/"]().make(lab, cast)
    fresh = viewset.queryset.get(pk=instance.pk)
    request = APIRequestFactory().get("/")
    request.user = technician
    serializer = viewset.serializer_class(fresh, context={"request": request})
    assert serializer.data == _drf(serializer, fresh)


def test_a_batch_without_the_list_annotations_renders_as_drf_would(lab):
    from batches.api.serializers import BatchSerializer

    batch = SecretomeBatch.objects.get(pk=f.SecretomeBatchFactory(lab=lab, mock_control=None).pk)
    serializer = BatchSerializer(batch)
    assert serializer.data == _drf(serializer, batch)
    assert serializer.data["checklist_score"] is None
