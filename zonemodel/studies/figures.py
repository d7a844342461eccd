"""Data behind the article's figures, and the figures themselves.

Each ``*_curve`` function runs the model and returns plain rows; each
``plot_*`` function draws those rows with matplotlib (imported only when a
plot is asked for).  The documentation builds its figures with the
``plot_*`` functions and doctests the rows of the ``*_curve`` functions, and
of :func:`ram_observed`, the page's figures that the RAM figures mark.

The figures are drawn small (4.5 in wide) with text of 9 pt or more and no
superscripts, so that they stay readable when a phone shows them 340 px
wide; their text is kept as text in SVG output.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from zonemodel.experiments.common import Start
from zonemodel.experiments.forkbomb import fork_bomb_runs
from zonemodel.model.boot import max_bootable_zone_map
from zonemodel.model.kernel import Kernel, gnumach
from zonemodel.studies.targets import observed

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "PANIC_SIZES",
    "STYLE",
    "VARIANCE_SWITCHES",
    "CurvePoint",
    "SharePoint",
    "StormTrace",
    "era_curve",
    "interval_curve",
    "panic_share_curve",
    "plot_era_curve",
    "plot_interval_curve",
    "plot_panic_share",
    "plot_ram_curve",
    "plot_storms",
    "plot_zone_map_curve",
    "ram_curve",
    "ram_observed",
    "storm_traces",
    "zone_map_curve",
]

_F = TypeVar("_F", bound=Callable[..., Any])

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
STYLE: Final[dict[str, Any]] = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "svg.fonttype": "none",
}
"""Matplotlib settings of every figure: text large enough for a phone, kept as text in SVG."""
WIDTH: Final = 4.5
"""Width of every figure, in inches."""
OBSERVED: Final[dict[str, Any]] = {
    "marker": "X",
    "color": "black",
    "ls": "none",
    "ms": 8,
    "mec": "white",
    "mew": 0.8,
    "zorder": 5,
}
"""How the page's own figures are drawn: black crosses, above the model's lines."""


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


def _styled(plot: _F) -> _F:
    """Draw with :data:`STYLE` in force (text takes its size when made); matplotlib's settings stay as they were."""

    @functools.wraps(plot)
    def styled(*args: Any, **kwargs: Any) -> Any:
        import matplotlib.pyplot as plt

        with plt.rc_context(cast("Any", STYLE)):  # typed with literal keys only
            return plot(*args, **kwargs)

    return cast("_F", styled)


def _plain_ticks(axis: Any, minor: bool = False) -> None:
    """Label *axis*'s ticks as plain numbers (``0.01``, ``10000``), not as powers of ten with superscripts."""
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda value, _position: f"{value:g}")
    axis.set_major_formatter(formatter)
    if minor:
        axis.set_minor_formatter(formatter)


def _axes(ax: Any, nrows: int = 1, height: float = 3.6, **kwargs: Any) -> Any:
    """*ax* if given, else new axes (*nrows* stacked) of a figure :data:`WIDTH` wide."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    _, axes = plt.subplots(nrows, 1, figsize=(WIDTH, height), layout="constrained", squeeze=False, **kwargs)
    return axes[0, 0] if nrows == 1 else axes[:, 0]


def _limit_markers(ax: Any, points: Any, color: str) -> None:
    """Mark each point of one curve with the marker of its binding limit (filled for the zone map)."""
    for limit, marker in LIMIT_MARKERS.items():
        sel = [p for p in points if p.limit == limit]
        if sel:
            ax.plot(
                [p.x / MiB for p in sel],
                [p.median for p in sel],
                marker,
                color=color,
                ms=5,
                mfc="white" if limit != "zone map" else color,
            )


def _plot(points: tuple[CurvePoint, ...], ax: Any, xlabel: str, legend: bool = True) -> Any:
    ax = _axes(ax)
    starts = list(dict.fromkeys(p.start for p in points))
    for i, start in enumerate(starts):
        mine = [p for p in points if p.start == start]
        xs = [p.x / MiB for p in mine]
        color = f"C{i}"
        ax.plot(xs, [p.median for p in mine], "-", color=color, label=start, lw=1.5)
        ax.fill_between(xs, [p.low for p in mine], [p.high for p in mine], color=color, alpha=0.2, lw=0)
        _limit_markers(ax, mine, color)
    for limit, marker in LIMIT_MARKERS.items():
        if any(p.limit == limit for p in points):
            ax.plot([], [], marker, color="0.3", mfc="white" if limit != "zone map" else "0.3", label=f"limit: {limit}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("processes at the end")
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(ncols=2)
    return ax


def ram_observed() -> tuple[tuple[int, int], ...]:
    """The page's counts against RAM, as (bytes of RAM, processes): what the RAM figures mark.

    O7 gives about 1040 from the console "given enough RAM"; O9 gives the same at
    256 and 384 MiB, and "like 100 less or so" at 128 MiB.  Both come from
    :mod:`zonemodel.studies.targets`.

    Examples
    --------
    >>> [(ram // MiB, count) for ram, count in ram_observed()]
    [(128, 940), (256, 1040), (384, 1040)]
    """
    console = int(observed("O7", "console"))
    drop = int(observed("O9", "drop_at_128_mib"))
    return ((128 * MiB, console - drop), (256 * MiB, console), (384 * MiB, console))


def _mark_observed(ax: Any, points: tuple[tuple[int, int], ...], label: str) -> None:
    ax.plot([x / MiB for x, _ in points], [y for _, y in points], label=label, **OBSERVED)


@_styled
def plot_zone_map_curve(ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot :func:`zone_map_curve` (keyword arguments are passed on to it), with the page's figures.

    The observed counts of O7 are drawn at the 16 MiB baseline that
    :func:`zonemodel.studies.calibration.calibrate` argues for; those of O12 at 8 and 4 MiB.
    """
    from zonemodel.studies.targets import observed

    points = zone_map_curve(**kwargs)
    result: Axes = _plot(points, _axes(ax, height=4.0), "zone map size (MiB)", legend=False)
    seen = [(16 * MiB, observed("O7", s)) for s in ("console", "ssh", "screen")]
    seen += [(z * MiB, observed("O12", f"{s}_{z}_mib")) for s in ("console", "ssh") for z in (8, 4)]
    _mark_observed(result, tuple(seen), "the page (r2)")
    result.legend(ncols=2, loc="lower center")
    result.set_title("GNU Mach 2005: count against zone map size")
    return result


@_styled
def plot_ram_curve(ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot :func:`ram_curve` (keyword arguments are passed on to it), with the page's counts (:func:`ram_observed`)."""
    points = ram_curve(**kwargs)
    result: Axes = _plot(points, ax, "physical memory (MiB)", legend=False)
    _mark_observed(result, ram_observed(), "the page (r2)")
    result.legend(loc="lower right")
    result.set_title("GNU Mach 2005, 16 MiB zone map: count against RAM")
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
    kernel: Kernel | None = None, *, processes: int = 56, ports_each: int = 1000, seed: int = SEED
) -> tuple[StormTrace, ...]:
    """One fast close storm per shipped policy, sampled over time (by default 56 clients closing 1000 ports each).

    Examples
    --------
    >>> [(t.policy, t.outcome) for t in storm_traces(processes=2, ports_each=2000)][:2]
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


PANIC_SIZES: Final = (5, 10, 20, 30, 40, 45, 50, 52, 54, 55, 56, 58, 60, 61)
"""Clients of :func:`panic_share_curve` (each closes 1000 ports); from 62 on, the opens fail or panic first."""
VARIANCE_SWITCHES: Final[dict[str, dict[str, str]]] = {
    "every source": {},
    "clock on a tick": {"clock_phase": "on a tick"},
    "fixed CPU times": {"cpu_times": "fixed"},
    "both off": {"clock_phase": "on a tick", "cpu_times": "fixed"},
    "killed, not closed": {"close": "kill"},
}
"""The variants of :func:`panic_share_curve`: the 2005 preset, each source of run-to-run variance switched off,
and the same clients killed from a shell instead of closing their ports (``close="kill"``)."""


@dataclass(frozen=True)
class SharePoint:
    """The share of panics among seeded runs of one storm size, with its 95% interval."""

    variant: str
    """Which sources of variance are on (a key of :data:`VARIANCE_SWITCHES`)."""
    processes: int
    """Clients, each closing 1000 ports quickly."""
    share: float
    """Share of runs that panicked."""
    low: float
    """Lower end of the 95% Wilson interval."""
    high: float
    """Upper end of the 95% Wilson interval."""
    runs: int
    """Seeded runs."""


def _wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The 95% Wilson score interval of *k* successes in *n* trials (it always holds ``k / n``)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


@functools.lru_cache(maxsize=4)
def panic_share_curve(
    *,
    sizes: tuple[int, ...] = PANIC_SIZES,
    switched: tuple[int, ...] = (50, 52, 54, 55, 56, 58, 60, 61),
    runs: int = 200,
    seed: int = SEED,
) -> tuple[SharePoint, ...]:
    """Share of fast closes that panic the 2005 preset, against the storm size, per :data:`VARIANCE_SWITCHES` variant.

    Each client closes 1000 ports.  The preset itself runs at every size of
    *sizes*; each variant with a source of variance switched off runs at the
    sizes of *switched* (where the share is neither 0 nor 1).

    Examples
    --------
    >>> [(p.variant, p.processes, p.share) for p in panic_share_curve(sizes=(5,), switched=(), runs=3)]
    [('every source', 5, 0.0)]
    """
    from zonemodel.experiments.results import CloseBurstRuns
    from zonemodel.experiments.storms import Close, close_burst

    base = gnumach(2005)
    points = []
    for variant, switches in VARIANCE_SWITCHES.items():
        changes = {name: value for name, value in switches.items() if name != "close"}
        kernel = base.replace(**changes) if changes else base
        close: Close = "kill" if switches.get("close") == "kill" else "fast"
        for processes in sizes if not switches else switched:
            result = close_burst(
                kernel, processes=processes, ports_each=1000, close=close, runs=runs, seed=seed, progress=False
            )
            panics = result.run_outcomes if isinstance(result, CloseBurstRuns) else (result.outcome,)
            k = panics.count("panic")
            points.append(SharePoint(variant, processes, k / runs, *_wilson(k, runs), runs))
    return tuple(points)


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


@_styled
def plot_storms(ax: Any = None, **kwargs: Any) -> Any:
    """Plot :func:`storm_traces` in two panels sharing the time axis: null's threads, and zone-map use.

    Every policy has a colour and a line style of its own.  Under the four
    policies that cap threads the zone map stays within a few hundredths of a
    MiB of the same level, so their curves would lie on one another: the lower
    panel draws them as one band (from the lowest to the highest of them at
    each moment), named as such in the legend.  *ax*, if given, is a pair of
    axes.  Returns the two axes.
    """
    import numpy as np

    traces = storm_traces(**kwargs)
    top, bottom = ax if ax is not None else _axes(None, nrows=2, height=5.2, sharex=True)
    styles = ["-", "--", "-.", ":", (0, (5, 1, 1, 1))]
    for i, trace in enumerate(traces):
        end = " (panic)" if trace.outcome == "panic" else ""
        top.plot(
            trace.times,
            trace.null_threads,
            ls=styles[i % len(styles)],
            color=f"C{i}",
            lw=1.6,
            label=f"{trace.policy}{end}",
        )
    top.set_yscale("symlog", linthresh=10)
    top.set_ylabel("threads of null")
    top.legend(loc="upper left")
    ports = kwargs.get("processes", 56) * kwargs.get("ports_each", 1000)
    top.set_title(f"Closing {ports:,} ports quickly, GNU Mach 2005")

    capped = [t for t in traces if t.outcome != "panic"]
    for i, trace in enumerate(traces):
        if trace not in capped:
            used = [b / MiB for b in trace.zone_map_used]
            bottom.plot(trace.times, used, ls=styles[i % len(styles)], color=f"C{i}", lw=1.6, label=trace.policy)
    if capped:
        grid = np.unique(np.concatenate([np.asarray(t.times, dtype=float) for t in capped]))
        curves = np.array(
            [
                np.interp(grid, np.asarray(t.times, dtype=float), np.asarray(t.zone_map_used, dtype=float))
                for t in capped
            ]
        )
        low, high = curves.min(axis=0) / MiB, curves.max(axis=0) / MiB
        bottom.fill_between(
            grid, low, high, color="0.45", alpha=0.5, lw=0.8, edgecolor="0.3", label="the four others (one band)"
        )
    bottom.set_xscale("symlog", linthresh=0.01)
    _plain_ticks(bottom.xaxis)
    _plain_ticks(top.yaxis)
    bottom.set_xlabel("seconds since the first close")
    bottom.set_ylabel("zone map used (MiB)")
    bottom.legend(loc="upper left")
    for a in (top, bottom):
        a.grid(alpha=0.3)
    return top, bottom


@_styled
def plot_panic_share(ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot :func:`panic_share_curve`: share of panics with 95% intervals against the ports closed, per variant."""
    points = panic_share_curve(**kwargs)
    ax = _axes(ax, height=3.8)
    styles = {
        "every source": "o-",
        "clock on a tick": "s--",
        "fixed CPU times": "^-.",
        "both off": "D:",
        "killed, not closed": "v-",
    }
    for i, variant in enumerate(VARIANCE_SWITCHES):
        mine = [p for p in points if p.variant == variant]
        if not mine:
            continue
        xs = [p.processes + (i - 2) * 0.12 for p in mine]  # side by side, so that no bar hides another
        ax.errorbar(
            xs,
            [p.share for p in mine],
            yerr=[[p.share - p.low for p in mine], [p.high - p.share for p in mine]],
            fmt=styles[variant],
            color=f"C{i}",
            capsize=2,
            ms=4,
            lw=1.2,
            label=variant,
        )
    ax.set_xlabel("clients closing 1000 ports each (thousands of ports)")
    ax.set_ylabel("share of runs that panic")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    ax.set_title("Fast close on GNU Mach 2005 (12 MiB): panics, 95% intervals")
    return ax


@_styled
def plot_interval_curve(ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot :func:`interval_curve`: mean count with its range against the fork interval."""
    rows = interval_curve(**kwargs)
    ax = _axes(ax)
    timed = [r for r in rows if r[0] is not None]
    xs = [r[0] * 1e3 for r in timed if r[0] is not None]
    ax.errorbar(
        xs,
        [r[1] for r in timed],
        yerr=[[r[1] - r[3] for r in timed], [r[4] - r[1] for r in timed]],
        fmt="o-",
        capsize=3,
        label="mean, min to max",
    )
    slow = [r for r in rows if r[0] is None]
    if slow:
        ax.axhline(slow[0][1], color="0.4", ls=":", label=f"slow forking (mean {slow[0][1]:.0f})")
    ax.set_xscale("log")
    _plain_ticks(ax.xaxis, minor=True)
    ax.set_xlabel("time between forks (ms)")
    ax.set_ylabel("processes at the end")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("GNU Mach 2005, 12 MiB zone map: count against fork rate")
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


@_styled
def plot_era_curve(ax: Any = None, **kwargs: Any) -> Any:
    """Plot :func:`era_curve`: one panel per preset (sharing the RAM axis), markers by binding limit.

    The zalloc-era presets end at nearly the same count (the ipc spaces cap),
    so on one pair of axes their lines would hide one another: each gets a
    panel of its own.  The 2005 panel marks the page's counts
    (:func:`ram_observed`).  *ax*, if given, holds one axes per preset.
    Returns the axes.
    """
    points = tuple(p for p in era_curve(**kwargs) if p.limit != "no boot")
    years = list(dict.fromkeys(p.start for p in points))
    axes = ax if ax is not None else _axes(None, nrows=len(years), height=1.55 * len(years) + 0.6, sharex=True)
    for i, (year, panel) in enumerate(zip(years, axes, strict=True)):
        mine = tuple(p for p in points if p.start == year)
        xs = [p.x / MiB for p in mine]
        panel.plot(xs, [p.median for p in mine], "-", color=f"C{i}", lw=1.5)
        _limit_markers(panel, mine, f"C{i}")
        if year == "2005":
            _mark_observed(panel, ram_observed(), "the page (r2)")
        panel.set_title(f"{year} preset", loc="left", pad=2)
        panel.grid(alpha=0.3)
        panel.margins(y=0.15)
    # One legend for all panels, above them: the limits (as grey markers) and the page's counts.
    from matplotlib.lines import Line2D

    seen = {p.limit for p in points}
    handles = [
        Line2D([], [], marker=marker, ls="none", color="0.3", mfc="white" if limit != "zone map" else "0.3", ms=5)
        for limit, marker in LIMIT_MARKERS.items()
        if limit in seen
    ]
    labels = [f"limit: {limit}" for limit in LIMIT_MARKERS if limit in seen]
    handles.append(Line2D([], [], **OBSERVED))
    labels.append("the page (r2)")
    axes[0].figure.legend(handles, labels, loc="outside upper center", ncols=2)
    axes[-1].set_xscale("log", base=2)
    axes[-1].set_xticks([128, 256, 512, 1024], ["128", "256", "512", "1024"])
    axes[-1].set_xlabel("physical memory (MiB)")
    axes[len(axes) // 2].set_ylabel("processes at the end")
    return axes
