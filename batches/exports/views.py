"""Export endpoints: methods text (md, docx, json), RO-Crate zip and QR label.

Reading needs membership of the batch's lab; another lab's batch or study answers 404.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from batches.exports import crate, label, methods, studies_table
from batches.models import SecretomeBatch, Study
from lims.api.scoping import scope_to_user_labs
from lims.api.serializers import QuerySerializer, StrictSerializer
from protocols.selectors import protocol_versions_for_batch

EXPORT_FORMATS = (*methods.FORMATS, "rocrate")
DOCX = methods.CONTENT_TYPES["docx"]


class IgnoreFormatNegotiation(DefaultContentNegotiation):
    """`?format=` chooses the export's file format here, not a DRF renderer; errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return JSONRenderer(), JSONRenderer.media_type


def readable_batches(user):
    return scope_to_user_labs(SecretomeBatch.objects.all(), user)


def readable_studies(user):
    return scope_to_user_labs(Study.objects.all(), user)


def _download(content: bytes, content_type: str, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def _crate_response(export: dict, batches: list[SecretomeBatch], *, lab=None) -> HttpResponse:
    versions: dict[int, object] = {}
    for batch in batches:
        for version in protocol_versions_for_batch(batch=batch):
            versions.setdefault(version.pk, version)
    ordered = sorted(versions.values(), key=lambda v: (v.protocol.code, v.number))
    content = crate.build_crate(export, protocol_versions=ordered, lab=lab)
    return _download(content, "application/zip", methods.filename(export, "rocrate.zip"))


def _author(request, *, study: Study | None = None, batches: list[SecretomeBatch] | None = None) -> str:
    """The exporting user and the lab whose records are exported, as the DOCX author."""
    lab = study.lab if study is not None else (batches[0].lab if batches else None)
    return methods.author(user=request.user, lab=lab)


def _export_response(
    export: dict, fmt: str, batches: list[SecretomeBatch], *, author: str = "", lab=None
) -> HttpResponse:
    if fmt == "rocrate":
        return _crate_response(export, batches, lab=lab)
    rendered = methods.render(export, fmt, author=author)
    return _download(rendered.content, rendered.content_type, rendered.filename, inline=fmt != "docx")


class FormatQuery(QuerySerializer):
    format = serializers.ChoiceField(choices=methods.FORMATS, default="md")


class ExportRequest(StrictSerializer):
    batches = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, allow_empty=False)
    study = serializers.IntegerField(min_value=1, required=False)
    format = serializers.ChoiceField(choices=EXPORT_FORMATS, default="md")

    def validate(self, attrs):
        if ("batches" in attrs) == ("study" in attrs):
            raise serializers.ValidationError({"batches": ["Give either a list of batch ids or a study id, not both."]})
        return attrs


class ExportView(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = IgnoreFormatNegotiation


@extend_schema(
    parameters=[OpenApiParameter("format", str, enum=list(methods.FORMATS), default="md")],
    responses={
        (200, "text/markdown"): OpenApiTypes.STR,
        (200, DOCX): OpenApiTypes.BINARY,
        (200, "application/json"): OpenApiTypes.OBJECT,
    },
    summary="Methods section for one batch",
)
class BatchMethodsView(ExportView):
    def get(self, request, pk: int):
        query = FormatQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        batch = get_object_or_404(readable_batches(request.user).select_related("lab"), pk=pk)
        export = methods.batches_methods_export(batch_ids=[batch.pk], scope=readable_batches(request.user))
        author = _author(request, batches=[batch])
        return _export_response(export, query.validated_data["format"], [batch], author=author)


@extend_schema(
    request=ExportRequest,
    responses={
        (200, "text/markdown"): OpenApiTypes.STR,
        (200, DOCX): OpenApiTypes.BINARY,
        (200, "application/json"): OpenApiTypes.OBJECT,
        (200, "application/zip"): OpenApiTypes.BINARY,
    },
    summary="Methods section for several batches or for a study",
)
class MethodsExportView(ExportView):
    def post(self, request):
        body = ExportRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "study" in data:
            study = readable_studies(request.user).select_related("lab").filter(pk=data["study"]).first()
            if study is None:
                raise serializers.ValidationError({"study": [f"No study with id {data['study']} in your labs."]})
            export = methods.study_methods_export(study=study)
            author = _author(request, study=study)
        else:
            export = methods.batches_methods_export(batch_ids=data["batches"], scope=readable_batches(request.user))
            first = readable_batches(request.user).select_related("lab").filter(pk__in=data["batches"]).first()
            author = _author(request, batches=[first] if first else [])
        batches = []
        if data["format"] == "rocrate":
            batches = list(
                readable_batches(request.user)
                .filter(code__in=export["subject"]["batches"])
                .select_related("passage__cell_line", "priming")
            )
        lab = study.lab if "study" in data else None
        return _export_response(export, data["format"], batches, author=author, lab=lab)


@extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY}, summary="RO-Crate (zip) of one batch")
class BatchCrateView(ExportView):
    def get(self, request, pk: int):
        batch = get_object_or_404(readable_batches(request.user), pk=pk)
        export = methods.batches_methods_export(batch_ids=[batch.pk], scope=readable_batches(request.user))
        return _crate_response(export, [batch])


class LabelQuery(QuerySerializer):
    format = serializers.ChoiceField(choices=label.LABEL_FORMATS, default="svg")


@extend_schema(
    parameters=[OpenApiParameter("format", str, enum=list(label.LABEL_FORMATS), default="svg")],
    responses={(200, "image/svg+xml"): OpenApiTypes.BINARY, (200, "image/png"): OpenApiTypes.BINARY},
    summary="QR label of one batch",
)
class BatchLabelView(ExportView):
    def get(self, request, pk: int):
        query = LabelQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        batch = get_object_or_404(readable_batches(request.user), pk=pk)
        if query.validated_data["format"] == "png":
            return _download(label.label_png(batch), "image/png", f"label-{batch.code}.png", inline=True)
        return _download(label.label_svg(batch), "image/svg+xml", f"label-{batch.code}.svg", inline=True)


class StudiesTableRequest(serializers.Serializer):
    studies = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        min_length=1,  # states allow_empty=False in the schema (minItems)
        help_text="Ids of studies in your labs; one row per study and group.",
    )
    format = serializers.ChoiceField(choices=studies_table.FORMATS, default="md")


@extend_schema(
    request=StudiesTableRequest,
    responses={
        (200, "text/markdown"): OpenApiTypes.STR,
        (200, "text/csv"): OpenApiTypes.STR,
        (200, DOCX): OpenApiTypes.BINARY,
        (200, "application/json"): OpenApiTypes.OBJECT,
    },
    summary="Studies summary table",
    description=(
        "One row per study and group, as reviews tabulate preclinical studies: pain model (species), secretome "
        "source (species, tissue), product type, processing and storage, treatment time after model induction and "
        "schedule, dose, route and volume, outcome tests. A value that was not recorded reads N/A. A study id "
        "outside your labs answers 400 naming `studies`."
    ),
)
class StudiesTableView(ExportView):
    def post(self, request):
        body = StudiesTableRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        scope = readable_studies(request.user)
        first = scope.select_related("lab").filter(pk__in=data["studies"]).first()
        author = methods.author(user=request.user, lab=first.lab if first else None)
        content, content_type, filename = studies_table.studies_table(
            study_ids=data["studies"], scope=scope, fmt=data["format"], author=author
        )
        return _download(content, content_type, filename, inline=data["format"] in {"md", "json"})
