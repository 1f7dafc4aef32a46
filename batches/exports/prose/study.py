"""Dose and administration, outcomes and statistics — for a study's use of the batches."""

from batches import computations
from batches.choices import QC_NOT_COUNTED
from batches.exports import typography as t
from batches.exports import vocabulary as v
from batches.exports.prose.common import Context


def _with(text: str, marker: str) -> str:
    return f"{text} {marker}" if marker else text


def _animals(study: dict) -> str:
    plural = v.ANIMAL_PLURAL.get(study["species"], "animals") if study["species"] else "animals"
    sex = {"female": "Female", "male": "Male", "mixed": "Male and female"}.get(study["sex"], "")
    lead = " ".join(x for x in (sex, study["strain"], plural) if x)
    details = []
    ages = t.span((study["age_weeks_min"], study["age_weeks_max"]), "weeks")
    if ages:
        details.append(f"{ages} old")
    weights = t.span((study["weight_g_min"], study["weight_g_max"]), "g")
    if weights:
        details.append(weights)
    if study["supplier"]:
        details.append(study["supplier"])
    return f"{lead[0].upper() + lead[1:]}{' (' + '; '.join(details) + ')' if details else ''}"


def _dose_ml(dose_value: float, dose_unit: str, ratios: dict) -> float | None:
    """The product volume a dose corresponds to, when the batch has the ratio for its unit."""
    if dose_unit == "ml_cm":
        return dose_value
    per_ml = {
        "cell_equivalents": ratios.get("cell_equivalents"),
        "particles": ratios.get("particles"),
        "ug_protein": ratios.get("ug_protein"),
    }.get(dose_unit)
    return dose_value / per_ml if per_ml else None


def _ratios(batch: dict) -> dict:
    ratios = {
        "cell_equivalents": computations.cell_equivalents_per_ml(batch["cells_at_start"], batch["final_volume_ml"])
    }
    for result in batch["qc"]:
        if result["status"] in QC_NOT_COUNTED or result["value"] is None:
            continue
        if result["assay"] == "particle_concentration" and result["unit"] == "particles/mL":
            ratios.setdefault("particles", result["value"])
        if result["assay"] == "total_protein" and result["unit"] == "µg/mL":
            ratios.setdefault("ug_protein", result["value"])
        if result["assay"] == "endotoxin" and result["unit"] == "EU/mL":
            ratios.setdefault("endotoxin_eu_per_ml", result["value"])
    return ratios


def _conversions(row: dict, batch: dict | None) -> str:
    if batch is None:
        return ""
    ratios = _ratios(batch)
    volume_ml = _dose_ml(row["dose_value"], row["dose_unit"], ratios)
    if volume_ml is None:
        return ""
    converted = []
    for unit in ("cell_equivalents", "particles", "ug_protein"):
        if unit == row["dose_unit"] or not ratios.get(unit):
            continue
        converted.append(f"{t.significant(volume_ml * ratios[unit])} {v.DOSE_UNIT[unit]}")
    return f" (≈ {t.join(converted)})" if converted else ""


def _schedule(row: dict) -> str:
    if row["n_doses"] == 1:
        text = "as a single dose"
    else:
        interval = ""
        if row["interval"]:
            interval = f" every {t.quantity(row['interval'], v.INTERVAL_UNIT.get(row['interval_unit'], ''))}".rstrip()
        text = f"as {t.count_word(row['n_doses'])} doses{interval}"
    day = row["day_after_induction"]
    if day is not None:
        when = f"{abs(day)} days before" if day < 0 else f"{day} days after" if day != 1 else "1 day after"
        text += f" starting {when} model induction" if row["n_doses"] > 1 else f" {when} model induction"
    if row["preventive"] is True:
        text += " (preventive)"
    elif row["preventive"] is False:
        text += " (therapeutic)"
    return text


def _delivery(row: dict) -> str:
    route = v.ROUTE.get(row["route"], row["route"])
    site = f" into the {row['site']}" if row["site"] and row["route"] in {"intra_articular", "intraplantar"} else ""
    site = site or (f" ({row['site']})" if row["site"] else "")
    vehicle = f" in {v.VEHICLE[row['vehicle']]}" if row["vehicle"] else ""
    return f"{route}{site} in a volume of {t.quantity(row['volume_ul'], 'µL')}{vehicle}"


def dose(ctx: Context) -> list[str]:
    study = ctx.snapshot["study"]
    if study is None:
        return []
    m = ctx.markers
    batches = {b["code"]: b for b in ctx.batches}
    mocks = {b["code"] for b in ctx.mocks}
    sentences = [t.sentence(_with(f"{_animals(study)} were used", m.take("da_animals")))]
    groups = study["groups"] or []
    if groups:
        by_role: dict[str, list[str]] = {}
        for group in groups:
            by_role.setdefault(group.get("role", ""), []).append(group.get("name", ""))
        described = [
            f"{t.join(names)} ({v.GROUP_ROLE.get(role, role) or 'role not recorded'})"
            for role, names in by_role.items()
        ]
        sentences.append(t.sentence(f"The study had {t.counted(len(groups), 'group')}: {'; '.join(described)}"))
    rows = study["administrations"]
    common = {}
    for key in (
        "route",
        "site",
        "volume_ul",
        "vehicle",
        "n_doses",
        "interval",
        "interval_unit",
        "day_after_induction",
        "preventive",
    ):
        values = {repr(row[key]) for row in rows}
        if len(values) == 1 and rows:
            common[key] = rows[0][key]
    shared = rows and len(common) == 9
    given = []
    for row in rows:
        batch = batches.get(row["batch"])
        if row["batch"] in mocks:
            product = "mock-control medium"
        else:
            product = v.PRODUCT.get(batch["product_type"], ("", "secretome"))[1] if batch else "secretome"
        what = f"{t.quantity(row['dose_value'], v.DOSE_UNIT[row['dose_unit']])}{_conversions(row, batch)}"
        source = row["batch"] + (f", aliquot {row['aliquot']}" if row["aliquot"] else "")
        text = f"the {row['group']} group received {what} of {product} ({source})"
        if not shared:
            text += f", {_delivery(row)}, {_schedule(row)}"
        given.append(text)
    if given:
        sentence = t.sentence("; ".join(given))
        if shared:
            sentence = sentence[:-1] + f"; each was given {_delivery(rows[0])}, {_schedule(rows[0])}."
        sentences.append(sentence)
    vehicle_groups = [g.get("name", "") for g in groups if g.get("role") == "vehicle"]
    administered = {row["group"] for row in rows}
    vehicles = sorted({v.VEHICLE[row["vehicle"]] for row in rows if row["vehicle"]})
    for name in vehicle_groups:
        if name not in administered:
            vehicle = t.join(vehicles) if vehicles else "the vehicle"
            sentences.append(t.sentence(f"The {name} group received {vehicle} alone in the same volume and schedule"))
    eu_per_kg = []
    for row in rows:
        batch = batches.get(row["batch"])
        endotoxin = _ratios(batch).get("endotoxin_eu_per_ml") if batch else None
        if endotoxin is not None and row["body_weight_g"]:
            eu_per_kg.append(
                computations.endotoxin_eu_per_kg(endotoxin, row["volume_ul"] / 1000, row["body_weight_g"] / 1000)
            )
    if eu_per_kg:
        sentences.append(
            t.sentence(
                f"The endotoxin dose was at most {t.quantity(round(max(eu_per_kg), 4), 'EU/kg')} per administration"
            )
        )
    for item in ("da_dose", "da_route", "da_volume", "da_vehicle_controls", "da_schedule"):
        marker = m.take(item)
        if marker:
            sentences.append(marker)
    rest = m.rest("dose")
    if rest:
        sentences.append(rest)
    return [" ".join(sentences)]


def _timepoints(points: list) -> str:
    days = [str(p) for p in points]
    return f"on days {t.join(days)}" if len(days) > 1 else f"on day {days[0]}" if days else ""


def outcomes(ctx: Context) -> list[str]:
    study = ctx.snapshot["study"]
    if study is None:
        return []
    m = ctx.markers
    paragraphs = []
    model = []
    if study["pain_model"]:
        induction = f": {study['model_induction'].rstrip('.')}" if study["model_induction"] else ""
        model.append(
            t.sentence(f"Pain was modelled by {v.PAIN_MODEL.get(study['pain_model'], study['pain_model'])}{induction}")
        )
    marker = m.take("oa_pain_model")
    if marker:
        model.append(t.sentence(f"Pain model: {marker}"))
    measures = []
    for row in study["outcomes"]:
        primary = "; primary outcome" if row["is_primary"] else ""
        measure = f"{v.OUTCOME_TEST.get(row['test'], row['test'])} ({row['unit']}{primary})"
        measures.append((measure, row))
    by_schedule: dict[tuple, list[str]] = {}
    for measure, row in measures:
        by_schedule.setdefault((row["baseline"], tuple(row["time_points"])), []).append(measure)
    for (baseline, points), names in by_schedule.items():
        when = []
        if baseline:
            when.append("at baseline before induction")
        if points:
            when.append(f"{_timepoints(list(points))} after induction")
        model.append(t.sentence(f"We assessed {t.join(names)} {' and '.join(when)}".rstrip()))
    marker = m.take("oa_outcome_measures")
    if marker:
        model.append(t.sentence(f"Outcome measures: {marker}"))
    if model:
        paragraphs.append(" ".join(model))

    design = []
    if study["design"]:
        design.append(t.sentence(study["design"]))
    unit = v.EXPERIMENTAL_UNIT.get(study["experimental_unit"], "")
    if unit:
        design.append(t.sentence(f"The experimental unit was {unit}"))
    if study["n_per_group"]:
        design.append(t.sentence(f"Each group had n = {study['n_per_group']}"))
    if study["sample_size_rationale"]:
        design.append(t.sentence(study["sample_size_rationale"]))
    design.append(m.take("oa_design_sample_size"))
    if study["randomisation"]:
        design.append(t.sentence(f"Randomisation: {study['randomisation'][0].lower() + study['randomisation'][1:]}"))
    if study["blinding"]:
        design.append(t.sentence(f"Blinding: {study['blinding'][0].lower() + study['blinding'][1:]}"))
    design.append(m.take("oa_randomisation_blinding"))
    if study["inclusion_exclusion"]:
        design.append(t.sentence(study["inclusion_exclusion"]))
    if study["exclusions"]:
        design.append(t.sentence(study["exclusions"]))
    design.append(m.take("oa_inclusion_exclusion"))
    design = [x for x in design if x]
    if design:
        paragraphs.append(" ".join(design))

    closing = []
    if study["statistics"]:
        closing.append(t.sentence(f"Statistics: {study['statistics'][0].lower() + study['statistics'][1:]}"))
    closing.append(m.take("oa_statistics"))
    if study["tissue_analyses"]:
        closing.append(t.sentence(study["tissue_analyses"]))
    if study["adverse_events"]:
        closing.append(
            t.sentence(f"Adverse events: {study['adverse_events'][0].lower() + study['adverse_events'][1:]}")
        )
    if study["species"] == "human":
        if study["ethics_ref"]:
            closing.append(t.sentence(f"The study was approved under {study['ethics_ref']}"))
    else:
        arrive = ctx.refs.cite("arrive2020")
        approval = f"were approved under {study['ethics_ref']} and " if study["ethics_ref"] else ""
        closing.append(t.sentence(f"Animal procedures {approval}are reported following ARRIVE 2.0 {arrive}"))
    closing.append(m.rest("outcomes"))
    closing = [x for x in closing if x]
    paragraphs.append(" ".join(closing))
    return paragraphs
