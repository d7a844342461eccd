"""The observed figures of the knowledge-base page, in one table.

These numbers are what antrik reported (rounded as he rounded them).  They
are used by :mod:`zonemodel.studies.calibration` and printed next to the model's
figures in the article.  No model code path reads them.

Examples
--------
>>> OBSERVATIONS["O7"].figures["ssh"]
940
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

__all__ = ["OBSERVATIONS", "Observation", "observed", "uncertainty"]

MiB: Final = 1 << 20


@dataclass(frozen=True)
class Observation:
    """One claim of the page with its figures."""

    id: str
    """Stable ID (O1 .. O21)."""
    revision: str
    """Page revision that made the claim (r2 = 2007-04-12 text, r3 = 2012 IRC appendix)."""
    claim: str
    """The claim in one line, in our words."""
    figures: MappingProxyType[Any, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Observed figures keyed by what they describe."""
    uncertainty: float = 0.0
    """Relative uncertainty of the figures, read from how precisely the page states them (0: not used in fits)."""
    basis: str = ""
    """Why that uncertainty."""


def _obs(id_: str, rev: str, claim: str, *, uncertainty: float = 0.0, basis: str = "", **figures: Any) -> Observation:
    return Observation(id_, rev, claim, MappingProxyType(dict(figures)), uncertainty, basis)


OBSERVATIONS: Final = MappingProxyType(
    {
        o.id: o
        for o in (
            _obs(
                "O1",
                "r2",
                "The panic reads something like 'zalloc failed: zone map exhausted'",
                paraphrase="zalloc failed: zone map exhausted",
            ),
            _obs("O5", "r2", "Forking many processes reliably crashes the Hurd"),
            _obs(
                "O6",
                "r2",
                "The count at the panic is very constant (about +-2) when forking is not too fast",
                plus_minus=2,
            ),
            _obs(
                "O7",
                "r2",
                "About 1040 processes from the Mach console, 940 from raw ssh, 990 under screen",
                console=1040,
                ssh=940,
                screen=990,
                uncertainty=0.01,
                basis="stated to the nearest 10 of about 1000, 'very constant' between runs",
            ),
            _obs("O8", "r2", "Normal user or root makes no difference"),
            _obs(
                "O9",
                "r2",
                "128 MiB of RAM lowers the count by about 100; 256 and 384 MiB give the same",
                drop_at_128_mib=100,
                uncertainty=0.5,
                basis="'like 100 less or so'",
            ),
            _obs(
                "O10",
                "r2",
                "Lowering the zone map from 8 to 4 MiB halves the count quite exactly",
                ratio_8_to_4=2.0,
                uncertainty=0.02,
                basis="'quite exactly half'",
            ),
            _obs("O11", "r2", "Saturation near 16 MiB: going from 8 to 16 MiB gains much less than a doubling"),
            _obs(
                "O12",
                "r2",
                "At 8 and 4 MiB the console/ssh gap grows: 800 vs 500, and 400 vs 250",
                console_8_mib=800,
                ssh_8_mib=500,
                console_4_mib=400,
                ssh_4_mib=250,
                uncertainty=0.02,
                basis="round figures ('500 vs. 800, 250 vs. 400'): taken as twice as uncertain as O7",
            ),
            _obs("O13", "r2", "With more than 16 MiB of zone map, Mach does not boot", largest_booting=16 * MiB),
            _obs("O15", "r2", "Forking recursively (each child forks the next) crashes sooner"),
            _obs(
                "O17",
                "r2",
                "After about 32768 ports to /dev/null the null translator fails and is restarted",
                opens=32768,
            ),
        )
    }
)
"""Observations with figures, by ID."""


def observed(id_: str, key: str) -> Any:
    """The observed figure *key* of observation *id_*."""
    return OBSERVATIONS[id_].figures[key]


def uncertainty(id_: str) -> float:
    """The relative uncertainty of observation *id_*'s figures (weights of the calibration)."""
    return OBSERVATIONS[id_].uncertainty
