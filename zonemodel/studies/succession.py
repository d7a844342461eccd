"""Storms in succession on one running system: what the k-th storm in a row does.

Each seeded run is a :class:`zonemodel.System` on which the same fast close
storm runs again and again, with or without killing null between two storms
(ext2fs starts a new null on the next lookup).  What a storm leaves behind is
kept from one storm to the next: the servers' threads, the zones' pages and
peaks, and, under the ``null_stall_chance`` what-if, a null whose cleanup
lock was left held, with the threads blocked on it.

>>> rows = successive_storms(storms=2, runs=4, processes=2, ports_each=100)
>>> [(r.storm, r.down) for r in rows]
[(1, 0.0), (2, 0.0)]
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Final

import numpy as np

from zonemodel.experiments.system import System
from zonemodel.model.kernel import Kernel, gnumach
from zonemodel.studies.figures import _wilson

__all__ = ["SEED", "StormInRow", "successive_storms"]

SEED: Final = 2005


@dataclass(frozen=True)
class StormInRow:
    """The k-th storm in a row, over seeded systems."""

    storm: int
    """Its place in the row (1 for the first)."""
    down: float
    """Share of the systems that have panicked by the end of this storm (this one or an earlier one)."""
    low: float
    """Lower end of the 95% Wilson interval of :attr:`down`."""
    high: float
    """Upper end of the 95% Wilson interval of :attr:`down`."""
    null_threads: float
    """Median threads of null after this storm, over the systems still up."""
    null_names: float
    """Median names in null's IPC space after this storm, over the systems still up."""
    stalled: float
    """Share of the systems still up whose null has threads blocked for good on its lock."""
    runs: int
    """Seeded systems."""


def successive_storms(
    kernel: Kernel | None = None,
    *,
    storms: int = 5,
    kill_null: bool = False,
    processes: int = 20,
    ports_each: int = 1000,
    runs: int = 200,
    seed: int = SEED,
) -> tuple[StormInRow, ...]:
    """Run *storms* fast closes of ``processes x ports_each`` ports in a row on each of *runs* systems.

    *kernel* defaults to the 2005 preset; *kill_null* kills null after each
    storm the system survived.  Returns one row per storm.
    """
    base = kernel if kernel is not None else gnumach(2005)
    children = np.random.SeedSequence(seed).spawn(runs)
    down = [0] * storms
    threads: list[list[int]] = [[] for _ in range(storms)]
    names: list[list[int]] = [[] for _ in range(storms)]
    stalled = [0] * storms
    for child in children:
        system = System(base, seed=child)
        for k in range(storms):
            if system.alive:
                system.close_burst(processes=processes, ports_each=ports_each, close="fast")
            if not system.alive:
                down[k] += 1
                continue
            null = system.servers().server("null")
            threads[k].append(null.threads)
            names[k].append(null.names or 0)
            stalled[k] += null.idle_threads < null.threads
            if kill_null and k + 1 < storms:
                system.kill("null")
    rows = []
    for k in range(storms):
        low, high = _wilson(down[k], runs)
        up = runs - down[k]
        rows.append(
            StormInRow(
                k + 1,
                down[k] / runs,
                low,
                high,
                statistics.median(threads[k]) if threads[k] else 0.0,
                statistics.median(names[k]) if names[k] else 0.0,
                stalled[k] / up if up else 0.0,
                runs,
            )
        )
    return tuple(rows)
