"""Cells as labs write them: decimal commas, thousands separators, day-first dates, placeholders."""

import datetime as dt

import pytest

from batches.imports import values


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("12.5", 12.5),
        ("12,5", 12.5),
        ("1,234.5", 1234.5),
        ("1.234,5", 1234.5),
        ("1 234,5", 1234.5),
        ("1\u00a0234,5", 1234.5),
        ("1,234,567", 1234567.0),
        ("0,125", 0.125),
        ("-80", -80.0),
        ("1.2e6", 1_200_000.0),
        ("1,2E+06", 1_200_000.0),
        ("3.5 × 10^9", 3_500_000_000.0),
        (7, 7.0),
    ],
)
def test_numbers_are_read_with_either_decimal_mark(written, read):
    assert values.number(written) == pytest.approx(read)


def test_a_lone_comma_before_three_digits_is_ambiguous_and_says_how_to_write_it():
    with pytest.raises(values.CellError, match=r"write 1234 if the comma separates thousands, or 1\.234"):
        values.number("1,234")


def test_whole_numbers_take_thousands_separators():
    assert values.whole_number("875,000") == 875_000
    assert values.whole_number("1.500.000") == 1_500_000
    with pytest.raises(values.CellError, match="whole number"):
        values.whole_number("2.5")


@pytest.mark.parametrize("written", ["2024-03-05", "05/03/2024", "5.3.2024", "05-03-24", "5 Mar 2024", "2024/3/5"])
def test_dates_are_iso_or_day_first(written):
    assert values.date(written) == dt.date(2024, 3, 5)


def test_an_impossible_date_is_named():
    with pytest.raises(values.CellError, match="not a real date"):
        values.date("31/02/2024")


@pytest.mark.parametrize("written", ["", "  ", "N/A", "n.d.", "-", "NA", "not recorded", None])
def test_placeholders_mean_not_recorded(written):
    assert values.is_not_recorded(written)


def test_none_is_a_value_not_a_placeholder():
    assert not values.is_not_recorded("None")


def test_choices_match_value_or_label_in_any_case():
    options = (("ng/mL", "ng/mL"), ("µM", "µM"), ("in_vivo", "In vivo (animals)"))
    assert values.choice("uM", options) == "µM"
    assert values.choice("in vivo (animals)", options) == "in_vivo"
    assert values.choice("IN_VIVO", options) == "in_vivo"
    with pytest.raises(values.CellError, match="not one of the allowed values: ng/mL, µM"):
        values.choice("mg", options)


def test_yes_no_and_unknown():
    assert values.boolean("Yes") is True
    assert values.boolean("n") is False
    assert values.boolean("unknown") is None
    with pytest.raises(values.CellError, match="yes or no"):
        values.boolean("maybe")


def test_a_date_and_time_is_in_the_labs_time_zone():
    assert values.date_time("12/03/2024 14:30").isoformat() == "2024-03-12T14:30:00+00:00"
    assert values.date_time("2024-03-12T09:05").isoformat() == "2024-03-12T09:05:00+00:00"
