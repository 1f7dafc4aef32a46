"""NanoSight NTA 3.x ExperimentSummary.csv (Malvern Panalytical NTA 3.2 and 3.4).

The export is a comma-separated text file made of sections, each opened by a heading line in square brackets
(`[Results]`, `[Size Data]`, …); key/value lines before the first heading describe the sample and the capture.
Section positions move between software versions, so sections are found by their headings, never by line
numbers. Two result layouts exist:

* NTA 3.2: `[Results]` holds `Key,value` lines (one value, the average of the videos);
* NTA 3.4: `[Results]` opens with a heading row (`,Video 1,Video 2,…,Average,Std Err`) and each line gives
  the value per video; the `Average` column is used and the videos are counted.

The reported concentration is the concentration in the measurement cell; the sample's concentration is that
times the dilution factor (`Dilution factor`, 1 when absent).
"""

import csv
import io
import re

from batches.imports.instruments import InstrumentFileError, Measurement, Reading, decode, to_float

_HEADING = re.compile(r"^\s*\[(?P<name>[^\]]+)\]\s*$")
RECOMMENDED_PARTICLES_PER_FRAME = (20.0, 100.0)  # NanoSight's guidance for a valid concentration


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def sections(text: str) -> dict[str, list[list[str]]]:
    found: dict[str, list[list[str]]] = {"": []}
    current = ""
    for cells in csv.reader(io.StringIO(text)):
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            continue
        heading = _HEADING.match(cells[0]) if len(cells) == 1 else None
        if heading:
            current = _key(heading["name"])
            found.setdefault(current, [])
            continue
        found[current].append(cells)
    return found


def _pairs(rows: list[list[str]]) -> dict[str, str]:
    return {_key(row[0]): row[1].strip() for row in rows if len(row) >= 2 and row[0].strip()}


_RESULT_KEYS = {
    "mean": ("mean", "mean size", "mean nm", "size mean"),
    "mode": ("mode", "mode size", "mode nm", "size mode"),
    "sd": ("sd", "sd nm", "standard deviation", "size sd"),
    "d10": ("d10", "d10 nm"),
    "d50": ("d50", "d50 nm"),
    "d90": ("d90", "d90 nm"),
    "concentration": ("concentration", "concentration particles ml", "concentration particles per ml"),
    "particles_per_frame": ("particles per frame", "particles frame"),
    "valid_tracks": ("valid tracks", "completed tracks"),
}


def _find(values: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in values:
            return values[name]
    return None


def parse(*, filename: str, content: bytes) -> Reading:
    text = decode(filename, content)
    found = sections(text)
    if "results" not in found:
        raise InstrumentFileError(
            f"{filename}: no [Results] section; is this a NanoSight NTA 3.x ExperimentSummary.csv?"
        )
    header = _pairs(found[""]) | _pairs(found.get("details", [])) | _pairs(found.get("sample", []))
    version = _find(header, ("software version", "nta version", "version")) or ""
    rows = found["results"]
    videos = None
    if rows and rows[0][0].strip() == "" and any("video" in cell.lower() for cell in rows[0]):
        columns = [cell.strip().lower() for cell in rows[0]]
        if "average" not in columns:
            raise InstrumentFileError(f"{filename}, section [Results]: the heading row has no 'Average' column.")
        average = columns.index("average")
        videos = sum(1 for cell in columns if cell.startswith("video"))
        results = {_key(row[0]): row[average] for row in rows[1:] if len(row) > average and row[0].strip()}
        layout = "per video"
    else:
        results = _pairs(rows)
        layout = "averaged"
    values: dict[str, float] = {}
    for name, keys in _RESULT_KEYS.items():
        raw = _find(results, keys)
        if raw not in (None, ""):
            values[name] = to_float(raw, filename=filename, where=f"section [Results], {name}")
    if "concentration" not in values:
        raise InstrumentFileError(f"{filename}, section [Results]: no Concentration line.")
    dilution_text = _find(header, ("dilution factor", "dilution"))
    dilution = to_float(dilution_text, filename=filename, where="Dilution factor") if dilution_text else 1.0
    if dilution <= 0:
        raise InstrumentFileError(f"{filename}: the dilution factor must be greater than zero.")
    if videos is None:
        captured = _find(header, ("number of videos", "capture count", "videos"))
        videos = int(to_float(captured, filename=filename, where="Number of videos")) if captured else None
    flags = []
    per_frame = values.get("particles_per_frame")
    low, high = RECOMMENDED_PARTICLES_PER_FRAME
    if per_frame is not None and not low <= per_frame <= high:
        flags.append(
            f"{per_frame:g} particles per frame is outside the {low:g}–{high:g} NanoSight recommends; "
            "re-measure at another dilution."
        )
    for row in found.get("validity", []) + found.get("warnings", []):
        flags.append(" ".join(cell.strip() for cell in row if cell.strip()))
    sample_concentration = values["concentration"] * dilution
    measurements = [Measurement("particle_concentration", sample_concentration, "particles/mL")]
    for analyte in ("mode", "mean", "d50"):
        if analyte in values:
            measurements.append(
                Measurement("particle_size", values[analyte], "nm", analyte.upper() if analyte == "d50" else analyte)
            )
    size_bins = len([row for row in found.get("size data", []) if row and re.match(r"^\s*[\d.]+\s*$", row[0])])
    details = {
        "software_version": version,
        "layout": layout,
        "dilution_factor": dilution,
        "measured_concentration_particles_per_ml": values["concentration"],
        "videos": videos,
        "size_bins": size_bins,
        **{name: value for name, value in values.items() if name != "concentration"},
    }
    return Reading(
        instrument=f"NanoSight NTA {version}".strip(),
        method="nta",
        measurements=measurements,
        details=details,
        flags=flags,
    )
