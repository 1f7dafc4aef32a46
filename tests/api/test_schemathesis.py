"""Schemathesis drives every operation of the published schema, as a technician and as a reviewer.

Requests go through the WSGI application in this process, so they see the test database: a lab with
a complete batch and one of every record. Path ids, and most foreign keys in generated bodies, are
drawn from the lab's own rows (and from ids that do not exist), so detail routes, actions and
writes are reached, not only 404s and 400s. Any 5xx, any status code the schema does not list, or
any body that breaks its response schema fails the test, naming the operation and the request.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from batches.models import ChecklistReport
from lims.api.urls import router
from lims.wsgi import application
from protocols.models import Deviation, ProtocolVersion
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Modest on purpose: ~140 operations × 2 users × these counts must stay within a couple of minutes.
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 6, schemathesis.GenerationMode.NEGATIVE: 2}
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
        """Most of the time, make the ids of a positive case name rows of the lab, with their current version."""
        if rnd.random() < 0.2:
            return
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
        if case.path_parameters and "id" in case.path_parameters:
            case.path_parameters["id"] = record_id
        if mode == schemathesis.GenerationMode.POSITIVE:
            world.point_at_real_rows(case, rnd, collection)
        response = case.call(headers=world.headers())
        if operation.path in TOKEN_ENDING_PATHS:
            world.renew_token()
        answered.setdefault(operation.label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
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
