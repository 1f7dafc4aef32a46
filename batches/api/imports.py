"""Imports over the API: templates, upload (dry run or commit), the run with its preview, the error file.

Technicians, reviewers and lab admins import; auditors read the runs of their labs but do not import.
Another lab's run answers 404.
"""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from batches.exports.views import IgnoreFormatNegotiation
from batches.imports.files import ImportFileError, check_size
from batches.imports.instruments.services import INSTRUMENTS, instrument_import
from batches.imports.services import import_commit, import_errors_file, import_start, import_template
from batches.imports.sheets import KINDS
from batches.models import ImportRun, ImportStatus, QCResult, SecretomeBatch
from lims.api.pagination import LabPagination
from lims.api.parsers import SafeJSONParser
from lims.api.permissions import LabRolePermission
from lims.api.renderers import SafeJSONRenderer
from lims.api.scoping import member_lab_ids, request_lab_ids, scope_to_labs
from lims.models import Lab
from lims.roles import WRITE_ROLES

FILE_FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a download answers: an XLSX workbook or a CSV sheet, as `format` asks.
DOWNLOADS = {(200, XLSX): OpenApiTypes.BINARY, (200, "text/csv"): OpenApiTypes.STR}


class ImportRunSerializer(serializers.ModelSerializer):
    errors = serializers.SerializerMethodField()
    preview = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True)
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportRun
        fields = [
            "id",
            "lab",
            "kind",
            "filename",
            "sha256",
            "size_bytes",
            "dry_run",
            "reason",
            "status",
            "total_rows",
            "done_rows",
            "percent",
            "preview",
            "errors",
            "errors_url",
            "checked_run",
            "started_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_errors(self, run: ImportRun) -> list[dict]:
        return run.errors

    def get_preview(self, run: ImportRun) -> dict:
        keys = ("rows", "totals", "counts", "unknown_columns", "changes", "committed")
        return {key: run.result[key] for key in keys if key in run.result}

    def get_errors_url(self, run: ImportRun) -> str | None:
        return f"/api/v1/imports/{run.pk}/errors/?format=csv" if run.errors else None


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=KINDS)
    dry_run = serializers.BooleanField(default=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    lab = serializers.PrimaryKeyRelatedField(queryset=Lab.objects.all(), required=False)

    def validate_file(self, upload):
        try:
            check_size(filename=upload.name, size=upload.size)
        except ImportFileError as error:
            raise serializers.ValidationError(str(error)) from None
        return upload

    def validate(self, attrs):
        user = self.context["request"].user
        labs = Lab.objects.filter(pk__in=member_lab_ids(user))
        if attrs.get("lab") is not None:
            if not labs.filter(pk=attrs["lab"].pk).exists():
                raise serializers.ValidationError({"lab": ["You are not a member of this lab."]})
            return attrs
        found = list(labs[:2])
        if len(found) != 1:
            raise serializers.ValidationError({"lab": ["You belong to several labs; say which one imports."]})
        attrs["lab"] = found[0]
        return attrs


class CommitSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class FileFormatSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FILE_FORMATS, default="csv")


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Spreadsheet imports of the user's labs (history, preview and errors)."""

    queryset = ImportRun.objects.select_related("lab").order_by("-created_at")
    serializer_class = ImportRunSerializer
    permission_classes = [LabRolePermission]
    pagination_class = LabPagination
    renderer_classes = [SafeJSONRenderer]
    parser_classes = [MultiPartParser, FormParser, SafeJSONParser]

    def roles_for_action(self) -> set[str] | None:
        return WRITE_ROLES if self.action in ("create", "commit") else None

    def get_queryset(self):
        return scope_to_labs(super().get_queryset(), request_lab_ids(self.request)).defer("content")

    @extend_schema(
        summary="Upload a sheet: dry run (default) or commit",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportRunSerializer, 202: ImportRunSerializer},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        upload = ImportUploadSerializer(data=request.data, context={"request": request})
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        run = import_start(
            lab=data["lab"],
            actor=request.user,
            kind=data["kind"],
            filename=data["file"].name,
            content=data["file"].read(),
            dry_run=data["dry_run"],
            reason=data["reason"],
        )
        code = status.HTTP_201_CREATED if run.finished else status.HTTP_202_ACCEPTED
        return Response(ImportRunSerializer(run).data, status=code)

    @extend_schema(summary="Import for real the file a dry run checked", request=CommitSerializer)
    @action(detail=True, methods=["post"])
    def commit(self, request: Request, pk=None) -> Response:
        checked = self.get_object()
        if checked.status != ImportStatus.CHECKED or not checked.dry_run:
            return Response(
                {"status": ["Only a dry run without errors can be committed; upload the corrected file."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        body = CommitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = import_commit(
            run=ImportRun.objects.get(pk=checked.pk), actor=request.user, reason=body.validated_data["reason"]
        )
        code = status.HTTP_201_CREATED if run.finished else status.HTTP_202_ACCEPTED
        return Response(ImportRunSerializer(run).data, status=code)

    @extend_schema(
        summary="The uploaded file with an error column (CSV UTF-8 with BOM, or XLSX with the bad cells red)",
        parameters=[OpenApiParameter("format", str, enum=list(FILE_FORMATS), default="csv")],
        responses=DOWNLOADS,
        filters=False,
    )
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreFormatNegotiation, filter_backends=[])
    def errors(self, request: Request, pk=None):
        query = FileFormatSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        run = ImportRun.objects.get(pk=self.get_object().pk)
        return _download(*import_errors_file(run=run, file_format=query.validated_data["format"]))

    @extend_schema(
        summary="An empty template to fill (XLSX with drop-downs and a Columns sheet, or CSV)",
        parameters=[
            OpenApiParameter("format", str, enum=list(FILE_FORMATS), default="xlsx"),
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=KINDS),
        ],
        responses=DOWNLOADS,
        filters=False,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"templates/(?P<kind>[^/.]+)",
        content_negotiation_class=IgnoreFormatNegotiation,
        filter_backends=[],
        pagination_class=None,
    )
    def templates(self, request: Request, kind: str = ""):
        if kind not in KINDS:
            return Response(
                {"detail": f"'{kind}' is not an import kind; choose one of: {', '.join(KINDS)}."},
                status=status.HTTP_404_NOT_FOUND,
            )
        query = FileFormatSerializer(data={"format": request.query_params.get("format", "xlsx")})
        query.is_valid(raise_exception=True)
        return _download(*import_template(kind=kind, file_format=query.validated_data["format"]))


class InstrumentImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    batch = serializers.IntegerField()
    instrument = serializers.ChoiceField(choices=INSTRUMENTS)
    layout = serializers.FileField(required=False)
    plate_method = serializers.ChoiceField(
        choices=(("bca", "BCA (linear fit)"), ("elisa", "ELISA (4-parameter logistic fit)")), required=False, default=""
    )
    analyte = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    performed_on = serializers.DateField(required=False)
    dry_run = serializers.BooleanField(default=True)

    def validate(self, attrs):
        if attrs["instrument"] == "plate" and not attrs.get("plate_method"):
            raise serializers.ValidationError({"plate_method": ["A plate is read as bca or elisa."]})
        return attrs


class InstrumentImportViewSet(viewsets.GenericViewSet):
    """`POST qc-results/import-instrument/`: an NTA, ZetaView or plate-reader export → QC results of a batch."""

    permission_classes = [LabRolePermission]
    renderer_classes = [SafeJSONRenderer]
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = InstrumentImportSerializer
    queryset = QCResult.objects.none()  # what it writes; the batch is looked up in the user's labs

    def roles_for_action(self) -> set[str] | None:
        return WRITE_ROLES

    @extend_schema(
        summary="Read an instrument export into QC results (dry run by default); the raw file is kept by its SHA-256",
        request={"multipart/form-data": InstrumentImportSerializer},
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT},
    )
    def create(self, request: Request) -> Response:
        body = InstrumentImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        batch = scope_to_labs(SecretomeBatch.objects.all(), request_lab_ids(request)).filter(pk=data["batch"]).first()
        if batch is None:
            return Response({"batch": [f"No batch {data['batch']} in your labs."]}, status=status.HTTP_400_BAD_REQUEST)
        layout = data.get("layout")
        summary = instrument_import(
            lab=batch.lab,
            actor=request.user,
            batch=batch,
            instrument=data["instrument"],
            filename=data["file"].name,
            content=data["file"].read(),
            layout_name=layout.name if layout else "",
            layout=layout.read() if layout else None,
            assay=data["plate_method"],
            analyte=data["analyte"],
            performed_on=data.get("performed_on"),
            dry_run=data["dry_run"],
        )
        return Response(summary, status=status.HTTP_200_OK if data["dry_run"] else status.HTTP_201_CREATED)
