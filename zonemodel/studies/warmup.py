"""Compile (or load from numba's cache) every kernel before timing anything.

Importing zonemodel compiles nothing: each kernel is compiled on its first
call, or loaded from numba's on-disk cache when an earlier process compiled
it.  :func:`warmup` pays that cost up front, by running each public
experiment once on a tiny system, so that a benchmark, the first doctest or
the workers of a sweep start warm; on a dask cluster run
``client.run(zonemodel.warmup)``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from numba.core.dispatcher import Dispatcher

from zonemodel.experiments.builds import compile_job
from zonemodel.experiments.forkbomb import fork_bomb
from zonemodel.experiments.replay import replay
from zonemodel.experiments.storms import close_burst, open_ports
from zonemodel.experiments.system import System
from zonemodel.model.kernel import Kernel, gnumach
from zonemodel.model.limits import Limits

__all__ = ["WarmupReport", "dispatchers", "warmup"]


@dataclass(frozen=True)
class WarmupReport:
    """What :func:`warmup` did.

    Examples
    --------
    >>> import zonemodel
    >>> report = zonemodel.warmup()  # doctest: +SKIP
    >>> report.cached  # doctest: +SKIP
    True
    """

    seconds: float
    """Wall time of the warm-up."""
    kernels: tuple[str, ...]
    """Kernels (``module.function``) with compiled code in this process afterwards.

    A kernel only ever called by other kernels is compiled into them; when
    they come from the cache it is not compiled on its own, and need not be.
    """
    compiled: int
    """Kernel signatures compiled by this call (cache misses)."""
    loaded: int
    """Kernel signatures loaded from numba's on-disk cache by this call."""
    cached: bool
    """Whether the kernels have an on-disk cache (False: no writable cache location, or caching turned off)."""
    steps: tuple[tuple[str, float], ...] = ()
    """``(experiment run, seconds)`` for each tiny experiment of the warm-up."""

    def __repr__(self) -> str:
        return (
            f"WarmupReport({len(self.kernels)} kernels ready in {self.seconds:.2f} s: "
            f"{self.compiled} compiled, {self.loaded} loaded from cache, cached={self.cached})"
        )


def dispatchers() -> dict[str, Dispatcher]:
    """Every numba kernel defined in the zonemodel modules imported so far, by ``module.function`` name.

    >>> import zonemodel
    >>> "zonemodel._kernels.forkbomb._bomb_chunk" in dispatchers()
    True
    """
    found: dict[str, Dispatcher] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "zonemodel" or name.startswith("zonemodel.")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Dispatcher) and value.py_func.__module__ == name:
                found[f"{name}.{value.py_func.__name__}"] = value
    return dict(sorted(found.items()))


def _counts(kernels: dict[str, Dispatcher]) -> tuple[int, int]:
    hits = sum(sum(d.stats.cache_hits.values()) for d in kernels.values())
    misses = sum(sum(d.stats.cache_misses.values()) for d in kernels.values())
    return hits, misses


def _steps() -> list[tuple[str, Callable[[], object]]]:
    """One tiny run of each public experiment and of each of its kernel paths."""
    small = gnumach(2005, zone_map="4 MiB")
    base = gnumach(2005)
    return [
        ("fork_bomb", lambda: fork_bomb(small, seed=0)),
        ("fork_bomb(runs=2)", lambda: fork_bomb(small, runs=2, seed=0)),
        ("fork_bomb(interval=0.01)", lambda: fork_bomb(small, interval=0.01, seed=0)),
        ("fork_bomb(interval=0.01, runs=2)", lambda: fork_bomb(small, interval=0.01, runs=2, seed=0)),
        ("fork_bomb(limits=...)", lambda: fork_bomb(small, limits=Limits(nproc=100), seed=0)),
        ("fork_bomb(limits=..., runs=2)", lambda: fork_bomb(small, limits=Limits(nproc=100), runs=2, seed=0)),
        ("System.fork_bomb(stop_at=1)", lambda: System(small, seed=0).fork_bomb(stop_at=1)),
        ("replay", lambda: replay(small, [("ipc ports", 1), ("ipc ports", -1)])),
        ("close_burst", lambda: close_burst(base, processes=2, ports_each=10, seed=0)),
        ("close_burst(runs=2)", lambda: close_burst(base, processes=2, ports_each=10, runs=2, seed=0)),
        ("open_ports", lambda: open_ports(base, processes=1, ports_each=10)),
        ("System.kill", lambda: _kills(base)),
        ("compile_job", lambda: compile_job(base, files=1, headers_per_file=(1, 2), seed=0)),
        ("compile_job(runs=2)", lambda: compile_job(base, stage="install", files=2, runs=2, seed=0)),
    ]


def _kills(kernel: Kernel) -> None:
    """A System's two kills: its open storm's clients, then null."""
    system = System(kernel, seed=0)
    system.open_ports(processes=1, ports_each=10)
    system.kill("clients")
    system.open_ports(processes=1, ports_each=10)
    system.kill("null")


def warmup() -> WarmupReport:
    """Compile every kernel of the public experiments, or load it from numba's cache.

    Runs each public experiment once on a tiny system: fork bombs (one, a
    batch of replicates, and both again with servers forking at an
    *interval* and under :class:`zonemodel.Limits`), a fork bomb on a
    :class:`zonemodel.System` whose children are then killed, a zone-map
    replay, close bursts (one and a batch) and an open() storm.  Calling it
    again in the same process costs only those tiny runs.

    Returns
    -------
    WarmupReport
        Seconds taken, the kernels now compiled, how many signatures were
        compiled or loaded from the cache, and the time of each step.

    Examples
    --------
    >>> import zonemodel
    >>> report = zonemodel.warmup()
    >>> "zonemodel._kernels.forkbomb._bomb_chunk" in report.kernels
    True
    >>> zonemodel.warmup().compiled  # everything is in memory now
    0
    """
    before = _counts(dispatchers())
    start = time.perf_counter()
    steps = []
    for name, step in _steps():
        began = time.perf_counter()
        step()
        steps.append((name, time.perf_counter() - began))
    seconds = time.perf_counter() - start
    kernels = dispatchers()
    hits, misses = _counts(kernels)
    return WarmupReport(
        seconds=seconds,
        kernels=tuple(name for name, d in kernels.items() if d.signatures),
        compiled=misses - before[1],
        loaded=hits - before[0],
        cached=all(d.stats.cache_path is not None for d in kernels.values()),
        steps=tuple(steps),
    )
