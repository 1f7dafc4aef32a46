"""A batch's whole lineage in a fixed number of queries (plus one per passage generation)."""

from typing import Any

from batches.models import Passage, PrimingCondition, SecretomeBatch


def batch_lineage(*, batch: SecretomeBatch) -> dict[str, Any]:
    """donor → cell line → passage chain → priming → batch → processing, QC, aliquots, administrations."""
    producing = (
        Passage.objects.select_related("cell_line__donor")
        .prefetch_related("cell_line__immunophenotypes", "cell_line__differentiations")
        .get(pk=batch.passage_id)
    )
    chain = producing.chain()
    cell_line = producing.cell_line
    priming = None
    if batch.priming_id is not None:
        priming = PrimingCondition.objects.prefetch_related("agents").get(pk=batch.priming_id)
    return {
        "donor": cell_line.donor,
        "cell_line": cell_line,
        "passages": chain,
        "priming": priming,
        "batch": batch,
        "processing_steps": list(batch.processing_steps.order_by("order")),
        "qc_results": list(batch.qc_results.order_by("performed_on", "assay", "analyte", "id")),
        "aliquots": list(batch.aliquots.order_by("code")),
        "administrations": list(batch.administrations.order_by("study_id", "group", "id")),
    }
