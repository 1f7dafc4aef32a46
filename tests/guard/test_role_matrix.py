"""The role matrix: role × door × every lab-owned model × (create, update, delete).

DESIGN.md "Who may do what" is the contract: technicians, reviewers and lab admins create and edit their
lab's records; the auditor writes nothing anywhere; nobody writes into another lab; the Django admin is
read-only for lab records; records are retired, not deleted (a draft SOP version may be discarded).

The cases come from the model registry (every `LabOwnedModel`) and from each door's own registry (the API
router, the web's record kinds and the batch flow's step and row forms, the admin site, the import sheets),
so a new model or a new route is in the matrix without touching this file; the study, SOP and shipment
pages, which have no registry, are listed here. A door that offers no way to make a change is "absent" for
it, which satisfies both an allowed and a refused expectation; a door that offers it must answer as the
table says. Allowed writes really write: a complete body, form or sheet, built from a factory's row read
back through the door's own serializer, form or columns, makes a new row in the lab; an update stores a
changed text; a discard removes the row. Refused ones answer 403/404 (or, for a page, send a read-only
user back or say the role may not) and change nothing.
"""

import datetime as dt
import inspect
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from django.forms import ModelForm
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from batches import forms
from batches.imports.services import import_start
from batches.imports.sheets import SHEETS
from batches.imports.workbooks import template_csv
from batches.models import ImportRun, ImportStatus, PartnerLab, SecretomeBatch, Shipment, Study
from batches.shipments.services import shipment_create
from batches.views.batches import ROW_FORMS, ROW_MODELS, STEP_FORMS
from batches.views.records import KINDS
from lims.api.urls import router
from lims.models import LabOwnedModel, Membership
from lims.services.memberships import invitation_create
from protocols.forms import DraftForm, ProtocolForm
from protocols.models import Protocol, ProtocolVersion
from tests import factories as f
from tests.imports.support import filled_csv, lineage_row

pytestmark = pytest.mark.django_db
User = get_user_model()

ROLES = ("technician", "reviewer", "auditor", "lab_admin", "outsider")
WRITERS = frozenset({"technician", "reviewer", "lab_admin"})
# Rows of the table that narrow "create and edit drafts" for a kind of record.
WRITERS_OF = {
    "batches.QCSpecification": frozenset({"reviewer", "lab_admin"}),  # the PI's acceptance criteria
    "batches.PartnerLab": frozenset({"lab_admin"}),  # "members, partner labs, settings"
    "lims.Invitation": frozenset({"lab_admin"}),  # "members"
}
# Records are retired, never deleted; a draft SOP version is the one thing its authors may discard.
DELETERS_OF = {"protocols.ProtocolVersion": WRITERS}

LAB_OWNED = sorted(
    (model for model in apps.get_models() if issubclass(model, LabOwnedModel)), key=lambda m: m._meta.label
)
ALLOWED, REFUSED, ABSENT = "allowed", "refused", "absent"
INSTRUMENT_FILES = Path(__file__).resolve().parent.parent / "imports" / "files"


def _expected(model, action: str, role: str) -> str:
    allowed = DELETERS_OF.get(model._meta.label, frozenset()) if action == "delete" else None
    if allowed is None:
        allowed = WRITERS_OF.get(model._meta.label, WRITERS)
    return ALLOWED if role in allowed else REFUSED


def _factory(model):
    return getattr(f, f"{model.__name__}Factory", None)


def _row(model, lab, performer=None, **kwargs):
    """A draft row of the model in the lab, made by its factory (None when it has none)."""
    factory = _factory(model)
    if factory is None:
        return None
    kwargs = {**ROW_KWARGS.get(model._meta.label, dict)(), **kwargs}
    if performer is not None and any(field.name == "performed_by" for field in model._meta.fields):
        kwargs["performed_by"] = performer  # a member of the lab, as a saved record names
    return factory(lab=lab, **kwargs)


def _state(model) -> tuple[int, list[tuple[int, int]]]:
    return model._default_manager.count(), list(model._default_manager.order_by("pk").values_list("pk", "version"))


def _check(model, door: str, answers: list[tuple[str, str, str, object]]) -> list[str]:
    """The answers that break the table, as readable lines (empty: the door obeys it)."""
    wrong = []
    for action, role, outcome, detail in answers:
        expected = _expected(model, action, role)
        if outcome not in (expected, ABSENT):
            wrong.append(f"{door} {model._meta.label} {action} as {role}: {outcome}, expected {expected} ({detail})")
    return wrong


# --- API --------------------------------------------------------------------------------------------


def _api_routes(model) -> list[tuple[str, type]]:
    return [
        (basename, viewset)
        for _, viewset, basename in router.registry
        if getattr(getattr(viewset, "queryset", None), "model", None) is model
    ]


def _post_format(viewset) -> str:
    media_types = {parser.media_type for parser in viewset.parser_classes}
    return "json" if "application/json" in media_types else "multipart"


# What each route offers no way to do (records are retired, not deleted; read-only views; lifecycle records
# written by their own actions). Checked against the router, so a route that stops (or starts) offering an
# action fails the test until this table says so.
API_ABSENT = {
    "administration": {"delete"},
    "administration-origin": {"create", "update", "delete"},
    "aliquot": {"delete"},
    "cell-line": {"delete"},
    "differentiation": {"delete"},
    "donor": {"delete"},
    "immunophenotype": {"delete"},
    "impact-notice": {"create", "update", "delete"},
    "outcome-measure": {"delete"},
    "partner-lab": {"update", "delete"},
    "passage": {"delete"},
    "priming": {"delete"},
    "processing-step": {"delete"},
    "qc-result": {"delete"},
    "qc-specification": {"delete"},
    "received-aliquot": {"create", "update", "delete"},
    "qc-result-import": {"update", "delete"},
    "batch": {"delete"},
    "batch-trace": {"create", "update", "delete"},
    "shipment": {"update", "delete"},
    "storage-location": {"delete"},
    "study": {"delete"},
    "invitation": {"update", "delete"},
    "deviation": {"create", "update", "delete"},
    "protocol": {"delete"},
}
REASON = "Checked by the role matrix"


def _api_actions(viewset) -> set[str]:
    actions = set()
    if hasattr(viewset, "create"):
        actions.add("create")
    if hasattr(viewset, "partial_update"):
        actions.add("update")
    if hasattr(viewset, "destroy") and "delete" in viewset.http_method_names:
        actions.add("delete")
    return actions


def _writable(serializer) -> dict:
    return {name: field for name, field in serializer.fields.items() if not field.read_only}


def _model_field(model, source):
    try:
        field = model._meta.get_field(source)
    except FieldDoesNotExist:  # a serializer field that is not a model field
        return None
    return field if getattr(field, "concrete", False) else None


def _unique_together(model) -> set[str]:
    names = set()
    for constraint in model._meta.constraints:
        names.update(getattr(constraint, "fields", ()) or ())
    for group in model._meta.unique_together:
        names.update(group)
    return {name for name in names if name != "lab"}


def _shipment_body(lab) -> dict:
    """Two available aliquots of a released batch, packed for a partner that receives from the lab."""
    receiver = f.LabFactory()
    PartnerLab.objects.create(lab=receiver, partner=lab, sends_to=False, receives_from=True)
    PartnerLab.objects.create(lab=lab, partner=receiver, sends_to=True, receives_from=False)
    batch = f.SecretomeBatchFactory(lab=lab)
    SecretomeBatch.objects.filter(pk=batch.pk).update(status="released")
    aliquots = [f.AliquotFactory(lab=lab, batch=batch).pk for _ in range(2)]
    return {"receiver": receiver.pk, "aliquots": aliquots, "shipping_condition": "dry_ice", "notes": REASON}


def _instrument_body(lab) -> dict:
    """A NanoSight export (one of the instrument files the importer reads) for a batch of the lab, committed."""
    content = (INSTRUMENT_FILES / "nta-3.4-ExperimentSummary.csv").read_bytes()
    return {
        "file": SimpleUploadedFile("ExperimentSummary.csv", content, content_type="text/csv"),
        "batch": f.SecretomeBatchFactory(lab=lab).pk,
        "instrument": "nta",
        "performed_on": "2025-03-12",
        "dry_run": "false",
    }


# Routes whose body is not a row of their model read back: made by hand, from rows made in the lab first.
CREATE_BODIES = {
    "invitation": lambda lab: {"invitee": "new.member@example.org", "role": "technician"},
    "partner-lab": lambda lab: {"partner": f.LabFactory().pk, "sends_to": True, "note": REASON},
    "shipment": _shipment_body,
    "qc-result-import": _instrument_body,
}
# What a model's template row needs beyond its factory: a QC specification's version is unique for its assay,
# and a new SOP version follows an effective one (a protocol has one draft at a time).
ROW_KWARGS = {"batches.QCSpecification": lambda: {"spec_version": next(_SPEC_VERSIONS)}}
TEMPLATE_KWARGS = {"protocols.ProtocolVersion": {"effective": True}}
_SPEC_VERSIONS = itertools.count(1)


def _create_body(model, basename, viewset, lab) -> dict:
    """A complete, valid body for a new row: a factory's row read back through the route's serializer, with
    its unique codes renamed (the template row is made first, so every linked row exists in the lab)."""
    if basename in CREATE_BODIES:
        return {"lab": lab.pk, **CREATE_BODIES[basename](lab)}
    template = _row(model, lab, **TEMPLATE_KWARGS.get(model._meta.label, {}))
    serializer = viewset.serializer_class(template, context={"request": None})
    data = serializer.data
    fields = {name: _model_field(model, field.source) for name, field in _writable(serializer).items()}
    body = _template_values(model, {name: data.get(name) for name in fields}, fields)
    body["lab"] = lab.pk
    return body


def _template_values(model, values: dict, fields: dict) -> dict:
    """A template row's values as a new row's: without the template's people (not members of the lab), its
    unique keys renamed (a number moved on, a code suffixed; a choice stays, another part of the key differs)."""
    kept = {}
    for name, value in values.items():
        model_field = fields.get(name)
        if value is None or value == "" or value == []:
            continue
        if model_field is not None and model_field.is_relation and model_field.related_model is User:
            continue
        if model_field is not None and (model_field.unique or name in _unique_together(model)):
            if isinstance(value, int) and not model_field.is_relation:
                value += 100
            elif isinstance(value, str) and model_field.blank and not model_field.choices:
                continue
            elif isinstance(value, str) and not model_field.choices:
                value = f"{value}-NEW"
        kept[name] = value
    return kept


def _text_change(model, fields: dict, role: str) -> tuple[str, str] | None:
    """One of `fields` ({name: model field}) that holds free text, and a new value for it, the role's own.

    Optional notes first, else any optional text, else any free text, else a name (unique in its place: the
    new value is the role's, so unique too). None: there is no such field."""
    candidates = []
    for name, model_field in fields.items():
        if model_field is None or model_field.get_internal_type() not in ("TextField", "CharField"):
            continue
        if model_field.choices or model_field.unique or (model_field.max_length or 100) < 21:
            continue
        keyed = name in _unique_together(model)
        rank = (keyed, not model_field.blank, name not in ("notes", "details", "comment", "comments", "description"))
        candidates.append((rank, name))
    if not candidates:
        return None
    return min(candidates)[1], f"role-matrix-{role}"  # printable on a label, should it be a code


def _harmless_change(model, viewset, row, role: str) -> tuple[str, str] | None:
    serializer = viewset.serializer_class(row, context={"request": None})
    return _text_change(
        model, {name: _model_field(model, field.source) for name, field in _writable(serializer).items()}, role
    )


def _new_rows(model, before):
    """The rows written since `before` (a `_state`)."""
    return model._default_manager.exclude(pk__in=[pk for pk, _ in before[1]])


@pytest.mark.parametrize("model", [m for m in LAB_OWNED if _api_routes(m)], ids=lambda m: m._meta.label)
def test_the_api_obeys_the_role_table(model, lab, cast):
    """Allowed: the row is really written (201 and one more row in the lab; 200 and the new value stored; 204
    and the row gone). Refused: 403 or 404 and nothing written. Absent: exactly what API_ABSENT says."""
    answers = []
    for basename, viewset in _api_routes(model):
        offered = _api_actions(viewset)
        absent = {action for action in ("create", "update", "delete") if action not in offered}
        assert absent == API_ABSENT.get(basename, set()), f"{basename}: the actions the API offers changed"
        row = None
        for role in ROLES:
            client = APIClient()
            client.force_authenticate(cast[role])
            allowed = {action: _expected(model, action, role) == ALLOWED for action in offered}
            if "create" in offered:
                body = _create_body(model, basename, viewset, lab)
                before = _state(model)
                response = client.post(reverse(f"api:{basename}-list"), body, format=_post_format(viewset))
                if allowed["create"]:
                    assert response.status_code == 201, (role, body, response.status_code, response.data)
                    new = _new_rows(model, before)
                    assert new and set(new.values_list("lab_id", flat=True)) == {lab.pk}, (role, basename)
                else:  # refused by role, or (an outsider) told the lab, or the lab's row, is not one of theirs
                    status = response.status_code
                    refused = status in (403, 404) or (status == 400 and ("lab" in response.data or role == "outsider"))
                    assert refused, (role, status, response.data)
                    assert _state(model) == before, f"{model._meta.label}: a refused create wrote"
                answers.append(("create", role, ALLOWED if response.status_code == 201 else REFUSED, ""))
            if row is None or not model._default_manager.filter(pk=row.pk).exists():
                row = _row(model, lab, performer=cast["technician"])  # the first, or the previous role discarded it
            if "update" in offered:
                change = _harmless_change(model, viewset, row, role)
                assert change is not None, f"{model._meta.label}: no text field to change"
                name, value = change
                before = _state(model)
                response = client.patch(
                    reverse(f"api:{basename}-detail", args=[row.pk]),
                    {"version": row.version, "reason": REASON, name: value},
                    format="json",
                )
                if allowed["update"]:
                    assert response.status_code == 200, (role, name, response.status_code, response.data)
                    row.refresh_from_db()
                    assert getattr(row, _model_field(model, name).attname) == value
                else:
                    assert response.status_code in (403, 404), (role, response.status_code, response.data)
                    assert _state(model) == before, f"{model._meta.label}: a refused update wrote"
                answers.append(("update", role, ALLOWED if response.status_code == 200 else REFUSED, ""))
            if "delete" in offered:
                before = _state(model)
                response = client.delete(reverse(f"api:{basename}-detail", args=[row.pk]))
                if allowed["delete"]:
                    assert response.status_code == 204, (role, response.status_code, getattr(response, "data", None))
                    assert not model._default_manager.filter(pk=row.pk).exists()
                else:
                    assert response.status_code in (403, 404, 405), (role, response.status_code)
                    assert _state(model) == before, f"{model._meta.label}: a refused delete wrote"
                answers.append(("delete", role, ALLOWED if response.status_code == 204 else REFUSED, ""))
    assert _check(model, "API", answers) == []


# --- Web pages --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebDoor:
    """A page that creates or changes rows of `model` through `form`.

    `target(lab)` makes what the page's address names: for an update the row itself, for a create the record
    the new row hangs off (None for a page of its own); `url(target)` is the address, `form_kwargs(target)` what
    the page gives the form besides its user."""

    name: str
    model: type
    action: str
    form: type
    url: Callable
    target: Callable = lambda lab: None
    form_kwargs: Callable = lambda target: {}
    extra: dict = dataclass_field(default_factory=dict)  # what the page posts besides the form (a formset's count)
    body: Callable | None = None  # a page without a form class: what it posts, made for the lab


def _made(model):
    """A row of the model in the lab (performed by the lab's technician, where a member must have done it)."""
    return lambda lab: _row(model, lab, performer=_member_of(lab, "technician"))


# A study's parts are added on the study's page, one form each (its groups live in the study's own row).
STUDY_PARTS = {"administration": forms.AdministrationForm, "outcome": forms.OutcomeMeasureForm}
STUDY_GROUP = "CM"


def _study(lab):
    return f.StudyFactory(lab=lab, groups=[{"name": STUDY_GROUP, "role": "treatment"}])


def _given_the_study(form) -> Callable:
    takes_it = "study" in inspect.signature(form.__init__).parameters  # e.g. to offer the study's groups
    return lambda study: {"study": study} if takes_it else {}


def _web_doors() -> list[WebDoor]:
    """Every page that writes a lab record, from the web's registries: the record kinds and their child rows,
    the batch flow's step and row forms, and the study pages."""
    doors = []
    for slug, kind in KINDS.items():
        doors += [
            WebDoor(
                f"records/{slug}/new",
                kind.model,
                "create",
                kind.form,
                url=lambda _, slug=slug: reverse("batches:record-create", args=[slug]),
            ),
            WebDoor(
                f"records/{slug}/<pk>",
                kind.model,
                "update",
                kind.form,
                target=_made(kind.model),
                url=lambda row, slug=slug: reverse("batches:record-edit", args=[slug, row.pk]),
            ),
        ]
        for _, child, form, parent_field in kind.children:
            name = child.__name__.lower()
            doors += [
                WebDoor(
                    f"records/{slug}/<pk>/add/{name}",
                    child,
                    "create",
                    form,
                    target=_made(kind.model),
                    url=lambda parent, slug=slug, name=name: reverse(
                        "batches:record-child", args=[slug, parent.pk, name]
                    ),
                ),
                WebDoor(
                    f"records/{slug}/<pk>/{name}/<pk>",
                    child,
                    "update",
                    form,
                    target=_made(child),
                    url=lambda row, slug=slug, name=name, parent_field=parent_field: reverse(
                        "batches:record-child-edit", args=[slug, getattr(row, f"{parent_field}_id"), name, row.pk]
                    ),
                ),
            ]
    doors.append(
        WebDoor(
            "batches/new", SecretomeBatch, "create", STEP_FORMS["start"], url=lambda _: reverse("batches:batch-start")
        )
    )
    for step, form in STEP_FORMS.items():
        if form._meta.model is SecretomeBatch:  # the batch's own steps change the batch
            doors.append(
                WebDoor(
                    f"batches/<pk>/log/{step}",
                    SecretomeBatch,
                    "update",
                    form,
                    target=_made(SecretomeBatch),
                    url=lambda batch, step=step: reverse("batches:batch-step", args=[batch.pk, step]),
                )
            )
        else:  # the others add rows to it
            doors.append(
                WebDoor(
                    f"batches/<pk>/log/{step}",
                    form._meta.model,
                    "create",
                    form,
                    target=_made(SecretomeBatch),
                    url=lambda batch, step=step: reverse("batches:batch-step", args=[batch.pk, step]),
                )
            )
    for step, model in ROW_MODELS.items():
        doors.append(
            WebDoor(
                f"batches/rows/{step}/<pk>",
                model,
                "update",
                ROW_FORMS[step],
                target=_made(model),
                url=lambda row, step=step: reverse("batches:batch-row", args=[step, row.pk]),
            )
        )
    doors += [
        WebDoor("studies/new", Study, "create", forms.StudyForm, url=lambda _: reverse("batches:study-create")),
        WebDoor(
            "studies/<pk>/design",
            Study,
            "update",
            forms.StudyForm,
            target=_made(Study),
            url=lambda study: reverse("batches:study-edit", args=[study.pk]),
        ),
    ]
    for part, form in STUDY_PARTS.items():
        doors.append(
            WebDoor(
                f"studies/<pk>/add/{part}",
                form._meta.model,
                "create",
                form,
                target=_study,
                url=lambda study, part=part: reverse("batches:study-add", args=[study.pk, part]),
                form_kwargs=_given_the_study(form),
            )
        )
    return doors + _protocol_doors() + _shipment_doors()


def _shipment_doors() -> list[WebDoor]:
    """The shipment pages (no form classes): packing a shipment, declaring a partner lab (lab admins)."""
    return [
        WebDoor("shipments/new", Shipment, "create", None, url=lambda _: reverse("batches:shipments:create"),
                body=_shipment_body),
        WebDoor("shipments/partners", PartnerLab, "create", None, url=lambda _: reverse("batches:shipments:partners"),
                body=lambda lab: {"lab": lab.pk, "partner": f.LabFactory().slug, "sends_to": "on", "note": REASON}),
    ]  # fmt: skip


def _protocol_doors() -> list[WebDoor]:
    """The SOP pages: a new SOP (with its first draft), a new draft after the effective version, a draft's text."""
    no_parameters = {"parameters-TOTAL_FORMS": "0", "parameters-INITIAL_FORMS": "0"}
    return [
        WebDoor("protocols/new", Protocol, "create", ProtocolForm, url=lambda _: reverse("protocols:protocol-new")),
        WebDoor(
            "protocols/<pk>/draft",
            ProtocolVersion,
            "create",
            None,
            target=lambda lab: f.ProtocolVersionFactory(lab=lab, effective=True).protocol,
            url=lambda protocol: reverse("protocols:protocol-draft", args=[protocol.pk]),
        ),
        WebDoor(
            "protocols/versions/<pk>",
            ProtocolVersion,
            "update",
            DraftForm,
            target=_made(ProtocolVersion),
            url=lambda version: reverse("protocols:protocol-version", args=[version.pk]),
            extra=no_parameters,
        ),
    ]


WEB_DOORS = _web_doors()


def _form_post(form, values: dict) -> dict:
    """What a browser posts for the form with `values` in its fields (as the page renders them)."""
    data = {}
    for name, value in values.items():
        field = form.fields[name]
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dt.date | dt.time):
            value = field.widget.format_value(value)
        elif hasattr(value, "pk"):
            value = value.pk
        data[form.add_prefix(name)] = value
    return data


def _filled(door, instance, member, target) -> tuple[object, dict]:
    """The door's form showing `instance` (as `member` sees it), and the values it shows."""
    if door.form is None:  # a button: nothing to fill in
        return None, {}
    if issubclass(door.form, ModelForm):
        form = door.form(instance=instance, user=member, **door.form_kwargs(target))
        return form, {name: form[name].value() for name in form.fields}
    form = door.form()
    return form, {name: getattr(instance, name) for name in form.fields if hasattr(instance, name)}


def _form_fields(model, form) -> dict:
    return {name: _model_field(model, name) for name in (form.fields if form is not None else ())}


def _form_errors(response) -> object:
    context = getattr(response, "context", None)
    form = context.get("form") if context else None
    said = [str(message) for message in get_messages(response.wsgi_request)]
    return form.errors if form is not None else (response.status_code, said)


def _answered(role: str, response, wrote: bool, action: str) -> str:
    """Refused: nothing written, and the page said no (403, or 200 saying the role may not), did not find the
    lab's record (404), sent a read-only user back (302 with a message); an outsider's form cannot name the
    lab's rows (200, form errors)."""
    if wrote:
        return ALLOWED
    refusals = {302, 403, 404} if action == "create" else {403, 404}
    if action == "create" and (role == "outsider" or ROLE_REFUSAL in response.content.decode()):
        refusals |= {200}  # the page shown again, saying the role may not
    assert response.status_code in refusals, (role, response.status_code, _form_errors(response))
    return REFUSED


DELETE_PROBES = ("lab_admin", "auditor")


@pytest.mark.parametrize(
    "model", sorted({door.model for door in WEB_DOORS}, key=lambda m: m._meta.label), ids=lambda m: m._meta.label
)
def test_the_web_pages_obey_the_role_table(model, lab, cast, client):
    """Each page posts a complete form as a browser would. Allowed: a create adds a row to the lab (302), an
    update stores the changed text (302). Refused: nothing written. Deleting: no page offers it."""
    answers = []
    member = cast["technician"]  # whose form lists the lab's rows, to fill it in
    for door in (door for door in WEB_DOORS if door.model is model):
        target = door.target(lab) if door.action == "update" else None
        post = None
        for role in ROLES:
            client.force_login(cast[role])
            if door.action == "create":
                if post is None or _expected(model, "create", role) == ALLOWED:
                    # A new parent and row each time: some rows are one of a kind per parent, codes are unique.
                    # A refused role posts the form before it again (a write would be a duplicate: a form error).
                    target = door.target(lab)
                    if door.body is not None:
                        post = door.body(lab)
                    else:
                        template = _row(model, lab, performer=member, **TEMPLATE_KWARGS.get(model._meta.label, {}))
                        form, shown = _filled(door, template, member, target)
                        values = _template_values(model, shown, _form_fields(model, form))
                        post = {**_form_post(form, values), **door.extra}
                before = _state(model)
                response = client.post(door.url(target), post)
                new = _new_rows(model, before)
                wrote = new.filter(lab=lab).exists()
                if _expected(model, "create", role) == ALLOWED:
                    assert response.status_code == 302 and wrote, (door.name, role, _form_errors(response))
                    assert set(new.values_list("lab_id", flat=True)) == {lab.pk}
                answers.append(("create", role, _answered(role, response, wrote, "create"), door.name))
                continue
            target.refresh_from_db()
            form, shown = _filled(door, target, member, target)
            name, value = _text_change(model, _form_fields(model, form), role)
            post = {**_form_post(form, {**shown, name: value}), "_version": target.version, **door.extra}
            before = _state(model)
            response = client.post(door.url(target), post)
            target.refresh_from_db()
            wrote = getattr(target, name) == value
            if _expected(model, "update", role) == ALLOWED:
                assert response.status_code == 302 and wrote, (door.name, role, _form_errors(response))
            else:
                assert _state(model) == before, f"{door.name}: a refused update wrote as {role}"
            answers.append(("update", role, _answered(role, response, wrote, "update"), door.name))
            if role in DELETE_PROBES:  # no page deletes: tried as the most and the least powerful member
                before = _state(model)
                client.generic("DELETE", door.url(target))
                assert _state(model) == before, f"{door.name}: DELETE changed rows as {role}"
                answers.append(("delete", role, ABSENT, door.name))
    assert answers and _check(model, "web", answers) == []


def test_the_web_refuses_a_link_to_another_labs_row_on_its_field(client, lab, other_lab, technician):
    """A member of two labs is offered both labs' rows; a cell line of one lab cannot point at a donor of the other."""
    f.MembershipFactory(user=technician, lab=other_lab, role="technician")
    foreign_donor = f.DonorFactory(lab=other_lab if other_lab.name > lab.name else lab, code="D-OTHER")
    client.force_login(technician)
    before = _state(apps.get_model("batches", "CellLine"))
    response = client.post(
        reverse("batches:record-create", args=["cell-lines"]), {"code": "CL-X", "donor": foreign_donor.pk}
    )
    assert response.status_code == 200
    assert "belongs to another lab" in " ".join(response.context["form"].errors.get("donor", []))
    assert _state(apps.get_model("batches", "CellLine")) == before


# --- Admin ------------------------------------------------------------------------------------------


ADMINISTRATORS = frozenset({"lab_admin", "superuser"})  # who opens the admin at all


def _member_of(lab, role: str):
    return Membership.objects.filter(lab=lab, role=role).select_related("user")[0].user


def _shipment(lab):
    body = _shipment_body(lab)
    return shipment_create(
        lab=lab, actor=_member_of(lab, "technician"), receiver_id=body["receiver"], aliquot_ids=body["aliquots"],
        shipping_condition=body["shipping_condition"],
    )  # fmt: skip


# Rows of models without a factory, made as the app makes them, so that their admin pages are tried too.
ADMIN_ROWS = {
    "batches.PartnerLab": lambda lab: PartnerLab.objects.create(lab=lab, partner=f.LabFactory()),
    "batches.Shipment": _shipment,
    "lims.Invitation": lambda lab: invitation_create(
        lab=lab, invitee="someone@example.org", role="technician", actor=_member_of(lab, "lab_admin")
    ),
}


def _admin_post(row, role: str) -> dict:
    """The row's every field as its change form would post it, with a text changed (what a write would send)."""
    data = {name: value for name, value in model_to_dict(row).items() if value is not None and value != []}
    data = {name: value.pk if hasattr(value, "pk") else value for name, value in data.items()}
    change = _text_change(type(row), {name: _model_field(type(row), name) for name in data}, role)
    return {**data, **dict([change] if change else [])}


@pytest.mark.parametrize("model", [m for m in LAB_OWNED if m in admin.site._registry], ids=lambda m: m._meta.label)
def test_the_admin_writes_no_lab_record(model, lab, cast, client):
    """The admin is read-only for lab records whatever the role, even a superuser's: a lab admin (and a
    superuser) sees the record without a way to save, add or delete it, and a complete form posted anyway is
    refused (403); everyone else, the auditor included, does not get in at all (sent to the admin's sign-in),
    whatever their staff flag says (the old demo made every user staff). Nobody's add, change, delete or
    bulk action writes."""
    row = _row(model, lab) or ADMIN_ROWS.get(model._meta.label, lambda lab: None)(lab)
    opts, model_admin = model._meta, admin.site._registry[model]
    people = {**cast, "superuser": f.UserFactory(username="root", is_superuser=True)}
    page = f"admin:{opts.app_label}_{opts.model_name}"
    for role, user in people.items():
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        client.force_login(user)
        before = _state(model)
        refused = 403 if role in ADMINISTRATORS else 302
        if role not in ADMINISTRATORS:  # not let in (their read-only page is checked below)
            assert client.get(reverse(f"{page}_changelist")).status_code == 302, role
        posted = _admin_post(row, role) if row is not None else {"lab": lab.pk}
        assert client.post(reverse(f"{page}_add"), posted).status_code == refused, role
        if row is not None:
            shown = client.get(reverse(f"{page}_change", args=[row.pk]))
            if role in ADMINISTRATORS:
                assert shown.status_code == 200, (role, shown.status_code)
                context = shown.context_data
                assert not (context["has_change_permission"] or context["has_add_permission"]), role
                assert not context["has_delete_permission"], role
            else:
                assert shown.status_code == 302, (role, shown.status_code)
            assert client.post(reverse(f"{page}_change", args=[row.pk]), posted).status_code == refused, role
            assert client.post(reverse(f"{page}_delete", args=[row.pk]), {"post": "yes"}).status_code == refused
            if role not in ADMINISTRATORS:  # actions call the services, which check the role: none for these
                for action in model_admin.actions or ():
                    name = action if isinstance(action, str) else action.__name__
                    selected = {"action": name, ACTION_CHECKBOX_NAME: [row.pk], "index": 0}
                    assert client.post(reverse(f"{page}_changelist"), selected).status_code == 302, (role, name)
        assert _state(model) == before, f"{opts.label}: the admin wrote as {role}"


# --- Imports and commands ---------------------------------------------------------------------------


SHEET_MODELS = {kind: {section.model for section in sheet().sections} for kind, sheet in SHEETS.items()}


def _import_kinds(model) -> list[str]:
    return [kind for kind, models_of in SHEET_MODELS.items() if model in models_of]


def _empty_sheet(kind: str) -> bytes:
    return template_csv(SHEETS[kind]())


ROLE_REFUSAL = "needs one of these roles"


def _cell(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _sheet_row(section, template) -> dict[str, str]:
    """The template row as a lab would type it under the section's headings (linked records by their codes)."""
    row = {}
    for column in section.columns:
        if column.field:
            value = getattr(template, column.field)
        else:
            link = next((link for link in section.links if link.columns == (column.key,)), None)
            value = getattr(getattr(template, link.field), "code", None) if link else None
        if value is not None and value != "" and not isinstance(value, models.Model | list | dict):
            row[column.heading] = _cell(value)
    return row


def _writing_sheet(model, lab, n: int) -> tuple[str, dict[str, str]]:
    """A sheet kind and one row of it that writes a new row of `model` into the lab (`n` keeps codes apart).

    The model's own sheet when its links are each named by one code: filled in from a factory row that is not
    saved (its linked rows are). Else the lineage sheet: a lineage row of its own (donor, cell line, priming,
    batch, steps, aliquots)."""
    own = [kind for kind in _import_kinds(model) if len(SHEETS[kind]().sections) == 1]
    section = SHEETS[own[0]]().sections[0] if own else None
    if section is None or any(len(link.columns) != 1 for link in section.links if link.required):
        row = lineage_row(20 * n + 1)
        row["Priming name"] = f"IFN-γ 25 ng/mL 48 h, series {n}"
        return "lineage", row
    linked = {}
    for link in section.links:
        if link.required:
            linked[link.field] = _row(model._meta.get_field(link.field).related_model, lab)
    return own[0], _sheet_row(section, _factory(model).build(lab=lab, **linked))


def _changed_cell(kind: str, model, role: str) -> tuple[str, str, str]:
    """(heading, field, new value): a free text of the model's section in the sheet, the role's own."""
    section = next(section for section in SHEETS[kind]().sections if section.model is model)
    by_field = {column.field: column for column in section.columns if column.field and column.field not in section.key}
    name, value = _text_change(model, {name: _model_field(model, name) for name in by_field}, role)
    return by_field[name].heading, name, value


def _import_file(model, kind: str, row: dict[str, str]) -> bytes:
    return filled_csv(kind, [row])


def _import_as(door: str, lab, user, kind: str, content: bytes, tmp_path) -> str:
    """Import the file for real through the door (the service, or the command); ALLOWED or REFUSED (by role)."""
    if door == "import":
        try:
            run = import_start(
                lab=lab, actor=user, kind=kind, filename=f"{kind}.csv", content=content, dry_run=False, run_here=True
            )
        except PermissionDenied:
            return REFUSED
        assert run.status == ImportStatus.COMMITTED, run.errors
        return ALLOWED
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content)
    try:
        call_command(
            "import_records", str(path), kind=kind, lab=lab.slug, actor=user.username, commit=True,
            stdout=io.StringIO(), stderr=(errors := io.StringIO()),
        )  # fmt: skip
    except CommandError as error:
        assert ROLE_REFUSAL in str(error), (str(error), errors.getvalue())
        return REFUSED
    return ALLOWED


@pytest.mark.parametrize("door", ["import", "command"])
@pytest.mark.parametrize("model", [m for m in LAB_OWNED if _import_kinds(m)], ids=lambda m: m._meta.label)
def test_imports_and_commands_obey_the_role_table(model, door, lab, cast, tmp_path):
    """An allowed role's sheet really writes: a new row of the model in the lab, then the same row imported
    again with a changed text changes it (matched by its codes). A refused role's import is refused before
    the file is read: nothing is written, not even an import run. An import never deletes."""
    answers = []
    for n, role in enumerate(ROLES):
        user = cast[role]
        kind, row = _writing_sheet(model, lab, n)
        before, runs = _state(model), ImportRun.objects.count()
        outcome = _import_as(door, lab, user, kind, _import_file(model, kind, row), tmp_path)
        new = _new_rows(model, before)
        if outcome == REFUSED:
            assert _state(model) == before and ImportRun.objects.count() == runs, f"a refused {door} wrote as {role}"
            answers += [("create", role, REFUSED, kind), ("update", role, REFUSED, kind)]
            continue
        assert new.exists() and set(new.values_list("lab_id", flat=True)) == {lab.pk}, (door, role, kind)
        heading, name, value = _changed_cell(kind, model, role)
        assert _import_as(door, lab, user, kind, _import_file(model, kind, {**row, heading: value}), tmp_path)
        changed = _new_rows(model, before)
        assert changed.count() == new.count(), f"{door} {kind}: the second import made new rows, not changes"
        assert changed.filter(**{name: value}).exists(), (door, role, kind, name)
        answers += [("create", role, ALLOWED, kind), ("update", role, ALLOWED, kind)]
    assert _check(model, door, answers) == []


@pytest.mark.parametrize("kind", list(SHEETS))
def test_every_sheet_is_refused_to_a_role_that_may_not_write(kind, lab, cast):
    """Whatever the sheet, the auditor (and a member of another lab) is refused before the file is read."""
    for role in ROLES:
        if role in WRITERS and role != "outsider":
            continue
        with pytest.raises(PermissionDenied, match=ROLE_REFUSAL):
            import_start(
                lab=lab, actor=cast[role], kind=kind, filename=f"{kind}.csv", content=_empty_sheet(kind), run_here=True
            )
    assert not ImportRun.objects.exists()
