"""Pages for shipments between labs: out and in, packing, dispatch, receipt, partner labs, snapshots, impact."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from batches.choices import AliquotStatus, BatchStatus
from batches.models import Aliquot, ImpactNotice, SecretomeBatch, StorageLocation
from batches.models.shipments import ArrivalCondition, ShipmentStatus, ShippingCondition
from batches.shipments import selectors, services
from lims.models import Lab as LabModel
from lims.models import Role
from lims.roles import user_role
from lims.web import can_write, default_lab, get_scoped_or_404, member_required, user_lab_id_list


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _float_or_none(value: str | None) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise ValidationError({"logger_temperature_c": ["Enter a number (°C)."]}) from exc


def _shipment(user, pk: int):
    shipment = selectors.shipment_list(lab_ids=user_lab_id_list(user)).filter(pk=pk).prefetch_related("items").first()
    if shipment is None:
        raise Http404("No shipment here.")
    return shipment


@member_required
def shipment_list(request):
    lab_ids = user_lab_id_list(request.user)
    shipments = list(selectors.shipment_list(lab_ids=lab_ids)[:200])
    return render(
        request,
        "shipments/shipment_list.html",
        {
            "outgoing": [s for s in shipments if s.lab_id in lab_ids],
            "incoming": [s for s in shipments if s.receiver_id in lab_ids],
            "shipment_notices": selectors.open_notice_list(user=request.user),
            "may_pack": any(can_write(request.user, lab_id) for lab_id in lab_ids),
        },
    )


@member_required
def shipment_create_view(request):
    lab = default_lab(request.user)  # 403 for a read-only role: it packs nothing
    partners = LabModel.objects.filter(
        pk__in=selectors.partner_lab_list(lab_ids=[lab.pk]).filter(sends_to=True).values("partner_id")
    )
    aliquots = (
        Aliquot.objects.filter(lab=lab, status=AliquotStatus.AVAILABLE, batch__status=BatchStatus.RELEASED)
        .select_related("batch")
        .order_by("batch__code", "code")[:500]
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            shipment = services.shipment_create(
                lab=lab,
                actor=request.user,
                receiver_id=int(request.POST.get("receiver") or 0),
                aliquot_ids=[int(pk) for pk in request.POST.getlist("aliquots") if pk.isdigit()],
                shipping_condition=request.POST.get("shipping_condition", ""),
                courier=request.POST.get("courier", "")[:120],
                tracking_reference=request.POST.get("tracking_reference", "")[:120],
                notes=request.POST.get("notes", "")[:5000],
            )
        except ValidationError as exc:
            errors = _errors(exc)
        except PermissionDenied as exc:
            errors = {"__all__": [str(exc)]}
        else:
            messages.success(request, f"Shipment {shipment.code} packed; a reviewer signs its dispatch.")
            return redirect("batches:shipments:detail", pk=shipment.pk)
    return render(
        request,
        "shipments/shipment_form.html",
        {
            "lab": lab,
            "partners": partners,
            "aliquots": aliquots,
            "conditions": ShippingCondition.choices,
            "errors": errors,
            "posted": request.POST,
        },
    )


@member_required
def shipment_detail(request, pk: int):
    shipment = _shipment(request.user, pk)
    role_sender = user_role(request.user, shipment.lab_id)
    role_receiver = user_role(request.user, shipment.receiver_id)
    received = []
    if hasattr(shipment, "receipt") and role_receiver is not None:
        received = list(shipment.receipt.aliquots.select_related("location").order_by("code"))
    return render(
        request,
        "shipments/shipment_detail.html",
        {
            "shipment": shipment,
            "items": shipment.items.all(),
            "snapshots": shipment.snapshots.order_by("batch_code", "snapshot_version"),
            "may_dispatch": role_sender == Role.REVIEWER and shipment.status == ShipmentStatus.PACKED,
            "may_receive": role_receiver in {Role.TECHNICIAN, Role.REVIEWER, Role.LAB_ADMIN}
            and shipment.status == ShipmentStatus.DISPATCHED,
            "received": received,
            "arrival_conditions": ArrivalCondition.choices,
            "locations": StorageLocation.objects.filter(lab_id=shipment.receiver_id, kind="box").order_by("name")
            if role_receiver
            else [],
            "errors": {},
        },
    )


@member_required
@require_POST
def shipment_dispatch_view(request, pk: int):
    shipment = _shipment(request.user, pk)
    try:
        services.shipment_dispatch(
            shipment=shipment, actor=request.user, password=request.POST.get("password", ""), request=request
        )
        messages.success(request, f"Dispatch of {shipment.code} signed; the batches' records are frozen.")
    except ValidationError as exc:
        for field, problems in _errors(exc).items():
            messages.error(request, f"{field}: {' '.join(problems)}")
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("batches:shipments:detail", pk=shipment.pk)


@member_required
@require_POST
def shipment_receive_view(request, pk: int):
    shipment = _shipment(request.user, pk)
    if shipment.receiver_id not in user_lab_id_list(request.user):
        raise Http404("No shipment here.")
    post = request.POST
    try:
        received_at = parse_datetime(post.get("received_at", "")) if post.get("received_at") else None
        temperature = _float_or_none(post.get("logger_temperature_c"))
        if post.get("refuse"):
            services.shipment_refuse(
                shipment=shipment,
                actor=request.user,
                reason=post.get("refusal_reason", ""),
                condition_on_arrival=post.get("condition_on_arrival", ""),
                received_at=received_at,
                logger_temperature_c=temperature,
                notes=post.get("notes", "")[:5000],
            )
            messages.success(request, f"Shipment {shipment.code} refused.")
        else:
            locations = {loc.pk: loc for loc in StorageLocation.objects.filter(lab_id=shipment.receiver_id)}
            items = []
            for item in shipment.items.all():
                location_id = post.get(f"location-{item.pk}", "")
                items.append(
                    {
                        "item": item.pk,
                        "accepted": post.get(f"accepted-{item.pk}") == "on",
                        "rejection_reason": post.get(f"reason-{item.pk}", "")[:300],
                        "location": locations.get(int(location_id)) if location_id.isdigit() else None,
                        "position": post.get(f"position-{item.pk}", "").strip().upper()[:4],
                    }
                )
            services.shipment_receive(
                shipment=shipment,
                actor=request.user,
                items=items,
                condition_on_arrival=post.get("condition_on_arrival", ""),
                received_at=received_at,
                logger_temperature_c=temperature,
                notes=post.get("notes", "")[:5000],
            )
            messages.success(request, f"Shipment {shipment.code} received.")
    except ValidationError as exc:
        for field, problems in _errors(exc).items():
            messages.error(request, f"{field}: {' '.join(problems)}")
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("batches:shipments:detail", pk=shipment.pk)


@member_required
def snapshot_detail(request, pk: int):
    snapshot = selectors.snapshot_list(lab_ids=user_lab_id_list(request.user)).filter(pk=pk).first()
    if snapshot is None:
        raise Http404("No snapshot here.")
    records = snapshot.content.get("records", {})
    return render(
        request,
        "shipments/snapshot_detail.html",
        {
            "snapshot": snapshot,
            "content": snapshot.content,
            "batch": (records.get("batches") or [{}])[0],
            "pretty": json.dumps(snapshot.content, indent=2, sort_keys=True, ensure_ascii=False),
        },
    )


@member_required
def partner_list(request):
    lab_ids = user_lab_id_list(request.user)
    admin_labs = LabModel.objects.filter(memberships__user=request.user, memberships__role=Role.LAB_ADMIN).order_by(
        "name"
    )
    if request.method == "POST":
        lab = admin_labs.filter(pk=request.POST.get("lab") or 0).first()
        partner = LabModel.objects.filter(slug=request.POST.get("partner", "").strip()).first()
        if lab is None:
            messages.error(request, "lab: Choose a lab you administer.")
        elif partner is None:
            messages.error(request, "partner: No lab with this short name (slug).")
        else:
            try:
                services.partner_lab_declare(
                    lab=lab,
                    actor=request.user,
                    partner=partner,
                    sends_to=request.POST.get("sends_to") == "on",
                    receives_from=request.POST.get("receives_from") == "on",
                    note=request.POST.get("note", "")[:300],
                )
                messages.success(request, f"{partner.name} declared as a partner of {lab.name}.")
            except ValidationError as exc:
                for field, problems in _errors(exc).items():
                    said = " ".join(problems)
                    messages.error(request, said if field == "__all__" else f"{field}: {said}")
            except PermissionDenied as exc:
                messages.error(request, str(exc))
        return redirect("batches:shipments:partners")
    return render(
        request,
        "shipments/partner_list.html",
        {"partners": selectors.partner_lab_list(lab_ids=lab_ids), "admin_labs": admin_labs},
    )


@member_required
def impact_report(request, batch_pk: int):
    batch = get_scoped_or_404(SecretomeBatch.objects.all(), request.user, pk=batch_pk)
    trace = selectors.trace_downstream(root="batch", root_id=batch.pk, lab_ids=[batch.lab_id])
    return render(request, "shipments/impact.html", {"batch": batch, "trace": trace, "studies": trace.studies})


@member_required
@require_POST
def notice_acknowledge(request, pk: int):
    notice = get_scoped_or_404(ImpactNotice.objects.all(), request.user, pk=pk)
    try:
        services.impact_notice_acknowledge(notice=notice, actor=request.user)
        messages.success(request, f"Notice about {notice.batch_code} acknowledged.")
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("batches:shipments:list")
