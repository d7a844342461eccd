"""Data behind the article's figures, and the figures themselves.

Each ``*_curve`` function runs the model and returns plain rows; each
``plot_*`` function draws those rows with matplotlib (imported only when a
plot is asked for).  The documentation builds its figures with the
``plot_*`` functions and doctests the rows of the ``*_curve`` functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from zonemodel.experiments.common import Start
from zonemodel.experiments.forkbomb import fork_bomb_runs
from zonemodel.model.boot import max_bootable_zone_map
from zonemodel.model.kernel import Kernel, gnumach

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "CurvePoint",
    "StormTrace",
    "era_curve",
    "interval_curve",
    "plot_era_curve",
    "plot_interval_curve",
    "plot_ram_curve",
    "plot_storms",
    "plot_zone_map_curve",
    "ram_curve",
    "storm_traces",
    "zone_map_curve",
]

MiB: Final = 1 << 20
SEED: Final = 2005
LIMIT_MARKERS: Final = {
    "zone map": "o",
    "ipc spaces": "s",
    "kernel_map": "^",
    "kalloc_map": "D",
    "physical memory": "v",
    "kmem_map": "P",
    "child limit": "x",
}
"""Marker of each binding limit in the figures."""
RAMS: Final = tuple(size * MiB for size in range(96, 513, 32))
"""Default RAM sizes of :func:`ram_curve`: 96 MiB to 512 MiB in steps of 32 MiB."""


@dataclass(frozen=True)
class CurvePoint:
    """One point of a curve: the count over seeded runs at one setting."""

    x: int
    """The setting (bytes of zone map or of RAM)."""
    start: str
    """How the bomb was started."""
    median: float
    """Median count."""
    low: int
    """Smallest count."""
    high: int
    """Largest count."""
    limit: str
    """The limit that bound most runs."""

    def __repr__(self) -> str:
        return f"CurvePoint({self.x / MiB:g} MiB, {self.start}, median={self.median:g}, limit={self.limit!r})"


def _point(kernel: Kernel, x: int, start: Start, runs: int, seed: int) -> CurvePoint:
    result = fork_bomb_runs(kernel, start=start, runs=runs, seed=seed)
    return CurvePoint(x, start, result.median, result.min, result.max, result.limit)


def zone_map_curve(
    kernel: Kernel | None = None,
    *,
    starts: tuple[Start, ...] = ("console", "ssh", "screen"),
    step: int = 1 * MiB,
    runs: int = 21,
    seed: int = SEED,
) -> tuple[CurvePoint, ...]:
    """The count at the end of a fork bomb against zone map size, from 4 MiB to the largest that boots.

    Examples
    --------
    >>> points = zone_map_curve(starts=("console",), step=4 * MiB, runs=5)
    >>> [(p.x // MiB, p.limit) for p in points][:3]
    [(4, 'zone map'), (8, 'zone map'), (12, 'ipc spaces')]
    """
    base = kernel if kernel is not None else gnumach(2005)
    top = max_bootable_zone_map(base)
    sizes = list(range(4 * MiB, top + 1, step))
    if sizes[-1] != top:
        sizes.append(top)
    return tuple(_point(base.replace(zone_map=size), size, start, runs, seed) for start in starts for size in sizes)


def ram_curve(
    kernel: Kernel | None = None,
    *,
    rams: tuple[int, ...] = RAMS,
    start: Start = "console",
    runs: int = 21,
    seed: int = SEED,
) -> tuple[CurvePoint, ...]:
    """The count at the end of a fork bomb against physical memory (zone map of *kernel*, 16 MiB by default).

    Examples
    --------
    >>> [(p.x // MiB, p.limit) for p in ram_curve(rams=(128 * MiB, 256 * MiB), runs=5)]
    [(128, 'physical memory'), (256, 'ipc spaces')]
    """
    base = kernel if kernel is not None else gnumach(2005, zone_map=16 * MiB)
    return tuple(_point(base.replace(ram=ram), ram, start, runs, seed) for ram in rams)


def _plot(points: tuple[CurvePoint, ...], ax: Any, xlabel: str) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    starts = list(dict.fromkeys(p.start for p in points))
    for i, start in enumerate(starts):
        mine = [p for p in points if p.start == start]
        xs = [p.x / MiB for p in mine]
        color = f"C{i}"
        ax.plot(xs, [p.median for p in mine], "-", color=color, label=start, lw=1.5)
        ax.fill_between(xs, [p.low for p in mine], [p.high for p in mine], color=color, alpha=0.2, lw=0)
        for limit, marker in LIMIT_MARKERS.items():
            sel = [p for p in mine if p.limit == limit]
            if sel:
                ax.plot(
                    [p.x / MiB for p in sel],
                    [p.median for p in sel],
                    marker,
                    color=color,
                    ms=5,
                    mfc="white" if limit != "zone map" else color,
                )
    for limit, marker in LIMIT_MARKERS.items():
        if any(p.limit == limit for p in points):
            ax.plot([], [], marker, color="0.3", mfc="white" if limit != "zone map" else "0.3", label=f"limit: {limit}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("processes when the bomb ended")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncols=2)
    return ax


def plot_zone_map_curve(ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot :func:`zone_map_curve` (keyword arguments are passed on to it), with the page's figures.

    The observed counts of O7 are drawn at the 16 MiB baseline that
    :func:`zonemodel.studies.calibration.calibrate` argues for; those of O12 at 8 and 4 MiB.
    """
    from zonemodel.studies.targets import observed

    points = zone_map_curve(**kwargs)
    result: Axes = _plot(points, ax, "zone map size (MiB)")
    seen = [(16, observed("O7", s)) for s in ("console", "ssh", "screen")]
    seen += [(z, observed("O12", f"{s}_{z}_mib")) for s in ("console", "ssh") for z in (8, 4)]
    result.plot([x for x, _ in seen], [y for _, y in seen], "kx", ms=7, mew=1.5, label="observed (page r2)")
    result.legend(fontsize="small", ncols=2)
    result.set_title("Fork bomb on GNU Mach 2005: count against zone map size")
    return result


def plot_ram_curve(ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot :func:`ram_curve` (keyword arguments are passed on to it)."""
    points = ram_curve(**kwargs)
    result: Axes = _plot(points, ax, "physical memory (MiB)")
    result.set_title("Fork bomb on GNU Mach 2005 (16 MiB zone map): count against RAM")
    return result


@dataclass(frozen=True)
class StormTrace:
    """Threads and zone use over time during one close storm under one policy."""

    policy: str
    """Policy key."""
    outcome: str
    """How the storm ended."""
    times: tuple[float, ...]
    """Seconds since the first close."""
    null_threads: tuple[int, ...]
    """Threads of the null translator."""
    zone_map_used: tuple[int, ...]
    """Bytes of the zone map taken."""


def storm_traces(
    kernel: Kernel | None = None, *, processes: int = 2, ports_each: int = 10000, seed: int = SEED
) -> tuple[StormTrace, ...]:
    """One fast close storm per shipped policy, sampled over time.

    Examples
    --------
    >>> [(t.policy, t.outcome) for t in storm_traces(ports_each=2000)][:2]
    [('upstream-1997', 'survived'), ('debian-throttle', 'survived')]
    """
    from zonemodel.experiments.storms import close_burst
    from zonemodel.model.policies import POLICIES

    base = kernel if kernel is not None else gnumach(2005)
    traces = []
    for key, pol in POLICIES.items():
        result = close_burst(base, processes=processes, ports_each=ports_each, policy=pol, seed=seed)
        rows = result.trace
        traces.append(
            StormTrace(
                key,
                result.outcome,
                tuple(r[0] for r in rows),
                tuple(r[1] for r in rows),
                tuple(r[2] for r in rows),
            )
        )
    return tuple(traces)


def interval_curve(
    kernel: Kernel | None = None,
    *,
    intervals: tuple[float | None, ...] = (None, 2e-3, 1e-3, 5e-4, 3e-4, 2e-4, 1.5e-4, 1e-4, 5e-5),
    runs: int = 101,
    seed: int = SEED,
) -> tuple[tuple[float | None, float, float, int, int], ...]:
    """Count at the end of a fork bomb against the time between forks: (interval, mean, std, min, max).

    ``None`` is forking slowly enough that no server ever queues.

    Examples
    --------
    >>> [row[0] for row in interval_curve(intervals=(None, 1e-4), runs=5)]
    [None, 0.0001]
    """
    base = kernel if kernel is not None else gnumach(2005)
    rows = []
    for interval in intervals:
        result = fork_bomb_runs(base, interval=interval, runs=runs, seed=seed)
        rows.append((interval, result.mean, result.std, result.min, result.max))
    return tuple(rows)


def plot_storms(ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot :func:`storm_traces`: null's threads (solid) and zone-map use (dashed) over time, per policy."""
    import matplotlib.pyplot as plt

    traces = storm_traces(**kwargs)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    other = ax.twinx()
    for i, trace in enumerate(traces):
        color = f"C{i}"
        end = " (panic)" if trace.outcome == "panic" else ""
        ax.plot(trace.times, trace.null_threads, "-", color=color, label=f"{trace.policy}{end}")
        other.plot(trace.times, [b / MiB for b in trace.zone_map_used], "--", color=color, lw=1)
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_xlabel("seconds since the first close")
    ax.set_ylabel("threads of null (solid)")
    other.set_ylabel("zone map used, MiB (dashed)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    ax.set_title("Closing 20000 ports to /dev/null quickly, GNU Mach 2005, by thread policy")
    return ax


def plot_interval_curve(ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot :func:`interval_curve`: mean count with its range against the fork interval."""
    import matplotlib.pyplot as plt

    rows = interval_curve(**kwargs)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    timed = [r for r in rows if r[0] is not None]
    xs = [r[0] * 1e3 for r in timed if r[0] is not None]
    ax.errorbar(
        xs,
        [r[1] for r in timed],
        yerr=[[r[1] - r[3] for r in timed], [r[4] - r[1] for r in timed]],
        fmt="o-",
        capsize=3,
        label="fork every interval (mean, min to max)",
    )
    slow = [r for r in rows if r[0] is None]
    if slow:
        ax.axhline(slow[0][1], color="0.4", ls=":", label=f"slow forking (mean {slow[0][1]:.0f})")
    ax.set_xscale("log")
    ax.set_xlabel("time between forks (ms)")
    ax.set_ylabel("processes when the bomb ended")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title("Fork bomb on GNU Mach 2005 (12 MiB zone map): count against fork rate")
    return ax


def era_curve(
    *,
    years: tuple[int, ...] = (2005, 2007, 2009, 2013),
    rams: tuple[int, ...] = (128 * MiB, 256 * MiB, 384 * MiB, 512 * MiB, 768 * MiB, 1024 * MiB),
    runs: int = 11,
    seed: int = SEED,
) -> tuple[CurvePoint, ...]:
    """The console fork bomb's count on each preset against RAM (``start`` holds the year).

    RAM sizes a preset cannot boot with give a count of 0 and the limit ``"no boot"``.

    Examples
    --------
    >>> [(p.start, p.limit) for p in era_curve(years=(2005, 2013), rams=(256 * MiB,), runs=3)]
    [('2005', 'ipc spaces'), ('2013', 'physical memory')]
    """
    points = []
    for year in years:
        for ram in rams:
            kernel = gnumach(year, ram=ram)
            result = fork_bomb_runs(kernel, runs=runs, seed=seed)
            limit = "no boot" if result.outcome == "no boot" else result.limit
            points.append(CurvePoint(ram, str(year), result.median, result.min, result.max, limit))
    return tuple(points)


def plot_era_curve(ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot :func:`era_curve`: one line per preset, markers by binding limit."""
    points = tuple(p for p in era_curve(**kwargs) if p.limit != "no boot")
    result: Axes = _plot(points, ax, "physical memory (MiB)")
    result.set_title("Console fork bomb on each preset: count against RAM")
    result.set_yscale("log")
    return result
