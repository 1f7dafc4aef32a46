"""Instrument exports read into numbers that match hand calculations, dilution included."""

from pathlib import Path

import numpy as np
import pytest

from batches.imports.instruments import InstrumentFileError, nta, plate, zetaview

FILES = Path(__file__).parent / "files"


def _read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def test_nta_3_2_results_are_read_and_the_concentration_is_multiplied_by_the_dilution():
    reading = nta.parse(filename="summary.csv", content=_read("nta-3.2-ExperimentSummary.csv"))

    concentration, mode, mean, d50 = reading.measurements
    assert concentration.value == pytest.approx(2.45e8 * 1000)  # 2.45E+08 in the cell × dilution 1000
    assert concentration.unit == "particles/mL" and concentration.assay == "particle_concentration"
    assert (mode.analyte, mode.value, mode.unit) == ("mode", 118.3, "nm")
    assert (mean.analyte, mean.value) == ("mean", 142.6)
    assert (d50.analyte, d50.value) == ("D50", 131.7)
    assert reading.details["software_version"] == "3.2 Dev Build 3.2.16"
    assert reading.details["videos"] == 5 and reading.details["layout"] == "averaged"
    assert (reading.details["sd"], reading.details["d10"], reading.details["d90"]) == (51.2, 92.4, 205.9)
    assert reading.details["size_bins"] == 400
    assert reading.flags == []


def test_nta_3_4_per_video_results_in_windows_1252_use_the_average_column():
    reading = nta.parse(filename="summary.csv", content=_read("nta-3.4-ExperimentSummary.csv"))

    assert reading.measurements[0].value == pytest.approx(3.2e8 * 500)
    assert reading.measurements[1].value == 101.3
    assert reading.details["videos"] == 3 and reading.details["layout"] == "per video"
    assert reading.details["software_version"] == "3.4.4"
    assert reading.flags == [
        "12.2 particles per frame is outside the 20–100 NanoSight recommends; re-measure at another dilution."
    ]


def test_an_nta_file_without_results_names_the_missing_section():
    with pytest.raises(InstrumentFileError, match=r"other\.csv: no \[Results\] section"):
        nta.parse(filename="other.csv", content=b"Sample,1\n[Size Data]\n1,2\n")


def test_zetaview_reads_the_double_colon_dilution_and_the_linear_distribution():
    reading = zetaview.parse(filename="zv.txt", content=_read("zetaview-8.05.txt"))

    concentration, size = reading.measurements
    assert concentration.value == pytest.approx(4.0e7 * 2000)
    # (50 × 10 + 100 × 30 + 150 × 40 + 200 × 20) / (10 + 30 + 40 + 20) = 13 500 / 100
    assert size.value == pytest.approx(135.0)
    assert reading.details["median_bin_nm"] == 150
    assert reading.details["linear_bins"] == 4 and reading.details["logarithmic_bins"] == 3
    assert reading.details["software_version"] == "8.05.12 SP1"


def test_zetaview_without_dilution_is_refused():
    with pytest.raises(InstrumentFileError, match=r"zv\.txt: no 'Dilution::' line"):
        zetaview.parse(filename="zv.txt", content=b"Concentration: 1E7\n")


def test_a_bca_plate_gives_the_mean_of_in_range_wells_times_their_dilution():
    reading = plate.parse(
        filename="plate.csv",
        content=_read("bca-plate.csv"),
        layout_name="layout.csv",
        layout=_read("bca-layout.csv"),
        assay="bca",
    )

    # Blank 0.100; standards A = 0.100 + 0.0008 × c; wells C1, C2 read 0.420 and 0.580 at ×10:
    # (0.320 / 0.0008) × 10 = 4000 and (0.480 / 0.0008) × 10 = 6000 → mean 5000 µg/mL.
    (measurement,) = reading.measurements
    assert (measurement.assay, measurement.unit) == ("total_protein", "µg/mL")
    assert measurement.value == pytest.approx(5000, rel=1e-6)
    assert reading.details["fit"]["slope"] == pytest.approx(0.0008)
    assert reading.details["r_squared"] == pytest.approx(1.0)
    assert reading.details["blank"] == pytest.approx(0.1)
    assert reading.flags == ["Well C3: signal 2.4 is outside the standards (0.1–1.6); left out."]
    assert reading.details["wells"]["C3"]["in_range"] is False


def _elisa_files(tmp_path):
    a, b, c, d = 0.05, 1.2, 250.0, 2.5
    concentrations = [15.6, 31.25, 62.5, 125, 250, 500, 1000]
    grid_plate = [["0.0500"] * 12 for _ in range(8)]
    grid_layout = [[""] * 12 for _ in range(8)]
    for i, conc in enumerate(concentrations):
        grid_layout[0][i] = f"STD {conc}"
        grid_plate[0][i] = f"{plate.four_parameter_logistic(conc, a, b, c, d):.6f}"
    grid_layout[1][0] = "SAMPLE x5"
    grid_plate[1][0] = f"{plate.four_parameter_logistic(100.0, a, b, c, d):.6f}"

    def write(name, rows):
        lines = ["," + ",".join(str(n) for n in range(1, 13))]
        lines += [letter + "," + ",".join(row) for letter, row in zip("ABCDEFGH", rows, strict=True)]
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path.read_bytes()

    return write("elisa.csv", grid_plate), write("elisa-layout.csv", grid_layout)


def test_an_elisa_plate_is_fitted_with_a_four_parameter_logistic(tmp_path):
    content, layout = _elisa_files(tmp_path)

    reading = plate.parse(
        filename="elisa.csv", content=content, layout_name="layout.csv", layout=layout, assay="elisa", analyte="IL-10"
    )

    (measurement,) = reading.measurements
    assert (measurement.assay, measurement.analyte, measurement.unit) == ("cytokine", "IL-10", "pg/mL")
    assert measurement.value == pytest.approx(100.0 * 5, rel=1e-3)  # 100 pg/mL in the well × dilution 5
    assert reading.details["fit"]["model"] == "4PL"
    assert reading.details["r_squared"] > 0.9999
    assert np.isclose(reading.details["fit"]["c"], 250.0, rtol=1e-2)


def test_a_layout_with_an_unknown_label_names_the_well(tmp_path):
    content, _ = _elisa_files(tmp_path)
    bad_layout = b",1,2,3,4,5,6,7,8,9,10,11,12\n" + b"".join(
        f"{letter},{'PLASMA' if letter == 'B' else ''},,,,,,,,,,,\n".encode() for letter in "ABCDEFGH"
    )
    with pytest.raises(InstrumentFileError, match=r"layout\.csv, well B1: 'PLASMA' is not STD"):
        plate.parse(filename="p.csv", content=content, layout_name="layout.csv", layout=bad_layout, assay="bca")


def test_a_file_without_a_plate_says_so():
    with pytest.raises(InstrumentFileError, match=r"p\.csv: no 8 × 12 plate"):
        plate.read_grid(filename="p.csv", content=b"just,some\ntext,here\n")
