"""Cell source and donors, isolation and expansion, characterisation of the cells, priming."""

from collections import Counter

from batches import choices
from batches.exports import typography as t
from batches.exports import vocabulary as v
from batches.exports.prose.common import Context, codes_text, deviations

SEX_ORDER = ("female", "male", "mixed", "unknown")
SEX_WORD = {"female": "female", "male": "male", "mixed": "of mixed sex", "unknown": "of unknown sex"}
ISCT_NEGATIVE = ("CD45", "CD34", "CD14", "CD11b", "CD79a", "CD19", "HLA-DR")
ISCT_POSITIVE = choices.ISCT_POSITIVE_MARKERS
LINEAGES = ("osteogenic", "adipogenic", "chondrogenic")


def _age(age_years: float, species: str) -> tuple[float, str]:
    if species != "human" and age_years < 1:
        return round(age_years * 52, 1), "weeks"
    return age_years, "years"


def _people(donor: dict) -> int:
    """How many people a donor record stands for: its pooled count, else one."""
    return donor["n_donors"] if donor.get("n_donors") else 1


def donor_summary(donors: list[dict]) -> str:
    """'three donors (two female, one male; aged 24–41 years)'."""
    people = sum(_people(d) for d in donors)
    sexes = Counter()
    for donor in donors:
        sexes[donor["sex"] or ""] += _people(donor)
    details = []
    if len(sexes) == 1:
        only = next(iter(sexes))
        if people == 1:
            details.append(SEX_WORD.get(only) or "sex not recorded")
        else:
            details.append(
                {"female": "all female", "male": "all male", "mixed": "of mixed sex", "unknown": "sex not known"}.get(
                    only, "sex not recorded"
                )
            )
    else:
        known = [f"{t.count_word(sexes[s])} {SEX_WORD[s]}" for s in SEX_ORDER if sexes[s]]
        if sexes[""]:
            known.append(f"{t.count_word(sexes[''])} of unrecorded sex")
        details.append(", ".join(known))
    perinatal = [d for d in donors if choices.TISSUE_GROUP.get(d["tissue_source"]) == choices.TissueGroup.PERINATAL]
    postnatal = [d for d in donors if d not in perinatal]
    ages = [(d["age_years"], d["species"]) for d in postnatal if d["age_years"] is not None]
    if ages:
        unit = _age(*ages[0])[1]
        values = [_age(age, species)[0] for age, species in ages if _age(age, species)[1] == unit]
        details.append(f"{'adult donors ' if perinatal else ''}aged {t.span(values, unit)}")
    unknown = sum(_people(d) for d in postnatal if d["age_years"] is None)
    if unknown:
        details.append(f"age of {t.count_word(unknown)} not recorded")
    if perinatal:
        births = sum(_people(d) for d in perinatal)
        details.append("perinatal tissue" if births == people else f"{t.count_word(births)} perinatal tissue donation")
    noun = "donor" if people == 1 else "donors"
    pooled = [d for d in donors if d["pooled"]]
    lead = f"{t.count_word(people)} {noun}"
    if pooled:
        lead += f", {t.count_word(sum(_people(d) for d in pooled))} of them pooled"
    return f"{lead} ({'; '.join(details)})"


def cell_source(ctx: Context) -> list[str]:
    lines = ctx.lines_of(ctx.products)
    donors = ctx.donors_of(lines)
    m = ctx.markers
    if not donors:
        return [t.sentence(f"The source of the cells was {m.take('cs_donor') or m.take('cs_tissue_source')}")]
    species_words = sorted(
        {
            (v.order_of(choices.Species, d["species"]), v.word(v.SPECIES, d["species"], d.get("species_details")))
            for d in donors
        }
    )
    species_text = t.join([words for _order, words in species_words if words])
    cells_name = (
        f"{species_text} mesenchymal stromal cells (MSCs)" if species_text else "mesenchymal stromal cells (MSCs)"
    )
    cells_name = cells_name[:1].upper() + cells_name[1:]
    bought = [d for d in donors if d["supplier"]]
    primary = [d for d in donors if not d["supplier"]]
    text = []
    if primary:
        text.append(f"{cells_name} were obtained from {donor_summary(primary)}")
    if bought:
        purchases = []
        for donor in bought:
            refs = [f"catalogue no. {donor['catalogue_number']}" if donor["catalogue_number"] else ""]
            refs.append(f"lot {donor['lot']}" if donor["lot"] else "")
            ref = ", ".join(r for r in refs if r)
            purchases.append(f"{donor['supplier']}{f' ({ref})' if ref else ''}")
        verb = "were also purchased" if primary else "were purchased"
        subject = "MSCs" if primary else cells_name
        text.append(f"{subject} {verb} from {t.join(purchases)}")
    paragraph = [t.sentence(s) for s in text]

    by_tissue: dict[str, list[dict]] = {}
    for donor in donors:
        by_tissue.setdefault(donor["tissue_source"], []).append(donor)
    sources = []
    for tissue in sorted(by_tissue, key=lambda k: (v.order_of(choices.TissueSource, k), k)):
        group = by_tissue[tissue]
        if tissue == "other" or not tissue:
            name = t.join(sorted({(d.get("tissue_source_details") or "").rstrip(".") for d in group} - {""}))
            abbreviation = ""
        else:
            name, abbreviation = v.TISSUE.get(tissue, (tissue, ""))
        if not name:
            continue
        sites = sorted({d["anatomical_site"] for d in group if d["anatomical_site"]})
        inner = [t.join(sites)] if sites else []
        inner.append(codes_text(d["code"] for d in group))
        if abbreviation:
            inner.append(abbreviation)
        sources.append(f"{name} ({'; '.join(inner)})")
    tissue_marker = m.take("cs_tissue_source")
    if sources:
        paragraph.append(
            t.sentence(f"The cells came from {t.join(sources)}{' ' + tissue_marker if tissue_marker else ''}")
        )
    elif tissue_marker:
        paragraph.append(t.sentence(f"Tissue source: {tissue_marker}"))

    health = Counter(d["health_status"] for d in primary)
    if health and set(health) == {"healthy"}:
        paragraph.append("All donors were healthy." if len(primary) > 1 else "The donor was healthy.")
    elif health:
        diseased = [d for d in primary if d["health_status"] == "diseased"]
        for donor in diseased:
            paragraph.append(t.sentence(f"Donor {donor['code']} had {donor['health_details'] or 'a recorded disease'}"))
    characteristics = m.take("cs_donor_characteristics")
    if characteristics:
        paragraph.append(t.sentence(f"Donor characteristics: {characteristics}"))

    humans = [d for d in primary if d["species"] == "human"]
    if humans:
        approvals = sorted({d["ethics_approval_ref"] for d in humans if d["ethics_approval_ref"]})
        consent = all(d["consent_obtained"] for d in humans)
        if approvals:
            noun = "approval" if len(approvals) == 1 else "approvals"
            consent_text = "with written informed consent " if consent else ""
            paragraph.append(t.sentence(f"Tissue was collected {consent_text}under ethics {noun} {t.join(approvals)}"))
        ethics_marker = m.take("cs_ethics_consent")
        if ethics_marker:
            paragraph.append(t.sentence(f"Ethics approval and consent: {ethics_marker}"))
    modified = [d for d in donors if d["genetically_modified"]]
    if modified:
        for donor in modified:
            details = donor["modification_details"] or m.take("cs_modification") or "as recorded"
            paragraph.append(t.sentence(f"Cells from {donor['code']} were genetically modified: {details}"))
    elif donors and all(d["genetically_modified"] is False for d in donors):
        paragraph.append("The cells were not genetically modified or immortalised.")
    rest = m.rest("cell_source")
    if rest:
        paragraph.append(rest)
    return [" ".join(paragraph)]


def _isolation_phrase(line: dict, bought: bool = False) -> str:
    """'by enzymatic digestion with collagenase type I (1 mg/mL, 60 min)'; '' when no method is recorded."""
    method = line["isolation_method"]
    details = (line["isolation_details"] or "").strip().rstrip(".")
    if method == "commercial" or (not method and bought):
        return "by the supplier"
    if not method or method == "other":
        return f"by {details[0].lower() + details[1:]}" if details else ""
    text = v.ISOLATION.get(method, method)
    if method == "enzymatic" and line["isolation_enzyme"]:
        conditions = []
        if t.finite(line["isolation_enzyme_mg_per_ml"]) is not None:
            conditions.append(t.quantity(line["isolation_enzyme_mg_per_ml"], "mg/mL"))
        if t.finite(line["isolation_digestion_min"]) is not None:
            conditions.append(t.quantity(line["isolation_digestion_min"], "min"))
        text += f" with {v.enzyme(line['isolation_enzyme'])}"
        if conditions:
            text += f" ({', '.join(conditions)})"
    if details:
        text += f" ({details})"
    return f"by {text}"


def _other(value: str | None, details: str | None, words: dict) -> str:
    """A controlled value in words; 'other' (or a value left empty) in the details recorded with it."""
    details = (details or "").strip().rstrip(".")
    if value == "other" or not value:
        return details
    return words.get(value, value)


def _culture_phrase(line: dict) -> str:
    """'as monolayers in α-MEM supplemented with …'; only what was recorded."""
    medium = v.medium(line["basal_medium"] or "", line["basal_medium_details"] or "")
    if (
        line["basal_medium_details"]
        and line["basal_medium"]
        and line["basal_medium"]
        not in {
            "commercial_msc",
            "commercial_serum_free",
            "other",
        }
    ):
        medium += f" ({line['basal_medium_details']})"
    supplement_value = line["supplement"]
    if supplement_value == "other" or not supplement_value:
        name, abbreviation = _other(supplement_value, line.get("supplement_details"), {}), ""
    else:
        name, abbreviation = v.SUPPLEMENT.get(supplement_value, (supplement_value, ""))
    inner = [x for x in (abbreviation, f"lot {line['supplement_lot']}" if line["supplement_lot"] else "") if x]
    supplement = f"{name} ({'; '.join(inner)})" if name and inner else name
    if name and t.finite(line["supplement_percent"]) is not None:
        supplement = f"{t.quantity(line['supplement_percent'], '%')} (v/v) {supplement}"
    additions = [supplement] if supplement else []
    if t.finite(line["heparin_u_per_ml"]):
        additions.append(f"{t.quantity(line['heparin_u_per_ml'], 'U/mL')} heparin")
    tail = ""
    if line["antibiotics"] == "none":
        tail = " without antibiotics"
    elif line["antibiotics"]:
        antibiotics = v.word(v.ANTIBIOTICS, line["antibiotics"], line.get("antibiotics_details"))
        if antibiotics:
            additions.append(antibiotics)
    culture = v.CULTURE_FORMAT.get(line["culture_format"], line["culture_format"]) if line["culture_format"] else ""
    if line["culture_format_details"]:
        details = line["culture_format_details"].rstrip(".")
        culture = f"{culture} ({details})" if culture else details
    text = f"as {culture}" if culture else ""
    if medium:
        text += f" in {medium}"
    if additions:
        text += f" {'supplemented with' if medium else 'with'} {t.join(additions)}"
    return (text + tail).strip()


def _grouped(lines: list[dict], phrase, multi: bool) -> list[str]:
    groups: dict[str, list[str]] = {}
    for line in lines:
        groups.setdefault(phrase(line), []).append(line["code"])
    if len(groups) == 1 or not multi:
        return list(groups)
    return [t.annotate(text, codes_text(codes)) for text, codes in groups.items()]


def isolation(ctx: Context) -> list[str]:
    m = ctx.markers
    lines = ctx.lines_of(ctx.products)
    if not lines:
        marker = m.take("ie_isolation_method")
        return [t.sentence(f"Isolation and expansion were {marker or 'not recorded'}")] if marker else []
    multi = len(lines) > 1
    sentences = []
    bought = {d["code"] for d in ctx.donors_of(lines) if d["supplier"]}
    isolation_text = t.join(
        [x for x in _grouped(lines, lambda line: _isolation_phrase(line, line["donor"] in bought), multi) if x], "or"
    )
    marker = m.take("ie_isolation_method")
    if isolation_text:
        sentences.append(t.sentence(f"MSCs were isolated {isolation_text}{' ' + marker if marker else ''}"))
    elif marker:
        sentences.append(t.sentence(f"Isolation of the MSCs: {marker}"))
    culture = t.join([x for x in _grouped(lines, _culture_phrase, multi) if x], "or")
    passages = [p for line in lines for p in line["passages"]]
    incubator = []
    for key, unit in (("temperature_c", "°C"), ("co2_percent", "% CO₂"), ("o2_percent", "% O₂")):
        text = t.span((p[key] for p in passages), unit)
        if text:
            incubator.append(text)
    incubator_marker = m.take("ie_incubator")
    conditions = f" at {t.join(incubator)}" if incubator else ""
    if incubator_marker:
        conditions += f" {incubator_marker}"
    for item in ("ie_basal_medium", "ie_supplement", "ie_culture_format"):
        marker = m.take(item)
        if marker:
            conditions += f" {marker}"
    if culture or incubator:
        sentences.append(t.sentence(f"Cells were expanded {culture}{conditions}".replace("  ", " ")))
    elif conditions.strip():
        sentences.append(t.sentence(f"Culture conditions: {conditions.strip()}"))

    density = t.span(
        (t.rounded(p["seeding_density_per_cm2"], 2) for p in passages if t.finite(p["seeding_density_per_cm2"])),
        "cells/cm²",
    )
    vessels = t.join(sorted({x for p in passages if (x := v.word(v.VESSEL, p["vessel"], p.get("vessel_details")))}))
    confluence = t.span((p["confluence_percent"] for p in passages), "%")
    density_marker = m.take("ie_seeding_density")
    expansion = []
    if density:
        expansion.append(f"seeded at {density}")
    elif vessels or confluence:
        expansion.append(f"seeded at {density_marker or 'an unrecorded density'}")
        density_marker = ""
    if vessels:
        expansion.append(f"in {vessels}")
    if expansion:
        text = "Cells were " + " ".join(expansion)
        if confluence:
            text += f" and passaged at {confluence} confluence"
        if density_marker:
            text += f" {density_marker}"
        sentences.append(t.sentence(text))
    elif confluence:
        sentences.append(t.sentence(f"Cells were passaged at {confluence} confluence {density_marker}".strip()))
    elif density_marker:
        sentences.append(t.sentence(f"Seeding density: {density_marker}"))

    numbers = sorted({b["passage_number"] for b in ctx.products if b["passage_number"] is not None})
    if len(numbers) > 1:
        producing = f"passages {numbers[0]}–{numbers[-1]} (P{numbers[0]}–P{numbers[-1]})"
    else:
        producing = f"passage {numbers[0]} (P{numbers[0]})" if numbers else ""
    passage_marker = m.take("ie_passage_number")
    if producing:
        sentences.append(t.sentence(f"Secretome was produced from cells at {producing} {passage_marker}".strip()))
    elif passage_marker:
        sentences.append(t.sentence(f"Passage of the producing cells: {passage_marker}"))

    produced_at = {(b["cell_line"], b["passage_number"]) for b in ctx.products}
    per_passage = [p["population_doublings"] for p in passages if p["population_doublings"] is not None]
    cumulative = [
        p["cumulative_population_doublings"]
        for line in lines
        for p in line["passages"]
        if (line["code"], p["number"]) in produced_at and p["cumulative_population_doublings"] is not None
    ]
    doubling = [p["doubling_time_h"] for p in passages if p["doubling_time_h"] is not None]
    growth = []
    if per_passage:
        growth.append(f"population doublings per passage were {t.span(round(x, 1) for x in per_passage)}")
    if cumulative:
        growth.append(f"cumulative population doublings at the producing passage were {_rounded_span(cumulative)}")
    if doubling:
        growth.append(f"doubling times were {t.span((round(x) for x in doubling), 'h')}")
    pd_marker = m.take("ie_population_doublings")
    if growth:
        text = f"Calculated from cell counts (PD = log₂(Nₕ/Nₛ)), {'; '.join(growth)} {pd_marker}".strip()
        sentences.append(t.sentence(text))
    elif pd_marker:
        sentences.append(t.sentence(f"Population doublings: {pd_marker}"))
    protocols = sorted(
        {line["protocol"] for line in lines if line["protocol"]} | {p["protocol"] for p in passages if p["protocol"]}
    )
    if protocols:
        sentences.append(t.sentence(f"Isolation and expansion followed {t.join(protocols)}"))
    sentences.append(deviations(ctx, {"cell_line", "passage"}))
    rest = m.rest("isolation")
    if rest:
        sentences.append(rest)
    return [" ".join(s for s in sentences if s)]


def _rounded_span(values: list[float]) -> str:
    return t.span(round(x, 1) for x in values)


def _marker_values(lines: list[dict], marker: str) -> list[float]:
    return [
        row["percent_positive"]
        for line in lines
        for row in line["immunophenotype"]
        if row["marker"] == marker and t.finite(row["percent_positive"]) is not None
    ]


def cell_characterisation(ctx: Context) -> list[str]:
    m = ctx.markers
    lines = ctx.lines_of(ctx.products)
    sentences = []
    isct = ctx.refs.cite("isct2006")
    adherent = [line for line in lines if line["plastic_adherent"] is True]
    not_adherent = [line for line in lines if line["plastic_adherent"] is False]
    lead = f"The cells were characterised against the ISCT minimal criteria {isct}"
    if lines and len(adherent) == len(lines):
        lead += ": they adhered to tissue-culture plastic"
    elif not_adherent:
        lead += f": {codes_text(line['code'] for line in not_adherent)} did not adhere to plastic"
    adherence_marker = m.take("ie_plastic_adherence")
    sentences.append(t.sentence(lead + (f" {adherence_marker}" if adherence_marker else "")))

    def expression(markers: tuple[str, ...]) -> list[str]:
        parts = []
        for marker in markers:
            values = _marker_values(lines, marker)
            if values:
                parts.append(f"{marker} ({t.summary(values, '%', inside=True)})")
        return parts

    positive, negative = expression(ISCT_POSITIVE), expression(ISCT_NEGATIVE)
    tested_at = sorted(
        {
            row["passage_number"]
            for line in lines
            for row in line["immunophenotype"]
            if row["passage_number"] is not None
        }
    )
    at = ""
    if tested_at:
        at = f" at passage {t.span(tested_at)}" if len(tested_at) > 1 else f" at passage {tested_at[0]}"
    phenotype = []
    if positive:
        phenotype.append(f"expressed {t.join(positive)}")
    if negative:
        phenotype.append(f"lacked {t.join(negative)}")
    markers_missing = " ".join(x for x in (m.take("ie_phenotype_positive"), m.take("ie_phenotype_negative")) if x)
    if phenotype:
        sentences.append(
            t.sentence(
                f"Tested{at}, the cells {' and '.join(phenotype)}{' ' + markers_missing if markers_missing else ''}"
            )
        )
    elif markers_missing:
        sentences.append(t.sentence(f"Immunophenotype: {markers_missing}"))
    below = []
    for line in lines:
        for row in line["immunophenotype"]:
            if t.finite(row["percent_positive"]) is None:
                continue
            if row["marker"] in ISCT_POSITIVE and row["percent_positive"] < 95:
                below.append(f"{row['marker']} on {line['code']} ({t.quantity(row['percent_positive'], '%')})")
            if row["marker"] in ISCT_NEGATIVE and row["percent_positive"] > 2:
                below.append(f"{row['marker']} on {line['code']} ({t.quantity(row['percent_positive'], '%')})")
    if below:
        sentences.append(
            t.sentence(f"Outside the ISCT thresholds (≥ 95 % positive, ≤ 2 % negative) were {t.join(below)}")
        )
    primed = sorted({line["code"] for line in lines for row in line["immunophenotype"] if row["primed_with_ifng"]})
    if primed:
        sentences.append(
            t.sentence(
                f"The phenotype of {codes_text(primed)} was measured on IFN-γ-primed cells, on which HLA-DR rises"
            )
        )

    results: dict[str, dict[str, set[str]]] = {}
    methods: dict[str, set[str]] = {}
    for line in lines:
        for row in line["differentiation"]:
            results.setdefault(row["lineage"], {}).setdefault(row["result"], set()).add(line["code"])
            method = v.word(v.DIFFERENTIATION_METHOD, row["method"], row.get("method_details"))
            methods.setdefault(row["lineage"], set()).update({method} if method else set())
    confirmed, other = [], []
    for lineage in LINEAGES:
        if lineage not in results:
            continue
        shown = f"{lineage} ({t.join(sorted(methods[lineage]))})" if methods[lineage] else lineage
        if set(results[lineage]) == {"positive"}:
            confirmed.append(shown)
        else:
            for result in ("weak", "negative", "positive"):
                if result in results[lineage]:
                    other.append(f"{lineage} differentiation was {result} for {codes_text(results[lineage][result])}")
    if confirmed:
        sentences.append(t.sentence(f"{t.join(confirmed)} differentiation was confirmed by staining"))
    if other:
        sentences.append(t.sentence("; ".join(other)))
    trilineage = m.take("ie_trilineage")
    if trilineage:
        sentences.append(t.sentence(f"Trilineage differentiation: {trilineage}"))
    myco = sorted({p["mycoplasma_result"] for line in lines for p in line["passages"]} - {"not_tested"})
    if myco == ["negative"]:
        sentences.append("Mycoplasma tests of the expanding cells were negative.")
    elif "positive" in myco:
        positive_lines = sorted(
            {line["code"] for line in lines for p in line["passages"] if p["mycoplasma_result"] == "positive"}
        )
        sentences.append(t.sentence(f"Mycoplasma was detected in {codes_text(positive_lines)}"))
    rest = m.rest("cell_characterisation")
    if rest:
        sentences.append(rest)
    return [" ".join(sentences)]


def _agent_phrase(agent: dict, duration_h: float | None) -> str:
    parts = []
    if t.finite(agent["concentration"]) is not None:
        parts.append(t.quantity(agent["concentration"], agent["concentration_unit"] or ""))
    if t.finite(agent["exposure"]) is not None:
        exposure_h = agent["exposure"] / 60 if agent["exposure_unit"] == "min" else agent["exposure"]
        if duration_h is None or abs(exposure_h - duration_h) > 1e-9:
            parts.append(t.quantity(agent["exposure"], agent["exposure_unit"] or ""))
    if agent["agent"] == "other":
        name = (agent.get("agent_details") or "").rstrip(".") or "another agent"
    else:
        name = v.priming_agent(agent["agent"])
    return t.annotate(name, ", ".join(parts))


def priming_phrase(priming: dict) -> str:
    """One priming condition, described once."""
    kind = priming["kind"]
    if kind == "none":
        return "cells were not primed before conditioning"
    parts = []
    duration = f" for {t.hours(priming['duration_h'])}" if priming["duration_h"] else ""
    agents = [_agent_phrase(agent, priming["duration_h"]) for agent in priming["agents"]]
    if agents:
        parts.append(f"exposed to {t.join(agents)}{duration}")
        duration = ""
    if priming["o2_percent"] is not None:
        device_words = v.word(
            v.HYPOXIA_DEVICE, priming["device"], priming.get("details") if priming["device"] == "other" else ""
        )
        device = f" in {device_words}" if device_words else ""
        parts.append(f"cultured at {t.quantity(priming['o2_percent'], '% O₂')}{duration}{device}")
        duration = ""
    if priming["three_d_system"]:
        parts.append(f"cultured in 3D ({priming['three_d_system'].rstrip('.')}){duration}")
        duration = ""
    if not parts:
        details = (priming.get("details") or "").strip().rstrip(".")
        parts.append(
            f"primed ({details[:1].lower() + details[1:] if details[1:2].islower() else details}){duration}"
            if details
            else f"primed ({priming['name']}){duration}"
        )
    text = "cells were " + " and ".join(parts)
    if priming["washout"] is True:
        washes = priming["washes"]
        times = {1: "once", 2: "twice"}.get(washes or 0, f"{t.count_word(washes or 0)} times")
        text += f", then washed {times}" if washes else ", then washed out"
    elif priming["washout"] is False:
        text += ", without washout"
    delay = priming["delay_to_conditioning_h"]
    if delay:
        text += f"; conditioning started {t.hours(delay)} later"
    elif delay == 0:
        text += ", and conditioning started immediately"
    if priming["protocol"]:
        text += f" ({priming['protocol']})"
    return text


PRIMING_LEAD = {
    "cytokine": "For cytokine priming",
    "hypoxia": "For hypoxic priming",
    "hypoxia_mimetic": "For hypoxia-mimetic priming",
    "three_d": "For 3D priming",
    "combined": "For combined priming",
    "other": "For priming",
}

PRIMING_ITEM = {
    "cytokine": "sp_priming_cytokine",
    "hypoxia": "sp_priming_hypoxia",
    "hypoxia_mimetic": "sp_priming_dfo",
}


def priming(ctx: Context) -> list[str]:
    m = ctx.markers
    by_phrase: dict[str, tuple[dict, list[str]]] = {}
    unprimed_unknown = []
    for batch in ctx.products:
        if batch["priming"]:
            condition = ctx.primings[batch["priming"]]
            by_phrase.setdefault(priming_phrase(condition), (condition, []))[1].append(batch["code"])
        else:
            unprimed_unknown.append(batch["code"])
    sentences = []
    kinds = list(choices.PrimingKind.values)
    for phrase in sorted(by_phrase, key=lambda p: (kinds.index(by_phrase[p][0]["kind"]), p)):
        condition, codes = by_phrase[phrase]
        which = ctx.which(codes)
        if condition["kind"] == "none":
            text = f"For {codes_text(codes)}, {phrase}" if which else phrase
        else:
            text = f"{PRIMING_LEAD.get(condition['kind'], 'For priming')}{which}, {phrase}"
        marker = m.take(PRIMING_ITEM.get(condition["kind"], ""), codes) if condition["kind"] in PRIMING_ITEM else ""
        sentences.append(t.sentence(text + (f" {marker}" if marker else "")))
    if unprimed_unknown:
        marker = m.take("sp_priming_type", unprimed_unknown) or "[not recorded: priming]"
        sentences.append(t.sentence(f"Priming of {codes_text(unprimed_unknown)}: {marker}"))
    sentences.append(deviations(ctx, {"priming"}))
    rest = m.rest("priming")
    if rest:
        sentences.append(rest)
    sentences = [s for s in sentences if s]
    return [" ".join(sentences)] if sentences else []
