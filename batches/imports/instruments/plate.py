"""Plate readers: an 8 × 12 plate of absorbances (CSV or XLSX, rows A–H, columns 1–12, as plate-reader software
exports them, e.g. BioTek Gen5 or Tecan i-control "plate" layout) plus a layout of the same shape:

* `STD <concentration>` — a standard of that concentration (µg/mL for BCA, pg/mL for ELISA);
* `BLANK` — a blank, subtracted from every well;
* `SAMPLE x<dilution>` (or `SAMPLE <dilution>`) — the batch's sample, diluted that many times;
* empty — not used.

BCA is fitted with a straight line (least squares), ELISA with a four-parameter logistic curve
(SciPy's curve_fit); the fit's R² is kept. A sample well whose blank-corrected signal lies outside the
standards' signals is flagged and left out; the batch's value is the mean of the in-range wells times their
dilution.
"""

import csv
import io
import math
import re

import numpy as np
from scipy.optimize import curve_fit

from batches.imports.instruments import InstrumentFileError, Measurement, Reading, decode, to_float

ROWS = "ABCDEFGH"
COLUMNS = range(1, 13)


def _cells(filename: str, content: bytes) -> list[list[str]]:
    if content.startswith(b"PK\x03\x04"):
        from batches.imports.files import ImportFileError, data_sheet, open_workbook

        try:
            workbook = open_workbook(filename=filename, content=content)
        except ImportFileError as error:
            raise InstrumentFileError(str(error)) from None
        try:
            return [
                ["" if v is None else str(v) for v in row] for row in data_sheet(workbook).iter_rows(values_only=True)
            ]
        finally:
            workbook.close()
    text = decode(filename, content)
    delimiter = ";" if text.count(";") > text.count(",") else "\t" if text.count("\t") > text.count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def read_grid(*, filename: str, content: bytes) -> dict[str, str]:
    """Well (A1…H12) → cell text, found by the row letters A–H in the first column beside a 1…12 heading."""
    rows = _cells(filename, content)
    for start, row in enumerate(rows):
        stripped = [cell.strip() for cell in row]
        if stripped[1:13] == [str(n) for n in COLUMNS] or stripped[1:13] == [f"{n}.0" for n in COLUMNS]:
            grid: dict[str, str] = {}
            for offset, letter in enumerate(ROWS, start=1):
                if start + offset >= len(rows) or (
                    rows[start + offset][:1] != [letter]
                    and (not rows[start + offset] or rows[start + offset][0].strip() != letter)
                ):
                    raise InstrumentFileError(
                        f"{filename}: row {letter} of the plate is missing below the 1–12 heading."
                    )
                cells = rows[start + offset]
                for column in COLUMNS:
                    grid[f"{letter}{column}"] = cells[column].strip() if column < len(cells) else ""
            return grid
    raise InstrumentFileError(f"{filename}: no 8 × 12 plate (a heading row 1…12 with rows A–H below it).")


def _layout(filename: str, grid: dict[str, str]) -> dict[str, tuple[str, float]]:
    roles: dict[str, tuple[str, float]] = {}
    for well, text in grid.items():
        label = text.strip().upper()
        if not label:
            continue
        if label == "BLANK":
            roles[well] = ("blank", 0.0)
            continue
        match = re.fullmatch(r"(STD|STANDARD)\s*[:\s]\s*([\d.,eE+-]+)", label)
        if match:
            roles[well] = ("standard", to_float(match[2], filename=filename, where=f"well {well}"))
            continue
        match = re.fullmatch(r"(SAMPLE|SMP|S)\s*[:\s]?\s*X?\s*([\d.,]+)?", label)
        if match:
            dilution = to_float(match[2], filename=filename, where=f"well {well}") if match[2] else 1.0
            roles[well] = ("sample", dilution)
            continue
        raise InstrumentFileError(
            f"{filename}, well {well}: '{text}' is not STD <concentration>, BLANK or SAMPLE x<dilution>."
        )
    return roles


def four_parameter_logistic(x, a, b, c, d):
    """a: response at zero, d: response at infinity, c: inflection point, b: slope."""
    return d + (a - d) / (1.0 + (x / c) ** b)


def _r_squared(observed: np.ndarray, fitted: np.ndarray) -> float:
    residual = float(np.sum((observed - fitted) ** 2))
    total = float(np.sum((observed - observed.mean()) ** 2))
    return 1.0 - residual / total if total > 0 else 0.0


def parse(*, filename: str, content: bytes, layout_name: str, layout: bytes, assay: str, analyte: str = "") -> Reading:
    if assay not in ("bca", "elisa"):
        raise InstrumentFileError(f"assay: '{assay}' is not bca or elisa.")
    plate = read_grid(filename=filename, content=content)
    roles = _layout(layout_name, read_grid(filename=layout_name, content=layout))
    signal: dict[str, float] = {}
    for well in roles:
        if not plate.get(well):
            raise InstrumentFileError(f"{filename}, well {well}: the layout uses it but the plate has no reading.")
        signal[well] = to_float(plate[well], filename=filename, where=f"well {well}")
    blanks = [signal[w] for w, (role, _) in roles.items() if role == "blank"]
    blank = sum(blanks) / len(blanks) if blanks else 0.0
    standards: dict[float, list[float]] = {}
    for well, (role, concentration) in roles.items():
        if role == "standard":
            standards.setdefault(concentration, []).append(signal[well] - blank)
    if len(standards) < (2 if assay == "bca" else 4):
        raise InstrumentFileError(
            f"{layout_name}: {'BCA needs at least 2' if assay == 'bca' else 'ELISA needs at least 4'} standard "
            f"concentrations; the layout has {len(standards)}."
        )
    x = np.array(sorted(standards))
    y = np.array([sum(standards[c]) / len(standards[c]) for c in x])
    if assay == "bca":
        slope, intercept = np.polyfit(x, y, 1)
        r_squared = _r_squared(y, slope * x + intercept)
        fit = {"model": "linear", "slope": float(slope), "intercept": float(intercept)}

        def concentration_of(value: float) -> float:
            return (value - intercept) / slope

    else:
        guess = [float(y.min()), 1.0, float(np.median(x[x > 0])) if (x > 0).any() else 1.0, float(y.max())]
        try:
            (a, b, c, d), _ = curve_fit(four_parameter_logistic, np.where(x == 0, 1e-9, x), y, p0=guess, maxfev=20000)
        except (RuntimeError, ValueError) as error:
            raise InstrumentFileError(f"{filename}: the 4-parameter logistic fit did not converge ({error}).") from None
        r_squared = _r_squared(y, four_parameter_logistic(np.where(x == 0, 1e-9, x), a, b, c, d))
        fit = {"model": "4PL", "a": float(a), "b": float(b), "c": float(c), "d": float(d)}

        def concentration_of(value: float) -> float:
            ratio = (a - d) / (value - d) - 1.0
            return float(c * ratio ** (1.0 / b)) if ratio > 0 else math.nan

    low, high = float(y.min()), float(y.max())
    flags, wells, values = [], {}, []
    for well, (role, dilution) in sorted(roles.items()):
        if role != "sample":
            continue
        corrected = signal[well] - blank
        if not low <= corrected <= high:
            flags.append(
                f"Well {well}: signal {corrected:.4g} is outside the standards ({low:.4g}–{high:.4g}); left out."
            )
            wells[well] = {"signal": corrected, "dilution": dilution, "in_range": False}
            continue
        in_well = concentration_of(corrected)
        wells[well] = {"signal": corrected, "dilution": dilution, "in_range": True, "concentration": in_well * dilution}
        values.append(in_well * dilution)
    if not values:
        raise InstrumentFileError(f"{filename}: no sample well is within the standard curve; dilute and measure again.")
    unit = "µg/mL" if assay == "bca" else "pg/mL"
    mean = sum(values) / len(values)
    measurement = (
        Measurement("total_protein", mean, unit) if assay == "bca" else Measurement("cytokine", mean, unit, analyte)
    )
    return Reading(
        instrument="Plate reader",
        method=assay,
        measurements=[measurement],
        details={
            "fit": fit,
            "r_squared": r_squared,
            "blank": blank,
            "standards": dict(zip(x.tolist(), y.tolist(), strict=True)),
            "wells": wells,
        },
        flags=flags,
    )
