"""Heavy disk load (issue 14): the builds behind the article's disk-load checks of O2, O3 and O4, and its figure.

Each function runs :func:`zonemodel.compile_job` and returns plain rows;
``plot_build_trace`` draws the figure with matplotlib (imported only when
it is called).  The article doctests the same rows it plots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

from zonemodel.experiments.builds import Stage, compile_job
from zonemodel.experiments.results import BuildResult, BuildRuns
from zonemodel.model.kernel import Kernel, gnumach
from zonemodel.model.policies import PolicyKey
from zonemodel.studies.figures import SEED, _axes, _plain_ticks, _styled, _wilson

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = [
    "INSTALL_FILES",
    "BuildShare",
    "build_shares",
    "build_trace",
    "deadlock_kernel",
    "plot_build_trace",
]

MiB: Final = 1 << 20
INSTALL_FILES: Final = (1000, 2000, 3000, 4000, 5000, 5500, 6000, 8000)
"""Files of the install stage (the packaging stage) that :func:`build_shares` runs by default."""
TRACE_FILES: Final = 6000
"""Files of the install stage drawn by :func:`plot_build_trace`: the smallest that panics in every run."""


@dataclass(frozen=True)
class BuildShare:
    """How often one build ends each way over its runs, with a 95% Wilson interval on the panics."""

    policy: str
    files: int
    stage: str
    panicked: float
    low: float
    high: float
    deadlocked: float
    pager_threads: int
    """Median peak of ext2fs's pager threads."""
    duration: float
    """Median simulated seconds of a run."""
    p99_latency_ms: float
    """Median over the runs of each run's 99th percentile of the message latency, in milliseconds."""
    runs: int

    def __repr__(self) -> str:
        return (
            f"BuildShare({self.policy!r}, {self.stage} {self.files} files: panicked={self.panicked:.3f}, "
            f"pager threads {self.pager_threads})"
        )


def _median(values: tuple[float, ...] | tuple[int, ...]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return float(ordered[n // 2]) if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def build_shares(
    kernel: Kernel | None = None,
    *,
    files: tuple[int, ...] = INSTALL_FILES,
    stage: Stage = "install",
    policies: tuple[PolicyKey, ...] = ("upstream-1997", "debian-throttle"),
    runs: int = 200,
    seed: int = SEED,
    **build: Any,
) -> tuple[BuildShare, ...]:
    """Share of builds that panic (and deadlock), per policy and number of files, on *kernel* (2005 by default).

    Examples
    --------
    >>> [(s.policy, s.files, s.panicked) for s in build_shares(files=(200,), runs=3)]
    [('upstream-1997', 200, 0.0), ('debian-throttle', 200, 0.0)]
    """
    base = kernel if kernel is not None else gnumach(2005)
    shares = []
    for policy in policies:
        for n in files:
            result = compile_job(
                base, stage=stage, files=n, policy=policy, runs=runs, seed=seed, progress=False, **build
            )
            outcomes = result.run_outcomes if isinstance(result, BuildRuns) else (result.outcome,)
            threads = (
                result.peak_pager_threads if isinstance(result, BuildRuns) else (result.peak_threads["ext2fs pager"],)
            )
            durations = result.duration if isinstance(result, BuildRuns) else (result.duration,)
            p99 = result.p99_latency_ms if isinstance(result, BuildRuns) else (result.latency_ms["p99"],)
            k = outcomes.count("panic")
            low, high = _wilson(k, runs)
            shares.append(
                BuildShare(
                    policy,
                    n,
                    stage,
                    k / runs,
                    low,
                    high,
                    outcomes.count("deadlock") / runs,
                    int(_median(threads)),
                    _median(durations),
                    _median(p99),
                    runs,
                )
            )
    return tuple(shares)


def build_trace(
    kernel: Kernel | None = None,
    *,
    files: int = TRACE_FILES,
    stage: Stage = "install",
    policy: PolicyKey = "upstream-1997",
    seed: int = SEED,
    **build: Any,
) -> BuildResult:
    """One build with its trace (every 0.25 s: ext2fs's threads, pager threads, zone map, dirty pages).

    Examples
    --------
    >>> r = build_trace(files=50)
    >>> r.outcome, r.trace[0][0]
    ('survived', 0.0)
    """
    base = kernel if kernel is not None else gnumach(2005)
    return cast("BuildResult", compile_job(base, stage=stage, files=files, policy=policy, seed=seed, **build))


def deadlock_kernel(superblock_in_memory: bool) -> Kernel:
    """Debian's 2007 kernel as the 2008 report ran it: object cache 2000 (Debian, from 2007-08-20).

    *superblock_in_memory* says whether ext2fs keeps its superblock in memory
    (Hurd ac2006613, 2008-03-10, the fix for the deadlock).
    """
    return gnumach(2007, distro="debian", object_cache_max=2000, superblock_in_memory=superblock_in_memory)


@_styled
def plot_build_trace(ax: Any = None, **kwargs: Any) -> Any:
    """Plot :func:`build_trace` in three panels over time: pager threads, zone map, dirty pages.

    The dirty pages drop at each sync; *ax*, if given, is three axes.  Returns them.
    """
    result = build_trace(**kwargs)
    top, middle, bottom = ax if ax is not None else _axes(None, nrows=3, height=6.0, sharex=True)
    t = [row[0] for row in result.trace]
    top.plot(t, [row[2] for row in result.trace], color="C3", lw=1.6, label="ext2fs pager pool")
    top.plot(t, [row[1] for row in result.trace], color="C0", lw=1.2, ls="--", label="ext2fs RPC pool")
    top.set_ylabel("threads")
    top.legend(loc="upper left")
    end = "panics" if result.outcome == "panic" else result.outcome
    top.set_title(f"Installing {result.files:,} files, GNU Mach 2005 ({end})")
    middle.plot(t, [row[3] / MiB for row in result.trace], color="C2", lw=1.6)
    middle.axhline(result.zone_map_size / MiB, color="0.3", ls=":", lw=1.0)
    middle.set_ylabel("zone map used (MiB)")
    bottom.plot(t, [row[4] for row in result.trace], color="C1", lw=1.2)
    bottom.set_ylabel("dirty pages")
    bottom.set_xlabel("seconds since the build started")
    for a in (top, middle, bottom):
        a.grid(alpha=0.3)
        _plain_ticks(a.yaxis)
    return top, middle, bottom
