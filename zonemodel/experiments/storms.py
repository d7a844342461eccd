"""Port storms against multithreaded servers: open many ports to /dev/null, then close them.

:func:`close_burst` boots a fresh system, starts ``processes`` clients, has
each open ``ports_each`` ports to /dev/null, and then closes them all,
quickly (a tight loop) or slowly.  Every close sends null a no-senders
notification, and null's answer sends ext2fs one.  How many threads the
servers create on the way depends on the thread policy; each thread takes
kernel memory that is never returned, and queued notifications take
message buffers while they wait.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from zonemodel._kernels import engine as S
from zonemodel._kernels import process as P
from zonemodel._kernels import zalloc as _zalloc
from zonemodel.errors import ParameterError
from zonemodel.experiments.common import State, check_kernel, describe, limit_array, policy_arrays
from zonemodel.experiments.results import ZoneUsage, format_zone_table, zone_usage
from zonemodel.model.kernel import Kernel
from zonemodel.model.limits import Limits
from zonemodel.model.policies import UPSTREAM_1997, ThreadPolicy
from zonemodel.model.policies import policy as get_policy
from zonemodel.model.zones import ZONE_NAMES
from zonemodel.seeds import SeedLike, replicate_states

__all__ = ["CloseBurstResult", "CloseBurstRuns", "OpenPortsResult", "close_burst", "open_ports"]

CLOSE_MODES: Final = ("fast", "slow")
TRACE_ROWS: Final = 400
LATENCY_CAP: Final = 1 << 20


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else 0.0


@dataclass(frozen=True)
class CloseBurstResult:
    """What one open-then-close storm did.

    Examples
    --------
    >>> import zonemodel
    >>> r = zonemodel.close_burst(zonemodel.gnumach(2005), processes=1, ports_each=50, seed=1)
    >>> r.outcome, r.opened
    ('survived', 50)
    """

    outcome: str
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

    def table(self, top: int | None = None) -> str:
        """Per-zone usage as a text table, largest zones first."""
        return format_zone_table(self.zones, top=top)

    def __repr__(self) -> str:
        return (
            f"CloseBurstResult({self.outcome!r}, opened={self.opened}, policy={self.policy!r}, "
            f"null threads={self.peak_threads['null']}, message={self.message!r})"
        )


@dataclass(frozen=True)
class CloseBurstRuns:
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

    @property
    def runs(self) -> int:
        """Number of runs."""
        return len(self.peak_null_threads)

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


def _check(processes: object, ports_each: object, close: object) -> tuple[int, int, str]:
    for name, value in (("processes", processes), ("ports_each", ports_each)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 1_000_000:
            raise ParameterError(f'"{name}" must be an integer between 1 and 1000000, got {value!r}')
    if close not in CLOSE_MODES:
        raise ParameterError(f'"close" must be one of {", ".join(map(repr, CLOSE_MODES))}, got {close!r}')
    total = int(processes) * int(ports_each)  # type: ignore[call-overload]
    if total > 4_000_000:
        raise ParameterError(f'"processes" x "ports_each" must be at most 4000000 ports, got {total}')
    return int(processes), int(ports_each), str(close)  # type: ignore[call-overload]


def _check_remedies(limits: object, other: object) -> None:
    if limits is not None and not isinstance(limits, Limits):
        raise ParameterError(f'"limits" must be None or a zonemodel.model.limits.Limits, got {limits!r}')
    if isinstance(other, bool) or not isinstance(other, (int, np.integer)) or not 0 <= other <= 1_000_000:
        raise ParameterError(f'"other" must be an integer between 0 and 1000000, got {other!r}')


def _booted(kernel: Kernel) -> State:
    booted = State.booted(kernel)
    if not booted.boot.booted or booted.boot_status != P.OK:
        raise ParameterError(f'"kernel": {kernel!r} does not boot ({booted.boot.reason or "its tasks do not fit"})')
    return booted


def _arrays(kernel: Kernel) -> tuple[np.ndarray, np.ndarray, int]:
    svc = np.full((S.N_SERVERS, S.N_KINDS), kernel.service_rpc, dtype=np.float64)
    svc[S.NULL, S.M_NOTIFY] = kernel.service_notify_null
    svc[S.EXT2FS, S.M_NOTIFY] = kernel.service_notify_ext2fs
    msize = np.array([kernel.notify_msg_size, kernel.rpc_msg_size], dtype=np.int64)
    thread_bytes = kernel.thread_size + kernel.pcb_size + 2 * kernel.port_size
    return svc, msize, thread_bytes


def _storm(
    kernel: Kernel, processes: int, ports_each: int, mode: str, pol: ThreadPolicy
) -> tuple[tuple[np.ndarray, ...], tuple[int | float, ...]]:
    """The storm kernels' arguments: (policy and service arrays, (sizes, interval, zone map, thread bytes))."""
    svc, msize, thread_bytes = _arrays(kernel)
    pi, pf = policy_arrays(pol)
    interval = kernel.close_interval_fast if mode == "fast" else kernel.close_interval_slow
    sizes = (processes, ports_each, kernel.null_names, kernel.ext2fs_names)
    return (pi, pf, svc, msize), (*sizes, interval, kernel.zone_map, thread_bytes)


def _outcome(status: int, phase: int, panic_zone: int) -> tuple[str, str, str]:
    if status == P.OK:
        return "survived", "", ""
    outcome, limit, message = describe(status, panic_zone)
    if status == P.KALLOC_MAP_FULL:
        outcome = "open failed" if phase == 1 else outcome
        message = "[no panic: an IPC entry table cannot grow in kalloc_map; the RPC returns an error]"
    return outcome, limit, message


def close_burst(
    kernel: Kernel,
    *,
    processes: int,
    ports_each: int,
    close: str = "fast",
    policy: str | ThreadPolicy = UPSTREAM_1997,
    limits: Limits | None = None,
    other: int = 0,
    runs: int = 1,
    seed: SeedLike = None,
) -> CloseBurstResult | CloseBurstRuns:
    """Open ``processes x ports_each`` ports to /dev/null, then close them all.

    Parameters
    ----------
    kernel
        A zalloc-era kernel preset.
    processes, ports_each
        How many client processes, and how many ports each opens.
    close
        ``"fast"``: closes come every ``kernel.close_interval_fast`` seconds on
        average (a tight loop); ``"slow"``: every ``kernel.close_interval_slow``.
    policy
        The servers' thread policy: a :class:`~zonemodel.model.policies.ThreadPolicy`
        or its key (see :data:`zonemodel.model.policies.POLICIES`).
    limits
        Remedies (:class:`~zonemodel.model.limits.Limits`): ``ports_per_task`` and
        ``kmem_quota`` refuse the storm's opens; ``threads_per_task`` and
        ``kmem_quota`` refuse threads created for its notifications; the OOM
        killer kills null when a kernel resource runs short.
    other
        Ports a second user opens after the storm, on the same system.
    runs, seed
        As for :func:`zonemodel.fork_bomb`.

    Examples
    --------
    >>> import zonemodel
    >>> r = zonemodel.close_burst(zonemodel.gnumach(2005), processes=2, ports_each=100, seed=1)
    >>> r.outcome, r.opened
    ('survived', 200)
    """
    check_kernel(kernel)
    n_proc, n_ports, mode = _check(processes, ports_each, close)
    pol = get_policy(policy)
    _check_remedies(limits, other)
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise ParameterError(f'"runs" must be an integer >= 1, got {runs!r}')
    if runs == 1:
        return _single(kernel, n_proc, n_ports, mode, pol, limits, int(other), seed)
    rows = run_replicates(
        kernel, processes=n_proc, ports_each=n_ports, close=mode, policy=pol, limits=limits, other=int(other),
        seed=seed, first=0, count=int(runs),
    )  # fmt: skip
    return summarise(rows)


def _single(
    kernel: Kernel,
    n_proc: int,
    n_ports: int,
    mode: str,
    pol: ThreadPolicy,
    limits: Limits | None,
    other: int,
    seed: SeedLike,
) -> CloseBurstResult:
    """One storm, with everything recorded (the trace, every latency, per-zone usage)."""
    lim = limit_array(limits)
    port_bytes = kernel.port_size
    booted = _booted(kernel)
    states = replicate_states(seed, 1)
    model, args = _storm(kernel, n_proc, n_ports, mode, pol)
    sv = np.zeros((S.N_SERVERS, S.S_COLS), dtype=np.int64)
    lat = np.empty(min(LATENCY_CAP, 2 * n_proc * n_ports + 1), dtype=np.float64)
    trace = np.zeros((TRACE_ROWS, 3), dtype=np.float64)
    out = np.zeros(5, dtype=np.int64)
    rm = np.zeros(S.RM_SIZE, dtype=np.int64)
    S._burst_run(
        booted.zones, booted.ms, booted.res, booted.gp, booted.its, booted.base_q, *model,
        states[0].copy(), *args, sv, lat, trace, out, lim, rm, port_bytes, other,
    )  # fmt: skip
    status, phase = int(out[0]), int(out[1])
    outcome, limit, message = _outcome(status, phase, int(booted.ms[_zalloc.M_PANIC_ZONE]))
    served = min(lat.shape[0], int(sv[S.NULL, S.S_SERVED] + sv[S.EXT2FS, S.S_SERVED]))
    values = lat[:served] * 1e3
    rows = [tuple(r) for r in trace if r[0] > 0 or r[2] > 0]
    return CloseBurstResult(
        outcome=outcome,
        message=message,
        limit=limit,
        opened=int(out[2]),
        policy=pol.key,
        peak_threads={name: int(sv[i, S.S_PEAK_THREADS]) for i, name in enumerate(S.SERVER_NAMES)},
        peak_backlog={name: int(sv[i, S.S_PEAK_QUEUE]) for i, name in enumerate(S.SERVER_NAMES)},
        latency_ms={
            "p50": round(_percentile(values, 50), 3),
            "p99": round(_percentile(values, 99), 3),
            "max": round(float(values.max()) if values.size else 0.0, 3),
        },
        duration=int(out[4]) / 1e6,
        zone_map_used=booted.zone_map_used,
        zone_map_size=kernel.zone_map,
        zones=zone_usage(ZONE_NAMES, booted.zones),
        trace=tuple((float(t), int(n), int(b)) for t, n, b in rows),
        remedies=_remedies(rm),
        other_opened=int(rm[S.RM_B_OPENED]),
        other_completed=(int(rm[S.RM_B_OPENED]) == other and status == P.OK) if other else None,
    )


ROW_DTYPE: Final = np.dtype(
    [
        ("status", "i8"),  # a _process status code
        ("phase", "i8"),  # 0 boot, 1 open, 2 close, 3 the other user
        ("opened", "i8"),
        ("panic_zone", "i8"),  # zone named in the panic, or -1
        ("peak_null_threads", "i8"),
        ("p99_latency_ms", "f8"),
        ("other_completed", "i8"),  # 1 or 0; -1 without other=
    ]
)
"""One replicate of :func:`close_burst` as :func:`run_replicates` returns it."""


def run_replicates(
    kernel: Kernel,
    *,
    processes: int,
    ports_each: int,
    close: str = "fast",
    policy: str | ThreadPolicy = UPSTREAM_1997,
    limits: Limits | None = None,
    other: int = 0,
    seed: SeedLike,
    first: int,
    count: int,
) -> np.ndarray:
    """Replicates ``first .. first + count - 1`` of a close burst, as :data:`ROW_DTYPE` rows.

    Replicate ``first + i`` is seeded by child ``first + i`` of *seed*, so
    batches of replicates give the same rows as one call: the unit of work
    that :func:`zonemodel.sweep` ships to workers, and what
    ``close_burst(..., runs=N)`` summarises.
    """
    check_kernel(kernel)
    n_proc, n_ports, mode = _check(processes, ports_each, close)
    _check_remedies(limits, other)
    pol = get_policy(policy)
    booted = _booted(kernel)
    model, args = _storm(kernel, n_proc, n_ports, mode, pol)
    out = np.zeros((count, 7), dtype=np.int64)
    peaks = np.zeros((count, 2 * S.N_SERVERS), dtype=np.int64)
    lats = np.full((count, min(LATENCY_CAP // 16, 2 * n_proc * n_ports + 1)), np.nan)
    rms = np.zeros((count, S.RM_SIZE), dtype=np.int64)
    S._burst_many(
        booted.zones, booted.ms, booted.res, booted.gp, booted.its, booted.base_q, *model,
        replicate_states(seed, count, start=first), *args, out, peaks, lats, limit_array(limits),
        kernel.port_size, int(other), rms,
    )  # fmt: skip
    rows = np.zeros(count, dtype=ROW_DTYPE)
    rows["status"], rows["phase"], rows["opened"], rows["panic_zone"] = out[:, 0], out[:, 1], out[:, 2], out[:, 5]
    rows["peak_null_threads"] = peaks[:, S.NULL]
    for i, row in enumerate(lats):
        rows["p99_latency_ms"][i] = round(float(np.nanpercentile(row, 99)) * 1e3, 3) if np.isfinite(row).any() else 0.0
    if other:
        rows["other_completed"] = (rms[:, S.RM_B_OPENED] == other) & (out[:, 0] == P.OK)
    else:
        rows["other_completed"] = -1
    return rows


def summarise(rows: np.ndarray) -> CloseBurstRuns:
    """The distribution of close-burst replicates (rows of :func:`run_replicates`, in replicate order)."""
    described = [_outcome(int(r["status"]), int(r["phase"]), int(r["panic_zone"])) for r in rows]
    done = rows["other_completed"]
    return CloseBurstRuns(
        outcomes=tuple(Counter(d[0] for d in described).most_common()),
        messages=tuple(Counter(d[2] for d in described).most_common()),
        peak_null_threads=tuple(int(v) for v in rows["peak_null_threads"]),
        p99_latency_ms=tuple(float(v) for v in rows["p99_latency_ms"]),
        other_completed=float((done == 1).sum() / len(done)) if len(done) and done[0] >= 0 else None,
    )


def _remedies(rm: np.ndarray) -> dict[str, int]:
    names = (
        (S.RM_REFUSED_PORTS, "ports_per_task refused opens"),
        (S.RM_REFUSED_QUOTA, "kmem_quota refused opens or threads"),
        (S.RM_REFUSED_THREADS, "threads_per_task refused threads"),
        (S.RM_OOM_KILLS, "oom_killer killed null"),
    )
    return {name: int(rm[i]) for i, name in names if rm[i]}


@dataclass(frozen=True)
class OpenPortsResult:
    """What an open() storm against /dev/null did.

    Examples
    --------
    >>> import zonemodel
    >>> zonemodel.open_ports(zonemodel.gnumach(2005), processes=1, ports=10).opened
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

    def __repr__(self) -> str:
        return (
            f"OpenPortsResult(opened={self.opened}, failed={self.failed}, instances={self.instances}, "
            f"survived={self.survived}, message={self.message!r})"
        )


def open_ports(kernel: Kernel, *, processes: int, ports: int, path: str = "/dev/null") -> OpenPortsResult:
    """*processes* clients open up to *ports* ports each to /dev/null, in turn, and keep them.

    Opening is slow enough that no server queues, so nothing is random.
    Each open costs two kernel ports and entries in three IPC spaces (null,
    ext2fs, the client); an entry table that cannot grow makes that open
    fail with an error instead of a panic.  When null's own table is the one
    that cannot grow, the instance is finished and ext2fs starts a new one
    on the next lookup.

    Examples
    --------
    >>> import zonemodel
    >>> zonemodel.open_ports(zonemodel.gnumach(2005), processes=2, ports=1000)
    OpenPortsResult(opened=2000, failed=0, instances=1, survived=True, message='')
    """
    check_kernel(kernel)
    n_proc, n_ports, _ = _check(processes, ports, "fast")
    if path != "/dev/null":
        raise ParameterError(f'"path" must be "/dev/null" (the only translator modelled), got {path!r}')
    booted = State.booted(kernel)
    if not booted.boot.booted or booted.boot_status != P.OK:
        raise ParameterError(f'"kernel": {kernel!r} does not boot ({booted.boot.reason or "its tasks do not fit"})')
    per = np.zeros(64, dtype=np.int64)
    out = np.zeros(5, dtype=np.int64)
    S._open_storm(
        booted.zones, booted.ms, booted.res, booted.gp, booted.its, booted.base_q, n_proc, n_proc * n_ports,
        kernel.null_names, kernel.ext2fs_names, per, out,
    )  # fmt: skip
    status = int(out[0])
    _, _, message = describe(status, int(booted.ms[_zalloc.M_PANIC_ZONE])) if status != P.OK else ("", "", "")
    return OpenPortsResult(
        opened=int(out[1]),
        failed=int(out[2]),
        error="an IPC entry table could not grow in kalloc_map (KERN_NO_SPACE)" if out[2] else "",
        instances=int(out[3]),
        per_instance=tuple(int(v) for v in per[: int(out[3])]),
        survived=status == P.OK,
        message=message,
        zone_map_used=booted.zone_map_used,
        kalloc_map_free=int(booted.res[P.R_KALLOC_FREE]),
    )
