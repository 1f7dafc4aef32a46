"""The invitee's page: the invitations addressed to you, to accept or decline (no lab membership needed)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lims.services.memberships import invitation_accept, invitation_decline, invitations_for


@login_required
def invitation_list(request):
    return render(request, "lims/invitations.html", {"invitations": invitations_for(request.user)})


@require_POST
@login_required
def invitation_answer(request, pk: int, answer: str):
    service = {"accept": invitation_accept, "decline": invitation_decline}.get(answer)
    invitation = invitations_for(request.user).filter(pk=pk).first()
    if service is None or invitation is None:
        raise Http404("No such invitation for you.")
    try:
        service(invitation=invitation, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("invitations")
    if answer == "accept":
        messages.success(request, f"You joined {invitation.lab} as {invitation.get_role_display().lower()}.")
        return redirect("dashboard")
    messages.success(request, f"You declined the invitation to {invitation.lab}.")
    return redirect("invitations")
