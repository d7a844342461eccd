"""Exceptions raised by zonemodel.

Every error about user input derives from :class:`ParameterError`, itself a
:class:`ValueError`, and its message names the offending parameter and the
values that are allowed.  Nothing about bad input is left to surface as an
unreadable failure inside a numba kernel.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "ParameterError",
    "UnitError",
    "UnknownPresetError",
    "ZonemodelError",
]


class ZonemodelError(Exception):
    """Base class of every exception zonemodel raises on purpose."""


class ParameterError(ZonemodelError, ValueError):
    """A parameter has a value outside its allowed range or of the wrong type."""


class UnitError(ParameterError):
    """A size or duration was written with a unit zonemodel does not know."""


class UnknownPresetError(ParameterError):
    """A kernel preset (year) or a preset field that does not exist was asked for."""


class ConfigurationError(ParameterError):
    """Individually valid parameters that cannot hold together (e.g. sub-maps larger than their map)."""
