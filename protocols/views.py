"""Protocol pages: the SOPs, their versions with typed parameters, diffs, and the batches that used a version."""

from django.shortcuts import render

from lims.web import get_scoped_or_404, member_required, scoped
from protocols.models import Protocol, ProtocolVersion
from protocols.selectors import parameter_allowed_text, protocol_version_batches, protocol_version_diff


@member_required
def protocol_list(request):
    protocols = scoped(Protocol.objects.prefetch_related("versions"), request.user).order_by("category", "code")
    return render(request, "protocols/protocol_list.html", {"protocols": protocols})


@member_required
def protocol_version_detail(request, pk: int):
    version = get_scoped_or_404(
        ProtocolVersion.objects.select_related("protocol", "approved_by").prefetch_related("parameters"),
        request.user,
        pk=pk,
    )
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
        },
    )
