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
    if dose_value is None:
        return None
    per_ml = {
        "cell_equivalents": ratios.get("cell_equivalents"),
        "particles": ratios.get("particles"),
        "ug_protein": ratios.get("ug_protein"),
    }.get(dose_unit)
    return dose_value / per_ml if per_ml else None


def _ratios(batch: dict) -> dict:
    ratios = {
        "cell_equivalents": t.safely(
            computations.cell_equivalents_per_ml, batch["cells_at_start"], batch["final_volume_ml"]
        )
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
    return {key: value for key, value in ratios.items() if t.finite(value) is not None}


def _conversions(row: dict, batch: dict | None) -> str:
    if batch is None:
        return ""
    ratios = _ratios(batch)
    if t.finite(row.get("dose_value")) is None or not row.get("dose_unit"):
        return ""
    volume_ml = t.finite(_dose_ml(row["dose_value"], row["dose_unit"], ratios))
    if volume_ml is None:
        return ""
    converted = []
    for unit in ("cell_equivalents", "particles", "ug_protein"):
        if unit == row["dose_unit"] or not ratios.get(unit):
            continue
        amount = t.finite(volume_ml * ratios[unit])
        if amount is not None:
            converted.append(f"{t.significant(amount)} {v.DOSE_UNIT[unit]}")
    return f" (≈ {t.join(converted)})" if converted else ""


def _relative_day(day: int) -> str:
    """'1 day before', '7 days after', 'on the day of' — relative to model induction."""
    if day == 0:
        return "on the day of"
    noun = "day" if abs(day) == 1 else "days"
    return f"{abs(day)} {noun} {'before' if day < 0 else 'after'}"


_EVERY = {("h", 1): "hourly", ("h", 24): "daily", ("days", 1): "daily", ("weeks", 1): "weekly", ("days", 7): "weekly"}
_UNIT_WORDS = {"h": ("h", "h"), "days": ("day", "days"), "weeks": ("week", "weeks")}


def frequency(interval, unit: str | None) -> str:
    """'daily', 'weekly', 'every 2 days', 'every 12 h'; '' when the interval is not recorded."""
    value = t.finite(interval)
    if not value or not unit:
        return ""
    whole = round(value) if float(value).is_integer() else None
    if whole is not None and (unit, whole) in _EVERY:
        return _EVERY[(unit, whole)]
    singular, plural = _UNIT_WORDS.get(unit, (unit, unit))
    return f"every {t.number(value)} {singular if value == 1 else plural}"


def days_text(days: list[int]) -> str:
    """'on days −1, 7 and 11', 'on day 3' — signed days relative to model induction."""
    shown = [t.number(day) for day in days]
    return f"on day {shown[0]}" if len(shown) == 1 else f"on days {t.join(shown)}"


def schedule_phrase(row: dict) -> str:
    """How often and when a group was dosed, from what was recorded; '' when nothing was."""
    days = sorted(row.get("schedule_days") or [])
    n_doses = row.get("n_doses")
    parts = []
    if days:
        count = n_doses if n_doses and n_doses != len(days) else len(days)
        lead = "as a single dose" if count == 1 else f"as {t.counted(count, 'dose')}"
        text = f"{lead} {days_text(days)} relative to model induction"
    else:
        if n_doses == 1:
            text = "as a single dose"
        elif n_doses:
            text = f"as {t.counted(n_doses, 'dose')}"
        else:
            text = ""
        every = frequency(row.get("interval"), row.get("interval_unit")) if n_doses != 1 else ""
        if every:
            text = f"{text} {every}".strip() if text else every
        day = row.get("day_after_induction")
        if day is not None:
            when = f"{_relative_day(day)} model induction"
            if when.startswith("on the day"):
                text = f"{text} starting {when}" if n_doses and n_doses > 1 else f"{text} {when}"
            elif n_doses and n_doses > 1:
                text = f"{text} starting {when}"
            else:
                text = f"{text} {when}"
        text = text.strip()
    if row.get("preventive") is True:
        parts.append("preventive")
    elif row.get("preventive") is False:
        parts.append("therapeutic")
    if text and parts:
        text += f" ({parts[0]})"
    elif parts:
        text = f"as a {parts[0]} treatment"
    return text


def _schedule(row: dict) -> str:
    return schedule_phrase(row)


def route_words(row: dict) -> str:
    """The route in prose; an 'other' route in the words recorded with it."""
    route = row.get("route")
    if route == "other" or (not route and row.get("route_details")):
        details = (row.get("route_details") or "").strip().rstrip(".")
        if not details:
            return "by another route"
        details = details[0].lower() + details[1:] if details[1:2].islower() else details
        first = details.split(" ", 1)[0].lower()
        if first.endswith("ly") or first in {"into", "onto", "to", "at", "via", "by", "through", "in", "under"}:
            return details
        return f"by {details}"
    return v.ROUTE.get(route, route or "")


def vehicle_words(row: dict) -> str:
    vehicle = row.get("vehicle")
    if vehicle == "other" or (not vehicle and row.get("vehicle_details")):
        return (row.get("vehicle_details") or "").strip().rstrip(".")
    return v.VEHICLE.get(vehicle, vehicle or "")


def _delivery(row: dict) -> str:
    """'intra-articularly into the left knee in a volume of 50 µL in 0.9 % saline'; only what was recorded."""
    route = route_words(row)
    site = row.get("site") or ""
    if site and row.get("route") in {"intra_articular", "intraplantar"}:
        route += f" into the {site}"
    elif site:
        route += f" ({site})" if route else f"at the {site}"
    parts = [route] if route else []
    if t.finite(row.get("volume_ul")) is not None:
        parts.append(f"in a volume of {t.quantity(row['volume_ul'], 'µL')}")
    vehicle = vehicle_words(row)
    if vehicle:
        parts.append(f"in {vehicle}")
    return " ".join(parts)


def dose_amount(row: dict) -> str:
    value = t.finite(row.get("dose_value"))
    unit = v.word(
        v.DOSE_UNIT, row.get("dose_unit"), row.get("dose_unit_details") if row.get("dose_unit") == "other" else ""
    )
    if value is None:
        return ""
    return t.quantity(value, unit) if unit else t.number(value)


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
    keys = (
        "route",
        "route_details",
        "site",
        "volume_ul",
        "vehicle",
        "vehicle_details",
        "n_doses",
        "interval",
        "interval_unit",
        "day_after_induction",
        "schedule_days",
        "preventive",
    )
    for key in keys:
        values = {repr(row.get(key)) for row in rows}
        if len(values) == 1 and rows:
            common[key] = rows[0].get(key)
    shared = rows and len(common) == len(keys)
    given = []
    for row in rows:
        batch = batches.get(row["batch"])
        if row["batch"] in mocks:
            product = "mock-control medium"
        else:
            product = v.PRODUCT.get(batch["product_type"], ("", "secretome"))[1] if batch else "secretome"
        amount = dose_amount(row)
        what = f"{amount}{_conversions(row, batch)} of {product}" if amount else product
        source = row["batch"] + (f", aliquot {row['aliquot']}" if row["aliquot"] else "")
        text = f"the {row['group']} group received {what} ({source})"
        if not shared:
            text += "".join(f", {x}" for x in (_delivery(row), _schedule(row)) if x)
        given.append(text)
    if given:
        sentence = t.sentence("; ".join(given))
        if shared:
            how = [x for x in (_delivery(rows[0]), _schedule(rows[0])) if x]
            if how:
                sentence = sentence[:-1] + f"; each was given {', '.join(how)}."
        sentences.append(sentence)
    vehicle_groups = [g.get("name", "") for g in groups if g.get("role") == "vehicle"]
    administered = {row["group"] for row in rows}
    vehicles = sorted({vehicle_words(row) for row in rows if vehicle_words(row)})
    for name in vehicle_groups:
        if name not in administered:
            vehicle = t.join(vehicles) if vehicles else "the vehicle"
            sentences.append(t.sentence(f"The {name} group received {vehicle} alone in the same volume and schedule"))
    eu_per_kg = []
    for row in rows:
        batch = batches.get(row["batch"])
        endotoxin = _ratios(batch).get("endotoxin_eu_per_ml") if batch else None
        if endotoxin is not None and row["body_weight_g"] and row["volume_ul"]:
            value = t.finite(
                t.safely(
                    computations.endotoxin_eu_per_kg, endotoxin, row["volume_ul"] / 1000, row["body_weight_g"] / 1000
                )
            )
            if value is not None:
                eu_per_kg.append(value)
    if eu_per_kg:
        sentences.append(
            t.sentence(
                f"The endotoxin dose was at most {t.quantity(t.rounded(max(eu_per_kg), 3), 'EU/kg')} per administration"
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


def _outcome_gaps(m, outcomes: list[dict]) -> str:
    """The outcome-measures marker naming what is missing: a primary outcome, a baseline, units or time points."""
    if not m.take_flag("oa_outcome_measures", ["study"]):
        return ""
    if not outcomes:
        return m.marker_for("oa_outcome_measures", ["study"], "outcome measures")
    missing = []
    if not any(row.get("is_primary") for row in outcomes):
        missing.append("which outcome was primary")
    if not any(row.get("baseline") for row in outcomes):
        missing.append("a baseline measurement")
    if any(not row.get("unit") for row in outcomes):
        missing.append("units of the outcome tests")
    if any(not row.get("time_points") for row in outcomes):
        missing.append("time points of the outcome tests")
    return m.marker_for("oa_outcome_measures", ["study"], t.join(missing)) if missing else ""


def pain_model_words(study: dict) -> str:
    """The pain model in prose; an 'other' model in the words recorded with it."""
    value = study.get("pain_model")
    details = (study.get("pain_model_details") or "").strip().rstrip(".")
    if value == "other" or not value:
        return details
    return v.PAIN_MODEL.get(value, value)


def outcome_test_words(row: dict) -> str:
    value = row.get("test")
    details = (row.get("test_details") or "").strip().rstrip(".")
    if value == "other" or not value:
        return details
    return v.OUTCOME_TEST.get(value, value)


def _timepoints(points: list) -> str:
    days = [t.number(p) if isinstance(p, int | float) else str(p) for p in points]
    return f"on days {t.join(days)}" if len(days) > 1 else f"on day {days[0]}" if days else ""


def outcomes(ctx: Context) -> list[str]:
    study = ctx.snapshot["study"]
    if study is None:
        return []
    m = ctx.markers
    paragraphs = []
    model = []
    name = pain_model_words(study)
    marker = m.take("oa_pain_model")
    if name:
        induction = f": {study['model_induction'].rstrip('.')}" if study["model_induction"] else ""
        model.append(t.sentence(_with(f"Pain was modelled by {name}{induction}", marker)))
    elif study["model_induction"]:
        model.append(t.sentence(_with(f"Model induction: {study['model_induction'].rstrip('.')}", marker)))
    elif marker:
        model.append(t.sentence(f"Pain model: {marker}"))
    measures = []
    for row in study["outcomes"]:
        test = outcome_test_words(row)
        if not test:
            continue
        inner = "; ".join(x for x in (row.get("unit") or "", "primary outcome" if row["is_primary"] else "") if x)
        measure = f"{test} ({inner})" if inner else test
        measures.append((measure, row))
    by_schedule: dict[tuple, list[str]] = {}
    for measure, row in measures:
        by_schedule.setdefault((row["baseline"], tuple(row["time_points"] or ())), []).append(measure)
    for (baseline, points), names in by_schedule.items():
        when = []
        if baseline:
            when.append("at baseline before induction")
        if points:
            when.append(f"{_timepoints(list(points))} after induction")
        model.append(t.sentence(f"We assessed {t.join(names)} {' and '.join(when)}".rstrip()))
    marker = _outcome_gaps(m, study["outcomes"])
    if marker:
        model.append(t.sentence(f"Outcome measures: {marker}") if not measures else marker)
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
