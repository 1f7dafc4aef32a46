"""Protocol pages: the SOPs, their versions with typed parameters, drafting, signed publishing, diffs and usage."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lims.web import (
    can_review,
    can_write,
    default_lab,
    get_scoped_or_404,
    may_create,
    member_required,
    require_write,
    scoped,
)
from protocols.forms import DraftForm, ParameterFormSet, ProtocolForm
from protocols.models import Protocol, ProtocolVersion, VersionStatus
from protocols.selectors import parameter_allowed_text, protocol_version_batches, protocol_version_diff
from protocols.services import (
    protocol_create,
    protocol_version_create_draft,
    protocol_version_publish,
    protocol_version_update_draft,
)


def _report(request, error) -> None:
    for message in error.messages if isinstance(error, ValidationError) else [str(error)]:
        messages.error(request, message)


@member_required
def protocol_list(request):
    protocols = scoped(Protocol.objects.prefetch_related("versions"), request.user).order_by("category", "code")
    return render(
        request, "protocols/protocol_list.html", {"protocols": protocols, "can_create": may_create(request.user)}
    )


@member_required
def protocol_new(request):
    form = ProtocolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            protocol = protocol_create(lab=default_lab(request.user), actor=request.user, **form.cleaned_data)
            draft = protocol_version_create_draft(
                protocol=protocol, actor=request.user, body=f"# {protocol.title}\n\n1. ", change_summary="First version"
            )
            messages.success(request, f"{protocol.code} created; write its first version.")
            return redirect("protocols:protocol-version", draft.pk)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    return render(request, "protocols/protocol_form.html", {"form": form})


@require_POST
@member_required
def protocol_draft(request, pk: int):
    protocol = get_scoped_or_404(Protocol.objects.all(), request.user, pk=pk)
    try:
        draft = protocol_version_create_draft(protocol=protocol, actor=request.user)
        return redirect("protocols:protocol-version", draft.pk)
    except (ValidationError, PermissionDenied) as error:
        _report(request, error)
    return redirect("protocols:protocol-list")


@member_required
def protocol_version_detail(request, pk: int):
    version = get_scoped_or_404(
        ProtocolVersion.objects.select_related("protocol", "approved_by").prefetch_related("parameters"),
        request.user,
        pk=pk,
    )
    if request.method == "POST":  # a read-only role is told so, as on every other page, not shown the page again
        require_write(request.user, version.lab_id)
    editable = version.status == VersionStatus.DRAFT and can_write(request.user, version.lab_id)
    draft_form = parameters = None
    if editable:
        initial_parameters = [
            {
                **{f: getattr(p, f) for f in ("name", "value_type", "unit", "default", "min_value", "max_value")},
                "choices": ", ".join(map(str, p.choices or [])),
            }
            for p in version.parameters.all()
        ]
        draft_form = DraftForm(
            request.POST or None, initial={"body": version.body, "change_summary": version.change_summary}
        )
        parameters = ParameterFormSet(request.POST or None, initial=initial_parameters, prefix="parameters")
        if request.method == "POST" and draft_form.is_valid() and parameters.is_valid():
            try:
                protocol_version_update_draft(
                    version=version,
                    actor=request.user,
                    body=draft_form.cleaned_data["body"],
                    change_summary=draft_form.cleaned_data["change_summary"],
                    parameters=[p for p in (form.as_parameter() for form in parameters) if p],
                )
                messages.success(request, "Draft saved.")
                return redirect("protocols:protocol-version", version.pk)
            except (ValidationError, PermissionDenied) as error:
                _report(request, error)
    others = version.protocol.versions.exclude(pk=version.pk).order_by("-number")
    against_id = request.GET.get("against", "")
    diff = None
    if against_id.isdigit():
        against = get_scoped_or_404(
            ProtocolVersion.objects.filter(protocol=version.protocol), request.user, pk=int(against_id)
        )
        diff = protocol_version_diff(version=version, against=against)
    return render(
        request,
        "protocols/protocol_version.html",
        {
            "version": version,
            "parameters": [(p, parameter_allowed_text(p)) for p in version.parameters.all()],
            "others": others,
            "diff": diff,
            "batches": protocol_version_batches(version=version).order_by("code")[:200],
            "draft_form": draft_form,
            "parameter_forms": parameters,
            "can_publish": version.status == VersionStatus.DRAFT and can_review(request.user, version.lab_id),
        },
    )


@require_POST
@member_required
def protocol_version_publish_view(request, pk: int):
    version = get_scoped_or_404(ProtocolVersion.objects.all(), request.user, pk=pk)
    try:
        protocol_version_publish(
            version=version, actor=request.user, password=request.POST.get("password", ""), request=request
        )
        messages.success(request, "Published and signed: this version is now effective and can no longer change.")
    except (ValidationError, PermissionDenied) as error:
        _report(request, error)
    return redirect("protocols:protocol-version", version.pk)
