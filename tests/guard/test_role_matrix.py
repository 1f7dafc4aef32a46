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
from django.core.exceptions import PermissionDenied, ValidationError
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


def _row(model, lab):
    """A draft row of the model in the lab, made by its factory (None when it has none)."""
    factory = _factory(model)
    return factory(lab=lab) if factory is not None else None


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


def _api_outcome(response, role: str, refused_codes=(403, 404)) -> str:
    if response.status_code in (200, 201, 204):
        return ALLOWED
    if response.status_code == 405:
        return ABSENT
    if response.status_code in refused_codes:
        return REFUSED
    if response.status_code == 400:
        # Validation was reached: a member's role let the request through, unless the lab itself was refused;
        # an outsider reaching validation wrote nothing into this lab (only a 2xx would have).
        return REFUSED if "lab" in response.data or role == "outsider" else ALLOWED
    return f"HTTP {response.status_code}"


# A body complete enough that only the role decides, for a door that checks the role after reading the body.
CREATE_BODIES = {"lims.Invitation": {"invitee": "new.member@example.org", "role": "technician"}}


def _post_format(viewset) -> str:
    media_types = {parser.media_type for parser in viewset.parser_classes}
    return "json" if "application/json" in media_types else "multipart"


@pytest.mark.parametrize("model", [m for m in LAB_OWNED if _api_routes(m)], ids=lambda m: m._meta.label)
def test_the_api_obeys_the_role_table(model, lab, cast):
    answers = []
    for basename, viewset in _api_routes(model):
        writes_rows = hasattr(viewset, "partial_update") or hasattr(viewset, "destroy")
        row = _row(model, lab) if writes_rows else None
        for role in ROLES:
            client = APIClient()
            client.force_authenticate(cast[role])
            before = _state(model)
            if hasattr(viewset, "create"):
                body = {"lab": lab.pk, **CREATE_BODIES.get(model._meta.label, {})}
                response = client.post(reverse(f"api:{basename}-list"), body, format=_post_format(viewset))
                answers.append(("create", role, _api_outcome(response, role), response.status_code))
                if response.status_code != 201:
                    assert _state(model) == before, f"{model._meta.label}: a refused create wrote"
            if row is not None and not model._default_manager.filter(pk=row.pk).exists():
                row = _row(model, lab)  # the previous role discarded it
            if hasattr(viewset, "partial_update"):
                assert row is not None, f"{model._meta.label} is updated through the API: give it a factory"
                before = _state(model)
                response = client.patch(
                    reverse(f"api:{basename}-detail", args=[row.pk]), {"version": row.version}, format="json"
                )
                answers.append(("update", role, _api_outcome(response, role), response.status_code))
                if response.status_code != 200:
                    assert _state(model) == before, f"{model._meta.label}: a refused update wrote"
            if hasattr(viewset, "destroy") and "delete" in viewset.http_method_names:
                assert row is not None, f"{model._meta.label} is deleted through the API: give it a factory"
                response = client.delete(reverse(f"api:{basename}-detail", args=[row.pk]))
                answers.append(("delete", role, _api_outcome(response, role), response.status_code))
                if response.status_code != 204:
                    assert model._default_manager.filter(pk=row.pk).exists()
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
