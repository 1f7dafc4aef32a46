"""Particle Metrix ZetaView .txt exports (ZetaView software 8.05).

The export opens with `Key: value` lines (the sample, the instrument settings and the results); the dilution
is written with two colons (`Dilution:: 1000`). After them come the size distribution tables, each announced
by a line naming it (`Size Distribution` … `Lin` for the linear bins, `Log` for the logarithmic ones), a
tab-separated heading row starting with `Size / nm` and one row per bin.

The `Concentration` line is the concentration measured in the cell (particles/mL); the sample's
concentration is that times the dilution. The number-weighted mean size is computed from the linear
distribution (Σ size × number / Σ number).
"""

import re

from batches.imports.instruments import InstrumentFileError, Measurement, Reading, decode, to_float

_KEY_VALUE = re.compile(r"^(?P<key>[^:\t]+?)\s*::?\s*(?P<value>.*)$")
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def parse(*, filename: str, content: bytes) -> Reading:
    text = decode(filename, content)
    header: dict[str, str] = {}
    tables: dict[str, list[list[float]]] = {}
    current: str | None = None
    columns: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        lowered = stripped.lower()
        if "size distribution" in lowered or lowered in ("lin", "log", "linear", "logarithmic"):
            if "log" in lowered:
                current = "logarithmic"
            elif "lin" in lowered:
                current = "linear"
            else:
                current = current or "linear"
            columns = []
            continue
        if current is not None and lowered.startswith("size / nm"):
            columns = [_key(cell) for cell in stripped.split("\t")]
            tables.setdefault(current, [])
            continue
        if current is not None and columns and _NUMBER.match(stripped):
            cells = stripped.split("\t")
            tables[current].append([to_float(cell, filename=filename, where=f"line {number}") for cell in cells])
            continue
        match = _KEY_VALUE.match(stripped)
        if match and current is None:
            header[_key(match["key"])] = match["value"].strip()
    if "dilution" not in header:
        raise InstrumentFileError(f"{filename}: no 'Dilution::' line; is this a ZetaView .txt export?")
    dilution = to_float(header["dilution"], filename=filename, where="Dilution::")
    if dilution <= 0:
        raise InstrumentFileError(f"{filename}: the dilution must be greater than zero.")
    raw_concentration = header.get("concentration") or header.get("particle concentration")
    if not raw_concentration:
        raise InstrumentFileError(f"{filename}: no 'Concentration:' line.")
    found = _NUMBER.search(raw_concentration.replace(",", "."))
    if found is None:
        raise InstrumentFileError(f"{filename}, Concentration: '{raw_concentration}' is not a number.")
    measured = float(found.group())
    linear = tables.get("linear", [])
    if not linear:
        raise InstrumentFileError(f"{filename}: no linear size distribution table (a 'Size / nm' heading row).")
    total = sum(row[1] for row in linear)
    if total <= 0:
        raise InstrumentFileError(f"{filename}, linear size distribution: no particles counted.")
    mean_size = sum(row[0] * row[1] for row in linear) / total
    cumulative, median = 0.0, None
    for size, count, *_ in linear:
        cumulative += count
        if median is None and cumulative >= total / 2:
            median = size
    version = header.get("zetaview version") or header.get("software version") or header.get("version") or ""
    details = {
        "software_version": version,
        "dilution_factor": dilution,
        "measured_concentration_particles_per_ml": measured,
        "mean_size_nm": mean_size,
        "median_bin_nm": median,
        "linear_bins": len(linear),
        "logarithmic_bins": len(tables.get("logarithmic", [])),
        "traces": header.get("number of traces") or header.get("traced particles"),
    }
    return Reading(
        instrument=f"ZetaView {version}".strip(),
        method="nta",
        measurements=[
            Measurement("particle_concentration", measured * dilution, "particles/mL"),
            Measurement("particle_size", mean_size, "nm", "mean"),
        ],
        details=details,
    )
