"""Exceptions raised by zonemodel.

Every error about user input derives from :class:`ParameterError`, itself a
:class:`ValueError`, and its message names the offending parameter and the
values that are allowed.  Nothing about bad input is left to surface as an
unreadable failure inside a numba kernel.
"""

from __future__ import annotations

__all__ = [
    "BootError",
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


class BootError(ConfigurationError):
    """The kernel does not boot, so no experiment can run on it.

    Every experiment (:func:`zonemodel.fork_bomb`, :func:`zonemodel.close_burst`,
    :func:`zonemodel.open_ports`, :class:`zonemodel.System`) raises it, with
    ``runs=1`` and ``runs=N`` alike; the message names the boot failure (the
    console line, or why kernel_map does not fit) and :attr:`report` holds
    what :func:`zonemodel.boot` says.  :func:`zonemodel.sweep` does not raise
    it: a parameter set whose kernel does not boot gets a row with the
    outcome ``"no boot"``.
    """

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report
        """What :func:`zonemodel.boot` said of the kernel (a :class:`zonemodel.BootReport`)."""
