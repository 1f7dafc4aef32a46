"""ViewSets for the batches app: thin views over the services in batches.services."""

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from batches.api import filters, serializers
from batches.api.lineage import batch_lineage
from batches.models import (
    Administration,
    Aliquot,
    BatchStatusCount,
    CellLine,
    ChecklistReport,
    Differentiation,
    Donor,
    Immunophenotype,
    OutcomeMeasure,
    Passage,
    PrimingCondition,
    ProcessingStep,
    QCResult,
    QCSpecification,
    SecretomeBatch,
    StorageLocation,
    Study,
)
from batches.models.checklist import CurrentChecklistReport
from batches.selectors.qc import ProbedExists, out_of_spec_results
from batches.services import corrections, lifecycle, qc, records
from batches.services.checklist import batch_check_queue
from lims.api.pagination import KeysetPagination
from lims.api.scoping import request_lab_ids
from lims.api.serializers import HistoryEventSerializer
from lims.api.viewsets import LabOwnedViewSet, LabScopedReadOnlyViewSet
from lims.models import Lab, Role
from lims.roles import REVIEW_ROLES, WRITE_ROLES

SPEC_ROLES = {Role.REVIEWER, Role.LAB_ADMIN}


class DonorViewSet(LabOwnedViewSet):
    """Donors (or suppliers' lots) the cells came from."""

    queryset = Donor.objects.all()
    serializer_class = serializers.DonorSerializer
    filterset_class = filters.DonorFilter
    ordering_fields = ("code", "created_at", "updated_at", "tissue_source", "species")
    ordering = ("code", "id")


class CellLineViewSet(LabOwnedViewSet):
    """Cell lines isolated from a donor, with their immunophenotype and differentiation results."""

    queryset = CellLine.objects.prefetch_related("immunophenotypes", "differentiations")
    serializer_class = serializers.CellLineSerializer
    filterset_class = filters.CellLineFilter
    ordering_fields = ("code", "created_at", "updated_at", "isolated_on")
    ordering = ("code", "id")


class ImmunophenotypeViewSet(LabOwnedViewSet):
    """Marker measurements of a cell line (ISCT panel)."""

    queryset = Immunophenotype.objects.all()
    serializer_class = serializers.ImmunophenotypeSerializer
    filterset_class = filters.ImmunophenotypeFilter
    ordering_fields = ("marker", "measured_on", "created_at")
    ordering = ("cell_line", "marker", "id")


class DifferentiationViewSet(LabOwnedViewSet):
    """Trilineage differentiation results of a cell line."""

    queryset = Differentiation.objects.all()
    serializer_class = serializers.DifferentiationSerializer
    filterset_class = filters.DifferentiationFilter
    ordering_fields = ("lineage", "assessed_on", "created_at")
    ordering = ("cell_line", "lineage", "id")


class PassageViewSet(LabOwnedViewSet):
    """Passages with counts; population doublings and doubling time are computed."""

    queryset = Passage.objects.all()
    serializer_class = serializers.PassageSerializer
    filterset_class = filters.PassageFilter
    ordering_fields = ("number", "started_on", "harvested_on", "created_at")
    ordering = ("cell_line", "number", "id")

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        cell_lines = {passage.cell_line_id for passage in page}
        known = Passage.objects.filter(cell_line_id__in=cell_lines).only(
            "id", "parent_id", "cells_seeded", "cells_harvested"
        )
        context = {**self.get_serializer_context(), "passages_by_id": {p.pk: p for p in known}}
        return self.get_paginated_response(self.serializer_class(page, many=True, context=context).data)


class PrimingConditionViewSet(LabOwnedViewSet):
    """Named priming recipes with their agents ("no priming" is one too)."""

    queryset = PrimingCondition.objects.prefetch_related("agents")
    serializer_class = serializers.PrimingConditionSerializer
    filterset_class = filters.PrimingConditionFilter
    ordering_fields = ("name", "kind", "created_at")
    ordering = ("name", "id")

    @staticmethod
    def _agents(data: dict[str, Any]) -> list[dict[str, Any]] | None:
        agents = data.pop("agents", None)
        return None if agents is None else [dict(agent) for agent in agents]

    def create_record(self, *, lab: Lab, data: dict[str, Any]):
        agents = self._agents(data)
        return records.priming_create(lab=lab, actor=self.request.user, data=data, agents=agents)

    def update_record(self, *, instance, data, version, reason=None):
        agents = self._agents(data)
        return records.priming_update(
            priming=instance, actor=self.request.user, data=data, version=version, agents=agents, reason=reason
        )


def batch_queryset() -> QuerySet[SecretomeBatch]:
    """Batches with their current checklist score and QC flag, computed in the same query."""
    # As batches.selectors.checklist_latest_report: the current report, else the newest one. Subqueries,
    # not joins, so that PostgreSQL computes them for the rows of the page only.
    current_score = CurrentChecklistReport.objects.filter(batch=OuterRef("pk")).values("report__score")[:1]
    newest_score = (
        ChecklistReport.objects.filter(batch=OuterRef("pk")).order_by("-created_at", "-id").values("score")[:1]
    )
    return SecretomeBatch.objects.annotate(
        checklist_score=Coalesce(Subquery(current_score), Subquery(newest_score)),
        qc_out_of_spec=ProbedExists(out_of_spec_results()),
    )


# Query parameters that page or order the batch list but keep every row of it.
WHOLE_LIST_PARAMETERS = frozenset({"page", "page_size", "ordering"})


class BatchViewSet(LabOwnedViewSet):
    """Secretome batches. Status changes only through the submit, release, reject and retire actions."""

    queryset = batch_queryset()
    serializer_class = serializers.BatchSerializer
    filterset_class = filters.BatchFilter
    pagination_class = KeysetPagination
    ordering_fields = (
        "code",
        "created_at",
        "updated_at",
        "collected_at",
        "status",
        "product_type",
        "checklist_score",
    )
    ordering = ("-created_at", "-id")
    action_roles = {
        "submit": WRITE_ROLES,
        "release": REVIEW_ROLES,
        "reject": REVIEW_ROLES,
        "return_for_changes": REVIEW_ROLES,
        "retire": REVIEW_ROLES | {Role.LAB_ADMIN},
        "check": WRITE_ROLES,
        "lineage": None,
        "correct": REVIEW_ROLES,
    }

    def paginate_queryset(self, queryset):
        # The whole list of the user's labs (paged or ordered, not filtered): its count is the labs' batch
        # counts the database keeps (batches.models.counts), not a count of every row, which grows with them.
        if self.paginator is not None and set(self.request.query_params) <= WHOLE_LIST_PARAMETERS:
            kept = BatchStatusCount.objects.filter(lab_id__in=request_lab_ids(self.request))
            self.paginator.known_count = kept.aggregate(n=Sum("batches"))["n"] or 0
        return super().paginate_queryset(queryset)

    def create_record(self, *, lab: Lab, data: dict[str, Any]):
        return records.batch_create(lab=lab, actor=self.request.user, data=data)

    def update_record(self, *, instance, data, version, reason=None):
        return records.batch_update(batch=instance, actor=self.request.user, data=data, version=version, reason=reason)

    @extend_schema(summary="Submit the batch for review", request=None, responses={200: serializers.BatchSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        batch = lifecycle.batch_submit(batch=self.get_object(), actor=request.user)
        return self.respond_with(batch)

    @extend_schema(
        summary="Release and sign the batch (reviewers)",
        description=(
            "Releasing is an electronic signature (meaning 'released'): send your password. Refused with 400, "
            "listing every blocker in `blockers`, while QC is unverified, a deviation is open or a gate fails."
        ),
        request=serializers.SignatureSerializer,
        responses={200: serializers.BatchSerializer},
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        batch = self.get_object()
        body = serializers.SignatureSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        batch = lifecycle.batch_release(
            batch=batch, actor=request.user, password=body.validated_data["password"], request=request
        )
        return self.respond_with(batch)

    @extend_schema(
        summary="Reject and sign the batch (reviewers)",
        description="Rejecting is an electronic signature (meaning 'rejected'): send your password and the reason.",
        request=serializers.SignedReasonSerializer,
        responses={200: serializers.BatchSerializer},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        batch = self.get_object()
        body = serializers.SignedReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        batch = lifecycle.batch_reject(
            batch=batch,
            actor=request.user,
            reason=body.validated_data["reason"],
            password=body.validated_data["password"],
            request=request,
        )
        return self.respond_with(batch)

    @extend_schema(
        summary="Return the submitted batch to its technician for changes (reviewers)",
        description="The batch becomes a draft again; the reason says what to change and is kept in its history.",
        request=serializers.ReasonSerializer,
        responses={200: serializers.BatchSerializer},
    )
    @action(detail=True, methods=["post"], url_path="return-for-changes")
    def return_for_changes(self, request: Request, pk: str | None = None) -> Response:
        batch = self.get_object()
        body = serializers.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        batch = lifecycle.batch_return_for_changes(
            batch=batch, actor=request.user, reason=body.validated_data["reason"]
        )
        return self.respond_with(batch)

    @extend_schema(
        summary="Retire the batch (reviewers, lab admins)",
        request=serializers.ReasonSerializer,
        responses={200: serializers.BatchSerializer},
    )
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str | None = None) -> Response:
        batch = self.get_object()
        body = serializers.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        batch = lifecycle.batch_retire(batch=batch, actor=request.user, reason=body.validated_data["reason"])
        return self.respond_with(batch)

    @extend_schema(
        summary="Correct a released batch (reviewers)",
        description=(
            "A released batch never changes: it is retired with the reason, and a new draft batch `<code>-C<n>` "
            "copying its production fields and linked to it (`corrects`) is returned (201). Asking again returns "
            "the same correction."
        ),
        request=serializers.ReasonSerializer,
        responses={201: serializers.BatchSerializer},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str | None = None) -> Response:
        batch = self.get_object()
        body = serializers.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        correction = corrections.batch_correct(batch=batch, actor=request.user, reason=body.validated_data["reason"])
        return self.respond_with(correction, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Queue a checklist run for the batch",
        request=None,
        responses={202: serializers.CheckQueuedSerializer},
    )
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk: str | None = None) -> Response:
        batch = self.get_object()
        batch_check_queue(batch_ids=[batch.pk], actor=request.user)
        return Response({"batch": batch.pk, "queued": True}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The batch's whole lineage in one response",
        description="donor → cell line → passage chain → priming → batch → processing, QC, aliquots, administrations.",
        responses={200: serializers.LineageSerializer},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def lineage(self, request: Request, pk: str | None = None) -> Response:
        lineage = batch_lineage(batch=self.get_object())
        context = {**self.get_serializer_context(), "passages_by_id": {p.pk: p for p in lineage["passages"]}}
        return Response(serializers.LineageSerializer(lineage, context=context).data)


class ProcessingStepViewSet(LabOwnedViewSet):
    """Processing steps of a batch, in order (centrifugation, filtration, ultrafiltration, …)."""

    queryset = ProcessingStep.objects.all()
    serializer_class = serializers.ProcessingStepSerializer
    filterset_class = filters.ProcessingStepFilter
    ordering_fields = ("order", "created_at")
    ordering = ("batch", "order", "id")

    def create_record(self, *, lab: Lab, data: dict[str, Any]):
        return records.processing_step_create(lab=lab, actor=self.request.user, data=data)

    def update_record(self, *, instance, data, version, reason=None):
        return records.processing_step_update(
            step=instance, actor=self.request.user, data=data, version=version, reason=reason
        )


class StorageLocationViewSet(LabOwnedViewSet):
    """Freezers, racks and boxes."""

    queryset = StorageLocation.objects.select_related("parent__parent__parent")
    serializer_class = serializers.StorageLocationSerializer
    filterset_class = filters.StorageLocationFilter
    ordering_fields = ("name", "kind", "created_at")
    ordering = ("name", "id")


class AliquotViewSet(LabOwnedViewSet):
    """Aliquots of a batch and where they are stored."""

    queryset = Aliquot.objects.all()
    serializer_class = serializers.AliquotSerializer
    filterset_class = filters.AliquotFilter
    ordering_fields = ("code", "stored_at", "created_at", "status")
    ordering = ("code", "id")

    def create_record(self, *, lab: Lab, data: dict[str, Any]):
        return records.aliquot_create(lab=lab, actor=self.request.user, data=data)


class QCSpecificationViewSet(LabOwnedViewSet):
    """Acceptance limits per assay and product type; reviewers and lab admins set them."""

    queryset = QCSpecification.objects.all()
    serializer_class = serializers.QCSpecificationSerializer
    filterset_class = filters.QCSpecificationFilter
    ordering_fields = ("assay", "effective_from", "spec_version", "created_at")
    ordering = ("assay", "analyte", "product_type", "-spec_version", "id")
    write_roles = SPEC_ROLES

    def create_record(self, *, lab: Lab, data: dict[str, Any]):
        return records.record_create(
            model=QCSpecification, lab=lab, actor=self.request.user, data=data, roles=SPEC_ROLES
        )

    def update_record(self, *, instance, data, version, reason=None):
        return records.record_update(
            instance=instance, actor=self.request.user, data=data, version=version, roles=SPEC_ROLES, reason=reason
        )


@extend_schema_view(
    create=extend_schema(description="The outcome is computed against the specification in force on performed_on."),
)
class QCResultViewSet(LabOwnedViewSet):
    """QC results. Technicians record them; another reviewer verifies (signing with a password) or rejects."""

    queryset = QCResult.objects.all()
    serializer_class = serializers.QCResultSerializer
    filterset_class = filters.QCResultFilter
    ordering_fields = ("performed_on", "assay", "created_at", "status", "outcome")
    ordering = ("-performed_on", "assay", "id")
    action_roles = {"verify": REVIEW_ROLES, "reject": REVIEW_ROLES, "correct": qc.CORRECT_ROLES}

    def create_record(self, *, lab: Lab, data: dict[str, Any]):
        return qc.qc_result_record(lab=lab, actor=self.request.user, data=data)

    def update_record(self, *, instance, data, version, reason=None):
        return qc.qc_result_update(result=instance, actor=self.request.user, data=data, version=version, reason=reason)

    @extend_schema(
        summary="Verify the result (reviewers; not your own)",
        request=serializers.QCVerifySerializer,
        responses={200: serializers.QCResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        result = self.get_object()
        body = serializers.QCVerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = qc.qc_result_verify(
            result=result,
            actor=request.user,
            password=body.validated_data["password"],
            acceptance_justification=body.validated_data.get("acceptance_justification", ""),
            request=request,
        )
        return self.respond_with(result)

    @extend_schema(
        summary="Reject and sign the result (reviewers; not your own)",
        request=serializers.SignedReasonSerializer,
        responses={200: serializers.QCResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        result = self.get_object()
        body = serializers.SignedReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = qc.qc_result_reject(
            result=result,
            actor=request.user,
            reason=body.validated_data["reason"],
            password=body.validated_data["password"],
            request=request,
        )
        return self.respond_with(result)

    @extend_schema(
        summary="Correct a verified result (technicians, reviewers)",
        description=(
            "A verified result never changes: the correction is a new recorded result linked to it (`corrects`), "
            "with the values sent overlaying the old ones and the outcome judged again; the verified one is "
            "superseded and counts for nothing. Returns the new result (201), to be verified like any other."
        ),
        request=serializers.QCCorrectionSerializer,
        responses={201: serializers.QCResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str | None = None) -> Response:
        result = self.get_object()
        body = serializers.QCCorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        reason = data.pop("reason")
        correction = qc.qc_result_correct(result=result, actor=request.user, data=data, reason=reason)
        return self.respond_with(correction, status.HTTP_201_CREATED)


class StudyViewSet(LabOwnedViewSet):
    """In-vivo studies: model, animals, design and groups."""

    queryset = Study.objects.all()
    serializer_class = serializers.StudySerializer
    filterset_class = filters.StudyFilter
    ordering_fields = ("title", "created_at")
    ordering = ("-created_at", "-id")


class AdministrationViewSet(LabOwnedViewSet):
    """Doses of a batch (or one of its aliquots) given in a study."""

    queryset = Administration.objects.all()
    serializer_class = serializers.AdministrationSerializer
    filterset_class = filters.AdministrationFilter
    ordering_fields = ("group", "day_after_induction", "created_at")
    ordering = ("study", "group", "id")

    def create_record(self, *, lab: Lab, data: dict[str, Any]):
        return records.administration_create(lab=lab, actor=self.request.user, data=data)

    def update_record(self, *, instance, data, version, reason=None):
        return records.administration_update(
            administration=instance, actor=self.request.user, data=data, version=version, reason=reason
        )


class OutcomeMeasureViewSet(LabOwnedViewSet):
    """Behavioural or clinical outcome measures of a study."""

    queryset = OutcomeMeasure.objects.all()
    serializer_class = serializers.OutcomeMeasureSerializer
    filterset_class = filters.OutcomeMeasureFilter
    ordering_fields = ("test", "created_at")
    ordering = ("study", "-is_primary", "test", "id")


class ChecklistReportViewSet(LabScopedReadOnlyViewSet):
    """Checklist evaluations (read-only; queue one with POST /batches/{id}/check/)."""

    queryset = ChecklistReport.objects.all()
    serializer_class = serializers.ChecklistReportSerializer
    filterset_class = filters.ChecklistReportFilter
    ordering_fields = ("created_at", "score")
    ordering = ("-created_at", "-id")

    @extend_schema(
        summary="Audit trail of the record",
        description="A report is written once and never changed: its one event is its insert, sealed in the "
        "audit chain directly (no history copy).",
        responses=HistoryEventSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        from lims.audit_chain import AuditSeal

        report = self.get_object()
        seal = AuditSeal.objects.filter(table_name=ChecklistReport._meta.db_table, row_key=str(report.pk)).first()
        event = {
            "id": f"{ChecklistReport._meta.label_lower}:{report.pk}:{seal.seq if seal else 'unsealed'}",
            "at": report.created_at,
            "label": "insert",
            "data": self.get_serializer(report).data,
            "diff": None,
            "context": None,
        }
        return Response([event])
