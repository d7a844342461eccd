"""Fitting the estimated parameters to a declared subset of the observations.

Six parameters of the 2005 preset are not known from sources and are fitted
here, each to named observations; every other observation is a prediction.

============================  ==========================  ==============================
parameter                     fitted to                   by
============================  ==========================  ==============================
``ports_console``             O12 (console, 8 and 4 MiB)  :func:`fit_ports`
``ports_ssh``                 O7 (ssh), O12 (ssh)         :func:`fit_ports`
``ports_screen``              O7 (screen)                 :func:`fit_ports`
``system_tasks``              O7 (console)                :func:`fit_system_tasks`
``boot_ports``                O10, O12                    :func:`fit_boot_ports`
``process_resident``          O9                          :func:`fit_process_resident`
============================  ==========================  ==============================

The page does not say at which zone map size the baseline counts of O7 were
taken.  :func:`calibrate` fits everything once for each candidate (12 MiB,
the GNU Mach default of 1997-2009, and 16 MiB, the largest size antrik
reports as booting) and keeps the one whose fit matches the page better.

Every count is the median of :data:`FIT_RUNS` seeded runs, so a fit is
deterministic and does not depend on the starting values in the preset.
Errors are relative and weighted by how precisely the page states each
figure (``uncertainty`` in :mod:`zonemodel.studies.targets`): O7's counts are given
to the nearest 10, O12's are round figures and count half as much.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from zonemodel.experiments.common import Start
from zonemodel.experiments.forkbomb import fork_bomb_runs
from zonemodel.model.kernel import Kernel, gnumach
from zonemodel.studies.targets import observed, uncertainty

__all__ = [
    "BASELINE_CANDIDATES",
    "FIT_RUNS",
    "FIT_SEED",
    "Calibration",
    "calibrate",
    "count",
    "fit_boot_ports",
    "fit_ports",
    "fit_process_resident",
    "fit_system_tasks",
]

MiB: Final = 1 << 20
FIT_RUNS: Final = 31
"""Seeded runs per evaluated count (the median is used)."""
FIT_SEED: Final = 20050717
"""Seed of every count the fit evaluates (the date of the page's first revision)."""
BASELINE_CANDIDATES: Final = (12 * MiB, 16 * MiB)
"""Zone map sizes considered for the baseline counts of O7."""


def count(kernel: Kernel, start: Start = "console", **overrides: int | str) -> float:
    """Median number of children over FIT_RUNS seeded fork bombs on *kernel* with *overrides*."""
    k = kernel.replace(**overrides) if overrides else kernel
    return fork_bomb_runs(k, start=start, runs=FIT_RUNS, seed=FIT_SEED).median


def _rel2(model: float, target: float, obs: str) -> float:
    """Squared relative error in units of the observation's stated uncertainty."""
    return ((model - target) / target / uncertainty(obs)) ** 2


def _argmin_int(loss: Callable[[int], float], low: int, high: int, step: int = 8) -> int:
    """Smallest minimiser of an integer loss on [low, high]: a coarse scan, then every value near the best.

    Counts are flat where another limit binds (a plateau), so bisection-style
    searches would stall; a scan does not.
    """
    coarse = min(range(low, high + 1, step), key=lambda x: (loss(x), x))
    lo, hi = max(low, coarse - step), min(high, coarse + step)
    return min(range(lo, hi + 1), key=lambda x: (loss(x), x))


def _crossing(f: Callable[[int], float], target: float, low: int, high: int) -> int:
    """For a non-increasing *f*, the integer in [low, high] whose value is closest to *target*.

    Bisection finds the first argument at or below the target; its left
    neighbour is the other candidate.  Ties go to the smaller argument.
    """
    lo, hi = low, high
    while lo < hi:
        mid = (lo + hi) // 2
        if f(mid) <= target:
            hi = mid
        else:
            lo = mid + 1
    candidates = [x for x in (lo - 1, lo) if low <= x <= high]
    return min(candidates, key=lambda x: (abs(f(x) - target), x))


def fit_ports(kernel: Kernel, baseline: int) -> tuple[int, int, int]:
    """Ports a bomb child costs, by start method (console, ssh, screen)."""

    def console_loss(p: int) -> float:
        k = kernel.replace(ports_console=p)
        return _rel2(count(k, zone_map=8 * MiB), observed("O12", "console_8_mib"), "O12") + _rel2(
            count(k, zone_map=4 * MiB), observed("O12", "console_4_mib"), "O12"
        )

    def ssh_loss(p: int) -> float:
        k = kernel.replace(ports_ssh=p)
        return (
            _rel2(count(k, "ssh", zone_map=baseline), observed("O7", "ssh"), "O7")
            + _rel2(count(k, "ssh", zone_map=8 * MiB), observed("O12", "ssh_8_mib"), "O12")
            + _rel2(count(k, "ssh", zone_map=4 * MiB), observed("O12", "ssh_4_mib"), "O12")
        )

    def screen(p: int) -> float:
        return count(kernel.replace(ports_screen=p), "screen", zone_map=baseline)

    return (
        _argmin_int(console_loss, 0, 400),
        _argmin_int(ssh_loss, 0, 400),
        _crossing(screen, observed("O7", "screen"), 0, 400),
    )


def fit_system_tasks(kernel: Kernel, baseline: int) -> int:
    """Tasks running before the bomb, from the console count at the baseline (where ipc spaces bind)."""
    target = observed("O7", "console")
    return _crossing(lambda n: count(kernel, system_tasks=n, zone_map=baseline), target, 1, 400)


def fit_boot_ports(kernel: Kernel) -> int:
    """Ports the servers hold at boot, from how exactly the count halves between 8 and 4 MiB (O10, O12)."""

    def loss(n: int) -> float:
        k = kernel.replace(boot_ports=n * 100)
        n8, n4 = count(k, zone_map=8 * MiB), count(k, zone_map=4 * MiB)
        s8, s4 = count(k, "ssh", zone_map=8 * MiB), count(k, "ssh", zone_map=4 * MiB)
        target = observed("O10", "ratio_8_to_4")
        return _rel2(n8 / n4, target, "O10") + _rel2(s8 / s4, target, "O10")

    return 100 * _argmin_int(loss, 0, 100)


def fit_process_resident(kernel: Kernel, baseline: int) -> int:
    """Resident memory of a forked child, from the count drop at 128 MiB of RAM (O9), in bytes."""
    page = kernel.page_size
    full = count(kernel, zone_map=baseline)
    target = full - observed("O9", "drop_at_128_mib")
    pages = _crossing(
        lambda p: count(kernel, zone_map=baseline, ram=128 * MiB, process_resident=p * page), target, 0, 400
    )
    return pages * page


@dataclass(frozen=True)
class Calibration:
    """The fitted values and how well each baseline candidate fits."""

    baseline: int
    """Zone map size the O7 counts are taken to be measured at."""
    values: dict[str, int]
    """Fitted parameter values."""
    loss: dict[int, float]
    """Sum of squared relative errors over O7 and O12 for each baseline candidate, in units of
    the observations' stated uncertainties (:data:`zonemodel.studies.targets.OBSERVATIONS`)."""


def _fit_at(kernel: Kernel, baseline: int) -> tuple[dict[str, int], float]:
    k = kernel
    values: dict[str, int] = {}
    for _ in range(3):  # the fits interact weakly; three passes reach a fixed point
        console, ssh, screen = fit_ports(k, baseline)
        k = k.replace(ports_console=console, ports_ssh=ssh, ports_screen=screen)
        k = k.replace(system_tasks=fit_system_tasks(k, baseline))
        k = k.replace(boot_ports=fit_boot_ports(k))
        new = {
            "ports_console": k.ports_console,
            "ports_ssh": k.ports_ssh,
            "ports_screen": k.ports_screen,
            "system_tasks": k.system_tasks,
            "boot_ports": k.boot_ports,
        }
        if new == values:
            break
        values = new
    values["process_resident"] = fit_process_resident(k, baseline)
    loss = sum(
        _rel2(count(k, start, zone_map=baseline), observed("O7", start), "O7") for start in ("console", "ssh", "screen")
    ) + sum(
        _rel2(count(k, start, zone_map=size * MiB), observed("O12", f"{start}_{size}_mib"), "O12")
        for start in ("console", "ssh")
        for size in (8, 4)
    )
    return values, loss


def calibrate(kernel: Kernel | None = None) -> Calibration:
    """Fit the six parameters for each baseline candidate and keep the better baseline.

    Takes about a minute.  The 2005 preset ships the values this returns.
    """
    base = kernel if kernel is not None else gnumach(2005)
    fits = {baseline: _fit_at(base, baseline) for baseline in BASELINE_CANDIDATES}
    best = min(fits, key=lambda b: fits[b][1])
    return Calibration(baseline=best, values=fits[best][0], loss={b: fits[b][1] for b in fits})
