"""The observed figures of the knowledge-base page, in one table.

These numbers are what antrik reported (rounded as he rounded them).  They
are used by :mod:`zonemodel.studies.calibration` and printed next to the model's
figures in the article.  No model code path reads them.

Every observation O1 to O21 has an entry.  Where the page gives no number, the
entry holds what the page does say, in a few words (an outcome, a comparison,
a message), so that the article can print it beside the model's figure; such
figures are never used in a fit (their uncertainty is 0).

Examples
--------
>>> OBSERVATIONS["O7"].figures["ssh"]
940
>>> observed("O11", "gain_8_to_16")
'significantly smaller'
>>> len(OBSERVATIONS)
21
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
            _obs(
                "O2",
                "r2",
                "A flood of requests makes multithreaded servers spawn threads until kernel memory runs out",
                threads="an absurd number of threads",
                outcome="resource exhaustion",
                ext2fs_threads_2008="easily created hundreds, even thousands of threads",  # bug-hurd 2008-03-11
            ),
            _obs(
                "O3",
                "r2",
                "Heavy disk load, or opening many ports to /dev/null and closing them all quickly, crashes the system",
                fast_close="crash",
                disk_load="crash under heavy disk load (like large compile jobs)",
                packaging="a package build always crashes at the same stage",  # r3's history of the page
            ),
            _obs(
                "O4",
                "r2",
                "Debian's thread-throttling patch fixes the storm, simplistic but very effective",
                debian_patch="fixes it",
            ),
            _obs("O5", "r2", "Forking many processes reliably crashes the Hurd", outcome="crash, reliably"),
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
            _obs("O8", "r2", "Normal user or root makes no difference", user_vs_root="no difference"),
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
            _obs(
                "O11",
                "r2",
                "Saturation near 16 MiB: going from 8 to 16 MiB gains much less than going from 4 to 8 MiB",
                gain_8_to_16="significantly smaller",
            ),
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
            _obs(
                "O14",
                "r2",
                "Creating processes very fast crashes sooner and less predictably",
                fast_forking="sooner and less predictably",
            ),
            _obs("O15", "r2", "Forking recursively (each child forks the next) crashes sooner", chain="faster crash"),
            _obs(
                "O16",
                "r2",
                "Opening many ports from a few processes gives open() failures and translator faults, not a crash",
                outcome="open() failures and translator faults, usually no crash",
            ),
            _obs(
                "O17",
                "r2",
                "After about 32768 ports to /dev/null the null translator fails and is restarted",
                opens=32768,
            ),
            _obs(
                "O18",
                "r2",
                "Starting and killing five children quickly kills some systems; the author could not reproduce it",
                processes=5,
                outcome="kill some systems",
            ),
            _obs(
                "O19",
                "r3",
                "GNU Mach no longer has zalloc; RAM and the kernel's address space are the limits now",
                limits="RAM and the kernel's address space",
            ),
            _obs(
                "O20",
                "r3",
                "The panics pretty much disappeared once the default zone map was made much larger",
                panics="pretty much disappeared",
            ),
            _obs(
                "O21",
                "r2, r3",
                "Limits per user on processes, threads and ports, or an OOM killer, would contain it",
                remedies="limits on processes, threads and ports",
                missing="an OOM-killer or resource manager",
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
