"""Numbers print as a journal prints them."""

import pytest

from batches.exports import typography as t


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (2_000_000, "2 × 10⁶"),
        (12_600_000, "1.26 × 10⁷"),
        (4.2e10, "4.2 × 10¹⁰"),
        (48.0, "48"),
        (0.22, "0.22"),
        (-80, "−80"),
        (152.0, "152"),
        (9999, "9999"),
    ],
)
def test_it_prints_counts_in_scientific_notation_and_a_real_minus_sign(value, printed):
    assert t.number(value) == printed


def test_it_puts_a_space_between_a_number_and_its_unit():
    assert t.quantity(200, "µL") == "200 µL"
    assert t.quantity(0.22, "µm") == "0.22 µm"
    assert t.temperature(-80) == "−80 °C"
    assert t.quantity(100_000, "× g") == "100,000 × g"


def test_it_writes_a_range_with_an_en_dash_and_negative_ranges_with_to():
    assert t.span([41, 24, 33], "years") == "24–41 years"
    assert t.span([-80, -20], "°C") == "−80 to −20 °C"
    assert t.span([3, 3], "") == "3"
    assert t.span([None, None], "h") is None


def test_it_reports_three_or_more_values_as_mean_sd_and_n():
    assert t.summary([110, 120, 130], "µg/mL") == "120 ± 10 µg/mL (n = 3)"
    assert t.summary([0.05, 0.8], "EU/mL") == "0.05–0.8 EU/mL"
    assert t.summary([94], "%") == "94 %"
    assert t.summary([4.0e10, 4.2e10, 4.4e10], "particles/mL") == "(4.2 ± 0.2) × 10¹⁰ particles/mL (n = 3)"
    assert t.summary([1, 2, 3], "%", inside=True) == "2.0 ± 1.0 %, n = 3"


def test_it_writes_small_counts_in_words_and_joins_lists_as_prose():
    assert t.count_word(3) == "three"
    assert t.count_word(21) == "21"
    assert t.counted(1, "donor") == "one donor"
    assert t.join(["a", "b", "c"]) == "a, b and c"
    assert t.annotate("collagenase (1 mg/mL)", "CL-1") == "collagenase (1 mg/mL; CL-1)"
    assert t.significant(8458.65) == "8460"
