"""Every change lands in the append-only, trigger-based history, with the acting user."""

import pgtrigger
import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from batches.models import SecretomeBatch
from lims.audit import audit_context, command_context, history_model, task_context
from tests import factories as f

pytestmark = pytest.mark.django_db


def _history_contexts(model, **filters):
    history = history_model(model)
    return list(history.objects.filter(**filters).order_by("pgh_id").values_list("pgh_label", "pgh_context__metadata"))


def test_a_queryset_update_on_batches_is_recorded_with_the_acting_user(technician, lab):
    batches = f.SecretomeBatchFactory.create_batch(3, lab=lab)
    with audit_context(actor=technician, reason="re-measured volumes"):
        SecretomeBatch.objects.filter(pk__in=[b.pk for b in batches]).update(final_volume_ml=17.5)
    for batch in batches:
        updates = [ctx for label, ctx in _history_contexts(SecretomeBatch, pgh_obj=batch) if label == "update"]
        assert len(updates) == 1
        assert updates[0]["user"] == technician.pk
        assert updates[0]["reason"] == "re-measured volumes"


def test_a_bulk_create_of_batches_is_recorded_with_the_acting_user(technician, lab):
    passage = f.PassageFactory(lab=lab)
    priming = f.PrimingConditionFactory(lab=lab)
    with audit_context(actor=technician):
        created = SecretomeBatch.objects.bulk_create(
            [
                SecretomeBatch(
                    lab=lab,
                    code=f"BULK-{i}",
                    passage=passage,
                    priming=priming,
                    product_type="CM",
                    intended_use="in_vitro",
                )
                for i in range(4)
            ]
        )
    history = history_model(SecretomeBatch).objects.filter(code__startswith="BULK-", pgh_label="insert")
    assert history.count() == 4
    assert {h.pgh_context.metadata["user"] for h in history} == {technician.pk}
    assert {h.pgh_obj_id for h in history} == {b.pk for b in created}


def test_a_delete_is_recorded_too(technician, lab):
    donor = f.DonorFactory(lab=lab)
    donor_id = donor.pk
    with audit_context(actor=technician, reason="entered twice"), pgtrigger.ignore("batches.Donor:never_deleted"):
        donor.delete()
    labels = [label for label, _ in _history_contexts(type(donor), pgh_obj_id=donor_id)]
    assert labels == ["insert", "delete"]


@pytest.mark.parametrize("statement", ["UPDATE {table} SET code = 'forged'", "DELETE FROM {table}"])
def test_the_history_tables_refuse_update_and_delete(lab, statement):
    f.SecretomeBatchFactory(lab=lab)
    table = history_model(SecretomeBatch)._meta.db_table
    with pytest.raises(DatabaseError, match=r"append_only|Cannot"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(statement.format(table=table))
    assert history_model(SecretomeBatch).objects.exists()


def test_management_commands_and_tasks_are_named_in_the_context(technician, lab):
    with command_context("seed_demo", technician):
        donor = f.DonorFactory(lab=lab)
    with task_context("batches.check_batch", "task-123", technician.pk):
        type(donor).objects.filter(pk=donor.pk).update(age_years=35)
    (_, insert_ctx), (_, update_ctx) = _history_contexts(type(donor), pgh_obj=donor)
    assert insert_ctx["command"] == "seed_demo" and insert_ctx["user"] == technician.pk
    assert update_ctx["task"] == "batches.check_batch" and update_ctx["task_id"] == "task-123"
    assert update_ctx["user"] == technician.pk


def test_an_admin_action_is_attributed_to_the_signed_in_user(client, lab, lab_admin, technician):
    from lims.models import Membership

    membership = Membership.objects.get(user=technician, lab=lab)
    client.force_login(lab_admin)
    url = "/admin/lims/membership/"
    response = client.post(url, {"action": "make_reviewer", "_selected_action": [membership.pk]})
    assert response.status_code == 302
    label, ctx = _history_contexts(Membership, pgh_obj=membership)[-1]
    assert label == "update"
    assert ctx["user"] == lab_admin.pk
    assert ctx["url"] == url
