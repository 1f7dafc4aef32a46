"""factory_boy factories: one realistic, complete-enough record per model."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from batches import models as m
from lims.models import Lab, Membership, Role
from protocols import models as pm


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct-horse-battery")


class LabFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lab
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Lab {n}")
    slug = factory.Sequence(lambda n: f"lab-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    lab = factory.SubFactory(LabFactory)
    role = Role.TECHNICIAN


class LabOwnedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    lab = factory.SubFactory(LabFactory)


class DonorFactory(LabOwnedFactory):
    class Meta:
        model = m.Donor

    code = factory.Sequence(lambda n: f"D{n:03d}")
    species = "human"
    tissue_source = "bone_marrow"
    anatomical_site = "iliac crest"
    sex = "female"
    age_years = 34
    health_status = "healthy"
    pooled = False
    n_donors = 1
    genetically_modified = False
    ethics_approval_ref = "EC-2024-017"
    consent_obtained = True


class CellLineFactory(LabOwnedFactory):
    class Meta:
        model = m.CellLine

    donor = factory.SubFactory(DonorFactory, lab=factory.SelfAttribute("..lab"))
    code = factory.Sequence(lambda n: f"CL{n:03d}")
    isolation_method = "enzymatic"
    isolation_enzyme = "collagenase_i"
    isolation_enzyme_mg_per_ml = 1.0
    isolation_digestion_min = 60
    isolated_on = dt.date(2025, 1, 10)
    basal_medium = "alpha_mem"
    antibiotics = "pen_strep"
    supplement = "hpl"
    supplement_percent = 5
    supplement_lot = "HPL-2231"
    heparin_u_per_ml = 2
    culture_format = "2d"
    plastic_adherent = True


class ImmunophenotypeFactory(LabOwnedFactory):
    class Meta:
        model = m.Immunophenotype

    cell_line = factory.SubFactory(CellLineFactory, lab=factory.SelfAttribute("..lab"))
    marker = "CD73"
    percent_positive = 98.5
    passage_number = 3


class DifferentiationFactory(LabOwnedFactory):
    class Meta:
        model = m.Differentiation

    cell_line = factory.SubFactory(CellLineFactory, lab=factory.SelfAttribute("..lab"))
    lineage = "osteogenic"
    result = "positive"
    method = "alizarin_red"


class PassageFactory(LabOwnedFactory):
    class Meta:
        model = m.Passage

    cell_line = factory.SubFactory(CellLineFactory, lab=factory.SelfAttribute("..lab"))
    number = 3
    started_on = dt.date(2025, 2, 1)
    harvested_on = dt.date(2025, 2, 6)
    vessel = "t175"
    area_cm2 = 175
    cells_seeded = 875_000
    cells_harvested = 7_000_000
    viability_percent = 95
    confluence_percent = 85
    temperature_c = 37
    co2_percent = 5
    o2_percent = 21
    mycoplasma_result = "negative"


class PrimingConditionFactory(LabOwnedFactory):
    class Meta:
        model = m.PrimingCondition
        django_get_or_create = ("lab", "name")

    name = factory.Sequence(lambda n: f"No priming {n}")
    kind = "none"


class PrimingAgentFactory(LabOwnedFactory):
    class Meta:
        model = m.PrimingAgent

    priming = factory.SubFactory(PrimingConditionFactory, lab=factory.SelfAttribute("..lab"), kind="cytokine")
    agent = "ifn_gamma"
    concentration = 25
    concentration_unit = "ng/mL"
    exposure = 48
    exposure_unit = "h"


class SecretomeBatchFactory(LabOwnedFactory):
    class Meta:
        model = m.SecretomeBatch

    code = factory.Sequence(lambda n: f"SB-{n:04d}")
    passage = factory.SubFactory(PassageFactory, lab=factory.SelfAttribute("..lab"))
    priming = factory.SubFactory(PrimingConditionFactory, lab=factory.SelfAttribute("..lab"))
    product_type = "CM"
    intended_use = "in_vivo"
    confluence_start_percent = 80
    cells_at_start = 6_000_000
    conditioning_medium = "dmem_f12"
    serum_free = True
    conditioning_volume_ml = 20
    conditioning_time_h = 48
    conditioning_o2_percent = 21
    harvest_viability_percent = 92
    harvest_viable_cells = 6_400_000
    # Three days after the factory passage was harvested (conditioning up to 72 h), before the factory QC (10 Feb).
    collected_at = dt.datetime(2025, 2, 9, 10, 0, tzinfo=dt.UTC)
    final_volume_ml = 18


class ProcessingStepFactory(LabOwnedFactory):
    class Meta:
        model = m.ProcessingStep

    batch = factory.SubFactory(SecretomeBatchFactory, lab=factory.SelfAttribute("..lab"))
    order = factory.Sequence(lambda n: n + 1)
    kind = "centrifugation"
    g_force = 300
    duration_min = 10
    temperature_c = 4


class StorageLocationFactory(LabOwnedFactory):
    class Meta:
        model = m.StorageLocation

    name = factory.Sequence(lambda n: f"Box {n}")
    kind = "box"
    rows = 9
    columns = 9


class AliquotFactory(LabOwnedFactory):
    class Meta:
        model = m.Aliquot

    batch = factory.SubFactory(SecretomeBatchFactory, lab=factory.SelfAttribute("..lab"))
    code = factory.Sequence(lambda n: f"AL-{n:05d}")
    volume_ul = 500
    container = "cryovial"
    buffer = "as_collected"
    state = "frozen"
    temperature_c = -80
    freeze_thaw_count = 0


class QCSpecificationFactory(LabOwnedFactory):
    class Meta:
        model = m.QCSpecification

    assay = "endotoxin"
    max_value = 0.5
    warn_max = 0.25
    unit = "EU/mL"
    effective_from = dt.date(2024, 1, 1)


class QCResultFactory(LabOwnedFactory):
    class Meta:
        model = m.QCResult

    batch = factory.SubFactory(SecretomeBatchFactory, lab=factory.SelfAttribute("..lab"))
    assay = "total_protein"
    method = "bca"
    value = 120
    unit = "µg/mL"
    performed_on = dt.date(2025, 2, 10)
    performed_by = factory.SubFactory(UserFactory)


class StudyFactory(LabOwnedFactory):
    class Meta:
        model = m.Study

    title = factory.Sequence(lambda n: f"Study {n}")
    pain_model = "knee_oa_mia"
    species = "rat"
    strain = "Sprague-Dawley"
    sex = "male"


class AdministrationFactory(LabOwnedFactory):
    class Meta:
        model = m.Administration

    study = factory.SubFactory(StudyFactory, lab=factory.SelfAttribute("..lab"))
    batch = factory.SubFactory(SecretomeBatchFactory, lab=factory.SelfAttribute("..lab"))
    group = "CM"
    dose_value = 20
    dose_unit = "ug_protein"
    route = "intra_articular"
    site = "left knee"
    volume_ul = 50
    n_doses = 1


class OutcomeMeasureFactory(LabOwnedFactory):
    class Meta:
        model = m.OutcomeMeasure

    study = factory.SubFactory(StudyFactory, lab=factory.SelfAttribute("..lab"))
    test = "von_frey"
    unit = "g"
    time_points = [0, 7, 14, 21]
    baseline = True


class ProtocolFactory(LabOwnedFactory):
    class Meta:
        model = pm.Protocol

    code = factory.Sequence(lambda n: f"SOP-{n:03d}")
    title = "Conditioning of MSC"
    category = "conditioning"


class ProtocolVersionFactory(LabOwnedFactory):
    class Meta:
        model = pm.ProtocolVersion

    protocol = factory.SubFactory(ProtocolFactory, lab=factory.SelfAttribute("..lab"))
    number = 1
    body = "1. Wash cells twice with PBS.\n2. Add serum-free medium."

    class Params:
        # Published: what a step record may pin. Build drafts first and publish through the service
        # when a test is about publishing itself.
        effective = factory.Trait(
            status="effective",
            approved_by=factory.SubFactory(UserFactory),
            approved_at=factory.LazyFunction(timezone.now),
        )


class ProtocolParameterFactory(LabOwnedFactory):
    class Meta:
        model = pm.ProtocolParameter

    protocol_version = factory.SubFactory(ProtocolVersionFactory, lab=factory.SelfAttribute("..lab"))
    name = "conditioning_time_h"
    value_type = "number"
    unit = "h"
    default = "24"
    min_value = 24
    max_value = 24
