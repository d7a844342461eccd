"""Sizes with binary units."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zonemodel.errors import ParameterError, UnitError
from zonemodel.units import UNITS, format_size, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 MiB", 12 * 2**20),
        ("12MiB", 12 * 2**20),
        ("  420 KiB ", 420 * 1024),
        ("1.5 GiB", 3 * 2**29),
        ("4096", 4096),
        ("4096 B", 4096),
        ("0.5 KiB", 512),
        (0, 0),
        (123, 123),
    ],
)
def test_good_sizes(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["8 MB", "8 mib", "8 kB", "8 M", "3 pages"])
def test_unknown_units_are_refused_with_the_allowed_ones(text: str) -> None:
    with pytest.raises(UnitError, match=r'"zone_map": unknown unit .* use one of B, KiB, MiB, GiB, TiB'):
        parse_size(text, name="zone_map")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, r'"ram" must be >= 0 bytes, got -1'),
        ("-1 MiB", r'"ram": cannot read'),
        ("1.1 B", r"not a whole number of bytes"),
        ("MiB", r'"ram": cannot read'),
        ("", r'"ram": cannot read'),
        (True, r"not a bool"),
        (1.5, r"must be an int \(bytes\) or a string"),
        (None, r"must be an int \(bytes\) or a string"),
    ],
)
def test_bad_values_name_the_parameter(value: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        parse_size(value, name="ram")  # type: ignore[arg-type]


@given(st.integers(0, 2**50))
def test_format_then_parse_round_trips_whole_units(n: int) -> None:
    """Whole multiples of a unit print exactly and parse back to the same bytes."""
    text = format_size(n)
    number, unit = text.split()
    if "." not in number:
        assert parse_size(text) == n
    assert unit in UNITS
