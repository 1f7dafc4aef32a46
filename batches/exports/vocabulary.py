"""The controlled vocabularies in the words a methods section uses (lower case, mid-sentence)."""

from batches import choices

TISSUE = {
    "umbilical_cord": ("umbilical cord", "UC-MSCs"),
    "whartons_jelly": ("Wharton's jelly of the umbilical cord", "WJ-MSCs"),
    "cord_blood": ("umbilical cord blood", "UCB-MSCs"),
    "amniotic_membrane": ("amniotic membrane", "AM-MSCs"),
    "amniotic_fluid": ("amniotic fluid", "AF-MSCs"),
    "placenta": ("placenta", "PL-MSCs"),
    "chorionic_villi": ("chorionic villi", "CV-MSCs"),
    "bone_marrow": ("bone marrow", "BM-MSCs"),
    "adipose": ("adipose tissue", "AD-MSCs"),
    "skeletal_muscle": ("skeletal muscle", ""),
    "periosteum": ("periosteum", ""),
    "synovial_membrane": ("synovial membrane", "SM-MSCs"),
    "synovial_fluid": ("synovial fluid", "SF-MSCs"),
    "articular_cartilage": ("articular cartilage", ""),
    "meniscus": ("meniscus", ""),
    "liver": ("liver", ""),
    "lung": ("lung", ""),
    "dental_pulp": ("dental pulp", "DPSCs"),
    "deciduous_teeth": ("exfoliated deciduous teeth", "SHED"),
    "gingiva": ("gingiva", "GMSCs"),
    "salivary_gland": ("salivary gland", ""),
    "endometrium": ("endometrium", ""),
    "peripheral_blood": ("peripheral blood", "PB-MSCs"),
    "urine": ("urine", "USCs"),
    "breast_milk": ("breast milk", ""),
    "ovarian_tissue": ("ovarian tissue", ""),
    "testicular_tissue": ("testicular tissue", ""),
    "inflamed_synovial_fluid": ("inflamed synovial fluid", ""),
    "menstrual_blood": ("menstrual blood", "MenSCs"),
}

SPECIES = {
    "human": "human",
    "mouse": "mouse",
    "rat": "rat",
    "pig": "porcine",
    "dog": "canine",
    "horse": "equine",
    "sheep": "ovine",
    "rabbit": "rabbit",
    "non_human_primate": "non-human primate",
}
ANIMAL_PLURAL = {
    "human": "participants",
    "mouse": "mice",
    "rat": "rats",
    "pig": "pigs",
    "dog": "dogs",
    "horse": "horses",
    "sheep": "sheep",
    "rabbit": "rabbits",
    "non_human_primate": "non-human primates",
}

ISOLATION = {
    "enzymatic": "enzymatic digestion",
    "explant": "explant culture",
    "density_gradient": "density-gradient centrifugation",
    "direct_plating": "direct plating and selection by adherence",
    "commercial": "the supplier",
}

ANTIBIOTICS = {
    "none": "without antibiotics",
    "pen_strep": "penicillin–streptomycin",
    "pen_strep_ampho": "penicillin–streptomycin–amphotericin B",
    "gentamicin": "gentamicin",
    "primocin": "Primocin",
}

SUPPLEMENT = {
    "fbs": ("fetal bovine serum", "FBS"),
    "hpl": ("human platelet lysate", "hPL"),
    "human_serum": ("human serum", ""),
    "serum_free": ("a serum-free supplement", ""),
    "xeno_free": ("a xeno-free supplement", ""),
}

CULTURE_FORMAT = {
    "2d": "monolayers",
    "3d_spheroid": "3D spheroids",
    "3d_scaffold": "3D cultures on scaffolds",
    "3d_bioreactor": "3D cultures in a bioreactor",
    "3d_microcarrier": "3D cultures on microcarriers",
}

VESSEL = {
    "t25": "T25 flasks",
    "t75": "T75 flasks",
    "t175": "T175 flasks",
    "t225": "T225 flasks",
    "dish_100": "100 mm dishes",
    "dish_150": "150 mm dishes",
    "multilayer": "multilayer flasks",
    "bioreactor": "a bioreactor",
    "multiwell": "multiwell plates",
}

HYPOXIA_DEVICE = {
    "tri_gas_incubator": "a tri-gas incubator",
    "hypoxia_chamber": "a modular hypoxia chamber",
    "hypoxia_workstation": "a hypoxia workstation",
}

PRODUCT = {
    "CM": ("whole conditioned medium", "CM"),
    "CONC": ("concentrated secretome", "CONC"),
    "EV": ("extracellular vesicles", "EVs"),
    "EVD": ("EV-depleted secretome", "EVD"),
    "LYO": ("lyophilised secretome", "LYO"),
}

EV_DEPLETION = {
    "none": "serum that was not depleted of EVs",
    "ultracentrifugation": "serum depleted of EVs by ultracentrifugation",
    "commercial": "commercial EV-depleted serum",
    "ultrafiltration": "serum depleted of EVs by ultrafiltration",
}

LYOPROTECTANT = {"none": "no lyoprotectant", "trehalose": "trehalose", "sucrose": "sucrose", "mannitol": "mannitol"}
RECONSTITUTION = {"water": "water for injection", "saline": "0.9 % saline", "pbs": "PBS", "medium": "basal medium"}

CONTAINER = {
    "cryovial": "cryovials",
    "low_bind_tube": "low-protein-binding tubes",
    "microtube": "microcentrifuge tubes",
    "glass_vial": "glass vials",
    "conical_tube": "conical tubes",
}
BUFFER = {
    "as_collected": "as collected",
    "pbs": "in PBS",
    "pbs_trehalose": "in PBS with 25 mM trehalose",
    "pbs_hsa": "in PBS with human serum albumin",
    "saline": "in 0.9 % saline",
}
STATE = {"fresh": "kept fresh", "frozen": "frozen", "lyophilised": "stored lyophilised"}

ASSAY = {
    "sterility": "sterility",
    "endotoxin": "endotoxin",
    "mycoplasma": "mycoplasma",
    "total_protein": "total protein",
    "particle_concentration": "particle concentration",
    "particle_size": "particle size",
    "ev_marker": "EV markers",
    "contaminant_marker": "contaminant markers",
    "cytokine": "soluble factors",
    "potency": "potency",
    "residual_bsa": "residual BSA",
    "imaging": "single-EV imaging",
    "ev_depletion": "EV depletion",
    "proteomics": "proteomic profile",
}

QC_METHOD = {
    "bact_alert": "automated blood culture (BacT/ALERT)",
    "direct_inoculation": "direct inoculation (Ph. Eur. 2.6.1)",
    "membrane_filtration": "membrane filtration (Ph. Eur. 2.6.1)",
    "lal_kinetic": "kinetic chromogenic LAL assay",
    "lal_gel_clot": "LAL gel-clot assay",
    "rfc": "recombinant factor C assay",
    "myco_pcr": "PCR",
    "myco_luminescence": "enzyme/luminescence assay",
    "myco_culture": "culture (Ph. Eur. 2.6.7)",
    "bca": "BCA assay",
    "bradford": "Bradford assay",
    "micro_bca": "micro-BCA assay",
    "nta": "nanoparticle tracking analysis (NTA)",
    "trps": "tunable resistive pulse sensing (TRPS)",
    "nfcm": "nano-flow cytometry",
    "dls": "dynamic light scattering",
    "western_blot": "western blot",
    "bead_flow": "bead-based flow cytometry",
    "elisa": "ELISA",
    "multiplex": "multiplex immunoassay",
    "tem": "transmission electron microscopy",
    "cryo_em": "cryo-electron microscopy",
    "mass_spec": "mass spectrometry",
    "cell_assay": "cell-based assay",
}

RESULT_TEXT = {"negative": "negative", "positive": "positive", "detected": "detected", "not_detected": "not detected"}

DOSE_UNIT = {
    "cell_equivalents": "cell equivalents",
    "particles": "particles",
    "ug_protein": "µg protein",
    "mg_lyophilisate": "mg lyophilisate",
    "ml_cm": "mL conditioned medium",
}

ROUTE = {
    "intravenous": "intravenously",
    "intraperitoneal": "intraperitoneally",
    "intrathecal": "intrathecally",
    "intra_articular": "intra-articularly",
    "intraplantar": "by intraplantar injection",
    "perineural": "perineurally",
    "intranasal": "intranasally",
    "subcutaneous": "subcutaneously",
    "intramuscular": "intramuscularly",
    "intravesical": "intravesically",
    "biomaterial_implant": "in a biomaterial implant",
}

VEHICLE = {
    "saline": "0.9 % saline",
    "pbs": "PBS",
    "unconditioned_medium": "unconditioned medium",
    "hydrogel": "a hydrogel",
}

INTERVAL_UNIT = {"h": "h", "days": "days", "weeks": "weeks"}

OUTCOME_TEST = {
    "von_frey": "mechanical allodynia with von Frey filaments",
    "hargreaves": "thermal hyperalgesia with the plantar (Hargreaves) test",
    "hot_plate": "thermal nociception on a hot plate",
    "cold_plate": "cold sensitivity on a cold plate",
    "acetone": "cold allodynia with the acetone test",
    "incapacitance": "weight bearing by incapacitance",
    "grip_strength": "grip strength",
    "rotarod": "motor coordination on a rotarod",
    "nrs": "pain on a numeric rating scale (NRS)",
    "vas": "pain on a visual analogue scale (VAS)",
    "womac": "the WOMAC score",
    "koos": "the KOOS score",
    "dash": "the DASH score",
}

GROUP_ROLE = {
    "treatment": "treatment",
    "vehicle": "vehicle control",
    "mock": "mock control",
    "evd": "EV-depleted control",
    "sham": "sham",
    "positive_control": "positive control",
}

EXPERIMENTAL_UNIT = {"animal": "the animal", "cage": "the cage", "limb": "the limb or joint", "patient": "the patient"}


def display(choice_class, value: str) -> str:
    """The choice's own label, for vocabularies without a prose form above."""
    if not value:
        return ""
    try:
        return choice_class(value).label
    except ValueError:
        return value


def medium(value: str, details: str = "") -> str:
    if details and value in {"commercial_msc", "commercial_serum_free", "other", ""}:
        return details
    return display(choices.Medium, value) or details


def enzyme(value: str) -> str:
    return display(choices.Enzyme, value).replace("Collagenase", "collagenase").replace("Trypsin", "trypsin")


def priming_agent(value: str) -> str:
    return display(choices.PrimingAgentName, value).replace("Deferoxamine", "deferoxamine")


DIFFERENTIATION_METHOD = {
    "alizarin_red": "alizarin red S",
    "von_kossa": "von Kossa",
    "alkaline_phosphatase": "alkaline phosphatase",
    "oil_red_o": "oil red O",
    "nile_red": "Nile red",
    "alcian_blue": "alcian blue",
    "safranin_o": "safranin O",
    "toluidine_blue": "toluidine blue",
    "collagen_ii": "collagen II immunostaining",
    "qpcr": "qPCR of lineage genes",
}

PAIN_MODEL = {
    "stz": "streptozotocin-induced diabetic neuropathy",
    "db_db": "diabetic neuropathy in db/db mice",
    "cipn_oxaliplatin": "oxaliplatin-induced peripheral neuropathy",
    "cipn_paclitaxel": "paclitaxel-induced peripheral neuropathy",
    "pnl": "partial sciatic nerve ligation",
    "snl": "spinal nerve ligation",
    "cci": "chronic constriction injury of the sciatic nerve",
    "sni": "spared nerve injury",
    "knee_oa_mia": "monosodium iodoacetate (MIA)-induced knee osteoarthritis",
    "knee_oa_collagenase": "collagenase-induced knee osteoarthritis",
    "tmj_oa": "temporomandibular joint osteoarthritis",
    "interstitial_cystitis": "interstitial cystitis",
    "cfa": "complete Freund's adjuvant (CFA)-induced inflammation",
}


def processing_kind(value: str) -> str:
    label = display(choices.ProcessingKind, value)
    return label[0].lower() + label[1:] if label else ""


def word(words: dict, value: str | None, details: str | None = "") -> str:
    """A controlled value in prose; 'other' (or a value left empty beside details) in the recorded details."""
    details = (details or "").strip().rstrip(".")
    if value == "other" or (not value and details):
        return details
    if not value:
        return ""
    found = words.get(value, value)
    return found[0] if isinstance(found, tuple) else found


def order_of(choice_class, value: str | None) -> int:
    """Sort key of a choice in its list's order; values outside the list (empty, retired) sort last."""
    try:
        return list(choice_class.values).index(value)
    except ValueError:
        return len(choice_class.values)
