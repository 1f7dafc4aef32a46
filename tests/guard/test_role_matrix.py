"""The role matrix: role × door × every lab-owned model × (create, update, delete).

DESIGN.md "Who may do what" is the contract: technicians, reviewers and lab admins create and edit their
lab's records; the auditor writes nothing anywhere; nobody writes into another lab; the Django admin is
read-only for lab records; records are retired, not deleted (a draft SOP version may be discarded).

The cases come from the model registry (every `LabOwnedModel`) and from each door's own registry (the API
router, the web's record kinds, the admin site, the import sheets), so a new model or a new route is in the
matrix without touching this file. A door that offers no way to make a change is "absent" for it, which
satisfies both an allowed and a refused expectation; a door that offers it must answer as the table says.
Each door's probe stops where the role decides: an empty create reaches validation (or is refused), an
update sends the current version and no change, so the matrix stays fast.
"""

import io

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from batches.imports.services import import_start
from batches.imports.sheets import SHEETS
from batches.imports.workbooks import template_csv
from batches.views.records import KINDS
from lims.api.urls import router
from lims.models import LabOwnedModel
from tests import factories as f

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


def _expected(model, action: str, role: str) -> str:
    allowed = DELETERS_OF.get(model._meta.label, frozenset()) if action == "delete" else None
    if allowed is None:
        allowed = WRITERS_OF.get(model._meta.label, WRITERS)
    return ALLOWED if role in allowed else REFUSED


def _factory(model):
    return getattr(f, f"{model.__name__}Factory", None)


@pytest.fixture
def cast(lab, technician, reviewer, auditor, lab_admin, outsider):
    return {
        "technician": technician,
        "reviewer": reviewer,
        "auditor": auditor,
        "lab_admin": lab_admin,
        "outsider": outsider,
    }


def _row(model, lab, performer=None):
    """A draft row of the model in the lab, made by its factory (None when it has none)."""
    factory = _factory(model)
    if factory is None:
        return None
    if performer is not None and any(field.name == "performed_by" for field in model._meta.fields):
        return factory(lab=lab, performed_by=performer)  # a member of the lab, as a saved record names
    return factory(lab=lab)


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


CREATE_BODIES = {"lims.Invitation": {"invitee": "new.member@example.org", "role": "technician"}}


def _create_body(model, viewset, lab) -> dict:
    """A complete, valid body for a new row: a factory's row read back through the route's serializer, with
    its unique codes renamed (the template row is made first, so every linked row exists in the lab)."""
    if model._meta.label in CREATE_BODIES:
        return {"lab": lab.pk, **CREATE_BODIES[model._meta.label]}
    template = _row(model, lab)
    serializer = viewset.serializer_class(template, context={"request": None})
    data = serializer.data
    body = {}
    for name, field in _writable(serializer).items():
        value = data.get(name)
        if value is None:
            continue
        model_field = _model_field(model, field.source)
        if model_field is not None and model_field.is_relation and model_field.related_model is User:
            continue  # a person of the template's making, not a member of the lab
        if (model_field is not None and model_field.unique) or name in _unique_together(model):
            if isinstance(value, int) and not model_field.is_relation:
                value += 100
            elif isinstance(value, str) and model_field.blank:
                continue
            elif isinstance(value, str):
                value = f"{value}-NEW"
        body[name] = value
    body["lab"] = lab.pk
    return body


def _harmless_change(model, viewset, row) -> tuple[str, str] | None:
    """An optional text field of the route's serializer and a new value for it (None: the route has none)."""
    serializer = viewset.serializer_class(row, context={"request": None})
    candidates = []
    for name, field in _writable(serializer).items():
        model_field = _model_field(model, field.source)
        if model_field is None or model_field.get_internal_type() not in ("TextField", "CharField"):
            continue
        if model_field.choices or model_field.unique or not model_field.blank or name in _unique_together(model):
            continue
        candidates.append((name not in ("notes", "details", "comment", "comments", "description"), name))
    if not candidates:  # no optional text: any free text of the record (a name) will do
        for name, field in _writable(serializer).items():
            model_field = _model_field(model, field.source)
            text = model_field is not None and model_field.get_internal_type() in ("TextField", "CharField")
            if text and not model_field.choices and not model_field.unique and name not in _unique_together(model):
                candidates.append((True, name))
    if not candidates:
        return None
    return min(candidates)[1], "changed by the role matrix"


# Routes whose allowed writes are still probed only to validation (the role let the request through: a 400 that
# does not refuse the lab): their complete bodies need more than a factory row read back (a partner lab, a
# shipment's aliquots, an instrument file, a second specification or SOP version; a storage location has no
# free text to change but its code).
PROBED_TO_VALIDATION = {
    "partner-lab", "qc-specification", "qc-result-import", "shipment",
    "storage-location", "protocol-version",
}  # fmt: skip


def _in_lab(model, lab) -> int:
    return model._default_manager.filter(lab=lab).count()


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
            shallow = basename in PROBED_TO_VALIDATION
            if "create" in offered:
                if shallow:
                    body = {"lab": lab.pk, **CREATE_BODIES.get(model._meta.label, {})}
                else:
                    body = _create_body(model, viewset, lab)
                before, in_lab = _state(model), _in_lab(model, lab)
                response = client.post(reverse(f"api:{basename}-list"), body, format=_post_format(viewset))
                if allowed["create"] and shallow and response.status_code == 400:
                    assert "lab" not in response.data and _state(model) == before, (role, response.data)
                elif allowed["create"]:
                    assert response.status_code == 201, (role, body, response.status_code, response.data)
                    assert _in_lab(model, lab) == in_lab + 1 and _state(model)[0] == before[0] + 1
                    assert model._default_manager.get(pk=response.data["id"]).lab_id == lab.pk
                else:  # refused by role, or (an outsider) told the lab is not one of theirs
                    refused = response.status_code in (403, 404) or "lab" in response.data
                    assert refused or (shallow and role == "outsider"), (role, response.data)
                    assert _state(model) == before, f"{model._meta.label}: a refused create wrote"
                answers.append(
                    (
                        "create",
                        role,
                        ALLOWED if response.status_code in (201, 400) and allowed["create"] else REFUSED,
                        "",
                    )
                )
            if row is None or not model._default_manager.filter(pk=row.pk).exists():
                row = _row(model, lab, performer=cast["technician"])  # the first, or the previous role discarded it
            if "update" in offered:
                change = None if shallow else _harmless_change(model, viewset, row)
                assert shallow or change is not None, f"{model._meta.label}: no optional text field to change"
                name, value = change or ("reason", REASON)
                before = _state(model)
                response = client.patch(
                    reverse(f"api:{basename}-detail", args=[row.pk]),
                    {"version": row.version, "reason": REASON, name: value},
                    format="json",
                )
                if allowed["update"] and shallow:
                    assert response.status_code == 200, (role, response.status_code, response.data)
                    assert _state(model) == before, f"{model._meta.label}: an update without a change wrote"
                elif allowed["update"]:
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


def _web_kinds(model) -> list[str]:
    return [slug for slug, kind in KINDS.items() if kind.model is model]


@pytest.mark.parametrize("model", [m for m in LAB_OWNED if _web_kinds(m)], ids=lambda m: m._meta.label)
def test_the_web_pages_obey_the_role_table(model, lab, cast, client):
    answers = []
    for slug in _web_kinds(model):
        row = _row(model, lab)
        for role in ROLES:
            client.force_login(cast[role])
            before = _state(model)
            if role != "outsider":  # a new-record page writes into the user's own lab (see the links test)
                response = client.post(reverse("batches:record-create", args=[slug]), {})
                outcome = {200: ALLOWED, 403: REFUSED}.get(response.status_code, f"HTTP {response.status_code}")
                answers.append(("create", role, outcome, response.status_code))
            edit = reverse("batches:record-edit", args=[slug, row.pk])
            # Inline validation checks the role exactly like a save and writes nothing.
            response = client.post(edit, {"_validate": "1", "_version": row.version})
            outcome = {200: ALLOWED, 403: REFUSED, 404: REFUSED}.get(response.status_code, str(response.status_code))
            answers.append(("update", role, outcome, response.status_code))
            client.generic("DELETE", edit)
            answers.append(
                ("delete", role, ABSENT if model._default_manager.filter(pk=row.pk).exists() else ALLOWED, "")
            )
            assert _state(model) == before, f"{model._meta.label}: the web wrote while probing as {role}"
    assert _check(model, "web", answers) == []


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


@pytest.mark.parametrize("model", [m for m in LAB_OWNED if m in admin.site._registry], ids=lambda m: m._meta.label)
def test_the_admin_writes_no_lab_record(model, lab, cast, client):
    """The admin is read-only for lab records whatever the role (even a staff auditor, as the old demo had)."""
    row = _row(model, lab) or model._default_manager.filter(lab=lab).first()
    opts = model._meta
    for role in ROLES:
        user = cast[role]
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        client.force_login(user)
        before = _state(model)
        client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), {"lab": lab.pk})
        if row is not None:
            client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]), {"lab": lab.pk})
            client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[row.pk]), {"post": "yes"})
        assert _state(model) == before, f"{opts.label}: the admin wrote as {role}"


# --- Imports and commands ---------------------------------------------------------------------------


def _import_kinds(model) -> list[str]:
    return [kind for kind, sheet in SHEETS.items() if any(section.model is model for section in sheet().sections)]


def _empty_sheet(kind: str) -> bytes:
    return template_csv(SHEETS[kind]())


ROLE_REFUSAL = "needs one of these roles"


@pytest.mark.parametrize("model", [m for m in LAB_OWNED if _import_kinds(m)], ids=lambda m: m._meta.label)
def test_imports_obey_the_role_table(model, lab, cast):
    answers = []
    for kind in _import_kinds(model):
        for role in ROLES:
            before = _state(model)
            try:
                import_start(
                    lab=lab,
                    actor=cast[role],
                    kind=kind,
                    filename=f"{kind}.csv",
                    content=_empty_sheet(kind),
                    run_here=True,
                )
                outcome = ALLOWED
            except ValidationError:
                outcome = ALLOWED  # the role let it through to the file's checks
            except PermissionDenied:
                outcome = REFUSED
            # An import creates and updates (matched by code); it never deletes.
            answers += [("create", role, outcome, kind), ("update", role, outcome, kind)]
            assert _state(model) == before
    assert _check(model, "import", answers) == []


@pytest.mark.parametrize("model", [m for m in LAB_OWNED if _import_kinds(m)], ids=lambda m: m._meta.label)
def test_commands_obey_the_role_table(model, lab, cast, tmp_path):
    answers = []
    for kind in _import_kinds(model)[:1]:
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(_empty_sheet(kind))
        for role in ROLES:
            before = _state(model)
            try:
                call_command(
                    "import_records", str(path), kind=kind, lab=lab.slug, actor=cast[role].username, commit=True,
                    stdout=io.StringIO(), stderr=io.StringIO(),
                )  # fmt: skip
                outcome = ALLOWED
            except CommandError as error:
                outcome = REFUSED if ROLE_REFUSAL in str(error) else ALLOWED  # refused by role, or by the file
            answers += [("create", role, outcome, kind), ("update", role, outcome, kind)]
            assert _state(model) == before
    assert _check(model, "command", answers) == []
