"""A batch's audit trail: the batch and every row hanging off it, for every member of its lab, with CSV."""

from batches.models import SecretomeBatch
from lims.audit_views import AuditFilterForm, audit_trail_response
from lims.selectors.audit_trail import audit_trail_for_batch
from lims.web import get_scoped_or_404, member_required


@member_required
def batch_audit_trail(request, pk: int):
    batch = get_scoped_or_404(SecretomeBatch.objects.all(), request.user, pk=pk)
    form = AuditFilterForm(request.GET or None, lab_ids=[batch.lab_id])
    rows = audit_trail_for_batch(batch=batch, filters=form.filters()) if not form.errors else []
    return audit_trail_response(
        request,
        heading=f"Audit trail of batch {batch.code}",
        form=form,
        rows=rows,
        filename=f"audit-trail-{batch.code}.csv",
    )
