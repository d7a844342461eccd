"""Sizes with binary units: ``"12 MiB"`` in, bytes out, and back.

GNU Mach measures everything in bytes and pages, and the knowledge-base page
quotes sizes as "8 MiB" or "128 MiB".  Every size argument of zonemodel
accepts either a non-negative ``int`` (bytes) or a string made of a number
and one of the binary units below.  Decimal units ("MB") are refused on
purpose: they are ambiguous in this domain and a silent factor of 1.048 would
move every count in the article.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np

from zonemodel.errors import ParameterError, UnitError

__all__ = ["UNITS", "format_size", "parse_size", "round_up"]

UNITS: Final[dict[str, int]] = {
    "B": 1,
    "KiB": 1 << 10,
    "MiB": 1 << 20,
    "GiB": 1 << 30,
    "TiB": 1 << 40,
}
"""Accepted size units and their value in bytes."""

_SIZE_RE: Final = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z]*)\s*$")


def parse_size(value: int | str, *, name: str = "size") -> int:
    """Return *value* in bytes.

    Parameters
    ----------
    value
        A non-negative ``int`` of bytes, or a string such as ``"8 MiB"``,
        ``"420KiB"``, ``"1.5 GiB"`` or ``"4096"`` (bytes).
    name
        The parameter name, used in error messages.

    Raises
    ------
    UnitError
        If the unit is not one of :data:`~zonemodel.units.UNITS`.
    ParameterError
        If the value is negative, not a whole number of bytes, or of another type.

    Examples
    --------
    >>> parse_size("12 MiB")
    12582912
    >>> parse_size("1.5 KiB")
    1536
    >>> parse_size("8 MB", name="zone_map")
    Traceback (most recent call last):
    ...
    zonemodel.errors.UnitError: "zone_map": unknown unit 'MB' in '8 MB'; use one of B, KiB, MiB, GiB, TiB (binary units)
    """
    if isinstance(value, (bool, np.bool_)):
        raise ParameterError(f'"{name}" must be a size in bytes or a string like "8 MiB", not a bool')
    given: object = value
    if isinstance(given, np.integer):
        value = int(given)
    if isinstance(value, int):
        if value < 0:
            raise ParameterError(f'"{name}" must be >= 0 bytes, got {value}')
        return value
    if not isinstance(value, str):
        raise ParameterError(f'"{name}" must be an int (bytes) or a string like "8 MiB", got {type(value).__name__}')
    match = _SIZE_RE.match(value)
    if match is None:
        raise ParameterError(f'"{name}": cannot read {value!r} as a size; write e.g. "8 MiB" or 4096')
    unit = match["unit"] or "B"
    if unit not in UNITS:
        allowed = ", ".join(UNITS)
        raise UnitError(f'"{name}": unknown unit {unit!r} in {value!r}; use one of {allowed} (binary units)')
    number = match["num"]
    whole, _, frac = number.partition(".")
    # Exact integer arithmetic: "1.5 GiB" must not pass through a float.
    scale: int = 10 ** len(frac)
    numerator = (int(whole) * scale + (int(frac) if frac else 0)) * UNITS[unit]
    if numerator % scale:
        raise ParameterError(f'"{name}": {value!r} is not a whole number of bytes')
    return numerator // scale


def format_size(nbytes: int) -> str:
    """Write *nbytes* with the largest binary unit that keeps it readable.

    Whole multiples print without decimals; other values get up to two.
    *nbytes* is a whole number of bytes: an ``int`` or a numpy integer (not a bool,
    a float or a string; :func:`parse_size` reads strings).

    Examples
    --------
    >>> format_size(12 * 2**20)
    '12 MiB'
    >>> format_size(430080)
    '420 KiB'
    >>> format_size(25690112)
    '24.5 MiB'
    >>> format_size(100)
    '100 B'
    >>> format_size(2043)
    '2.00 KiB'
    """
    given: object = nbytes
    if isinstance(given, (bool, np.bool_)) or not isinstance(given, (int, np.integer)):
        hint = "; parse_size() reads strings such as '8 MiB'" if isinstance(given, str) else ""
        raise ParameterError(f'"nbytes" must be a whole number of bytes (an int), got {given!r}{hint}')
    nbytes = int(given)
    if nbytes < 0:
        return "-" + format_size(-nbytes)
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        factor = UNITS[unit]
        if nbytes >= factor:
            if nbytes % factor == 0:
                return f"{nbytes // factor} {unit}"
            text = f"{nbytes / factor:.2f}"
            stripped = text.rstrip("0").rstrip(".")
            # Never print an inexact value as if it were whole ("2.00 KiB", not "2 KiB").
            return f"{stripped if '.' in stripped else text} {unit}"
    return f"{nbytes} B"


def round_up(n: int, multiple: int) -> int:
    """*n* rounded up to a whole number of *multiple* (a page, a pointer).

    Examples
    --------
    >>> round_up(4097, 4096), round_up(4096, 4096), round_up(66, 4)
    (8192, 4096, 68)
    """
    return -(-n // multiple) * multiple
