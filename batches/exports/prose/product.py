"""Secretome production, processing, storage, and quality control and characterisation of the product."""

from batches import computations
from batches.choices import QC_NOT_COUNTED
from batches.exports import typography as t
from batches.exports import vocabulary as v
from batches.exports.prose.common import Context, by_value, codes_text, deviations

PRODUCT_ORDER = ("CM", "CONC", "EV", "EVD", "LYO")
EV_PRODUCTS = {"EV", "EVD"}
NAMED_MEDIA = {"commercial_msc", "commercial_serum_free", "other"}


def _with(text: str, marker: str) -> str:
    return f"{text} {marker}" if marker else text


def _short(batch: dict) -> str:
    return v.PRODUCT.get(batch["product_type"], ("", batch["product_type"]))[1]


def _medium_phrase(batch: dict) -> str:
    medium = v.medium(batch["conditioning_medium"], batch["conditioning_medium_details"])
    details = batch["conditioning_medium_details"]
    if details and batch["conditioning_medium"] and batch["conditioning_medium"] not in NAMED_MEDIA:
        medium += f" ({details})"
    if batch["serum_free"] is True:
        return f"serum-free {medium}" if medium else "serum-free medium"
    if batch["serum_free"] is False:
        serum = f"{t.quantity(batch['serum_percent'], '%')} (v/v) " if batch["serum_percent"] is not None else ""
        depletion = v.word(v.EV_DEPLETION, batch["ev_depletion_method"], batch.get("ev_depletion_details"))
        if batch["ev_depletion_method"] == "other" and depletion:
            depletion = f"serum depleted of EVs by {depletion[:1].lower() + depletion[1:]}"
        return f"{medium or 'medium'} with {serum}{depletion or 'serum'}"
    return medium


def production(ctx: Context) -> list[str]:
    m = ctx.markers
    rows = ctx.products
    if not rows:
        return []
    sentences = []

    def value_and_gap(key: str, unit: str, item: str, label: str) -> tuple[str, str]:
        """The recorded values of a field across the products, and the marker for those without one."""
        text = by_value(rows, key, unit)
        missing = [b["code"] for b in rows if b[key] is None or b[key] == ""]
        gap = (m.take(item, missing) or m.unflagged(label, missing)) if missing else ""
        return text, gap

    confluence, confluence_gap = value_and_gap(
        "confluence_start_percent", "%", "sp_confluence_start", "confluence at start of conditioning"
    )
    cells, cells_gap = value_and_gap("cells_at_start", "cells", "sp_cells_at_start", "cells at start of conditioning")
    start = [f"at {confluence} confluence" if confluence else "", f"with {cells}" if cells else ""]
    gaps = " ".join(x for x in (confluence_gap, cells_gap) if x)
    if any(start):
        sentences.append(t.sentence(_with(f"Conditioning started {' '.join(x for x in start if x)}", gaps)))
    elif gaps:
        sentences.append(t.sentence(f"Start of conditioning: {gaps}"))

    groups: dict[str, list[str]] = {}
    for batch in rows:
        phrase = _medium_phrase(batch)
        if phrase:
            groups.setdefault(phrase, []).append(batch["code"])
    medium = t.join([t.annotate(text, ctx.which(codes).strip(" ()")) for text, codes in groups.items()], "or")
    medium_gap = ""
    unrecorded_medium = [b["code"] for b in rows if not b["conditioning_medium"] or b["serum_free"] is None]
    if unrecorded_medium:
        medium_gap = m.take("sp_conditioning_medium", unrecorded_medium)
        if not medium_gap and not groups:
            medium_gap = m.unflagged("conditioning medium", unrecorded_medium)
    volume, volume_gap = value_and_gap("conditioning_volume_ml", "mL", "sp_conditioning_volume", "conditioning volume")
    ratios = [
        t.safely(computations.ml_per_million_cells, b["conditioning_volume_ml"], b["cells_at_start"]) for b in rows
    ]
    ratios = [t.rounded(x, 2) for x in ratios if x is not None]
    ratio = f" ({t.span(ratios, 'mL')} per 10⁶ cells)" if ratios else ""
    time, time_gap = value_and_gap("conditioning_time_h", "h", "sp_conditioning_time", "conditioning time")
    oxygen, oxygen_gap = value_and_gap("conditioning_o2_percent", "% O₂", "sp_conditioning_o2", "conditioning O₂")
    text = "Cells were washed and conditioned"
    if volume:
        text += f" in {volume}{ratio} of {medium or 'medium'}"
    elif medium:
        text += f" in {medium}"
    if time:
        text += f" for {time}"
    if oxygen:
        text += f" at {oxygen}"
    gaps = " ".join(x for x in (medium_gap, volume_gap, time_gap, oxygen_gap) if x)
    sentences.append(t.sentence(_with(text, gaps)))

    viability = [b["harvest_viability_percent"] for b in rows if b["harvest_viability_percent"] is not None]
    viable = [b["harvest_viable_cells"] for b in rows if b["harvest_viable_cells"] is not None]
    harvest = []
    if viability:
        harvest.append(f"cell viability was {t.summary(viability, '%')}")
    if viable:
        harvest.append(f"viable cells numbered {t.summary(viable)}")
    unrecorded = [
        b["code"] for b in rows if b["harvest_viability_percent"] is None or b["harvest_viable_cells"] is None
    ]
    harvest_marker = m.take("sp_harvest_viability", unrecorded) if unrecorded else ""
    if harvest:
        sentences.append(t.sentence(_with(f"At harvest, {' and '.join(harvest)}", harvest_marker)))
    elif harvest_marker:
        sentences.append(t.sentence(f"Harvest: {harvest_marker}"))

    products = []
    for product_type in PRODUCT_ORDER:
        group = [b for b in rows if b["product_type"] == product_type]
        if not group:
            continue
        name, abbreviation = v.PRODUCT.get(product_type, (product_type, ""))
        details = [abbreviation] if abbreviation else []
        if ctx.multi():
            details.append(codes_text(b["code"] for b in group))
        volume = t.span((b["final_volume_ml"] for b in group), "mL")
        if volume:
            details.append(f"final volume {volume}")
        equivalents = [
            t.safely(computations.cell_equivalents_per_ml, b["cells_at_start"], b["final_volume_ml"]) for b in group
        ]
        equivalents_text = t.span((x for x in equivalents if x is not None), "cell equivalents/mL")
        if equivalents_text:
            details.append(equivalents_text)
        products.append(f"{name}{' (' + '; '.join(details) + ')' if details else ''}")
    lead = "The product was" if len(rows) == 1 else "The products were"
    sentences.append(t.sentence(_with(f"{lead} {t.join(products)}", m.take("sp_product_type"))))

    if ctx.mocks:
        details = sorted({b["conditioning_medium_details"] for b in ctx.mocks if b["conditioning_medium_details"]})
        what = details[0] if len(details) == 1 else "unconditioned medium processed identically"
        sentences.append(t.sentence(f"As mock control, {what} was used ({codes_text(b['code'] for b in ctx.mocks)})"))
    else:
        controls = sorted({b["mock_control"] for b in rows if b["mock_control"]})
        if controls:
            sentences.append(
                t.sentence(
                    f"Unconditioned medium processed identically served as mock control ({codes_text(controls)})"
                )
            )
    protocols = sorted({b["protocol"] for b in rows if b["protocol"]})
    if protocols:
        sentences.append(t.sentence(f"Conditioning followed {t.join(protocols)}"))
    sentences.append(deviations(ctx, {"batch"}))
    sentences.append(
        t.sentence(f"The production of the secretome is reported according to MISEV2023 {ctx.refs.cite('misev2023')}")
    )
    rest = m.rest("production")
    if rest:
        sentences.append(rest)
    return [" ".join(s for s in sentences if s)]


# --- processing -------------------------------------------------------------------------------
def _spin(step: dict) -> str:
    parts = []
    if step["g_force"]:
        parts.append(f"at {t.g_force(step['g_force'])}")
    if step["duration_min"]:
        parts.append(f"for {t.quantity(step['duration_min'], 'min')}")
    if step["temperature_c"] is not None:
        parts.append(f"at {t.temperature(step['temperature_c'])}")
    return (" " + " ".join(parts)) if parts else ""


def _details(step: dict, extra: list[str] | None = None) -> str:
    items = [x for x in (extra or []) if x]
    if step["details"]:
        items.append(step["details"].rstrip("."))
    return f" ({'; '.join(items)})" if items else ""


def step_phrase(step: dict) -> str:
    """One processing step as a noun phrase: 'centrifugation at 300 × g for 10 min at 4 °C'."""
    kind = step["kind"]
    if kind == "filtration":
        pore = f" through a {t.quantity(step['pore_size_um'], 'µm')} filter" if step["pore_size_um"] else ""
        return f"filtration{pore}{_details(step)}"
    if kind in {"ultrafiltration", "tff"}:
        name = "ultrafiltration" if kind == "ultrafiltration" else "tangential flow filtration"
        fold = (
            f"{t.number(step['concentration_factor'])}-fold concentration by " if step["concentration_factor"] else ""
        )
        extra = [f"{t.quantity(step['mwco_kda'], 'kDa')} MWCO" if step["mwco_kda"] else ""]
        text = f"{fold}{name}{_spin(step)}{_details(step, extra)}"
        if step["final_volume_ml"]:
            text += f" to {t.quantity(step['final_volume_ml'], 'mL')}"
        return text
    if kind == "ultracentrifugation":
        extra = [
            f"{step['rotor']} rotor" if step["rotor"] else "",
            f"k-factor {t.number(step['k_factor'])}" if step["k_factor"] else "",
        ]
        text = f"ultracentrifugation{_spin(step)}{_details(step, extra)}"
        if step["final_volume_ml"]:
            text += f", with the pellet resuspended in {t.quantity(step['final_volume_ml'], 'mL')}"
        return text
    if kind == "lyophilisation":
        protectant = ""
        if step["lyoprotectant"] and step["lyoprotectant"] != "none":
            amount = f"{t.quantity(step['lyoprotectant_mm'], 'mM')} " if step["lyoprotectant_mm"] else ""
            name = v.word(
                v.LYOPROTECTANT, step["lyoprotectant"], step["details"] if step["lyoprotectant"] == "other" else ""
            )
            protectant = f" with {amount}{name or 'a lyoprotectant'}"
        elif step["lyoprotectant"] == "none":
            protectant = " without lyoprotectant"
        extra = [f"cycle: {step['lyophilisation_cycle']}" if step["lyophilisation_cycle"] else ""]
        if step["residual_moisture_percent"] is not None:
            extra.append(f"residual moisture {t.quantity(step['residual_moisture_percent'], '%')}")
        text = f"lyophilisation{protectant}{_details(step, extra)}"
        if step["reconstitution"]:
            volume = (
                f"{t.quantity(step['reconstitution_volume_ml'], 'mL')} " if step["reconstitution_volume_ml"] else ""
            )
            vehicle = v.word(v.RECONSTITUTION, step["reconstitution"], "") if step["reconstitution"] != "other" else ""
            text += f", with reconstitution in {volume}{vehicle}" if vehicle else ", with reconstitution"
        return text
    if kind == "other":
        return step["details"].rstrip(".") if step["details"] else "a further step"
    name = {"density_gradient": "density-gradient separation", "sec": "size-exclusion chromatography"}.get(
        kind, v.processing_kind(kind)
    )
    return f"{name}{_spin(step)}{_details(step)}"


PROCESSING_ITEMS = {
    "CM": ("sp_preclearing",),
    "CONC": ("sp_preclearing", "sp_concentration"),
    "EV": ("sp_preclearing", "sp_ev_separation"),
    "EVD": ("sp_preclearing", "sp_ev_separation"),
    "LYO": ("sp_preclearing", "sp_concentration", "sp_lyophilisation"),
}


def processing(ctx: Context) -> list[str]:
    m = ctx.markers
    rows = ctx.batches
    steps = {b["code"]: [step_phrase(step) for step in b["processing"]] for b in rows}
    processed = [b for b in rows if steps[b["code"]]]
    sentences = []
    prefix: list[str] = []
    if processed:
        prefix = list(steps[processed[0]["code"]])
        for batch in processed[1:]:
            own = steps[batch["code"]]
            length = 0
            while length < min(len(prefix), len(own)) and prefix[length] == own[length]:
                length += 1
            prefix = prefix[:length]
    if len(processed) > 1 and prefix:
        whose = "all batches" if len(processed) == len(rows) else codes_text(b["code"] for b in processed)
        sentences.append(
            t.sentence(f"The conditioned medium of {whose} was processed in this order: {'; '.join(prefix)}")
        )
    remainders: dict[tuple[str, ...], list[dict]] = {}
    for batch in processed:
        rest = tuple(steps[batch["code"]][len(prefix) if len(processed) > 1 else 0 :])
        if rest:
            remainders.setdefault(rest, []).append(batch)
    for rest, group in remainders.items():
        codes = [b["code"] for b in group]
        kinds = t.join(sorted({_short(b) for b in group}))
        if len(processed) > 1 and prefix:
            text = f"For {codes_text(codes)} ({kinds}), processing continued with: {'; '.join(rest)}"
        elif ctx.multi():
            text = f"The conditioned medium of {codes_text(codes)} ({kinds}) was processed in this order: "
            text += "; ".join(rest)
        elif len(rest) == 1:
            text = f"The conditioned medium was processed by {rest[0]}"
        else:
            text = f"The conditioned medium was processed in this order: {'; '.join(rest)}"
        markers = " ".join(x for x in (m.take(item, codes) for item in _items_for(group)) if x)
        sentences.append(_with(t.sentence(text), markers))
    unprocessed = [b for b in rows if not steps[b["code"]]]
    if unprocessed:
        codes = [b["code"] for b in unprocessed]
        markers = " ".join(x for x in (m.take(item, codes) for item in _items_for(unprocessed)) if x)
        whose = f" of {codes_text(codes)}" if len(rows) > 1 else ""
        sentences.append(t.sentence(f"Processing{whose}: {markers or 'no steps recorded'}"))
    protocols = sorted({step["protocol"] for b in rows for step in b["processing"] if step["protocol"]})
    if protocols:
        sentences.append(t.sentence(f"Processing followed {t.join(protocols)}"))
    sentences.append(deviations(ctx, {"processing_step"}))
    sentences = [s for s in sentences if s]
    rest = m.rest("processing")
    if rest:
        sentences.append(rest)
    return [" ".join(sentences)] if sentences else []


def _items_for(batches: list[dict]) -> list[str]:
    items: list[str] = []
    for batch in batches:
        for item in PROCESSING_ITEMS.get(batch["product_type"], ("sp_preclearing",)):
            if item not in items:
                items.append(item)
    return items


# --- storage ----------------------------------------------------------------------------------
def _aliquot_phrase(aliquot: dict) -> str:
    """'aliquots of 500 µL in cryovials (as collected) were frozen and stored at −80 °C'; only what was recorded."""
    container = aliquot["container"]
    if container == "other" or (not container and aliquot.get("container_details")):
        container = (aliquot.get("container_details") or "").rstrip(".")
    else:
        container = v.CONTAINER.get(container, container or "")
    buffer = aliquot["buffer"]
    if buffer == "other" or (not buffer and aliquot.get("buffer_details")):
        buffer = (aliquot.get("buffer_details") or "").rstrip(".")
    else:
        buffer = v.BUFFER.get(buffer, buffer or "")
    text = "aliquots"
    if t.finite(aliquot["volume_ul"]) is not None:
        text += f" of {t.quantity(aliquot['volume_ul'], 'µL')}"
        if aliquot["state"] == "lyophilised":
            text += " (before drying)"
    if container:
        text += f" in {container}"
    if buffer:
        text += f" ({buffer})" if container else f" {buffer}"
    state = aliquot["state"]
    kept = {
        "fresh": "were kept fresh",
        "frozen": "were frozen and stored",
        "lyophilised": "were stored lyophilised",
    }.get(state, f"were stored ({state})" if state else "were stored")
    text += f" {kept}"
    if t.finite(aliquot["temperature_c"]) is not None:
        text += f" at {t.temperature(aliquot['temperature_c'])}"
    return text


def storage(ctx: Context) -> list[str]:
    m = ctx.markers
    rows = ctx.batches
    groups: dict[tuple[str, ...], list[str]] = {}
    empty = []
    for batch in rows:
        phrases = tuple(sorted({_aliquot_phrase(a) for a in batch["aliquots"]}))
        if phrases:
            groups.setdefault(phrases, []).append(batch["code"])
        else:
            empty.append(batch["code"])
    sentences = []
    for phrases, codes in groups.items():
        sentences.append(t.sentence(f"{t.join(list(phrases), 'or')}{ctx.which(codes, rows)}"))
    fresh = [b["code"] for b in rows if b.get("used_fresh") is True]
    if fresh:
        whose = ctx.which(fresh, rows)
        sentences.append(
            t.sentence(f"The product{whose} was used fresh, within hours of collection, and was never frozen")
        )
    aliquots = [a for b in rows for a in b["aliquots"]]
    counted = [a["freeze_thaw_count"] for a in aliquots if a["freeze_thaw_count"] is not None]
    if counted:
        cycles = max(counted)
        if cycles == 0:
            sentences.append("No aliquot had been through a freeze–thaw cycle.")
        else:
            sentences.append(t.sentence(f"Aliquots had been through at most {t.counted(cycles, 'freeze–thaw cycle')}"))
    days = [d for a in aliquots for d in a["storage_days_at_use"]]
    if days:
        sentences.append(t.sentence(f"Aliquots were used after {t.span(days, 'days')} of storage"))
    empty = [code for code in empty if code not in fresh]
    if empty:
        markers = " ".join(x for x in (m.take(item, empty) for item in ("st_state", "st_temperature")) if x)
        whose = f" of {codes_text(empty)}" if len(rows) > 1 else ""
        sentences.append(t.sentence(f"Storage{whose}: {markers or 'no aliquots recorded'}"))
    protocols = sorted({a["protocol"] for a in aliquots if a["protocol"]})
    if protocols:
        sentences.append(t.sentence(f"Storage followed {t.join(protocols)}"))
    sentences.append(deviations(ctx, {"aliquot"}))
    sentences = [s for s in sentences if s]
    rest = m.rest("storage")
    if rest:
        sentences.append(rest)
    return [" ".join(sentences)] if sentences else []


# --- quality control and characterisation --------------------------------------------------------
ASSAY_ORDER = (
    "sterility",
    "endotoxin",
    "mycoplasma",
    "total_protein",
    "residual_bsa",
    "particle_concentration",
    "particle_size",
    "ev_marker",
    "contaminant_marker",
    "imaging",
    "ev_depletion",
    "cytokine",
    "proteomics",
    "potency",
)
ASSAY_ITEM = {
    "sterility": "qc_sterility",
    "endotoxin": "qc_endotoxin",
    "mycoplasma": "qc_mycoplasma",
    "total_protein": "qc_total_protein",
    "potency": "qc_potency",
    "particle_concentration": "ch_particle_conc",
    "particle_size": "ch_size_distribution",
    "ev_marker": "ch_ev_positive_markers",
    "contaminant_marker": "ch_negative_markers",
    "imaging": "ch_single_ev_imaging",
    "cytokine": "ch_soluble_profile",
    "proteomics": "ch_soluble_profile",
    "ev_depletion": "ch_ev_depletion_check",
}
SAMPLE = {"product": "the product", "cells": "the producing cells"}


PLURAL_ASSAYS = {"ev_marker", "contaminant_marker", "cytokine"}


def _was(assay: str) -> str:
    return "were" if assay in PLURAL_ASSAYS else "was"


def _by(method: str) -> str:
    return f" by {method}" if method else ""


def assay_words(assay: str, results: list[dict]) -> str:
    """The assay in prose; an 'other' assay in the words recorded with it."""
    if assay == "other":
        details = sorted({(r.get("assay_details") or "").rstrip(".") for r in results} - {""})
        return t.join(details) or "another assay"
    return v.ASSAY.get(assay, assay)


def _method(code: str, results: list[dict] | None = None) -> str:
    """The method in words, with the instruments recorded for it: 'nanoparticle tracking analysis (NTA;
    NanoSight NS300)'."""
    details = sorted({r.get("method_details") or "" for r in results or () if r["method"] == code} - {""})
    if code == "other" or (not code and details):
        name = t.join([d.rstrip(".") for d in details]) or "another method"
    else:
        name = v.QC_METHOD.get(code, code) or ""
    if not name:
        return ""
    instruments = sorted(
        {r["instrument"].strip() for r in results or () if r["method"] == code and r.get("instrument")}
    )
    return t.annotate(name, t.join(instruments)) if instruments else name


ANALYTE_ORDER = {"mode": 0, "mean": 1, "D10": 2, "D50": 3, "D90": 4}


def _qualitative(ctx: Context, assay: str, results: list[tuple[str, dict]]) -> str:
    """'sterility by automated blood culture (BacT/ALERT) was negative'."""
    parts = []
    by_method: dict[tuple[str, str], dict[str, list[str]]] = {}
    for code, result in results:
        key = (result["sample"], result["method"])
        by_method.setdefault(key, {}).setdefault(result["result_text"] or "", []).append(code)
    for (sample, method), outcomes in sorted(by_method.items(), key=lambda kv: (kv[0][0] != "cells", kv[0])):
        sample_text = f" of {SAMPLE.get(sample, 'the sample')}" if assay == "mycoplasma" else ""
        verdicts = [
            f"{v.RESULT_TEXT.get(text, text) or 'tested (result not recorded)'}{ctx.which(codes)}"
            for text, codes in sorted(outcomes.items())
        ]
        rows = [r for _c, r in results]
        parts.append(
            f"{assay_words(assay, rows)}{sample_text}{_by(_method(method, rows))} {_was(assay)} "
            f"{t.join(verdicts, 'and')}"
        )
    return "; ".join(parts)


def _markers_found(ctx: Context, assay: str, results: list[tuple[str, dict]]) -> str:
    """'by western blot, CD63, CD81 and TSG101 were detected (SB-2)'."""
    rows = [r for _c, r in results]
    methods = sorted({_method(r["method"], rows) for r in rows})
    outcome: dict[tuple[bool, tuple[str, ...]], list[str]] = {}
    per_analyte: dict[tuple[str, bool], set[str]] = {}
    for code, result in results:
        if not result["analyte"] or not result["result_text"]:
            continue
        found = result["result_text"] in {"detected", "positive"}
        per_analyte.setdefault((result["analyte"], found), set()).add(code)
    for (analyte, found), codes in sorted(per_analyte.items(), key=lambda kv: kv[0][0].lower()):
        outcome.setdefault((found, tuple(sorted(codes))), []).append(analyte)
    clauses = []
    for (found, codes), analytes in sorted(outcome.items(), key=lambda kv: (not kv[0][0], kv[0][1])):
        verb = ("was" if len(analytes) == 1 else "were") + ("" if found else " not")
        clauses.append(f"{t.join(analytes)} {verb} detected{ctx.which(codes)}")
    analytes = {analyte for analyte, _found in per_analyte}
    kind = "EV" if assay == "ev_marker" else "contaminant"
    if not analytes:
        which = ctx.which(c for c, _r in results)
        return f"{lead_of(methods)}the {kind} markers were tested (results not recorded){which}"
    noun = f"the {kind} marker" if len(analytes) == 1 else f"the {kind} markers"
    return f"{lead_of(methods)}{noun} {t.join(clauses)}"


def lead_of(methods: list[str]) -> str:
    methods = [x for x in methods if x]
    return f"by {t.join(methods)}, " if methods else ""


def _quantitative(ctx: Context, assay: str, results: list[tuple[str, dict]]) -> str:
    """'total protein by BCA assay was 152 µg/mL (SB-1)'; soluble factors list their analytes."""
    groups: dict[tuple[str, str, str], list[tuple[str, dict]]] = {}
    for code, result in results:
        groups.setdefault((result["analyte"], result["method"], result["unit"]), []).append((code, result))
    methods = sorted({method for _a, method, _u in groups})
    named = assay in {"cytokine", "particle_size", "proteomics"} or (
        assay not in {"potency"} and len({a for a, _m, _u in groups}) > 1
    )
    values = []
    order = sorted(groups, key=lambda k: (ANALYTE_ORDER.get(k[0], 9), k[0].lower(), k[1], k[2]))
    # Batches named once when every value is about the same ones: 'mode 118 nm and D50 131 nm (SB-2)'.
    whiches = {ctx.which(c for c, _r in groups[key]) for key in order}
    shared = whiches.pop() if len(order) > 1 and len(whiches) == 1 else ""
    for analyte, method, unit in order:
        rows = groups[(analyte, method, unit)]
        summary = t.summary([r["value"] for _c, r in rows], unit)
        label = f"{analyte} " if analyte and named else ""
        method_text = _by(_method(method, [r for _c, r in rows])) if len(methods) > 1 else ""
        references = sorted({r["reference_batch"] for _c, r in rows if r["reference_batch"]})
        reference = f", relative to reference batch {codes_text(references)}" if references else ""
        which = "" if shared else ctx.which(c for c, _r in rows)
        values.append(f"{label}{summary}{method_text}{which}{reference}")
    name = assay_words(assay, [r for _c, r in results])
    if assay == "potency":
        analytes = sorted({a for a, _m, _u in groups if a})
        name = f"potency ({t.join(analytes)})" if analytes else name
    if len(methods) == 1:
        name = f"{name}{_by(_method(methods[0], [r for _c, r in results]))}"
    if named:
        return f"{name}: {t.join(values)}{shared}"
    return f"{name} {_was(assay)} {t.join(values)}{shared}"


SIZE_ANALYTES = (("mode", "mean"), ("D10",), ("D50",), ("D90",))


def _size_gaps(m, group: list[tuple[str, dict]]) -> str:
    """The size-distribution marker naming the statistics not recorded ('D10 and D90'), never the whole item
    beside the sizes that were reported."""
    codes = sorted({c for c, _r in group})
    if not m.take_flag("ch_size_distribution", codes):
        return ""
    recorded = {r["analyte"] for _c, r in group if r["value"] is not None}
    missing = [" or ".join(names) for names in SIZE_ANALYTES if not recorded & set(names)]
    if not missing:
        return ""
    return m.marker_for("ch_size_distribution", codes, f"particle size {t.join(missing)}")


def _specification(result: dict) -> str:
    spec = result["specification"] or {}
    limits = []
    if spec.get("min_value") is not None:
        limits.append(f"≥ {t.quantity(spec['min_value'], spec.get('unit') or result['unit'])}")
    if spec.get("max_value") is not None:
        limits.append(f"≤ {t.quantity(spec['max_value'], spec.get('unit') or result['unit'])}")
    if spec.get("expected_text"):
        limits.append(v.RESULT_TEXT.get(spec["expected_text"], spec["expected_text"]))
    return " and ".join(limits)


def quality_control(ctx: Context) -> list[str]:
    m = ctx.markers
    rows = ctx.products
    results = [(b["code"], r) for b in rows for r in b["qc"] if r["status"] not in QC_NOT_COUNTED]
    by_assay: dict[str, list[tuple[str, dict]]] = {}
    for code, result in results:
        by_assay.setdefault(result["assay"], []).append((code, result))
    sentences = []
    for assay in ASSAY_ORDER:
        group = by_assay.get(assay)
        if not group:
            continue
        numeric = [(c, r) for c, r in group if r["value"] is not None]
        textual = [(c, r) for c, r in group if r["value"] is None]
        clauses = []
        if assay in {"ev_marker", "contaminant_marker"}:
            clauses.append(_markers_found(ctx, assay, textual) if textual else "")
        elif assay == "imaging" and textual:
            methods = t.join(sorted({_method(r["method"], [r for _c, r in textual]) for _c, r in textual} - {""}))
            methods = methods[:1].lower() + methods[1:]
            clauses.append(f"single EVs were imaged{_by(methods)}{ctx.which(c for c, _r in textual)}")
        elif textual:
            clauses.append(_qualitative(ctx, assay, textual))
        if numeric:
            clauses.append(_quantitative(ctx, assay, numeric))
        text = "; ".join(c for c in clauses if c)
        item = ASSAY_ITEM.get(assay, "")
        marker = ""
        if assay == "particle_size":
            marker = _size_gaps(m, group)
        elif item:
            marker = m.take(item)
        sentences.append(_with(t.sentence(text), marker))
    other = sorted({r["assay"] for _c, r in results} - set(ASSAY_ORDER))
    for assay in other:
        group = [(c, r) for c, r in results if r["assay"] == assay]
        numeric = [(c, r) for c, r in group if t.finite(r["value"]) is not None]
        textual = [(c, r) for c, r in group if t.finite(r["value"]) is None and r["result_text"]]
        clauses = [
            _qualitative(ctx, assay, textual) if textual else "",
            _quantitative(ctx, assay, numeric) if numeric else "",
        ]
        text = "; ".join(c for c in clauses if c)
        if text:
            sentences.append(t.sentence(text))

    purity = []
    for batch in rows:
        if batch["product_type"] not in EV_PRODUCTS:
            continue
        particles = [r["value"] for r in batch["qc"] if r["assay"] == "particle_concentration" and r["value"]]
        protein = [
            r["value"] for r in batch["qc"] if r["assay"] == "total_protein" and r["unit"] == "µg/mL" and r["value"]
        ]
        if particles and protein:
            ratio = t.safely(computations.particles_per_ug, particles[0], protein[0])
            if ratio is not None:
                purity.append(ratio)
    if purity:
        sentences.append(t.sentence(f"The particle-to-protein ratio was {t.summary(purity, 'particles/µg')}"))

    out_of_spec = [(c, r) for c, r in results if r["outcome"] in {"fail", "warn"}]
    for code, result in out_of_spec:
        shown = t.quantity(result["value"], result["unit"]) if result["value"] is not None else result["result_text"]
        limit = _specification(result)
        level = "outside its specification" if result["outcome"] == "fail" else "beyond its warning limit"
        text = f"The {assay_words(result['assay'], [result])} result of {code} ({shown}) was {level}"
        if limit:
            text += f" ({limit})"
        if result["acceptance_justification"]:
            text += f" and was accepted: {result['acceptance_justification'].rstrip('.')}"
        elif result["outcome"] == "fail":
            text += "; it has not been accepted"
        sentences.append(t.sentence(text))
    if results:
        verified = sum(1 for _c, r in results if r["status"] == "verified")
        if verified == len(results):
            sentences.append("Every QC result was verified by a second person.")
        elif verified == 0:
            sentences.append(
                t.sentence(
                    f"None of the {t.count_word(len(results))} QC results had yet been verified by a second person"
                )
            )
        else:
            sentences.append(
                t.sentence(
                    f"{t.count_word(verified)} of {t.count_word(len(results))} QC results had been verified "
                    "by a second person"
                )
            )
    deposits = []
    for batch in rows:
        accessions = [x.strip() for x in batch["data_repository_ids"].split(",") if x.strip()]
        if batch["ev_track_id"]:
            accessions.insert(0, f"EV-TRACK {batch['ev_track_id']}")
        if accessions:
            deposits.append(f"{', '.join(accessions)}{ctx.which([batch['code']])}")
    if deposits:
        sentences.append(t.sentence(f"Data were deposited under {t.join(deposits)}"))
    if any(b["product_type"] in EV_PRODUCTS for b in rows):
        sentences.append(t.sentence(f"EV characterisation followed MISEV2023 {ctx.refs.cite('misev2023')}"))
    sentences.append(deviations(ctx, {"qc_result"}))
    sentences = [s for s in sentences if s]
    if not results:
        sentences.insert(0, "No QC result was recorded.")
    rest = m.rest("quality_control")
    if rest:
        sentences.append(rest)
    return [" ".join(sentences)] if sentences else []
