"""Compile (or load from numba's cache) every kernel before timing anything.

Importing zonemodel compiles nothing: each kernel is compiled on its first
call, or loaded from numba's on-disk cache when an earlier process compiled
it.  :func:`warmup` pays that cost up front, by running each public
experiment once on a tiny system, so that a benchmark, the first doctest or
the workers of a sweep start warm; on a dask cluster run
``client.run(zonemodel.warmup)``.

On a cold cache with two or more cores, :func:`warmup` shares the compiling
with helper processes: this process compiles a build's event loop and its
paging kernels, a helper the event loop outside a build and then the rest,
each saving to the cache, and this process then loads what the helper
saved.  A lock file per kernel signature in the cache directory keeps two
processes from compiling the same one.  Without a cache there is nothing to
share, and one process compiles everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from numba.core.dispatcher import Dispatcher

from zonemodel.experiments.builds import compile_job
from zonemodel.experiments.common import CACHE, check_count, first_use_notice, will_compile
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
    """Kernel signatures compiled by this process during the call (cache misses)."""
    loaded: int
    """Kernel signatures loaded from numba's on-disk cache by this process during the call."""
    cached: bool
    """Whether the kernels have an on-disk cache (False: no writable cache location, or caching turned off)."""
    steps: tuple[tuple[str, float], ...] = ()
    """``(experiment run, seconds)`` for each tiny experiment of the warm-up, in this process."""
    processes: int = 1
    """Processes that compiled: this one and its helpers (1: no helper was started)."""
    helpers_compiled: int = 0
    """Kernel signatures the helpers compiled (and saved to the cache for this process to load)."""

    def __repr__(self) -> str:
        helpers = self.processes - 1
        shared = f", {self.helpers_compiled} by {helpers} helper{'s' if helpers > 1 else ''}" if helpers else ""
        return (
            f"WarmupReport({len(self.kernels)} kernels ready in {self.seconds:.2f} s: "
            f"{self.compiled} compiled here{shared}, {self.loaded} loaded from cache, cached={self.cached})"
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


LOOP_STEPS = 2
"""The first steps of :func:`_steps`, a build's, are this process's share when helpers share the compiling.

A build's event loop, with the paging kernels it alone calls, is the
longest chain of kernels that compile one inside the other, so this
process starts it at once.  A helper meanwhile runs the event loop outside
a build (both compile the kernels the two loops share, each a kernel the
other has not started), then the rest; this process then runs every other
step, loading what the helper saved and compiling what it has not reached.
Two cold runs of each order on two cores (4 December 2026): 23.5 and 23.9 s
in this one, 26 and 30 s with this process also running the first storms,
32 and 35 s with the helper starting with the builds.
"""


def _steps() -> list[tuple[str, Callable[[], object]]]:
    """One tiny run of each public experiment and of each of its kernel paths; those of the event loop first."""
    small = gnumach(2005, zone_map="4 MiB")
    base = gnumach(2005)
    return [
        ("compile_job", lambda: compile_job(base, files=1, headers_per_file=(1, 2), seed=0)),
        ("compile_job(runs=2)", lambda: compile_job(base, stage="install", files=2, runs=2, seed=0)),
        ("fork_bomb(interval=0.01)", lambda: fork_bomb(small, interval=0.01, seed=0)),
        ("close_burst", lambda: close_burst(base, processes=2, ports_each=10, seed=0)),
        ("System.kill", lambda: _kills(base)),
        ("fork_bomb(interval=0.01, runs=2)", lambda: fork_bomb(small, interval=0.01, runs=2, seed=0)),
        ("close_burst(runs=2)", lambda: close_burst(base, processes=2, ports_each=10, runs=2, seed=0)),
        ("fork_bomb", lambda: fork_bomb(small, seed=0)),
        ("fork_bomb(runs=2)", lambda: fork_bomb(small, runs=2, seed=0)),
        ("fork_bomb(limits=...)", lambda: fork_bomb(small, limits=Limits(nproc=100), seed=0)),
        ("fork_bomb(limits=..., runs=2)", lambda: fork_bomb(small, limits=Limits(nproc=100), runs=2, seed=0)),
        ("System.fork_bomb(stop_at=1)", lambda: System(small, seed=0).fork_bomb(stop_at=1)),
        ("replay", lambda: replay(small, [("ipc ports", 1), ("ipc ports", -1)])),
        ("open_ports", lambda: open_ports(base, processes=1, ports_each=10)),
    ]


def _kills(kernel: Kernel) -> None:
    """A System's two kills: its open storm's clients, then null."""
    system = System(kernel, seed=0)
    system.open_ports(processes=1, ports_each=10)
    system.kill("clients")
    system.open_ports(processes=1, ports_each=10)
    system.kill("null")


def _share(steps: int, part: int, parts: int) -> range:
    """The steps that process *part* of *parts* compiles: 0 the event loop's, the others an even cut of the rest.

    Part 0's share is a prefix of the steps, so this process, running every step in order, does its own first.
    """
    if parts == 1:
        return range(steps)
    if part == 0:
        return range(LOOP_STEPS)
    rest = steps - LOOP_STEPS
    helpers = parts - 1
    lo = LOOP_STEPS + (part - 1) * rest // helpers
    return range(lo, LOOP_STEPS + part * rest // helpers)


def _will_compile() -> bool:
    """Whether running the steps compiles anything: a kernel called from Python neither in memory nor cached."""
    entries = [d for d in dispatchers().values() if not d.targetoptions.get("no_cpython_wrapper")]
    return any(will_compile(d) for d in entries)


def _has_cache(kernels: dict[str, Dispatcher]) -> bool:
    """Whether every kernel has an on-disk cache (none: no writable cache location, or caching turned off)."""
    return all(d.stats.cache_path is not None for d in kernels.values())


def _processes(asked: int | None, cores: int, compiling: bool) -> int:
    """How many processes compile: one when nothing will be compiled or nothing can be shared."""
    if not compiling:
        return 1
    wanted = min(2, cores) if asked is None else asked
    if wanted > 1 and not (CACHE and _has_cache(dispatchers())):
        if asked is not None:
            warnings.warn(
                f"warmup(processes={asked}): the kernels have no on-disk cache to share, "
                "so this process compiles them all",
                UserWarning,
                stacklevel=3,
            )
        return 1
    return wanted


FIRST_USE_SECONDS: dict[int, int] = {1: 45, 2: 28}
"""About how long a warm-up on an empty cache takes, by processes (more than two: as two), on two cores.

Measured with ``nox -s bench`` (sections (c) and (f)) on 4 December 2026:
one process 45.6 s, two 28.4 s (27.3 s, the median of three other cold
runs).  Two processes save less than half: a build's event loop, with the
kernels it compiles one inside the other, takes about 25 s on its own.
"""


def warmup(processes: int | None = None) -> WarmupReport:
    """Compile every kernel of the public experiments, or load it from numba's cache.

    Runs each public experiment once on a tiny system: fork bombs (one, a
    batch of replicates, and both again with servers forking at an
    *interval* and under :class:`zonemodel.Limits`), a fork bomb on a
    :class:`zonemodel.System` whose children are then killed, a zone-map
    replay, close bursts (one and a batch), an open() storm and compile
    jobs.  Calling it again in the same process costs only those tiny runs.

    Parameters
    ----------
    processes
        Processes that share the compiling on a cold cache: this one and
        ``processes - 1`` helpers, between 1 and the machine's cores.  By
        default, 2 on a machine with two or more cores.  No helper starts
        when every kernel is already compiled or cached, or when there is no
        on-disk cache to share (then, if *processes* was given, with a
        :class:`UserWarning`).

    Returns
    -------
    WarmupReport
        Seconds taken, the kernels now compiled, how many signatures were
        compiled here, by helpers or loaded from the cache, and the time of each step.

    Examples
    --------
    >>> import zonemodel
    >>> report = zonemodel.warmup()
    >>> "zonemodel._kernels.forkbomb._bomb_chunk" in report.kernels
    True
    >>> zonemodel.warmup().compiled  # everything is in memory now
    0
    """
    cores = os.cpu_count() or 1
    if processes is not None:
        check_count("processes", processes, 1, cores)
    start = time.perf_counter()
    before = _counts(dispatchers())
    compiling = _will_compile()
    count = _processes(processes, cores, compiling)
    started = [_start_helper(part, count) for part in range(1, count)]
    helpers = [helper for helper in started if helper is not None]
    count = 1 + len(helpers)
    if compiling:
        helped = f"warmup in {count} processes: " if count > 1 else "warmup: "
        first_use_notice(helped, FIRST_USE_SECONDS[min(count, 2)])
    timed = []
    try:  # this process's share (see _share) comes first, then it loads what the helpers compiled
        for name, step in _steps():
            began = time.perf_counter()
            step()
            timed.append((name, time.perf_counter() - began))
    except BaseException:
        for helper in helpers:
            helper.kill()
            helper.wait()
        raise
    helpers_compiled = sum(_finish(helper) for helper in helpers)
    seconds = time.perf_counter() - start
    kernels = dispatchers()
    hits, misses = _counts(kernels)
    return WarmupReport(
        seconds=seconds,
        kernels=tuple(name for name, d in kernels.items() if d.signatures),
        compiled=misses - before[1],
        loaded=hits - before[0],
        cached=_has_cache(kernels),
        steps=tuple(timed),
        processes=count,
        helpers_compiled=helpers_compiled,
    )


def _start_helper(part: int, parts: int) -> subprocess.Popen[str] | None:
    """A new Python process running :func:`_helper` (*part*, *parts*) with this zonemodel; None if none starts."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.environ.get("PYTHONPATH", "")
    env = {**os.environ, "PYTHONPATH": package + (os.pathsep + path if path else "")}
    code = f"from zonemodel.studies.warmup import _helper; _helper({part}, {parts})"
    try:
        return subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    except OSError as exc:  # no interpreter to start (an embedded Python), no processes left
        warnings.warn(
            f"warmup: cannot start a helper process ({exc}); this process compiles its kernels",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


def _helper(part: int, parts: int) -> None:
    """In a helper process: run this part's steps, then print ``{"compiled": n}`` on stdout."""
    steps = _steps()
    before = _counts(dispatchers())[1]
    for index in _share(len(steps), part, parts):
        steps[index][1]()
    print(json.dumps({"compiled": _counts(dispatchers())[1] - before}))


def _finish(helper: subprocess.Popen[str]) -> int:
    """Wait for *helper*; the signatures it compiled (0, with a warning, if it failed: this process compiled them)."""
    out, err = helper.communicate()
    try:
        if helper.returncode == 0:
            return int(json.loads(out.strip().splitlines()[-1])["compiled"])
    except (ValueError, KeyError, IndexError):
        pass
    warnings.warn(
        f"warmup: a helper process failed (exit {helper.returncode}); this process compiled its kernels. "
        f"{err.strip()[-500:]}",
        RuntimeWarning,
        stacklevel=3,
    )
    return 0
