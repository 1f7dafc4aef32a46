"""Every resource of DESIGN.md keeps the same API contract (see tests/api/contract.py)."""

import pytest

from batches import models as m
from lims.models import Invitation, Membership
from protocols import models as pm
from tests import factories as f
from tests.api.contract import ResourceContract

pytestmark = pytest.mark.django_db


class TestDonors(ResourceContract):
    url = "/api/v1/donors/"
    model = m.Donor

    def make(self, lab, cast):
        return f.DonorFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {"code": "D-NEW", "species": "human", "tissue_source": "adipose", "anatomical_site": "abdomen"}

    def update_payload(self, instance):
        return {"anatomical_site": "posterior iliac crest", "age_years": 41.0}


class TestCellLines(ResourceContract):
    url = "/api/v1/cell-lines/"
    model = m.CellLine

    def make(self, lab, cast):
        return f.CellLineFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "donor": f.DonorFactory(lab=lab).pk,
            "code": "CL-NEW",
            "isolation_method": "explant",
            "basal_medium": "alpha_mem",
            "antibiotics": "pen_strep",
            "supplement": "hpl",
            "supplement_percent": 5.0,
        }

    def update_payload(self, instance):
        return {"supplement_lot": "HPL-9001"}

    def foreign_key_payload(self, lab, other_lab, cast):
        return {**self.create_payload(lab, cast), "donor": f.DonorFactory(lab=other_lab).pk}, "donor"


class TestImmunophenotypes(ResourceContract):
    url = "/api/v1/immunophenotypes/"
    model = m.Immunophenotype

    def make(self, lab, cast):
        return f.ImmunophenotypeFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "cell_line": f.CellLineFactory(lab=lab).pk,
            "marker": "CD90",
            "percent_positive": 99.1,
            "passage_number": 3,
        }

    def update_payload(self, instance):
        return {"percent_positive": 97.5}

    def foreign_key_payload(self, lab, other_lab, cast):
        return {**self.create_payload(lab, cast), "cell_line": f.CellLineFactory(lab=other_lab).pk}, "cell_line"


class TestDifferentiations(ResourceContract):
    url = "/api/v1/differentiations/"
    model = m.Differentiation

    def make(self, lab, cast):
        return f.DifferentiationFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "cell_line": f.CellLineFactory(lab=lab).pk,
            "lineage": "adipogenic",
            "result": "positive",
            "method": "oil_red_o",
        }

    def update_payload(self, instance):
        return {"result": "weak"}


class TestPassages(ResourceContract):
    url = "/api/v1/passages/"
    model = m.Passage

    def make(self, lab, cast):
        return f.PassageFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "cell_line": f.CellLineFactory(lab=lab).pk,
            "number": 2,
            "started_on": "2025-03-01",
            "harvested_on": "2025-03-05",
            "vessel": "t75",
            "area_cm2": 75.0,
            "cells_seeded": 375000,
            "cells_harvested": 3000000,
        }

    def update_payload(self, instance):
        return {"confluence_percent": 90.0}

    def foreign_key_payload(self, lab, other_lab, cast):
        return {**self.create_payload(lab, cast), "cell_line": f.CellLineFactory(lab=other_lab).pk}, "cell_line"


class TestPrimings(ResourceContract):
    url = "/api/v1/primings/"
    model = m.PrimingCondition

    def make(self, lab, cast):
        return f.PrimingConditionFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "name": "IFN-γ + TNF-α 24 h",
            "kind": "cytokine",
            "duration_h": 24.0,
            "washout": True,
            "agents": [
                {"agent": "ifn_gamma", "concentration": 25.0, "concentration_unit": "ng/mL", "exposure": 24.0},
                {"agent": "tnf_alpha", "concentration": 10.0, "concentration_unit": "ng/mL", "exposure": 24.0},
            ],
        }

    def update_payload(self, instance):
        return {"duration_h": 48.0}


class TestBatches(ResourceContract):
    url = "/api/v1/batches/"
    model = m.SecretomeBatch

    def make(self, lab, cast):
        return f.SecretomeBatchFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "code": "SB-NEW",
            "passage": f.PassageFactory(lab=lab).pk,
            "priming": f.PrimingConditionFactory(lab=lab).pk,
            "product_type": "EV",
            "intended_use": "in_vitro",
            "conditioning_time_h": 48.0,
        }

    def update_payload(self, instance):
        return {"final_volume_ml": 17.5}

    def foreign_key_payload(self, lab, other_lab, cast):
        return {**self.create_payload(lab, cast), "passage": f.PassageFactory(lab=other_lab).pk}, "passage"


class TestProcessingSteps(ResourceContract):
    url = "/api/v1/processing-steps/"
    model = m.ProcessingStep

    def make(self, lab, cast):
        return f.ProcessingStepFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "batch": f.SecretomeBatchFactory(lab=lab).pk,
            "order": 1,
            "kind": "filtration",
            "pore_size_um": 0.22,
        }

    def update_payload(self, instance):
        return {"duration_min": 15.0}

    def foreign_key_payload(self, lab, other_lab, cast):
        return {**self.create_payload(lab, cast), "batch": f.SecretomeBatchFactory(lab=other_lab).pk}, "batch"


class TestStorageLocations(ResourceContract):
    url = "/api/v1/storage-locations/"
    model = m.StorageLocation

    def make(self, lab, cast):
        return f.StorageLocationFactory(lab=lab)

    def create_payload(self, lab, cast):
        freezer = f.StorageLocationFactory(lab=lab, name="Freezer 2", kind="freezer", rows=None, columns=None)
        return {"name": "Rack A", "kind": "rack", "parent": freezer.pk}

    def update_payload(self, instance):
        return {"name": "Box renamed"}

    def foreign_key_payload(self, lab, other_lab, cast):
        freezer = f.StorageLocationFactory(lab=other_lab, name="Their freezer", kind="freezer", rows=None, columns=None)
        return {"name": "Rack B", "kind": "rack", "parent": freezer.pk}, "parent"


class TestAliquots(ResourceContract):
    url = "/api/v1/aliquots/"
    model = m.Aliquot

    def make(self, lab, cast):
        return f.AliquotFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "batch": f.SecretomeBatchFactory(lab=lab).pk,
            "code": "AL-NEW",
            "volume_ul": 250.0,
            "container": "cryovial",
            "state": "frozen",
            "temperature_c": -80.0,
            "location": f.StorageLocationFactory(lab=lab).pk,
            "position": "B3",
        }

    def update_payload(self, instance):
        return {"status": "reserved"}

    def foreign_key_payload(self, lab, other_lab, cast):
        return {**self.create_payload(lab, cast), "location": f.StorageLocationFactory(lab=other_lab).pk}, "location"


class TestQCSpecifications(ResourceContract):
    url = "/api/v1/qc-specifications/"
    model = m.QCSpecification
    writer = "reviewer"
    wrong_role = "technician"

    def make(self, lab, cast):
        return f.QCSpecificationFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "assay": "total_protein",
            "product_type": "CM",
            "min_value": 50.0,
            "warn_min": 80.0,
            "unit": "µg/mL",
            "effective_from": "2025-01-01",
        }

    def update_payload(self, instance):
        return {"warn_max": 0.3}


class TestQCResults(ResourceContract):
    url = "/api/v1/qc-results/"
    model = m.QCResult

    def make(self, lab, cast):
        return f.QCResultFactory(lab=lab, performed_by=cast["technician"])

    def create_payload(self, lab, cast):
        return {
            "batch": f.SecretomeBatchFactory(lab=lab).pk,
            "assay": "endotoxin",
            "method": "lal_kinetic",
            "value": 0.1,
            "unit": "EU/mL",
            "performed_on": "2025-02-11",
        }

    def update_payload(self, instance):
        return {"value": 130.0}

    def foreign_key_payload(self, lab, other_lab, cast):
        return {**self.create_payload(lab, cast), "batch": f.SecretomeBatchFactory(lab=other_lab).pk}, "batch"


class TestStudies(ResourceContract):
    url = "/api/v1/studies/"
    model = m.Study

    def make(self, lab, cast):
        return f.StudyFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "title": "CM in MIA knee OA",
            "pain_model": "knee_oa_mia",
            "species": "rat",
            "groups": [{"name": "CM", "role": "treatment"}, {"name": "Vehicle", "role": "vehicle"}],
        }

    def update_payload(self, instance):
        return {"n_per_group": 8}


class TestAdministrations(ResourceContract):
    url = "/api/v1/administrations/"
    model = m.Administration

    def make(self, lab, cast):
        return f.AdministrationFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "study": f.StudyFactory(lab=lab).pk,
            "batch": f.SecretomeBatchFactory(lab=lab).pk,
            "group": "CM",
            "dose_value": 20.0,
            "dose_unit": "ug_protein",
            "route": "intra_articular",
            "volume_ul": 50.0,
        }

    def update_payload(self, instance):
        return {"day_after_induction": 7}

    def foreign_key_payload(self, lab, other_lab, cast):
        return {**self.create_payload(lab, cast), "study": f.StudyFactory(lab=other_lab).pk}, "study"


class TestOutcomeMeasures(ResourceContract):
    url = "/api/v1/outcome-measures/"
    model = m.OutcomeMeasure

    def make(self, lab, cast):
        return f.OutcomeMeasureFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {"study": f.StudyFactory(lab=lab).pk, "test": "von_frey", "unit": "g", "time_points": [0, 7, 14]}

    def update_payload(self, instance):
        return {"time_points": [0, 7, 14, 28]}


class TestProtocols(ResourceContract):
    url = "/api/v1/protocols/"
    model = pm.Protocol

    def make(self, lab, cast):
        return f.ProtocolFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {"code": "SOP-CM-010", "title": "Serum-free conditioning", "category": "conditioning"}

    def update_payload(self, instance):
        return {"title": "Serum-free conditioning, 48 h"}


class TestProtocolVersions(ResourceContract):
    url = "/api/v1/protocol-versions/"
    model = pm.ProtocolVersion

    def make(self, lab, cast):
        return f.ProtocolVersionFactory(lab=lab)

    def create_payload(self, lab, cast):
        return {
            "protocol": f.ProtocolFactory(lab=lab).pk,
            "body": "1. Wash twice with PBS.\n2. Add 20 mL serum-free medium.",
            "parameters": [
                {"name": "conditioning_time_h", "value_type": "number", "unit": "h", "min_value": 24, "max_value": 72}
            ],
        }

    def update_payload(self, instance):
        return {"change_summary": "Clarified the wash step."}

    def foreign_key_payload(self, lab, other_lab, cast):
        return {**self.create_payload(lab, cast), "protocol": f.ProtocolFactory(lab=other_lab).pk}, "protocol"


def _deviation(lab):
    version = f.ProtocolVersionFactory(lab=lab)
    batch = f.SecretomeBatchFactory(lab=lab)
    return pm.Deviation.objects.create(
        lab=lab,
        batch=batch,
        protocol_version=version,
        record_type="batch",
        record_id=batch.pk,
        parameter="conditioning_time_h",
        expected="24–48 h",
        actual="72 h",
    )


class TestDeviations(ResourceContract):
    url = "/api/v1/deviations/"
    model = pm.Deviation
    read_only = True

    def make(self, lab, cast):
        return _deviation(lab)


class TestChecklistReports(ResourceContract):
    url = "/api/v1/checklist-reports/"
    model = m.ChecklistReport
    read_only = True
    versioned = False

    def make(self, lab, cast):
        batch = f.SecretomeBatchFactory(lab=lab)
        return m.ChecklistReport.objects.create(
            lab=lab,
            batch=batch,
            checklist_version="secretome-minimal-v1",
            score=72.5,
            score_by_category={"cell source": 100.0},
            items=[],
            gates=[],
            fingerprint=f"{batch.pk:064x}",
        )


class TestMemberships(ResourceContract):
    url = "/api/v1/memberships/"
    model = Membership
    writer = "lab_admin"
    wrong_role = "technician"
    versioned = False

    def make(self, lab, cast):
        return f.MembershipFactory(lab=lab, role="technician")

    def create_payload(self, lab, cast):
        return {"username": f.UserFactory().username, "role": "auditor"}

    def update_payload(self, instance):
        return {"role": "reviewer"}

    def test_it_creates_a_record_in_the_users_only_lab(self, api, lab, cast):
        # A member is added by invitation (README, API changes): the answer is the pending invitation.
        response = api(cast[self.writer]).post(self.url, self.create_payload(lab, cast), format="json")
        assert response.status_code == 201, response.data
        assert response.data["lab"] == lab.pk
        assert Invitation.objects.get(pk=response.data["id"]).status == "pending"


def test_every_resource_of_the_design_has_a_contract():
    resources = {
        "donors", "cell-lines", "passages", "primings", "batches", "processing-steps", "aliquots",
        "storage-locations", "qc-specifications", "qc-results", "studies", "administrations", "protocols",
        "protocol-versions", "deviations", "checklist-reports",
    }  # fmt: skip
    tested = {cls.url.split("/")[3] for cls in ResourceContract.__subclasses__()}
    assert resources <= tested
