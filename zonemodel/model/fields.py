"""How a field of :class:`~zonemodel.Kernel` is given and checked: its kind and its allowed range.

Each field of the Kernel dataclass carries a :class:`_Spec` in its metadata
(``field(metadata=_size(4 * KiB, 4 * GiB))``); :func:`_coerce_to` checks a
value against it and returns it in its stored form (sizes in bytes, numpy
scalars as Python numbers).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from zonemodel.errors import ParameterError
from zonemodel.units import format_size, parse_size


@dataclass(frozen=True)
class _Spec:
    """How a field is given and checked; each field of :class:`Kernel` holds one in its metadata."""

    kind: str  # "size", "int", "float", "bool", "choice"
    low: float = 0
    high: float = float("inf")
    choices: tuple[str, ...] = ()


def _size(low: int, high: int) -> dict[str, _Spec]:
    return {"spec": _Spec("size", low, high)}


def _count(low: int, high: int) -> dict[str, _Spec]:
    return {"spec": _Spec("int", low, high)}


def _real(low: float, high: float) -> dict[str, _Spec]:
    return {"spec": _Spec("float", low, high)}


def _choice(*choices: str) -> dict[str, _Spec]:
    return {"spec": _Spec("choice", choices=choices)}


_FLAG: Final = {"spec": _Spec("bool")}
_STRUCT: Final = _size(4, 4096)  # sizeof a C structure


def _coerce_to(spec: _Spec, name: str, value: Any) -> Any:
    """*value* checked against the range of field *name*; sizes in bytes, numpy scalars as Python numbers."""
    raw = value
    if spec.kind == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise ParameterError(f'"{name}" must be True or False, got {value!r}')
        return bool(value)
    if spec.kind == "choice":
        if value not in spec.choices:
            raise ParameterError(f'"{name}" must be one of {", ".join(map(repr, spec.choices))}, got {value!r}')
        return value
    if type(value) is not int and not isinstance(value, bool) and isinstance(value, numbers.Integral):
        value = int(value)  # numpy integer scalars and other integers
    number: int | float
    if spec.kind == "size":
        number = parse_size(value, name=name)
    elif spec.kind == "int":
        if type(value) is not int:  # a bool, a float, a string...
            raise ParameterError(f'"{name}" must be an integer, got {raw!r}')
        number = value
    else:
        if type(value) is not float and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise ParameterError(f'"{name}" must be a number, got {raw!r}')
        number = float(value)
    if not spec.low <= number <= spec.high:
        low = format_size(int(spec.low)) if spec.kind == "size" else spec.low
        high = format_size(int(spec.high)) if spec.kind == "size" else spec.high
        raise ParameterError(f'"{name}" must be between {low} and {high}, got {raw!r}')
    return number
