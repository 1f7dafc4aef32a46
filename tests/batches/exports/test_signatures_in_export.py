"""A signature is shown wherever the record is exported: the methods text names who signed what, and when."""

import pytest

from batches.exports import methods
from batches.models import SecretomeBatch
from batches.services.qc import qc_result_verify
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _export(batch) -> dict:
    return methods.batches_methods_export(batch_ids=[batch.pk], scope=SecretomeBatch.objects.all())


def test_the_methods_text_states_each_signature_on_the_batch_and_its_qc(lab, technician, reviewer):
    batch = f.SecretomeBatchFactory(lab=lab, code="SB-SIG-1")
    result = f.QCResultFactory(lab=lab, batch=batch, performed_by=technician, created_by=technician)
    unsigned = _export(batch)
    assert "signatures" not in unsigned["records"]
    qc_result_verify(result=result, actor=reviewer, password=PASSWORD)
    signed = _export(batch)
    text = methods.render(signed, "md").content.decode().replace("\u00a0", " ")
    provenance = text.split("## Record provenance", 1)[1]
    assert "Electronic signatures on these records: QC result Total protein: 120 µg/mL: Verified by" in provenance
    assert "Electronic signatures" not in text.split("## Record provenance", 1)[0]
    assert f"({reviewer.username}) on " in text and " UTC" in text
    assert signed["fingerprint"] != unsigned["fingerprint"]
    assert methods.recompose(signed) == signed["document"]  # the JSON alone renders the same text
