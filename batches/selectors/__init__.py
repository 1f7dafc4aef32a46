"""Reads (STYLE.md 1). One module per area; the names are exported here."""

from batches.selectors.checklist import (
    checklist_current_evaluations,
    checklist_current_scores,
    checklist_latest_report,
    checklist_report_list,
    study_checklist_latest_report,
)
from batches.selectors.qc import qc_analytes

__all__ = [
    "checklist_current_evaluations",
    "checklist_current_scores",
    "checklist_latest_report",
    "checklist_report_list",
    "qc_analytes",
    "study_checklist_latest_report",
]
