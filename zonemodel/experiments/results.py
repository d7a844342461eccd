"""Result types of the experiments: frozen dataclasses holding plain Python numbers."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np

from zonemodel.errors import ParameterError
from zonemodel.model.kernel import Kernel
from zonemodel.model.records import Record
from zonemodel.model.zones import ZONE_NAMES
from zonemodel.units import format_size

Outcome: TypeAlias = Literal[
    "panic", "fork failure", "hang", "child limit", "no boot", "survived", "stopped by a limit", "open failed",
    "deadlock", "unfinished",
]  # fmt: skip
"""How a run ended."""

__all__ = [
    "BuildResult",
    "BuildRuns",
    "CloseBurstResult",
    "CloseBurstRuns",
    "ForkBombResult",
    "ForkBombRuns",
    "KillResult",
    "OpenPortsResult",
    "ServerTable",
    "ServerUsage",
    "ZoneUsage",
    "format_zone_table",
    "zone_usage",
]


@dataclass(frozen=True)
class ZoneUsage(Record):
    """How much of one zone was used.

    Examples
    --------
    >>> import zonemodel
    >>> zonemodel.replay(zonemodel.gnumach(2005), [("tasks", 10)]).zones[0]
    ZoneUsage('tasks', in_use=10, peak=10, size=1.29 KiB)
    """

    name: str
    """Zone name as GNU Mach prints it."""
    elem_size: int
    """Bytes per element."""
    in_use: int
    """Elements allocated and not freed at the end."""
    peak: int
    """Largest number of elements in use at once."""
    size: int
    """Bytes the zone has taken (its high-water mark: never returned)."""
    max_size: int
    """The zone's maximum at the end, in bytes (soft maxima grow by half when reached)."""

    def _frame_rows(self) -> list[dict[str, Any]]:
        return [self.to_dict()]

    def __repr__(self) -> str:
        return f"ZoneUsage({self.name!r}, in_use={self.in_use}, peak={self.peak}, size={format_size(self.size)})"


def zone_usage(names: tuple[str, ...], table: np.ndarray) -> tuple[ZoneUsage, ...]:
    """Convert a zone table into :class:`ZoneUsage` rows (plain ints)."""
    return tuple(
        ZoneUsage(
            name=names[i],
            elem_size=int(table["elem_size"][i]),
            in_use=int(table["in_use"][i]),
            peak=int(table["peak"][i]),
            size=int(table["cur_size"][i]),
            max_size=int(table["max_size"][i]),
        )
        for i in range(len(names))
    )


def format_zone_table(rows: tuple[ZoneUsage, ...], *, top: int | None = None) -> str:
    """A fixed-width text table of zone usage, largest zones first.

    Zones that were never used are left out.  *top* keeps only that many rows.
    """
    used = sorted((r for r in rows if r.size), key=lambda r: (-r.size, r.name))
    if top is not None:
        used = used[:top]
    lines = [f"{'zone':<24}{'elem':>6}{'in use':>9}{'peak':>9}{'size':>12}"]
    lines += [f"{r.name:<24}{r.elem_size:>6}{r.in_use:>9}{r.peak:>9}{format_size(r.size):>12}" for r in used]
    return "\n".join(lines)


@dataclass(frozen=True)
class ForkBombResult(Record):
    """How one fork bomb ended.

    Examples
    --------
    >>> import zonemodel
    >>> r = zonemodel.fork_bomb(zonemodel.gnumach(2005, zone_map="4 MiB"), seed=1)
    >>> r.processes, r.limit
    (419, 'zone map')
    """

    processes: int
    """Children alive when the bomb ended."""
    outcome: Outcome
    """``"panic"``, ``"fork failure"``, ``"hang"`` or ``"child limit"`` (no kernel limit reached)."""
    message: str
    """The console line (a panic), or a bracketed description when nothing is printed."""
    limit: str
    """The resource that ran out (or, stopped by a remedy, the remedy).

    One of ``"zone map"``, ``"ipc spaces"``, ``"kernel_map"``, ``"kalloc_map"`` or ``"physical memory"``.
    """
    hit_by: str
    """Whether a bomb ``"child"`` or a ``"background"`` task made the allocation that failed."""
    start: str
    """How the bomb was started: ``"console"``, ``"ssh"`` or ``"screen"``."""
    chain: bool
    """True if each child forked the next."""
    user: str
    """``"user"`` or ``"root"``."""
    background_tasks: int
    """Background tasks running at the end."""
    zone_map_used: int
    """Bytes of the zone map taken (never returned)."""
    zone_map_size: int
    """Size of the zone map in bytes."""
    kernel_map_free: int
    """Bytes of kernel_map left."""
    kalloc_map_free: int
    """Bytes of kalloc_map left."""
    ram_free: int
    """Bytes of physical memory left."""
    zones: tuple[ZoneUsage, ...]
    """Per-zone usage at the end."""
    server_threads: dict[str, int] = field(default_factory=dict)
    """Peak threads of each server (only when forking at an ``interval``)."""
    other_processes: int = 0
    """Processes the other user started (with ``other=``)."""
    other_completed: bool | None = None
    """Whether the other user's workload completed (``None`` without ``other=``)."""
    remedies: dict[str, int] = field(default_factory=dict)
    """How often each remedy acted, e.g. ``{"nproc on the bomber": 1}`` (with ``limits=``)."""
    kernel: Kernel | None = field(default=None, compare=False, repr=False)
    """The kernel that made the result (not compared by ``==`` or :meth:`~zonemodel.model.records.Record.equals`)."""
    seed: np.random.SeedSequence | None = field(default=None, compare=False, repr=False)
    """The seed that made the result: pass it back as ``seed=`` to rerun (not compared)."""

    def zone(self, name: str) -> ZoneUsage:
        """The usage row of zone *name*."""
        for row in self.zones:
            if row.name == name:
                return row
        raise ParameterError(f'"name": unknown zone {name!r}; zones: {", ".join(ZONE_NAMES)}')

    def table(self, top: int | None = None) -> str:
        """Per-zone usage as a text table, largest zones first."""
        return format_zone_table(self.zones, top=top)

    def __repr__(self) -> str:
        return (
            f"ForkBombResult(processes={self.processes}, outcome={self.outcome!r}, limit={self.limit!r}, "
            f"message={self.message!r})"
        )


@dataclass(frozen=True)
class ForkBombRuns(Record):
    """The distribution of the count over independently seeded fork bombs.

    Examples
    --------
    >>> import zonemodel
    >>> runs = zonemodel.fork_bomb(zonemodel.gnumach(2005, zone_map="4 MiB"), runs=20, seed=1)
    >>> runs.runs, runs.limit
    (20, 'zone map')
    """

    values: tuple[int, ...]
    """Children alive at the end of each run, in replicate order."""
    outcomes: tuple[tuple[str, int], ...]
    """``(outcome, runs)`` pairs, most frequent first."""
    limits: tuple[tuple[str, int], ...]
    """``(limit, runs)`` pairs, most frequent first."""
    messages: tuple[tuple[str, int], ...]
    """``(message, runs)`` pairs, most frequent first."""
    other_completed: float | None = None
    """Fraction of runs in which the other user's workload completed (with ``other=``)."""
    run_outcomes: tuple[str, ...] = ()
    """How each run ended, in replicate order (matches :attr:`values`)."""
    run_limits: tuple[str, ...] = ()
    """The limit of each run, in replicate order."""
    run_messages: tuple[str, ...] = ()
    """The console message of each run, in replicate order."""
    zone_map_used: tuple[int, ...] = ()
    """Bytes of the zone map taken at the end of each run, in replicate order."""
    kernel: Kernel | None = field(default=None, compare=False, repr=False)
    """The kernel that made the result (not compared by ``==`` or :meth:`~zonemodel.model.records.Record.equals`)."""
    seed: np.random.SeedSequence | None = field(default=None, compare=False, repr=False)
    """The seed that made the result: pass it back as ``seed=`` to rerun (not compared)."""

    @property
    def runs(self) -> int:
        """Number of runs."""
        return len(self.values)

    @property
    def outcome(self) -> str:
        """The most common outcome."""
        return self.outcomes[0][0]

    @property
    def limit(self) -> str:
        """The most common limit (``""``: none)."""
        return self.limits[0][0]

    @property
    def message(self) -> str:
        """The most common console message."""
        return self.messages[0][0]

    def _frame_rows(self) -> list[dict[str, Any]]:
        return _run_rows(
            processes=self.values,
            outcome=self.run_outcomes,
            limit=self.run_limits,
            message=self.run_messages,
            zone_map_used=self.zone_map_used,
        )

    @property
    def min(self) -> int:
        """Smallest count."""
        return min(self.values)

    @property
    def max(self) -> int:
        """Largest count."""
        return max(self.values)

    @property
    def median(self) -> float:
        """Median count."""
        return float(statistics.median(self.values))

    @property
    def mean(self) -> float:
        """Mean count."""
        return float(statistics.fmean(self.values))

    @property
    def std(self) -> float:
        """Population standard deviation of the count."""
        return float(statistics.pstdev(self.values))

    @property
    def spread(self) -> int:
        """Largest minus smallest count."""
        return self.max - self.min

    def __repr__(self) -> str:
        return (
            f"ForkBombRuns(runs={self.runs}, min={self.min}, median={self.median:g}, max={self.max}, "
            f"std={self.std:.2f}, limit={self.limits[0][0]!r})"
        )


def _run_rows(**columns: tuple[Any, ...]) -> list[dict[str, Any]]:
    """One dict per run: ``run`` (the replicate index) and the given per-run columns (empty ones left out)."""
    kept = {name: values for name, values in columns.items() if values}
    count = max((len(v) for v in kept.values()), default=0)
    return [{"run": i, **{name: values[i] for name, values in kept.items()}} for i in range(count)]


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else 0.0


@dataclass(frozen=True)
class CloseBurstResult(Record):
    """What one open-then-close storm did.

    Examples
    --------
    >>> import zonemodel
    >>> r = zonemodel.close_burst(zonemodel.gnumach(2005), processes=1, ports_each=50, seed=1)
    >>> r.outcome, r.opened
    ('survived', 50)
    """

    outcome: Outcome
    """``"survived"``, ``"panic"``, ``"open failed"`` (an open returned an error) or ``"hang"``."""
    message: str
    """The console panic line, or a bracketed description, or ``""``."""
    limit: str
    """The resource that ran out, or ``""``."""
    opened: int
    """Ports opened before the closing started."""
    policy: str
    """Key of the thread policy."""
    peak_threads: dict[str, int]
    """Largest thread count of each server."""
    peak_backlog: dict[str, int]
    """Largest number of notifications waiting in each server's queue."""
    latency_ms: dict[str, float]
    """Time from a close to its notification being served: ``p50``, ``p99`` and ``max``, in milliseconds."""
    duration: float
    """Simulated seconds from the first close to the end."""
    zone_map_used: int
    """Bytes of the zone map taken at the end."""
    zone_map_size: int
    """Size of the zone map."""
    zones: tuple[ZoneUsage, ...]
    """Per-zone usage at the end."""
    trace: tuple[tuple[float, int, int], ...]
    """Samples of (seconds, null's threads, zone-map bytes used) during the closing."""
    remedies: dict[str, int] = field(default_factory=dict)
    """How often each remedy acted (with ``limits=``)."""
    other_opened: int = 0
    """Ports the other user opened after the storm (with ``other=``)."""
    other_completed: bool | None = None
    """Whether the other user opened all its ports (``None`` without ``other=``)."""
    emfile: int = 0
    """Opens glibc refused with EMFILE: the client had ``nofile - 3`` descriptors open already (no RPC made)."""
    kernel: Kernel | None = field(default=None, compare=False, repr=False)
    """The kernel that made the result (not compared by ``==`` or :meth:`~zonemodel.model.records.Record.equals`)."""
    seed: np.random.SeedSequence | None = field(default=None, compare=False, repr=False)
    """The seed that made the result: pass it back as ``seed=`` to rerun (not compared)."""

    def table(self, top: int | None = None) -> str:
        """Per-zone usage as a text table, largest zones first."""
        return format_zone_table(self.zones, top=top)

    def __repr__(self) -> str:
        return (
            f"CloseBurstResult({self.outcome!r}, opened={self.opened}, "
            + (f"emfile={self.emfile}, " if self.emfile else "")
            + f"policy={self.policy!r}, null threads={self.peak_threads['null']}, message={self.message!r})"
        )


@dataclass(frozen=True)
class CloseBurstRuns(Record):
    """The distribution over independently seeded storms.

    Examples
    --------
    >>> import zonemodel
    >>> runs = zonemodel.close_burst(zonemodel.gnumach(2005), processes=1, ports_each=50, runs=4, seed=1)
    >>> runs.runs, runs.panicked
    (4, 0.0)
    """

    outcomes: tuple[tuple[str, int], ...]
    """``(outcome, runs)`` pairs, most frequent first."""
    messages: tuple[tuple[str, int], ...]
    """``(message, runs)`` pairs, most frequent first."""
    peak_null_threads: tuple[int, ...]
    """Peak thread count of null in each run."""
    p99_latency_ms: tuple[float, ...]
    """99th percentile of the notification latency in each run, in milliseconds."""
    other_completed: float | None = None
    """Fraction of runs in which the other user opened all its ports (with ``other=``)."""
    run_outcomes: tuple[str, ...] = ()
    """How each run ended, in replicate order."""
    run_messages: tuple[str, ...] = ()
    """The console message of each run, in replicate order."""
    limits: tuple[tuple[str, int], ...] = ()
    """``(limit, runs)`` pairs, most frequent first (``""``: no resource ran out)."""
    run_limits: tuple[str, ...] = ()
    """The limit of each run, in replicate order."""
    opened: tuple[int, ...] = ()
    """Ports opened before the closing started, in each run."""
    peak_ext2fs_threads: tuple[int, ...] = ()
    """Peak thread count of ext2fs in each run."""
    peak_null_backlog: tuple[int, ...] = ()
    """Most notifications waiting in null's queue at once, in each run."""
    peak_ext2fs_backlog: tuple[int, ...] = ()
    """Most notifications waiting in ext2fs's queue at once, in each run."""
    p50_latency_ms: tuple[float, ...] = ()
    """Median notification latency in each run, in milliseconds."""
    zone_map_used: tuple[int, ...] = ()
    """Bytes of the zone map taken at the end of each run."""
    emfile: tuple[int, ...] = ()
    """Per run, opens glibc refused with EMFILE (the clients' ``nofile``)."""
    kernel: Kernel | None = field(default=None, compare=False, repr=False)
    """The kernel that made the result (not compared by ``==`` or :meth:`~zonemodel.model.records.Record.equals`)."""
    seed: np.random.SeedSequence | None = field(default=None, compare=False, repr=False)
    """The seed that made the result: pass it back as ``seed=`` to rerun (not compared)."""

    @property
    def runs(self) -> int:
        """Number of runs."""
        return len(self.peak_null_threads)

    @property
    def outcome(self) -> str:
        """The most common outcome."""
        return self.outcomes[0][0]

    @property
    def message(self) -> str:
        """The most common console message."""
        return self.messages[0][0]

    @property
    def limit(self) -> str:
        """The most common limit (``""``: none)."""
        return self.limits[0][0] if self.limits else ""

    def _frame_rows(self) -> list[dict[str, Any]]:
        return _run_rows(
            outcome=self.run_outcomes,
            limit=self.run_limits,
            message=self.run_messages,
            opened=self.opened,
            peak_null_threads=self.peak_null_threads,
            peak_ext2fs_threads=self.peak_ext2fs_threads,
            peak_null_backlog=self.peak_null_backlog,
            peak_ext2fs_backlog=self.peak_ext2fs_backlog,
            p50_latency_ms=self.p50_latency_ms,
            p99_latency_ms=self.p99_latency_ms,
            zone_map_used=self.zone_map_used,
        )

    @property
    def panicked(self) -> float:
        """Fraction of runs that ended in a panic."""
        return dict(self.outcomes).get("panic", 0) / self.runs

    def __repr__(self) -> str:
        threads = self.peak_null_threads
        return (
            f"CloseBurstRuns(runs={self.runs}, panicked={self.panicked:.3f}, "
            f"null threads {min(threads)}..{max(threads)} (median {statistics.median(threads):g}))"
        )


@dataclass(frozen=True)
class OpenPortsResult(Record):
    """What an open() storm against /dev/null did.

    Examples
    --------
    >>> import zonemodel
    >>> zonemodel.open_ports(zonemodel.gnumach(2005), processes=1, ports_each=10).opened
    10
    """

    opened: int
    """Opens that succeeded (the ports stay open: a leak)."""
    failed: int
    """Opens that returned an error."""
    error: str
    """Why opens failed, or ``""``."""
    instances: int
    """null translator instances used (a new one starts after one fails)."""
    per_instance: tuple[int, ...]
    """Opens served by each instance, in order."""
    survived: bool
    """False if the kernel panicked."""
    message: str
    """The panic line, or ``""``."""
    zone_map_used: int
    """Bytes of the zone map taken at the end."""
    kalloc_map_free: int
    """Bytes of kalloc_map still free at the end."""
    emfile: int = 0
    """Opens glibc refused with EMFILE (``errno`` 24): the client had ``nofile - 3`` descriptors open already."""
    kernel: Kernel | None = field(default=None, compare=False, repr=False)
    """The kernel that made the result (not compared by ``==`` or :meth:`~zonemodel.model.records.Record.equals`)."""

    def _frame_rows(self) -> list[dict[str, Any]]:
        return [{"instance": i, "opened": n} for i, n in enumerate(self.per_instance)]

    def __repr__(self) -> str:
        return (
            f"OpenPortsResult(opened={self.opened}, failed={self.failed}, "
            + (f"emfile={self.emfile}, " if self.emfile else "")
            + f"instances={self.instances}, "
            f"survived={self.survived}, message={self.message!r})"
        )


@dataclass(frozen=True)
class ServerUsage(Record):
    """One server of a running :class:`zonemodel.System`, between experiments.

    Examples
    --------
    >>> import zonemodel
    >>> system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
    >>> _ = system.open_ports(processes=1, ports_each=10)
    >>> system.servers().server("null")
    ServerUsage('null', instances=1, running=1, threads=1, names=36)
    """

    name: str
    """The server (``proc``, ``auth``, ``exec``, ``term``, ``ext2fs``, ``null``)."""
    instances: int
    """Instances started so far (null: ext2fs starts a new one after one died or was wedged)."""
    running: int
    """Instances running now (null: the serving one and the wedged ones, whose space could not grow)."""
    threads: int
    """Threads of its running instances (they never exit: libports 1997-2008)."""
    idle_threads: int
    """Of those, threads waiting for a message: between experiments, all but those blocked for good on a lock.

    (Only the ``null_stall_chance`` what-if blocks threads for good: its
    stalled null keeps them, busy, until it is killed.)
    """
    names: int | None
    """Names in the IPC spaces of its running instances; None for proc, auth, exec and term (one pooled table)."""
    held: int
    """Ports of its running instances that live clients hold (null's protids), or 0."""
    kernel_bytes: int
    """Zone memory its threads take (thread, pcb, two ports each) plus its entry tables' bytes."""
    table_entries: int | None = None
    """Entries of the entry table of its serving instance (null, ext2fs), or None."""
    leaked: int = 0
    """Ports it leaked: each thread of a stalled null (the ``null_stall_chance`` what-if) holds a dead port
    it never destroys, and the ext2fs protid behind it never hears; 0 for a sound server."""

    def __repr__(self) -> str:
        return (
            f"ServerUsage({self.name!r}, instances={self.instances}, running={self.running}, "
            f"threads={self.threads}, names={self.names})"
        )


@dataclass(frozen=True)
class ServerTable(Record):
    """The servers of a running :class:`zonemodel.System`: one :class:`ServerUsage` each.

    Examples
    --------
    >>> import zonemodel
    >>> zonemodel.System(zonemodel.gnumach(2005), seed=1).servers().server("null").instances
    0
    """

    rows: tuple[ServerUsage, ...]
    """One row per server, in the kernels' order."""

    def server(self, name: str) -> ServerUsage:
        """The row of server *name*."""
        for row in self.rows:
            if row.name == name:
                return row
        raise ParameterError(f'"name" must be one of {", ".join(repr(r.name) for r in self.rows)}, got {name!r}')

    def _frame_rows(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rows]

    def __repr__(self) -> str:
        inside = ", ".join(f"{r.name}={r.threads}" for r in self.rows)
        return f"ServerTable(threads: {inside})"


@dataclass(frozen=True)
class KillResult(Record):
    """What killing a server or an experiment's clients on a running :class:`zonemodel.System` did.

    Examples
    --------
    >>> import zonemodel
    >>> system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
    >>> _ = system.open_ports(processes=1, ports_each=10)
    >>> system.kill("null")
    KillResult('null', notifications=10, outcome='survived', message='')
    """

    target: str
    """What was killed (``"null"`` or ``"clients"``)."""
    notifications: int
    """No-senders notifications the deaths sent (to ext2fs for null; to null for its clients)."""
    outcome: Outcome
    """``"survived"``, or ``"panic"`` if serving them exhausted the zone map."""
    message: str
    """The panic line, or ``""``."""
    peak_threads: dict[str, int]
    """Threads of each server at the end (they never exit)."""
    zone_map_used: int
    """Bytes of the zone map taken at the end."""

    def __repr__(self) -> str:
        return (
            f"KillResult({self.target!r}, notifications={self.notifications}, outcome={self.outcome!r}, "
            f"message={self.message!r})"
        )


@dataclass(frozen=True)
class BuildResult(Record):
    """What one build did (:func:`zonemodel.compile_job`).

    Examples
    --------
    >>> import zonemodel
    >>> r = zonemodel.compile_job(zonemodel.gnumach(2005), files=2, seed=1)
    >>> r.outcome, r.peak_threads["ext2fs pager"] >= 1
    ('survived', True)
    """

    outcome: Outcome
    """``"survived"``, ``"panic"``, ``"hang"``, ``"deadlock"`` or ``"unfinished"`` (still running at the timeout)."""
    message: str
    """The console panic line, or a bracketed description, or ``""``."""
    limit: str
    """The resource that ran out, or ``""``."""
    stage: str
    """``"compile"`` or ``"install"``."""
    jobs: int
    """Jobs that ran at once."""
    files: int
    """Files of the build."""
    files_done: int
    """Files the jobs finished."""
    policy: str
    """Key of the thread policy."""
    duration: float
    """Simulated seconds from the start to the end (the last page written, or the panic)."""
    peak_threads: dict[str, int]
    """Largest thread count of each pool (``"ext2fs"`` serves RPCs, ``"ext2fs pager"`` the kernel's pager)."""
    peak_pager_backlog: int
    """Most pager messages waiting at once in the pager pool's queue."""
    peak_dirty_pages: int
    """Most dirty pages (file and metadata) at once, not yet sent to ext2fs."""
    sync_bursts: tuple[int, ...]
    """data_returns each sync sent, in order."""
    data_returns: int
    """data_returns the kernel sent in all: from the syncs, the object cache and the pageout daemon."""
    trimmed: int
    """... of which the object cache sent when it held more than ``object_cache_max`` objects."""
    laundered: int
    """... of which the pageout daemon sent."""
    min_free: int
    """Fewest bytes of free physical memory seen."""
    latency_ms: dict[str, float]
    """From a message's arrival at a pool to the end of its handling (disk writes included): ``p50``, ``p99``."""
    zone_map_used: int
    """Bytes of the zone map taken at the end."""
    zone_map_size: int
    """Size of the zone map."""
    zones: tuple[ZoneUsage, ...]
    """Per-zone usage at the end."""
    trace: tuple[tuple[float, int, int, int, int], ...]
    """Every 0.25 s: (seconds, ext2fs threads, ext2fs pager threads, zone-map bytes used, dirty pages)."""
    events: int = 0
    """Events the event loop processed."""
    kernel: Kernel | None = field(default=None, compare=False, repr=False)
    """The kernel that made the result (not compared)."""
    seed: np.random.SeedSequence | None = field(default=None, compare=False, repr=False)
    """The seed that made the result: pass it back as ``seed=`` to rerun (not compared)."""

    @property
    def largest_sync(self) -> int:
        """data_returns of the biggest sync (0 if none ran)."""
        return max(self.sync_bursts, default=0)

    def table(self, top: int | None = None) -> str:
        """Per-zone usage as a text table, largest zones first."""
        return format_zone_table(self.zones, top=top)

    def _frame_rows(self) -> list[dict[str, Any]]:
        columns = ("seconds", "ext2fs_threads", "pager_threads", "zone_map_used", "dirty_pages")
        return [dict(zip(columns, row, strict=True)) for row in self.trace]

    def __repr__(self) -> str:
        return (
            f"BuildResult({self.outcome!r}, {self.stage}, files={self.files_done}/{self.files}, "
            f"policy={self.policy!r}, pager threads={self.peak_threads['ext2fs pager']}, message={self.message!r})"
        )


@dataclass(frozen=True)
class BuildRuns(Record):
    """The distribution over independently seeded builds.

    Examples
    --------
    >>> import zonemodel
    >>> runs = zonemodel.compile_job(zonemodel.gnumach(2005), files=2, runs=3, seed=1)
    >>> runs.runs, runs.panicked
    (3, 0.0)
    """

    outcomes: tuple[tuple[str, int], ...]
    """``(outcome, runs)`` pairs, most frequent first."""
    messages: tuple[tuple[str, int], ...]
    """``(message, runs)`` pairs, most frequent first."""
    limits: tuple[tuple[str, int], ...]
    """``(limit, runs)`` pairs, most frequent first."""
    run_outcomes: tuple[str, ...]
    """How each run ended, in replicate order."""
    run_messages: tuple[str, ...]
    """The console message of each run."""
    run_limits: tuple[str, ...]
    """The limit of each run."""
    stage: str
    """``"compile"`` or ``"install"``."""
    policy: str
    """Key of the thread policy."""
    files_done: tuple[int, ...]
    """Files finished, per run."""
    duration: tuple[float, ...]
    """Simulated seconds, per run."""
    peak_ext2fs_threads: tuple[int, ...]
    """Peak threads of ext2fs's RPC pool, per run."""
    peak_pager_threads: tuple[int, ...]
    """Peak threads of ext2fs's pager pool, per run."""
    peak_pager_backlog: tuple[int, ...]
    """Most pager messages waiting at once, per run."""
    peak_dirty_pages: tuple[int, ...]
    """Most dirty pages at once, per run."""
    largest_sync: tuple[int, ...]
    """data_returns of the biggest sync, per run."""
    data_returns: tuple[int, ...]
    """data_returns sent in all, per run."""
    p50_latency_ms: tuple[float, ...]
    """Median message latency, per run, in milliseconds."""
    p99_latency_ms: tuple[float, ...]
    """99th percentile of the message latency, per run, in milliseconds."""
    zone_map_used: tuple[int, ...]
    """Bytes of the zone map taken at the end, per run."""
    kernel: Kernel | None = field(default=None, compare=False, repr=False)
    """The kernel that made the result (not compared)."""
    seed: np.random.SeedSequence | None = field(default=None, compare=False, repr=False)
    """The seed that made the result (not compared)."""

    @property
    def runs(self) -> int:
        """Number of runs."""
        return len(self.run_outcomes)

    @property
    def outcome(self) -> str:
        """The most common outcome."""
        return self.outcomes[0][0]

    @property
    def message(self) -> str:
        """The most common console message."""
        return self.messages[0][0]

    @property
    def panicked(self) -> float:
        """Fraction of runs that ended in a panic."""
        return dict(self.outcomes).get("panic", 0) / self.runs

    @property
    def deadlocked(self) -> float:
        """Fraction of runs that ended in a deadlock."""
        return dict(self.outcomes).get("deadlock", 0) / self.runs

    def _frame_rows(self) -> list[dict[str, Any]]:
        return _run_rows(
            outcome=self.run_outcomes,
            limit=self.run_limits,
            message=self.run_messages,
            files_done=self.files_done,
            duration=self.duration,
            peak_ext2fs_threads=self.peak_ext2fs_threads,
            peak_pager_threads=self.peak_pager_threads,
            peak_pager_backlog=self.peak_pager_backlog,
            peak_dirty_pages=self.peak_dirty_pages,
            largest_sync=self.largest_sync,
            data_returns=self.data_returns,
            p50_latency_ms=self.p50_latency_ms,
            p99_latency_ms=self.p99_latency_ms,
            zone_map_used=self.zone_map_used,
        )

    def __repr__(self) -> str:
        threads = self.peak_pager_threads
        return (
            f"BuildRuns(runs={self.runs}, panicked={self.panicked:.3f}, deadlocked={self.deadlocked:.3f}, "
            f"pager threads {min(threads)}..{max(threads)} (median {statistics.median(threads):g}))"
        )
