"""Reads everything a methods section needs, in a bounded number of queries, into plain JSON-ready data.

The snapshot holds natural keys (codes, names), never database ids or bookkeeping timestamps, so the
same records always give the same snapshot — and the same fingerprint — whichever database holds them.
"""

from collections.abc import Iterable

from django.db.models import Case, F, Prefetch, QuerySet, When

from batches import computations
from batches.models import (
    Administration,
    Aliquot,
    AliquotEvent,
    CellLine,
    Differentiation,
    Immunophenotype,
    OutcomeMeasure,
    Passage,
    PrimingAgent,
    ProcessingStep,
    QCResult,
    SecretomeBatch,
    Study,
)
from protocols.models import Deviation, ProtocolVersion


def _protocol_ref(version: ProtocolVersion | None) -> str | None:
    return None if version is None else f"{version.protocol.code} v{version.number}"


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def _recorded(record, names: tuple[str, ...]) -> dict:
    """Fields added after the export's first format version, only when recorded, so that records which do not
    use them keep the snapshot (and the fingerprint) they always had."""
    values = {}
    for name in names:
        value = getattr(record, name, None)
        if value is None or value == "" or value == []:
            continue
        values[name] = value
    return values


def batch_queryset() -> QuerySet[SecretomeBatch]:
    """Batches with every related row the export reads, each relation loaded in one query."""
    return SecretomeBatch.objects.select_related(
        "passage__cell_line__donor",
        "priming__protocol_version__protocol",
        "protocol_version__protocol",
        "mock_control",
    ).prefetch_related(
        Prefetch("priming__agents", queryset=PrimingAgent.objects.order_by("agent")),
        Prefetch(
            "processing_steps",
            queryset=ProcessingStep.objects.select_related("protocol_version__protocol").order_by("order"),
        ),
        Prefetch(
            "aliquots",
            queryset=Aliquot.objects.select_related("protocol_version__protocol")
            .prefetch_related(
                Prefetch("events", queryset=AliquotEvent.objects.filter(kind="used").order_by("at", "pk"))
            )
            .order_by("code"),
        ),
        Prefetch(
            "qc_results",
            queryset=QCResult.objects.select_related(
                "specification", "reference_batch", "protocol_version__protocol"
            ).order_by("assay", "sample", "analyte", "performed_on", "method", "pk"),
        ),
        Prefetch(
            "deviations",
            queryset=Deviation.objects.select_related("protocol_version__protocol").order_by(
                "parameter", "created_at", "pk"
            ),
        ),
    )


def _processing_step(step: ProcessingStep) -> dict:
    return {
        "order": step.order,
        "kind": step.kind,
        "g_force": step.g_force,
        "duration_min": step.duration_min,
        "temperature_c": step.temperature_c,
        "rotor": step.rotor,
        "k_factor": step.k_factor,
        "pore_size_um": step.pore_size_um,
        "mwco_kda": step.mwco_kda,
        "concentration_factor": step.concentration_factor,
        "final_volume_ml": step.final_volume_ml,
        "lyoprotectant": step.lyoprotectant,
        "lyoprotectant_mm": step.lyoprotectant_mm,
        "lyophilisation_cycle": step.lyophilisation_cycle,
        "residual_moisture_percent": step.residual_moisture_percent,
        "reconstitution": step.reconstitution,
        "reconstitution_volume_ml": step.reconstitution_volume_ml,
        "details": step.details,
        "protocol": _protocol_ref(step.protocol_version),
    }


def _aliquot(aliquot: Aliquot, collected_at) -> dict:
    used = [event for event in aliquot.events.all()]
    return {
        "code": aliquot.code,
        "volume_ul": aliquot.volume_ul,
        "container": aliquot.container,
        "buffer": aliquot.buffer,
        "state": aliquot.state,
        "temperature_c": aliquot.temperature_c,
        "freeze_thaw_count": aliquot.freeze_thaw_count,
        "status": aliquot.status,
        "storage_days_at_use": [
            round(days, 1)
            for days in (computations.storage_days(collected_at, event.at) for event in used)
            if days is not None
        ],
        "protocol": _protocol_ref(aliquot.protocol_version),
        **_recorded(aliquot, ("container_details", "buffer_details")),
    }


def _qc_result(result: QCResult) -> dict:
    spec = result.specification
    return {
        "assay": result.assay,
        "sample": result.sample,
        "analyte": result.analyte,
        "method": result.method,
        "instrument": result.instrument,
        "value": result.value,
        "unit": result.unit,
        "result_text": result.result_text,
        "performed_on": _iso(result.performed_on),
        "outcome": result.outcome,
        "status": result.status,
        "specification": None
        if spec is None
        else {
            "min_value": spec.min_value,
            "max_value": spec.max_value,
            "unit": spec.unit,
            "expected_text": spec.expected_text,
            "version": spec.spec_version,
        },
        "reference_batch": result.reference_batch.code if result.reference_batch_id else None,
        "acceptance_justification": result.acceptance_justification,
        "raw_data": result.raw_data,
        "protocol": _protocol_ref(result.protocol_version),
        **_recorded(result, ("assay_details", "method_details")),
    }


def _deviation(deviation: Deviation) -> dict:
    return {
        "protocol": _protocol_ref(deviation.protocol_version),
        "record_type": deviation.record_type,
        "record_label": deviation.record_label,
        "parameter": deviation.parameter,
        "expected": deviation.expected,
        "actual": deviation.actual,
        "justification": deviation.justification,
        "status": deviation.status,
    }


def _priming(priming) -> dict:
    return {
        "name": priming.name,
        "kind": priming.kind,
        "o2_percent": priming.o2_percent,
        "duration_h": priming.duration_h,
        "device": priming.device,
        "three_d_system": priming.three_d_system,
        "washout": priming.washout,
        "washes": priming.washes,
        "delay_to_conditioning_h": priming.delay_to_conditioning_h,
        "protocol": _protocol_ref(priming.protocol_version),
        **_recorded(priming, ("details",)),
        "agents": [
            {
                "agent": agent.agent,
                "concentration": agent.concentration,
                "concentration_unit": agent.concentration_unit,
                "exposure": agent.exposure,
                "exposure_unit": agent.exposure_unit,
                "supplier": agent.supplier,
                **_recorded(agent, ("agent_details",)),
            }
            for agent in priming.agents.all()
        ],
    }


def _batch(batch: SecretomeBatch) -> dict:
    return {
        "code": batch.code,
        "product_type": batch.product_type,
        "intended_use": batch.intended_use,
        "status": batch.status,
        "cell_line": batch.passage.cell_line.code,
        "passage_number": batch.passage.number,
        "priming": batch.priming.name if batch.priming_id else None,
        "protocol": _protocol_ref(batch.protocol_version),
        "confluence_start_percent": batch.confluence_start_percent,
        "cells_at_start": batch.cells_at_start,
        "conditioning_medium": batch.conditioning_medium,
        "conditioning_medium_details": batch.conditioning_medium_details,
        "serum_free": batch.serum_free,
        "serum_percent": batch.serum_percent,
        "ev_depletion_method": batch.ev_depletion_method,
        "conditioning_volume_ml": batch.conditioning_volume_ml,
        "conditioning_time_h": batch.conditioning_time_h,
        "conditioning_o2_percent": batch.conditioning_o2_percent,
        "harvest_viability_percent": batch.harvest_viability_percent,
        "harvest_viable_cells": batch.harvest_viable_cells,
        "final_volume_ml": batch.final_volume_ml,
        "mock_control": batch.mock_control.code if batch.mock_control_id else None,
        "ev_track_id": batch.ev_track_id,
        "data_repository_ids": batch.data_repository_ids,
        "processing": [_processing_step(step) for step in batch.processing_steps.all()],
        "aliquots": [_aliquot(aliquot, batch.collected_at) for aliquot in batch.aliquots.all()],
        "qc": [_qc_result(result) for result in batch.qc_results.all()],
        "deviations": [_deviation(deviation) for deviation in batch.deviations.all()],
        **_recorded(batch, ("ev_depletion_details", "used_fresh")),
    }


def _passage(passage: Passage, cumulative_pd: float | None) -> dict:
    return {
        "number": passage.number,
        "vessel": passage.vessel,
        "area_cm2": passage.area_cm2,
        "cells_seeded": passage.cells_seeded,
        "cells_harvested": passage.cells_harvested,
        "viability_percent": passage.viability_percent,
        "confluence_percent": passage.confluence_percent,
        "temperature_c": passage.temperature_c,
        "co2_percent": passage.co2_percent,
        "o2_percent": passage.o2_percent,
        "mycoplasma_result": passage.mycoplasma_result,
        "seeding_density_per_cm2": passage.seeding_density_per_cm2,
        "population_doublings": passage.population_doublings,
        "cumulative_population_doublings": cumulative_pd,
        "doubling_time_h": passage.doubling_time_h,
        "protocol": _protocol_ref(passage.protocol_version),
        **_recorded(passage, ("vessel_details",)),
    }


def _lineage_passages(batch_passages: Iterable[Passage]) -> dict[str, list[dict]]:
    """Every producing passage and its ancestors, per cell line, from one query over those cell lines."""
    producing = list(batch_passages)
    line_ids = {passage.cell_line_id for passage in producing}
    everything = {
        passage.pk: passage
        for passage in Passage.objects.filter(cell_line_id__in=line_ids).select_related(
            "cell_line", "protocol_version__protocol"
        )
    }
    kept: dict[int, Passage] = {}
    for passage in producing:
        node, seen = everything.get(passage.pk, passage), set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            kept[node.pk] = node
            node = everything.get(node.parent_id) if node.parent_id else None
    cumulative: dict[int, float | None] = {}

    def cumulative_pd(node: Passage, depth: int = 0) -> float | None:
        if node.pk in cumulative:
            return cumulative[node.pk]
        own = node.population_doublings
        parent = kept.get(node.parent_id) if node.parent_id else None
        if own is None or depth > len(kept):
            value = None
        elif parent is None:
            value = own
        else:
            before = cumulative_pd(parent, depth + 1)
            value = None if before is None else before + own
        cumulative[node.pk] = value
        return value

    per_line: dict[str, list[dict]] = {}
    for node in sorted(kept.values(), key=lambda p: (p.cell_line.code, p.number)):
        per_line.setdefault(node.cell_line.code, []).append(_passage(node, cumulative_pd(node)))
    return per_line


def _cell_line(line: CellLine, passages: list[dict]) -> dict:
    return {
        "code": line.code,
        "donor": line.donor.code,
        "isolation_method": line.isolation_method,
        "isolation_enzyme": line.isolation_enzyme,
        "isolation_enzyme_mg_per_ml": line.isolation_enzyme_mg_per_ml,
        "isolation_digestion_min": line.isolation_digestion_min,
        "isolation_details": line.isolation_details,
        "basal_medium": line.basal_medium,
        "basal_medium_details": line.basal_medium_details,
        "antibiotics": line.antibiotics,
        "supplement": line.supplement,
        "supplement_percent": line.supplement_percent,
        "supplement_lot": line.supplement_lot,
        "heparin_u_per_ml": line.heparin_u_per_ml,
        "culture_format": line.culture_format,
        "culture_format_details": line.culture_format_details,
        "plastic_adherent": line.plastic_adherent,
        "protocol": _protocol_ref(line.protocol_version),
        **_recorded(line, ("supplement_details", "antibiotics_details")),
        "immunophenotype": [
            {
                "marker": row.marker,
                "percent_positive": row.percent_positive,
                "passage_number": row.passage_number,
                "primed_with_ifng": row.primed_with_ifng,
                **_recorded(row, ("marker_details",)),
            }
            for row in line.immunophenotypes.all()
        ],
        "differentiation": [
            {
                "lineage": row.lineage,
                "result": row.result,
                "method": row.method,
                "passage_number": row.passage_number,
                **_recorded(row, ("method_details",)),
            }
            for row in line.differentiations.all()
        ],
        "passages": passages,
    }


def _donor(donor) -> dict:
    return {
        "code": donor.code,
        "species": donor.species,
        "tissue_source": donor.tissue_source,
        "anatomical_site": donor.anatomical_site,
        "sex": donor.sex,
        "age_years": donor.age_years,
        "health_status": donor.health_status,
        "health_details": donor.health_details,
        "pooled": donor.pooled,
        "n_donors": donor.n_donors,
        "supplier": donor.supplier,
        "catalogue_number": donor.catalogue_number,
        "lot": donor.lot,
        "ethics_approval_ref": donor.ethics_approval_ref,
        "consent_obtained": donor.consent_obtained,
        "genetically_modified": donor.genetically_modified,
        "modification_details": donor.modification_details,
        **_recorded(donor, ("tissue_source_details", "species_details")),
    }


def _study(study: Study) -> dict:
    return {
        "title": study.title,
        "pain_model": study.pain_model,
        "model_induction": study.model_induction,
        "species": study.species,
        "strain": study.strain,
        "sex": study.sex,
        "age_weeks_min": study.age_weeks_min,
        "age_weeks_max": study.age_weeks_max,
        "weight_g_min": study.weight_g_min,
        "weight_g_max": study.weight_g_max,
        "supplier": study.supplier,
        "design": study.design,
        "groups": study.groups,
        "experimental_unit": study.experimental_unit,
        "n_per_group": study.n_per_group,
        "sample_size_rationale": study.sample_size_rationale,
        "randomisation": study.randomisation,
        "blinding": study.blinding,
        "inclusion_exclusion": study.inclusion_exclusion,
        "exclusions": study.exclusions,
        "statistics": study.statistics,
        "tissue_analyses": study.tissue_analyses,
        "adverse_events": study.adverse_events,
        "ethics_ref": study.ethics_ref,
        **_recorded(study, ("pain_model_details", "species_details")),
        "administrations": [
            {
                "group": row.group,
                "batch": row.batch_code,
                "aliquot": _administered_aliquot(row),
                "dose_value": row.dose_value,
                "dose_unit": row.dose_unit,
                "route": row.route,
                "site": row.site,
                "volume_ul": row.volume_ul,
                "n_doses": row.n_doses,
                "interval": row.interval,
                "interval_unit": row.interval_unit,
                "day_after_induction": row.day_after_induction,
                "preventive": row.preventive,
                "vehicle": row.vehicle,
                "body_weight_g": row.body_weight_g,
                **_recorded(row, ("route_details", "vehicle_details", "dose_unit_details", "schedule_days")),
            }
            for row in study.administrations.all()
        ],
        "outcomes": [
            {
                "test": row.test,
                "unit": row.unit,
                "time_points": row.time_points,
                "baseline": row.baseline,
                "is_primary": row.is_primary,
                **_recorded(row, ("test_details",)),
            }
            for row in study.outcome_measures.all()
        ],
    }


def _administered_aliquot(row: Administration) -> str | None:
    if row.received_aliquot_id:
        return row.received_aliquot.code
    return row.aliquot.code if row.aliquot_id else None


def study_queryset() -> QuerySet[Study]:
    # A partner's batch is named as the provenance snapshot the receiving lab was shipped names it, so the
    # receiving lab's export never reads the producer's batch row.
    batch_code = Case(
        When(received_aliquot__isnull=True, then=F("batch__code")),
        default=F("received_aliquot__snapshot__batch_code"),
    )
    return Study.objects.prefetch_related(
        Prefetch(
            "administrations",
            queryset=Administration.objects.select_related("aliquot", "received_aliquot")
            .annotate(batch_code=batch_code)
            .order_by("group", "batch_code", "day_after_induction", "pk"),
        ),
        Prefetch("outcome_measures", queryset=OutcomeMeasure.objects.order_by("-is_primary", "test", "pk")),
    )


def protocol_versions(batches: Iterable[SecretomeBatch]) -> list[ProtocolVersion]:
    """Every SOP version the batches' records name, in one query, ordered by code and number."""
    ids: set[int] = set()
    for batch in batches:
        line = batch.passage.cell_line
        ids.update(
            pk
            for pk in (
                batch.protocol_version_id,
                batch.passage.protocol_version_id,
                line.protocol_version_id,
                batch.priming.protocol_version_id if batch.priming_id else None,
                *(step.protocol_version_id for step in batch.processing_steps.all()),
                *(aliquot.protocol_version_id for aliquot in batch.aliquots.all()),
                *(result.protocol_version_id for result in batch.qc_results.all()),
                *(deviation.protocol_version_id for deviation in batch.deviations.all()),
            )
            if pk is not None
        )
    return list(
        ProtocolVersion.objects.filter(pk__in=ids).select_related("protocol").order_by("protocol__code", "number")
    )


def _protocol(version: ProtocolVersion) -> dict:
    return {
        "ref": _protocol_ref(version),
        "code": version.protocol.code,
        "title": version.protocol.title,
        "category": version.protocol.category,
        "number": version.number,
        "status": version.status,
    }


def snapshot(*, batches: list[SecretomeBatch], study: Study | None = None) -> dict:
    """The export's inputs as plain data. `batches` must come from batch_queryset()."""
    batches = sorted(batches, key=lambda batch: batch.code)
    lines = {batch.passage.cell_line_id: batch.passage.cell_line for batch in batches}
    line_rows = (
        CellLine.objects.filter(pk__in=lines)
        .select_related("donor", "protocol_version__protocol")
        .prefetch_related(
            Prefetch("immunophenotypes", queryset=Immunophenotype.objects.order_by("marker", "passage_number", "pk")),
            Prefetch("differentiations", queryset=Differentiation.objects.order_by("lineage", "pk")),
        )
        .order_by("code")
    )
    passages = _lineage_passages(batch.passage for batch in batches)
    cell_lines = [_cell_line(line, passages.get(line.code, [])) for line in line_rows]
    donors = {line.donor.code: line.donor for line in line_rows}
    primings = {batch.priming.name: batch.priming for batch in batches if batch.priming_id}
    data = {
        "batches": [_batch(batch) for batch in batches],
        "cell_lines": cell_lines,
        "donors": [_donor(donors[code]) for code in sorted(donors)],
        "primings": [_priming(primings[name]) for name in sorted(primings)],
        "protocols": [_protocol(version) for version in protocol_versions(batches)],
        "study": None if study is None else _study(study),
    }
    signatures = _signatures(batches)
    if signatures:
        # Only when there are any, so records without signatures keep the fingerprint they always had.
        data["signatures"] = signatures
    return data


def _signatures(batches: list[SecretomeBatch]) -> list[dict]:
    """Electronic signatures on the batches and their QC results, as printed with the record (one query, and
    one more for the content types the first time a process asks)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    from lims.signatures import Signature, signature_manifestation

    codes = {batch.pk: batch.code for batch in batches}
    results = {result.pk: (codes[batch.pk], str(result)) for batch in batches for result in batch.qc_results.all()}
    types = ContentType.objects.get_for_models(SecretomeBatch, QCResult)
    batch_type, result_type = types[SecretomeBatch], types[QCResult]
    wanted = Q(content_type=batch_type, object_id__in=list(codes))
    if results:
        wanted |= Q(content_type=result_type, object_id__in=list(results))
    rows = []
    signatures = Signature.objects.filter(wanted).order_by("signed_at", "pk") if codes else []
    by_kind: dict[int, list] = {batch_type.pk: [], result_type.pk: []}
    for signature in signatures:
        by_kind.setdefault(signature.content_type_id, []).append(signature)
    for signature in by_kind[batch_type.pk]:
        code = codes[signature.object_id]
        rows.append({"batch": code, "record": f"batch {code}", "signature": signature_manifestation(signature)})
    for signature in by_kind[result_type.pk]:
        code, described = results[signature.object_id]
        rows.append(
            {"batch": code, "record": f"QC result {described}", "signature": signature_manifestation(signature)}
        )
    return rows


def study_batches(study: Study) -> list[SecretomeBatch]:
    """The study's own lab's batches it administered, loaded for the export (one query plus the prefetches).

    Batches received from a partner lab are described from their provenance snapshots instead
    (batches.exports.received)."""
    ids = sorted({row.batch_id for row in study.administrations.all() if not row.received_aliquot_id})
    return list(batch_queryset().filter(pk__in=ids, lab_id=study.lab_id).order_by("code"))
