"""Reports packed by migration 0016 stay readable by today's storage, whatever it becomes.

Migration 0016 packs the reports a lab had before it with a frozen copy of the packing
(`batches/migrations/_reports_0016.py`), so that rerunning it on an old database does what it did then. Every
report it wrote is read through the live `batches.checklist.storage`; this holds the live reader to the frozen
writer on real evaluations, from a complete batch to one that records almost nothing.
"""

import json

import pytest

from batches.checklist import evaluate_batch, storage
from batches.checklist.results import json_default
from batches.migrations import _reports_0016 as frozen
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

pytestmark = pytest.mark.django_db


def _plain(results) -> list[dict]:
    return json.loads(json.dumps([r.as_dict() for r in results], default=json_default))


def test_reports_packed_by_migration_0016_read_back_unchanged_through_todays_storage(lab, technician):
    batches = [
        complete_batch(lab, technician, product_type="EV"),
        complete_batch(lab, technician, product_type="CM", priming_kind="hypoxia", phenotype={"CD73": 80.0}),
        f.SecretomeBatchFactory(lab=lab, product_type="CM", conditioning_volume_ml=None, collected_at=None),
    ]
    old = []
    for batch in batches:
        evaluation = evaluate_batch(batch)
        old.append((_plain(evaluation.items), _plain(evaluation.gates), batch.code))

    packed = frozen.pack_many(old)

    storage._BODIES.clear()
    bodies = storage.load_bodies(pk for _, explanations, _, _ in packed for pk in explanations)
    for (items, gates, code), (statuses, explanations, values, details) in zip(old, packed, strict=True):
        values, details = json.loads(json.dumps(values, default=str)), json.loads(json.dumps(details))
        assert storage.unpack(statuses, explanations, values, bodies, details) == (items, gates), code
    # A batch code and row ids were cut out of the texts, so the explanation rows are shared, not per batch.
    assert len(bodies) < sum(len(items) + len(gates) for items, gates, _ in old)
