"""Import pages: upload (always a dry run first), the preview with its errors, commit, and the history."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from batches.imports.files import ImportFileError, check_size
from batches.imports.services import import_commit, import_errors_file, import_start, import_template
from batches.imports.sheets import SHEETS, sheet_for
from batches.models import ImportRun, ImportStatus
from lims.web import can_write, default_lab, get_scoped_or_404, may_create, member_required, scoped

KIND_CHOICES = [(kind, sheet_for(kind).title) for kind in SHEETS]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=KIND_CHOICES, initial="lineage", label="What the sheet holds")
    file = forms.FileField(label="File (XLSX or CSV)")
    reason = forms.CharField(
        required=False,
        max_length=500,
        label="Reason",
        help_text="Kept in the audit trail with every record the import changes; needed to change submitted batches.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_size(filename=upload.name, size=upload.size)
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from None
        return upload


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@member_required
def import_home(request):
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                run = import_start(
                    lab=default_lab(request.user),
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    filename=upload.name,
                    content=upload.read(),
                    dry_run=True,
                    reason=form.cleaned_data["reason"],
                )
            except PermissionDenied as denied:
                messages.error(request, str(denied))
                return redirect("batches:imports")
            except ValidationError as error:
                for text in error.message_dict.get("file", []) + error.message_dict.get("kind", []):
                    form.add_error("file", text)
            else:
                return redirect("batches:import-detail", run.pk)
    runs = scoped(ImportRun.objects.defer("content", "result").select_related("started_by"), request.user)[:50]
    return render(
        request,
        "imports/import_home.html",
        {"form": form, "runs": runs, "kinds": KIND_CHOICES, "can_import": may_create(request.user)},
    )


@member_required
def import_detail(request, pk):
    run = get_scoped_or_404(ImportRun.objects.defer("content").select_related("started_by", "lab"), request.user, pk=pk)
    committed_as = ImportRun.objects.filter(checked_run=run).defer("content", "result").first()
    return render(
        request,
        "imports/import_detail.html",
        {
            "run": run,
            "committed_as": committed_as,
            "may_commit": run.dry_run
            and run.status == ImportStatus.CHECKED
            and committed_as is None
            and can_write(request.user, run.lab_id),
        },
    )


@member_required
def import_progress(request, pk):
    run = get_scoped_or_404(ImportRun.objects.defer("content", "result"), request.user, pk=pk)
    return render(request, "imports/_progress.html", {"run": run})


@require_POST
@member_required
def import_commit_view(request, pk):
    run = get_scoped_or_404(ImportRun.objects.all(), request.user, pk=pk)
    if not (run.dry_run and run.status == ImportStatus.CHECKED):
        messages.error(request, "Only a dry run without errors can be imported; upload the corrected file.")
        return redirect("batches:import-detail", run.pk)
    try:
        committed = import_commit(run=run, actor=request.user, reason=request.POST.get("reason", "").strip())
    except (PermissionDenied, ValidationError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("batches:import-detail", run.pk)
    return redirect("batches:import-detail", committed.pk)


@member_required
def import_errors_download(request, pk, file_format):
    if file_format not in ("csv", "xlsx"):
        return HttpResponse("Choose errors.csv or errors.xlsx.", status=404, content_type="text/plain")
    run = get_scoped_or_404(ImportRun.objects.all(), request.user, pk=pk)
    return _download(*import_errors_file(run=run, file_format=file_format))


@member_required
def import_template_download(request, kind, file_format):
    if kind not in SHEETS or file_format not in ("csv", "xlsx"):
        return HttpResponse(f"'{kind}' is not an import kind.", status=404, content_type="text/plain")
    return _download(*import_template(kind=kind, file_format=file_format))
