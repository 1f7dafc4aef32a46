"""Controlled vocabularies, in the words DOMAIN.md uses."""

from django.db import models


class TissueGroup(models.TextChoices):
    PERINATAL = "perinatal", "Perinatal"
    ADULT = "adult", "Adult"
    ALTERNATIVE = "alternative", "Alternative"


class TissueSource(models.TextChoices):
    # Perinatal
    UMBILICAL_CORD = "umbilical_cord", "Umbilical cord (UC-MSC)"
    WHARTONS_JELLY = "whartons_jelly", "Wharton's jelly (WJ-MSC)"
    CORD_BLOOD = "cord_blood", "Umbilical cord blood (UCB-MSC)"
    AMNIOTIC_MEMBRANE = "amniotic_membrane", "Amniotic membrane (AM-MSC)"
    AMNIOTIC_FLUID = "amniotic_fluid", "Amniotic fluid (AF-MSC)"
    PLACENTA = "placenta", "Placenta (PL-MSC)"
    CHORIONIC_VILLI = "chorionic_villi", "Chorionic villi (CV-MSC)"
    # Adult
    BONE_MARROW = "bone_marrow", "Bone marrow (BM-MSC)"
    ADIPOSE = "adipose", "Adipose tissue / lipoaspirate (AD-MSC, ASC)"
    SKELETAL_MUSCLE = "skeletal_muscle", "Skeletal muscle"
    PERIOSTEUM = "periosteum", "Periosteum / cortical bone"
    SYNOVIAL_MEMBRANE = "synovial_membrane", "Synovial membrane"
    SYNOVIAL_FLUID = "synovial_fluid", "Synovial fluid"
    ARTICULAR_CARTILAGE = "articular_cartilage", "Articular cartilage"
    MENISCUS = "meniscus", "Meniscus"
    LIVER = "liver", "Liver"
    LUNG = "lung", "Lung"
    DENTAL_PULP = "dental_pulp", "Dental pulp (DPSC)"
    DECIDUOUS_TEETH = "deciduous_teeth", "Exfoliated deciduous teeth (SHED)"
    GINGIVA = "gingiva", "Gingiva"
    SALIVARY_GLAND = "salivary_gland", "Salivary / parotid gland"
    ENDOMETRIUM = "endometrium", "Endometrium"
    PERIPHERAL_BLOOD = "peripheral_blood", "Peripheral blood"
    # Alternative
    URINE = "urine", "Urine (USC)"
    BREAST_MILK = "breast_milk", "Breast milk"
    OVARIAN_TISSUE = "ovarian_tissue", "Ovarian tissue"
    TESTICULAR_TISSUE = "testicular_tissue", "Testicular tissue"
    INFLAMED_SYNOVIAL_FLUID = "inflamed_synovial_fluid", "Inflamed synovial fluid (OA/RA)"
    MENSTRUAL_BLOOD = "menstrual_blood", "Menstrual blood (MB-MSC)"
    OTHER = "other", "Other"


_PERINATAL = {
    "umbilical_cord",
    "whartons_jelly",
    "cord_blood",
    "amniotic_membrane",
    "amniotic_fluid",
    "placenta",
    "chorionic_villi",
}
_ALTERNATIVE = {
    "urine",
    "breast_milk",
    "ovarian_tissue",
    "testicular_tissue",
    "inflamed_synovial_fluid",
    "menstrual_blood",
}
TISSUE_GROUP: dict[str, str] = {
    value: (
        TissueGroup.PERINATAL
        if value in _PERINATAL
        else TissueGroup.ALTERNATIVE
        if value in _ALTERNATIVE
        else TissueGroup.ADULT
    )
    for value in TissueSource.values
    if value != "other"  # an "other" tissue belongs to no group until the lab names it
}


class Species(models.TextChoices):
    HUMAN = "human", "Human"
    MOUSE = "mouse", "Mouse"
    RAT = "rat", "Rat"
    PIG = "pig", "Pig"
    DOG = "dog", "Dog"
    HORSE = "horse", "Horse"
    SHEEP = "sheep", "Sheep"
    RABBIT = "rabbit", "Rabbit"
    NON_HUMAN_PRIMATE = "non_human_primate", "Non-human primate"
    OTHER = "other", "Other"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    MIXED = "mixed", "Mixed (pooled donors / both sexes)"
    UNKNOWN = "unknown", "Not known"


class HealthStatus(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    DISEASED = "diseased", "With a disease (see details)"
    UNKNOWN = "unknown", "Not known"


class IsolationMethod(models.TextChoices):
    ENZYMATIC = "enzymatic", "Enzymatic digestion"
    EXPLANT = "explant", "Explant culture"
    DENSITY_GRADIENT = "density_gradient", "Density gradient"
    DIRECT_PLATING = "direct_plating", "Direct plating (adherence)"
    COMMERCIAL = "commercial", "Bought from a supplier"
    OTHER = "other", "Other"


class Enzyme(models.TextChoices):
    COLLAGENASE_I = "collagenase_i", "Collagenase type I"
    COLLAGENASE_II = "collagenase_ii", "Collagenase type II"
    COLLAGENASE_IV = "collagenase_iv", "Collagenase type IV"
    COLLAGENASE_DISPASE = "collagenase_dispase", "Collagenase + dispase"
    HYALURONIDASE = "hyaluronidase", "Hyaluronidase"
    TRYPSIN = "trypsin", "Trypsin"
    OTHER = "other", "Other"


class Medium(models.TextChoices):
    DMEM_LOW_GLUCOSE = "dmem_lg", "DMEM, low glucose"
    DMEM_HIGH_GLUCOSE = "dmem_hg", "DMEM, high glucose"
    DMEM_F12 = "dmem_f12", "DMEM/F-12"
    ALPHA_MEM = "alpha_mem", "α-MEM"
    RPMI_1640 = "rpmi_1640", "RPMI 1640"
    IMDM = "imdm", "IMDM"
    COMMERCIAL_MSC = "commercial_msc", "Commercial MSC medium (name in details)"
    COMMERCIAL_SERUM_FREE = "commercial_serum_free", "Commercial serum-free medium (name in details)"
    OTHER = "other", "Other (name in details)"


class Antibiotics(models.TextChoices):
    NONE = "none", "None"
    PEN_STREP = "pen_strep", "Penicillin–streptomycin"
    PEN_STREP_AMPHO = "pen_strep_ampho", "Penicillin–streptomycin–amphotericin B"
    GENTAMICIN = "gentamicin", "Gentamicin"
    PRIMOCIN = "primocin", "Primocin"
    OTHER = "other", "Other"


class Supplement(models.TextChoices):
    FBS = "fbs", "Fetal bovine serum (FBS)"
    HPL = "hpl", "Human platelet lysate (hPL)"
    HUMAN_SERUM = "human_serum", "Human serum"
    SERUM_FREE = "serum_free", "Serum-free supplement"
    XENO_FREE = "xeno_free", "Xeno-free supplement"
    OTHER = "other", "Other"


class CultureFormat(models.TextChoices):
    TWO_D = "2d", "2D (monolayer)"
    SPHEROID = "3d_spheroid", "3D spheroids"
    SCAFFOLD = "3d_scaffold", "3D scaffold / hydrogel"
    BIOREACTOR = "3d_bioreactor", "3D bioreactor"
    MICROCARRIER = "3d_microcarrier", "3D microcarriers"
    OTHER = "other", "Other"


THREE_D_FORMATS = {"3d_spheroid", "3d_scaffold", "3d_bioreactor", "3d_microcarrier"}


class Marker(models.TextChoices):
    CD73 = "CD73", "CD73"
    CD90 = "CD90", "CD90"
    CD105 = "CD105", "CD105"
    CD45 = "CD45", "CD45"
    CD34 = "CD34", "CD34"
    CD14 = "CD14", "CD14"
    CD11B = "CD11b", "CD11b"
    CD79A = "CD79a", "CD79a"
    CD19 = "CD19", "CD19"
    HLA_DR = "HLA-DR", "HLA-DR"
    CD44 = "CD44", "CD44"
    CD29 = "CD29", "CD29"
    CD146 = "CD146", "CD146"
    CD271 = "CD271", "CD271"
    OTHER = "other", "Other"


ISCT_POSITIVE_MARKERS = ("CD73", "CD90", "CD105")
# ISCT 2006: each of these must be <= 2 %; CD14 or CD11b, CD79a or CD19 are alternatives.
ISCT_NEGATIVE_MARKER_GROUPS = (("CD45",), ("CD34",), ("CD14", "CD11b"), ("CD79a", "CD19"), ("HLA-DR",))


class Lineage(models.TextChoices):
    OSTEOGENIC = "osteogenic", "Osteogenic"
    ADIPOGENIC = "adipogenic", "Adipogenic"
    CHONDROGENIC = "chondrogenic", "Chondrogenic"


class DifferentiationResult(models.TextChoices):
    POSITIVE = "positive", "Positive"
    WEAK = "weak", "Weak"
    NEGATIVE = "negative", "Negative"


class DifferentiationMethod(models.TextChoices):
    ALIZARIN_RED = "alizarin_red", "Alizarin red S"
    VON_KOSSA = "von_kossa", "von Kossa"
    ALKALINE_PHOSPHATASE = "alkaline_phosphatase", "Alkaline phosphatase"
    OIL_RED_O = "oil_red_o", "Oil red O"
    NILE_RED = "nile_red", "Nile red"
    ALCIAN_BLUE = "alcian_blue", "Alcian blue"
    SAFRANIN_O = "safranin_o", "Safranin O"
    TOLUIDINE_BLUE = "toluidine_blue", "Toluidine blue"
    COLLAGEN_II = "collagen_ii", "Collagen II immunostaining"
    QPCR = "qpcr", "qPCR of lineage genes"
    OTHER = "other", "Other"


class Vessel(models.TextChoices):
    T25 = "t25", "T25 flask"
    T75 = "t75", "T75 flask"
    T175 = "t175", "T175 flask"
    T225 = "t225", "T225 flask"
    DISH_100 = "dish_100", "100 mm dish"
    DISH_150 = "dish_150", "150 mm dish"
    MULTILAYER = "multilayer", "Multilayer flask / cell factory"
    BIOREACTOR = "bioreactor", "Bioreactor"
    MULTIWELL = "multiwell", "Multiwell plate"
    OTHER = "other", "Other"


class TestResult(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"
    NOT_TESTED = "not_tested", "Not tested"


class PrimingKind(models.TextChoices):
    NONE = "none", "No priming"
    CYTOKINE = "cytokine", "Cytokine priming"
    HYPOXIA = "hypoxia", "Hypoxia"
    HYPOXIA_MIMETIC = "hypoxia_mimetic", "Hypoxia mimetic (e.g. deferoxamine)"
    THREE_D = "three_d", "3D culture"
    COMBINED = "combined", "Combined"
    OTHER = "other", "Other"


class HypoxiaDevice(models.TextChoices):
    TRI_GAS_INCUBATOR = "tri_gas_incubator", "Tri-gas incubator"
    HYPOXIA_CHAMBER = "hypoxia_chamber", "Modular hypoxia chamber"
    HYPOXIA_WORKSTATION = "hypoxia_workstation", "Hypoxia workstation"
    OTHER = "other", "Other"


class PrimingAgentName(models.TextChoices):
    IFN_GAMMA = "ifn_gamma", "IFN-γ"
    TNF_ALPHA = "tnf_alpha", "TNF-α"
    IL_1BETA = "il_1beta", "IL-1β"
    IL_1ALPHA = "il_1alpha", "IL-1α"
    IL_17A = "il_17a", "IL-17A"
    DEFEROXAMINE = "deferoxamine", "Deferoxamine (DFO)"
    COBALT_CHLORIDE = "cobalt_chloride", "Cobalt chloride"
    DMOG = "dmog", "Dimethyloxalylglycine (DMOG)"
    LPS = "lps", "Lipopolysaccharide (LPS)"
    POLY_IC = "poly_ic", "Poly(I:C)"
    OTHER = "other", "Other"


CYTOKINE_AGENTS = {"ifn_gamma", "tnf_alpha", "il_1beta", "il_1alpha", "il_17a"}


class ConcentrationUnit(models.TextChoices):
    NG_ML = "ng/mL", "ng/mL"
    UG_ML = "µg/mL", "µg/mL"
    U_ML = "U/mL", "U/mL"
    UM = "µM", "µM"
    MM = "mM", "mM"


class TimeUnit(models.TextChoices):
    MIN = "min", "minutes"
    H = "h", "hours"


class ProductType(models.TextChoices):
    CM = "CM", "Whole conditioned medium (CM)"
    CONC = "CONC", "Concentrated secretome"
    EV = "EV", "Extracellular vesicles (EV)"
    EVD = "EVD", "EV-depleted secretome"
    LYO = "LYO", "Lyophilised secretome"


class IntendedUse(models.TextChoices):
    IN_VITRO = "in_vitro", "In vitro"
    IN_VIVO = "in_vivo", "In vivo (animals)"
    CLINICAL = "clinical", "Clinical"


class EVDepletionMethod(models.TextChoices):
    NONE = "none", "Not depleted"
    ULTRACENTRIFUGATION = "ultracentrifugation", "Ultracentrifugation of the serum (≥18 h)"
    COMMERCIAL = "commercial", "Commercial EV-depleted serum"
    ULTRAFILTRATION = "ultrafiltration", "Ultrafiltration of the serum"
    OTHER = "other", "Other"


class BatchStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"
    RETIRED = "retired", "Retired"


class ProcessingKind(models.TextChoices):
    CENTRIFUGATION = "centrifugation", "Centrifugation"
    FILTRATION = "filtration", "Filtration"
    ULTRAFILTRATION = "ultrafiltration", "Ultrafiltration"
    TFF = "tff", "Tangential flow filtration"
    ULTRACENTRIFUGATION = "ultracentrifugation", "Ultracentrifugation"
    SEC = "sec", "Size-exclusion chromatography"
    DENSITY_GRADIENT = "density_gradient", "Density gradient"
    PRECIPITATION = "precipitation", "Precipitation"
    LYOPHILISATION = "lyophilisation", "Lyophilisation (freeze-drying)"
    OTHER = "other", "Other (see details)"


EV_SEPARATION_KINDS = {"tff", "ultracentrifugation", "sec", "density_gradient", "precipitation"}


class Lyoprotectant(models.TextChoices):
    NONE = "none", "None"
    TREHALOSE = "trehalose", "Trehalose"
    SUCROSE = "sucrose", "Sucrose"
    MANNITOL = "mannitol", "Mannitol"
    OTHER = "other", "Other"


class ReconstitutionVehicle(models.TextChoices):
    WATER = "water", "Water for injection"
    SALINE = "saline", "0.9 % saline"
    PBS = "pbs", "PBS"
    MEDIUM = "medium", "Basal medium"
    OTHER = "other", "Other"


class StorageKind(models.TextChoices):
    FREEZER = "freezer", "Freezer"
    LN2_TANK = "ln2_tank", "Liquid nitrogen tank"
    REFRIGERATOR = "refrigerator", "Refrigerator"
    SHELF = "shelf", "Shelf"
    RACK = "rack", "Rack"
    BOX = "box", "Box"


class Container(models.TextChoices):
    CRYOVIAL = "cryovial", "Cryovial"
    LOW_BIND_TUBE = "low_bind_tube", "Low-protein-binding tube"
    MICROTUBE = "microtube", "Microcentrifuge tube"
    GLASS_VIAL = "glass_vial", "Glass vial"
    CONICAL_TUBE = "conical_tube", "Conical tube"
    OTHER = "other", "Other"


class Buffer(models.TextChoices):
    AS_COLLECTED = "as_collected", "As collected (conditioning medium)"
    PBS = "pbs", "PBS"
    PBS_TREHALOSE = "pbs_trehalose", "PBS + 25 mM trehalose"
    PBS_HSA = "pbs_hsa", "PBS + human serum albumin"
    SALINE = "saline", "0.9 % saline"
    OTHER = "other", "Other"


class AliquotState(models.TextChoices):
    FRESH = "fresh", "Fresh"
    FROZEN = "frozen", "Frozen"
    LYOPHILISED = "lyophilised", "Lyophilised"


class AliquotStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    RESERVED = "reserved", "Reserved"
    CONSUMED = "consumed", "Consumed"
    DISCARDED = "discarded", "Discarded"


class AliquotEventKind(models.TextChoices):
    FROZEN = "frozen", "Frozen"
    THAWED = "thawed", "Thawed"
    USED = "used", "Used"
    MOVED = "moved", "Moved"
    DISCARDED = "discarded", "Discarded"


class Assay(models.TextChoices):
    STERILITY = "sterility", "Sterility"
    ENDOTOXIN = "endotoxin", "Endotoxin"
    MYCOPLASMA = "mycoplasma", "Mycoplasma"
    TOTAL_PROTEIN = "total_protein", "Total protein"
    PARTICLE_CONCENTRATION = "particle_concentration", "Particle concentration"
    PARTICLE_SIZE = "particle_size", "Particle size"
    EV_MARKER = "ev_marker", "EV marker"
    CONTAMINANT_MARKER = "contaminant_marker", "Contaminant marker"
    CYTOKINE = "cytokine", "Cytokine / growth factor"
    POTENCY = "potency", "Potency"
    RESIDUAL_BSA = "residual_bsa", "Residual BSA"
    IMAGING = "imaging", "Single-EV imaging (EM)"
    EV_DEPLETION = "ev_depletion", "EV depletion check"
    PROTEOMICS = "proteomics", "Proteomics"
    OTHER = "other", "Other"


class QCSample(models.TextChoices):
    PRODUCT = "product", "Secretome product"
    CELLS = "cells", "Producing cells"


class QCUnit(models.TextChoices):
    EU_ML = "EU/mL", "EU/mL"
    UG_ML = "µg/mL", "µg/mL"
    MG_ML = "mg/mL", "mg/mL"
    PG_ML = "pg/mL", "pg/mL"
    NG_ML = "ng/mL", "ng/mL"
    PARTICLES_ML = "particles/mL", "particles/mL"
    NM = "nm", "nm"
    PERCENT = "%", "%"
    PERCENT_INHIBITION = "% inhibition", "% inhibition"
    FOLD = "fold", "fold change"
    CFU_ML = "CFU/mL", "CFU/mL"


class QCMethod(models.TextChoices):
    BACT_ALERT = "bact_alert", "Automated blood-culture system (BacT/ALERT)"
    DIRECT_INOCULATION = "direct_inoculation", "Direct inoculation (Ph. Eur. 2.6.1)"
    MEMBRANE_FILTRATION = "membrane_filtration", "Membrane filtration (Ph. Eur. 2.6.1)"
    LAL_KINETIC = "lal_kinetic", "LAL, kinetic chromogenic"
    LAL_GEL_CLOT = "lal_gel_clot", "LAL, gel clot"
    RECOMBINANT_FACTOR_C = "rfc", "Recombinant factor C"
    MYCO_PCR = "myco_pcr", "Mycoplasma PCR"
    MYCO_LUMINESCENCE = "myco_luminescence", "Mycoplasma enzyme/luminescence"
    MYCO_CULTURE = "myco_culture", "Mycoplasma culture (Ph. Eur. 2.6.7)"
    BCA = "bca", "BCA assay"
    BRADFORD = "bradford", "Bradford assay"
    MICRO_BCA = "micro_bca", "Micro-BCA assay"
    NTA = "nta", "Nanoparticle tracking analysis (NTA)"
    TRPS = "trps", "Tunable resistive pulse sensing (TRPS)"
    NFCM = "nfcm", "Nano-flow cytometry"
    DLS = "dls", "Dynamic light scattering"
    WESTERN_BLOT = "western_blot", "Western blot"
    BEAD_FLOW = "bead_flow", "Bead-based flow cytometry"
    ELISA = "elisa", "ELISA"
    MULTIPLEX = "multiplex", "Multiplex immunoassay"
    TEM = "tem", "Transmission electron microscopy"
    CRYO_EM = "cryo_em", "Cryo-electron microscopy"
    MASS_SPEC = "mass_spec", "Mass spectrometry"
    CELL_ASSAY = "cell_assay", "Cell-based assay"
    OTHER = "other", "Other"


class Route(models.TextChoices):
    INTRAVENOUS = "intravenous", "Intravenous"
    INTRAPERITONEAL = "intraperitoneal", "Intraperitoneal"
    INTRATHECAL = "intrathecal", "Intrathecal"
    INTRA_ARTICULAR = "intra_articular", "Intra-articular"
    INTRAPLANTAR = "intraplantar", "Intraplantar"
    PERINEURAL = "perineural", "Perineural"
    INTRANASAL = "intranasal", "Intranasal"
    SUBCUTANEOUS = "subcutaneous", "Subcutaneous"
    INTRAMUSCULAR = "intramuscular", "Intramuscular"
    INTRAVESICAL = "intravesical", "Intravesical"
    BIOMATERIAL_IMPLANT = "biomaterial_implant", "Biomaterial implant"
    OTHER = "other", "Other"


class DoseUnit(models.TextChoices):
    CELL_EQUIVALENTS = "cell_equivalents", "cell equivalents"
    PARTICLES = "particles", "particles"
    UG_PROTEIN = "ug_protein", "µg protein"
    MG_LYOPHILISATE = "mg_lyophilisate", "mg lyophilisate"
    ML_CM = "ml_cm", "mL conditioned medium"
    OTHER = "other", "Other"


class IntervalUnit(models.TextChoices):
    H = "h", "hours"
    DAYS = "days", "days"
    WEEKS = "weeks", "weeks"


class Vehicle(models.TextChoices):
    SALINE = "saline", "0.9 % saline"
    PBS = "pbs", "PBS"
    UNCONDITIONED_MEDIUM = "unconditioned_medium", "Unconditioned medium"
    HYDROGEL = "hydrogel", "Hydrogel"
    OTHER = "other", "Other"


class PainModel(models.TextChoices):
    STZ = "stz", "Streptozotocin diabetic neuropathy (STZ)"
    DB_DB = "db_db", "db/db diabetic mice"
    CIPN_OXALIPLATIN = "cipn_oxaliplatin", "Chemotherapy-induced neuropathy, oxaliplatin"
    CIPN_PACLITAXEL = "cipn_paclitaxel", "Chemotherapy-induced neuropathy, paclitaxel"
    PNL = "pnl", "Partial nerve ligation (PNL)"
    SNL = "snl", "Spinal nerve ligation (SNL)"
    CCI = "cci", "Chronic constriction injury (CCI)"
    SNI = "sni", "Spared nerve injury (SNI)"
    KNEE_OA_MIA = "knee_oa_mia", "Knee osteoarthritis, monosodium iodoacetate (MIA)"
    KNEE_OA_COLLAGENASE = "knee_oa_collagenase", "Knee osteoarthritis, collagenase"
    TMJ_OA = "tmj_oa", "Temporomandibular joint osteoarthritis"
    INTERSTITIAL_CYSTITIS = "interstitial_cystitis", "Interstitial cystitis"
    CFA = "cfa", "Complete Freund's adjuvant inflammation"
    OTHER = "other", "Other"


class ExperimentalUnit(models.TextChoices):
    ANIMAL = "animal", "Animal"
    CAGE = "cage", "Cage"
    LIMB = "limb", "Limb / joint"
    PATIENT = "patient", "Patient"


class GroupRole(models.TextChoices):
    TREATMENT = "treatment", "Treatment"
    VEHICLE = "vehicle", "Vehicle control"
    MOCK = "mock", "Mock (unconditioned medium) control"
    EVD = "evd", "EV-depleted control"
    SHAM = "sham", "Sham"
    POSITIVE_CONTROL = "positive_control", "Positive control"


class OutcomeTest(models.TextChoices):
    VON_FREY = "von_frey", "von Frey (mechanical allodynia)"
    HARGREAVES = "hargreaves", "Plantar / Hargreaves (thermal)"
    HOT_PLATE = "hot_plate", "Hot plate (thermal)"
    COLD_PLATE = "cold_plate", "Cold plate"
    ACETONE = "acetone", "Acetone (cold allodynia)"
    INCAPACITANCE = "incapacitance", "Incapacitance (weight bearing)"
    GRIP_STRENGTH = "grip_strength", "Grip strength"
    ROTAROD = "rotarod", "Rotarod"
    NRS = "nrs", "Numeric rating scale (NRS)"
    VAS = "vas", "Visual analogue scale (VAS)"
    WOMAC = "womac", "WOMAC"
    KOOS = "koos", "KOOS"
    DASH = "dash", "DASH"
    OTHER = "other", "Other"


class OutcomeUnit(models.TextChoices):
    G = "g", "g"
    S = "s", "s"
    PERCENT = "%", "%"
    SCORE = "score", "score"
    MM = "mm", "mm"
    N = "N", "N"


class QCOutcome(models.TextChoices):
    PASS = "pass", "Pass"
    WARN = "warn", "Warn"
    FAIL = "fail", "Fail"


class QCStatus(models.TextChoices):
    RECORDED = "recorded", "Recorded"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded by a correction"


# Results that count for nothing: refused by a reviewer, or replaced by a correction.
QC_NOT_COUNTED = (QCStatus.REJECTED, QCStatus.SUPERSEDED)


class ResultText(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"
    DETECTED = "detected", "Detected"
    NOT_DETECTED = "not_detected", "Not detected"
