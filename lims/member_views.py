"""The lab members page: who belongs to each of your labs, in which role; lab administrators invite people,
change roles, remove members and revoke invitations here, through the same services as the API."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from lims.models import Invitation, InvitationStatus, Membership, Role
from lims.services.memberships import (
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_remove,
)
from lims.web import member_required

FIELD_NAMES = {"invitee": "E-mail address or user name", "role": "Role", "status": "Invitation"}


class InviteForm(forms.Form):
    invitee = forms.CharField(
        label=FIELD_NAMES["invitee"],
        max_length=254,
        help_text="They see the invitation on their Invitations page once they sign in with this name or address.",
    )
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.TECHNICIAN)


def _said(error: ValidationError) -> list[str]:
    """A service's refusal as sentences that name the field."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    return [
        f"{FIELD_NAMES.get(name, name.replace('_', ' ').capitalize())}: {message}" if name != "__all__" else message
        for name, field_messages in error.message_dict.items()
        for message in field_messages
    ]


def _labs(user, invite_forms: dict[int, InviteForm] | None = None) -> list[dict]:
    mine = Membership.objects.filter(user=user).select_related("lab").order_by("lab__name")
    labs = []
    for membership in mine:
        administers = membership.role == Role.LAB_ADMIN
        members = (
            Membership.objects.filter(lab_id=membership.lab_id)
            .select_related("user")
            .order_by("user__last_name", "user__first_name", "user__username")
        )
        invitations = (
            Invitation.objects.filter(lab_id=membership.lab_id, status=InvitationStatus.PENDING)
            .select_related("created_by")
            .order_by("-created_at")
            if administers
            else []
        )
        form = (invite_forms or {}).get(membership.lab_id) or InviteForm(prefix=f"lab{membership.lab_id}")
        labs.append(
            {
                "lab": membership.lab,
                "my_role": _words(membership.get_role_display()),
                "administers": administers,
                "members": members,
                "invitations": invitations,
                "invite_form": form if administers else None,
            }
        )
    return labs


@member_required
@require_http_methods(["GET", "POST"])
def member_list(request):
    if request.method == "GET":
        return render(request, "lims/members.html", {"labs": _labs(request.user), "roles": Role.choices})
    action = request.POST.get("action", "")
    handler = {"invite": _invite, "role": _change_role, "remove": _remove, "revoke": _revoke}.get(action)
    if handler is None:
        raise Http404("No such action on the members page.")
    return handler(request)


def _own(queryset, request, key: str):
    """A row of one of the user's labs, named by the posted id; anything else is 404, like a missing row."""
    raw = request.POST.get(key, "")
    if not raw.isdigit() or len(raw) > 18:
        raise Http404(f"No {key} given.")
    labs = Membership.objects.filter(user=request.user).values("lab_id")
    row = queryset.filter(pk=int(raw), lab_id__in=labs).first()
    if row is None:
        raise Http404(f"No such {key} in your labs.")
    return row


def _invite(request):
    raw = request.POST.get("lab", "")
    mine = Membership.objects.filter(user=request.user).select_related("lab")
    membership = mine.filter(lab_id=int(raw)).first() if raw.isdigit() and len(raw) <= 18 else None
    if membership is None:
        raise Http404("No such lab among yours.")
    form = InviteForm(request.POST, prefix=f"lab{membership.lab_id}")
    if form.is_valid():
        try:
            invitation = invitation_create(
                lab=membership.lab,
                invitee=form.cleaned_data["invitee"],
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except ValidationError as error:
            for name, field_messages in (error.message_dict if hasattr(error, "error_dict") else {}).items():
                for message in field_messages:
                    form.add_error(name if name in form.fields else None, message)
            if not hasattr(error, "error_dict"):
                form.add_error(None, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"{invitation.invitee} is invited to {membership.lab.name} as {_words(invitation.get_role_display())}. "
                "They accept on their Invitations page.",
            )
            return redirect("members")
    context = {"labs": _labs(request.user, {membership.lab_id: form}), "roles": Role.choices}
    return render(request, "lims/members.html", context, status=400)


def _refused(request, error: ValidationError) -> None:
    for sentence in _said(error):
        messages.error(request, sentence)


def _change_role(request):
    membership = _own(Membership.objects.select_related("lab", "user"), request, "membership")
    try:
        changed = membership_change_role(membership=membership, role=request.POST.get("role", ""), actor=request.user)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(
            request, f"{_name(changed.user)} is now {_words(changed.get_role_display())} of {changed.lab.name}."
        )
    return redirect("members")


def _remove(request):
    membership = _own(Membership.objects.select_related("lab", "user"), request, "membership")
    try:
        membership_remove(membership=membership, actor=request.user)
    except ValidationError as error:
        _refused(request, error)
        return redirect("members")
    messages.success(request, f"{_name(membership.user)} no longer belongs to {membership.lab.name}.")
    if not Membership.objects.filter(user=request.user).exists():
        return redirect("invitations")
    return redirect("members")


def _revoke(request):
    invitation = _own(Invitation.objects.select_related("lab"), request, "invitation")
    try:
        invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, f"The invitation of {invitation.invitee} to {invitation.lab.name} is revoked.")
    return redirect("members")


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _words(label: str) -> str:
    """A role's label inside a sentence: "Reviewer (PI)" becomes "reviewer (PI)"."""
    return label[:1].lower() + label[1:]
