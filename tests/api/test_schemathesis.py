"""Schemathesis drives every operation of the published schema, as a technician and as a reviewer, with
every check it has (server errors, status codes, content types, headers, response schemas, invalid data
accepted, valid data refused, missing headers, unsupported methods, auth, use after free, ...), one
operation at a time and then in its stateful phase: sequences along the links it infers from the schema.

Requests go through the WSGI application in this process, so they see the test database: a lab with
a complete batch and one of every record. Path ids, and the foreign keys in positive bodies, are drawn
from the lab's own rows, so detail routes, actions and writes are reached, not only 404s and 400s. The
runs are derandomized (the same cases on every machine) and sized to stay within minutes on two cores.
"""

import random

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from knox.models import AuthToken
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from batches.models import ChecklistReport
from lims.api.urls import router
from lims.wsgi import application
from protocols.models import Deviation, ProtocolVersion
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

pytestmark = [pytest.mark.django_db, pytest.mark.takes_minutes(3)]

# A schema states each field's type, range and presence; it cannot state a rule that joins two fields, another
# row or the record's state. A schema-valid request may break such a rule, and then the API answers 400 naming
# the field. These are those fields; a 400 on a schema-valid request naming any other field, or complaining
# about a type, a range, a missing value or a format, means the schema and the API disagree, and fails.
CROSS_RECORD_RULES = {
    "interval": "repeated doses need the interval and its unit (n_doses)",
    "n_donors": "a pooled donor comes from at least 2 donors (pooled)",
    "protocol_version": "the SOP version must be effective and of the record's category",
    "parent": "a passage or storage place cannot be its own parent",
    "reason": "a change to a submitted batch's records says why (the batch's state)",
    "status": "the record's state does not allow this (an effective version, a closed deviation)",
    "category": "a protocol with a published version keeps its category",
    "protocol": "a protocol has at most one draft",
    "against": "a diff compares two versions of the same protocol",
    "parameters": "an SOP parameter names a field of the record its category governs",
    "value": "a QC result has a numeric value or a qualitative result",
    "unit": "a numeric QC value needs its unit",
    "concentration_unit": "each priming agent is dosed in its own units",
    "code": "codes are unique in the lab",
    "name": "names are unique at their place",
    "batches": "a methods export names batches or a study, not both",
    "rows": "a box has rows and columns, a shelf has none (kind)",
    "columns": "a box has rows and columns, a shelf has none (kind)",
    "agent": "a priming condition lists each agent once",
    "reference_batch": "a batch is not its own reference",
    "number": "a cell line numbers its passages once each",
    "specification": "a QC specification applies to the result's assay and product type",
    "aliquot": "an administered aliquot comes from the administered batch",
    "harvested_on": "a passage is harvested on or after the day it was seeded (started_on)",
    "serum_percent": "a serum-free medium has no serum (serum_free)",
    "blockers": "a batch is released once every gate passes (its QC verified, its checklist complete)",
    "study": "a study is exported once it has administrations",
    "min_value": "a QC specification gives a minimum, a maximum or an expected result",
    "warn_max": "a warning range runs upwards (warn_min)",
    "max_value": "a range runs upwards (min_value)",
    "is_primary": "a study has one primary outcome measure",
    "spec_version": "a specification's version number is unique for its assay, analyte and product type",
    "collected_at": "a batch is collected on or after its producing passage was seeded (passage)",
    "mock_control": "a batch cannot be its own mock control (the record's id)",
    "file": "an uploaded file holds a sheet or an instrument export, not any bytes (its content)",
    "studies": "the studies exported are studies of your labs (other rows)",
    "receiver": "a shipment goes to a partner lab this lab ships to (other rows)",
    "after": "a list's cursor is one a page of that list gave (next_cursor), in its default order (ordering)",
    "plate_method": "a plate reader's file is read as bca or elisa (instrument)",
    "schedule_days": "dosing days are listed in order, each once (an order within the list)",
    "conditioning_time_h": "conditioning starts after the producing passage was harvested (passage)",
    "started_on": "a passage is seeded no later than the batches it produced were collected (other rows)",
    "performed_on": "QC is performed after its batch was collected and before it was administered (batch)",
    "administered_on": "a dose is given after its batch was collected and its QC performed (batch)",
    "order": "a batch numbers its processing steps once each (other rows)",
    "method": "each assay has its own methods (assay)",
    "justification": "a deviation is approved once it has been justified (the deviation's state)",
}
ORDER_RULE = "Must not be less than "
SHAPE_COMPLAINTS = (
    "must be between", "must be greater", "must be at least", "must be at most", "must be less", "ensure this",
    "is required", "may not be", "cannot be blank", "expected a ", "expected true", "not a valid", "valid integer",
    "valid number", "null characters", "write the day",
)  # fmt: skip


def _breaks_only_cross_record_rules(response) -> bool:
    try:
        errors = response.json()
    except ValueError:
        return False
    if response.status_code != 400 or not isinstance(errors, dict) or not errors:
        return False
    fields = {
        [part for part in key.split(".") if not part.isdigit()][-1]
        for key, messages in errors.items()
        # `x_max` not less than `x_min`, `harvested_on` not before `started_on`: an order between two fields.
        if not (isinstance(messages, list) and all(str(m).startswith(ORDER_RULE) for m in messages))
    }
    messages = " ".join(" ".join(value) for value in errors.values() if isinstance(value, list)).lower()
    return fields <= set(CROSS_RECORD_RULES) and not any(word in messages for word in SHAPE_COMPLAINTS)


def positive_data_acceptance_but_cross_record_rules(ctx, response, case):
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _breaks_only_cross_record_rules(response):
            return None
        raise


load_all_checks()
CHECKS = [
    positive_data_acceptance_but_cross_record_rules if check is positive_data_acceptance else check
    for check in REGISTERED_CHECKS.get_all()
]
# Modest on purpose: ~140 operations × 2 users × these counts must stay within a couple of minutes.
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 6, schemathesis.GenerationMode.NEGATIVE: 2}
# The stateful phase: scenarios of up to this many linked calls.
STATEFUL_SCENARIOS, STATEFUL_STEPS = 25, 6
TOKEN_ENDING_PATHS = {"/api/v1/auth/token/revoke/", "/api/v1/auth/token/revoke-all/"}

# Foreign keys in request bodies, by field name, and the collection their ids come from.
REFERENCES = {
    "batch": "batches",
    "batches": "batches",
    "mock_control": "batches",
    "reference_batch": "batches",
    "passage": "passages",
    "donor": "donors",
    "cell_line": "cell-lines",
    "priming": "primings",
    "study": "studies",
    "aliquot": "aliquots",
    "location": "storage-locations",
    "protocol": "protocols",
    "specification": "qc-specifications",
    "protocol_version": "protocol-versions",
    "against": "protocol-versions",
}
MEMBER_FIELDS = {"user", "performed_by", "operator"}
PASSWORD = "correct-horse-battery"  # every factory user's


@pytest.fixture
def wsgi_shares_the_test_connection():
    """Like Django's test client: the app must not close the connection that holds the test transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def stocked_lab(lab, technician, reviewer, auditor, lab_admin, outsider):
    """One of every record, in the cast's lab and in another lab."""
    batch = complete_batch(lab, technician)
    draft = f.ProtocolVersionFactory(lab=lab)
    effective = f.ProtocolVersionFactory(lab=lab)
    ProtocolVersion.objects.filter(pk=effective.pk).update(
        status="effective", approved_by=reviewer, approved_at=timezone.now()
    )
    Deviation.objects.create(
        lab=lab,
        batch=batch,
        protocol_version=draft,
        record_type="batch",
        record_id=batch.pk,
        parameter="conditioning_time_h",
        expected="24–48 h",
        actual="72 h",
    )
    ChecklistReport.objects.create(
        lab=lab, batch=batch, checklist_version="secretome-minimal-v1", score=88.0, fingerprint="f" * 64
    )
    f.StudyFactory(lab=lab)
    f.AdministrationFactory(lab=lab, batch=batch)
    f.OutcomeMeasureFactory(lab=lab)
    f.QCSpecificationFactory(lab=lab)
    f.StorageLocationFactory(lab=lab)
    f.SecretomeBatchFactory(lab=outsider.memberships.get().lab)
    return lab


class World:
    """The lab a run works in: its rows by collection, its members, and the acting user's token."""

    def __init__(self, lab, user):
        self.lab = lab
        self.user = user
        self.models = {f"/api/v1/{prefix}/": viewset.queryset.model for prefix, viewset, _ in router.registry}
        self.ids = {
            collection: list(model.objects.filter(lab=lab).values_list("pk", flat=True))
            for collection, model in self.models.items()
        }
        self.members = list(lab.memberships.values_list("user_id", flat=True))
        self.renew_token()

    def renew_token(self) -> None:
        self.token = AuthToken.objects.create(user=self.user)[1]

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def collection(self, path: str) -> str | None:
        return next((prefix for prefix in self.ids if path.startswith(prefix)), None)

    def point_at_real_rows(self, case, rnd, collection: str | None) -> None:
        """Make a positive case valid in what no schema can state: its ids name rows of the lab, its version is
        the row's current one, its password and user name are the acting user's."""
        if isinstance(case.query, dict):
            for key in list(case.query):
                ids = self.ids.get(f"/api/v1/{REFERENCES.get(key, '')}/")
                if ids:
                    case.query[key] = rnd.choice(ids)
        if not isinstance(case.body, dict):
            return
        for key, value in list(case.body.items()):
            ids = self.ids.get(f"/api/v1/{REFERENCES[key]}/") if key in REFERENCES else None
            if key == "parent" and collection:
                ids = self.ids.get(collection)
            if ids:
                case.body[key] = [rnd.choice(ids)] if isinstance(value, list) else rnd.choice(ids)
            elif key in MEMBER_FIELDS and self.members:
                case.body[key] = rnd.choice(self.members)
            elif key == "lab":
                case.body[key] = self.lab.pk
            elif key == "password":
                case.body[key] = PASSWORD
            elif key == "username":
                case.body[key] = self.user.get_username()
        record_id = (case.path_parameters or {}).get("id")
        if "version" in case.body and collection in self.models and record_id:
            model = self.models[collection]
            current = model.objects.filter(pk=record_id).values_list("version", flat=True).first()
            if current is not None:
                case.body["version"] = current


def _exercise(operation, mode, world: World, failures: dict, answered: dict) -> None:
    collection = world.collection(operation.path)
    id_choices = world.ids.get(collection, []) if collection else []
    path_ids = st.sampled_from([*id_choices, 0, 2**40]) if id_choices else st.just(2**40)

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), record_id=path_ids, rnd=st.randoms())
    def run(case, record_id, rnd):
        path_is_the_mistake = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
        if case.path_parameters and "id" in case.path_parameters and not path_is_the_mistake:
            case.path_parameters["id"] = record_id
        if mode == schemathesis.GenerationMode.POSITIVE:
            world.point_at_real_rows(case, rnd, collection)
        headers = world.headers()
        response = case.call(headers=headers)
        if operation.path in TOKEN_ENDING_PATHS:
            world.renew_token()
        answered.setdefault(operation.label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as failure:  # every check failure; one run reports them all
            failures.setdefault(f"{operation.label} [{mode}]", str(failure)[:2000])

    try:
        run()
    except Unsatisfiable:
        # An operation with nothing to get wrong (no parameters, no body) has no negative cases.
        assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label


@pytest.mark.parametrize("role", ["technician", "reviewer"])
def test_every_operation_keeps_its_schema_and_never_answers_5xx(
    request, wsgi_shares_the_test_connection, stocked_lab, role
):
    world = World(stocked_lab, request.getfixturevalue(role))
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100
    failures: dict[str, str] = {}
    answered: dict[str, set[int]] = {}
    for operation in operations:
        for mode in EXAMPLES:
            _exercise(operation, mode, world, failures, answered)
    assert not failures, "\n\n".join(f"{name}\n{message}" for name, message in sorted(failures.items()))
    assert set(answered) == {operation.label for operation in operations}
    reached = {label for label, codes in answered.items() if codes & {200, 201, 202, 204}}
    # The run must reach the operations, not only bounce off validation: most answer 2xx at least once.
    assert len(reached) >= 0.6 * len(operations), sorted(set(answered) - reached)


@pytest.mark.parametrize("role", ["technician", "reviewer"])
def test_sequences_along_the_schema_links_keep_every_check(request, wsgi_shares_the_test_connection, stocked_lab, role):
    """The stateful phase: a state machine whose transitions are the links schemathesis infers from the schema
    (create a batch, then read, update, submit or delete it with the id the first answer gave)."""
    world = World(stocked_lab, request.getfixturevalue(role))
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    machine = schema.as_state_machine()
    assert schema.statistic.transitions.total > 100
    rnd = random.Random(15)
    steps: list[tuple[str, int]] = []

    first_token = world.token

    class Workflow(machine):
        """Each scenario starts from the same rows (a savepoint rolled back after it), so a replay is exact."""

        def setup(self):
            super().setup()
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)
            world.token = first_token
            super().teardown()

        def before_call(self, case):
            if case.meta is None or case.meta.generation.mode.is_positive:
                world.point_at_real_rows(case, rnd, world.collection(case.operation.path))

        def get_call_kwargs(self, case):
            return {"headers": world.headers()}

        def after_call(self, response, case):
            super().after_call(response, case)
            steps.append((case.operation.label, response.status_code))
            if case.operation.path in TOKEN_ENDING_PATHS:
                world.renew_token()

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"), recorder=self.recorder)

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    followed = [label for label, status in steps if 200 <= status < 300]
    assert len(steps) >= STATEFUL_SCENARIOS and len(followed) >= len(steps) // 4, steps
