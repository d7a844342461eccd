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

from dataclasses import dataclass
from typing import Final, Literal, overload

import numpy as np

from zonemodel._kernels import layout as L
from zonemodel._kernels.storms import _burst_chunk, _burst_many, _burst_run, _open_storm
from zonemodel._kernels.system import _exit_clients
from zonemodel.errors import ParameterError
from zonemodel.experiments.common import (
    BOOT_KERNELS,
    MAX_RUNS,
    SERVER_NAMES,
    Booted,
    Tally,
    check_choice,
    check_count,
    check_kernel,
    check_runs,
    compile_notice,
    describe,
    in_batches,
    job,
    most_common,
    new_rows,
    server_model,
    up_or_raise,
    words_of_rows,
    zone_map_state,
)
from zonemodel.experiments.progress import check_progress
from zonemodel.experiments.results import (
    CloseBurstResult,
    CloseBurstRuns,
    OpenPortsResult,
    Outcome,
    _percentile,
    zone_usage,
)
from zonemodel.model.boot import boot
from zonemodel.model.kernel import Kernel
from zonemodel.model.limits import Limits
from zonemodel.model.policies import UPSTREAM_1997, PolicyKey, ThreadPolicy
from zonemodel.model.policies import policy as get_policy
from zonemodel.model.zones import ZONE_NAMES
from zonemodel.seeds import SeedLike, as_seed_sequence, replicate_states

__all__ = ["CloseBurstResult", "CloseBurstRuns", "OpenPortsResult", "close_burst", "open_ports"]

Close = Literal["fast", "slow", "kill"]
"""How the ports are closed: in a tight loop, spread out, or by killing their holders."""
CLOSE_MODES: Final[tuple[Close, ...]] = ("fast", "slow", "kill")
TRACE_ROWS: Final = 400
LATENCY_CAP: Final = 1 << 20
MAX_PORTS: Final = 4_000_000
MAX_PORT_RUNS: Final = 1_000_000_000
"""The most ports one ``close_burst(runs=N)`` call opens and closes in all: N x processes x ports_each."""
BATCH_LATENCY_SLOTS: Final = 1 << 22
"""Latency slots (8 bytes each, 32 MiB) one batch of ``close_burst(runs=N)`` keeps at once."""
MAX_NULL_INSTANCES: Final = L.MAX_INSTANCES
"""null instances a system keeps count of (ext2fs starts a new one when one fails)."""
NOFILE: Final = 1024
"""A client's soft ``RLIMIT_NOFILE`` in 2005: glibc's Hurd port sets it to 1024 (``hurd/hurdrlimit.c:48``
@c2d526774a, since 8acd0bf21b of 2000-03-26), and ``hurd/alloc-fd.c:79-131`` returns EMFILE past it; stdin,
stdout and stderr take three descriptors, so a client opens at most 1021 ports unless it raised its limit."""
MAX_NOFILE: Final = 1 << 20
"""The largest ``nofile`` accepted (a client that raised its soft limit, up to 1 048 576 descriptors)."""


def check_nofile(nofile: object) -> int:
    """``nofile``: a client's soft RLIMIT_NOFILE, an integer between 4 (stdio and one more) and ``MAX_NOFILE``."""
    if isinstance(nofile, bool) or not isinstance(nofile, (int, np.integer)) or not 4 <= nofile <= MAX_NOFILE:
        raise ParameterError(
            f'"nofile" must be an integer between 4 and {MAX_NOFILE} (each client\'s soft RLIMIT_NOFILE; '
            f"stdin, stdout and stderr take 3), got {nofile!r}"
        )
    return int(nofile)


@dataclass(frozen=True)
class _Storm:
    """A validated close burst."""

    kernel: Kernel
    processes: int
    ports_each: int
    close: Close
    policy: ThreadPolicy
    limits: Limits | None
    other: int
    nofile: int = NOFILE


def check_storm(
    kernel: object,
    *,
    processes: object,
    ports_each: object,
    close: object = "fast",
    policy: object = UPSTREAM_1997,
    limits: object = None,
    other: object = 0,
    nofile: object = NOFILE,
) -> _Storm:
    """Check every argument of a close burst once (whether the kernel boots is the caller's to check)."""
    k = check_kernel(kernel)
    n_proc = check_count("processes", processes, 1, 1_000_000)
    n_ports = check_count("ports_each", ports_each, 1, 1_000_000)
    if n_proc * n_ports > MAX_PORTS:
        raise ParameterError(f'"processes" x "ports_each" must be at most {MAX_PORTS} ports, got {n_proc * n_ports}')
    mode: Close = check_choice("close", close, CLOSE_MODES)  # type: ignore[assignment]
    pol = get_policy(policy)  # type: ignore[arg-type]
    if limits is not None and not isinstance(limits, Limits):
        raise ParameterError(f'"limits" must be None or a zonemodel.Limits, got {limits!r}')
    n_other = check_count("other", other, 0, 1_000_000)
    return _Storm(k, n_proc, n_ports, mode, pol, limits, n_other, check_nofile(nofile))


def _parts(storm: _Storm, booted: Booted | None = None) -> tuple[Booted, L.Workload, L.ServerModel, L.Job]:
    """A booted system (*booted*, or a fresh one) and the bundles of one storm on it."""
    booted = booted or Booted.up(storm.kernel)
    k = storm.kernel
    interval = k.close_interval_fast if storm.close == "fast" else k.close_interval_slow
    numbers = job(
        processes=storm.processes,
        ports_each=storm.ports_each,
        other=storm.other,
        interval=interval,
        nofile=storm.nofile,
        gap=k.close_interval_slow if storm.close == "slow" else 0.0,
        kill=storm.close == "kill",
    )
    return booted, booted.workload(), server_model(k, storm.policy, storm.limits), numbers


def _words(row: np.void, boot_message: str = "") -> tuple[Outcome, str, str]:
    """(outcome, limit, message) of one storm's replicate row; *boot_message* names a boot failure."""
    status = int(row["status"])
    outcome, limit, message = describe(status, int(row["panic_zone"]), boot_message)
    if status == L.KALLOC_MAP_FULL:
        outcome = "open failed" if int(row["phase"]) == L.PHASE_OPEN else outcome
        message = "[no panic: an IPC entry table cannot grow in kalloc_map; the RPC returns an error]"
    return outcome, limit, message


@overload
def close_burst(
    kernel: Kernel,
    *,
    processes: int,
    ports_each: int,
    close: Close = ...,
    policy: PolicyKey | ThreadPolicy = ...,
    limits: Limits | None = ...,
    other: int = ...,
    nofile: int = ...,
    runs: Literal[1] = ...,
    seed: SeedLike = ...,
    progress: bool | None = ...,
) -> CloseBurstResult: ...


@overload
def close_burst(
    kernel: Kernel,
    *,
    processes: int,
    ports_each: int,
    close: Close = ...,
    policy: PolicyKey | ThreadPolicy = ...,
    limits: Limits | None = ...,
    other: int = ...,
    nofile: int = ...,
    runs: int,
    seed: SeedLike = ...,
    progress: bool | None = ...,
) -> CloseBurstResult | CloseBurstRuns: ...


def close_burst(
    kernel: Kernel,
    *,
    processes: int,
    ports_each: int,
    close: Close = "fast",
    policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
    limits: Limits | None = None,
    other: int = 0,
    nofile: int = NOFILE,
    runs: int = 1,
    seed: SeedLike = None,
    progress: bool | None = None,
) -> CloseBurstResult | CloseBurstRuns:
    """Open ``processes x ports_each`` ports to /dev/null, then close them all.

    Parameters
    ----------
    kernel
        A zalloc-era kernel preset.
    processes, ports_each
        How many client processes, and how many ports each opens.
    close
        ``"fast"``: each client closes its ports in a tight loop, each close
        taking ``kernel.close_interval_fast`` seconds of CPU on average;
        ``"slow"``: each client also sleeps ``kernel.close_interval_slow``
        seconds on average between two closes; ``"kill"``: a shell kills the
        clients one after the other (``kill -9`` per pid), and each death
        sends null all of that client's notifications in one burst.
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
    nofile
        Each client's soft ``RLIMIT_NOFILE``: 1024 by default, glibc's value on
        the Hurd in 2005 (``hurd/hurdrlimit.c:48`` @c2d526774a).  stdin, stdout
        and stderr take 3 descriptors, so past ``nofile - 3`` opens a client's
        open() fails with EMFILE before any RPC (``result.emfile`` counts them).
        Pass more (at most 1 048 576) for a client that raised its limit.
    runs, seed, progress
        As for :func:`zonemodel.fork_bomb`; *runs* is at most 1 000 000, and
        ``runs x processes x ports_each`` at most 10**9 ports (``MAX_PORT_RUNS``).
        The runs are computed in batches, so memory does not grow with *runs*
        beyond the per-run columns of :class:`CloseBurstRuns`.

    Raises
    ------
    zonemodel.errors.BootError
        If *kernel* does not boot (see :func:`zonemodel.boot`), with any *runs*.

    Examples
    --------
    >>> import zonemodel
    >>> r = zonemodel.close_burst(zonemodel.gnumach(2005), processes=2, ports_each=100, seed=1)
    >>> r.outcome, r.opened
    ('survived', 200)
    """
    storm = check_storm(
        kernel,
        processes=processes,
        ports_each=ports_each,
        close=close,
        policy=policy,
        limits=limits,
        other=other,
        nofile=nofile,
    )
    total = storm.processes * storm.ports_each
    n = check_runs(runs, min(MAX_RUNS, MAX_PORT_RUNS // total), f" for storms of {total} ports")
    ss = as_seed_sequence(seed)
    shown = check_progress(progress)
    compile_notice(*BOOT_KERNELS, *((_burst_run, _exit_clients) if n == 1 else (_burst_chunk,)))
    if n == 1:  # a fresh System, one experiment
        from zonemodel.experiments.system import System

        return System(storm.kernel, seed=ss)._run_storm(storm)
    booted = up_or_raise(storm.kernel)
    summary = Summary(other=storm.other, kernel=storm.kernel)
    in_batches(
        lambda first, count: _run(storm, ss, first, count, booted),
        n,
        summary.add,
        most=max(1, min(5_000, BATCH_LATENCY_SLOTS // _latency_width(storm))),
        progress=shown,
        desc="close_burst",
    )
    return summary.result(ss)


def storm_on(
    storm: _Storm, stream: np.ndarray, booted: Booted, srv: L.ServerModel, live: L.Live
) -> tuple[CloseBurstResult, np.ndarray, np.ndarray]:
    """One storm on a running system (*booted*, its servers *srv* and *live*), with everything recorded.

    Returns the result (the trace, every latency, per-zone usage), the
    clients' tables and the other user's (``O_CLIENT0`` rows on: the caller
    keeps or ends those processes).
    """
    _, w, _, numbers = _parts(storm, booted)
    total = storm.processes * storm.ports_each
    lat = np.empty(min(LATENCY_CAP, 2 * total + 1), dtype=np.float64)
    trace = np.zeros((TRACE_ROWS, L.TR_SIZE), dtype=np.float64)
    rows = new_rows(1)
    tables = np.zeros((L.O_CLIENT0 + storm.processes, L.T_SIZE), dtype=np.int64)
    mine = np.zeros((L.O_CLIENT0 + 1, L.T_SIZE), dtype=np.int64)
    _burst_run(booted.machine, w, srv, live, stream, numbers, lat, trace, rows, 0, tables, mine)
    row = rows[0]
    row["panic_zone"] = booted.panic_zone
    outcome, limit, message = _words(row)
    sv, rm = srv.sv, srv.rm
    served = min(lat.shape[0], int(sv[L.NULL, L.S_SERVED] + sv[L.EXT2FS, L.S_SERVED]))
    values = lat[:served] * 1e3
    samples = [tuple(r) for r in trace if r[L.TR_TIME] > 0 or r[L.TR_ZONE_MAP_USED] > 0]
    other_opened = int(rm[L.RM_B_OPENED])
    result = CloseBurstResult(
        outcome=outcome,
        message=message,
        limit=limit,
        opened=int(row["count"]),
        policy=storm.policy.key,
        peak_threads={name: int(sv[i, L.S_PEAK_THREADS]) for i, name in enumerate(SERVER_NAMES)},
        peak_backlog={name: int(sv[i, L.S_PEAK_QUEUE]) for i, name in enumerate(SERVER_NAMES)},
        latency_ms={
            "p50": round(_percentile(values, 50), 3),
            "p99": round(_percentile(values, 99), 3),
            "max": round(float(values.max()) if values.size else 0.0, 3),
        },
        duration=int(row["end_us"]) / 1e6,
        zone_map_used=booted.zone_map_used,
        zone_map_size=storm.kernel.zone_map,
        zones=zone_usage(ZONE_NAMES, booted.machine.zones),
        trace=tuple((float(t), int(n), int(b)) for t, n, b in samples),
        remedies=_remedies(rm),
        other_opened=other_opened,
        other_completed=(other_opened == storm.other and int(row["status"]) == L.OK) if storm.other else None,
        emfile=int(rm[L.RM_EMFILE]),
        kernel=storm.kernel,
    )
    return result, tables, mine


def _run(storm: _Storm, seed: SeedLike, first: int, count: int, booted: Booted | None = None) -> np.ndarray:
    """Replicates ``first .. first + count - 1`` of *storm* as replicate rows (one kernel call).

    *booted* is a system booted once for many batches (the kernel copies its
    machine and servers for each replicate, never changes them).  A kernel
    that does not come up gives rows with its status (``NO_BOOT``) and nothing run.
    """
    booted, w, srv, numbers = _parts(storm, booted)
    if booted.status != L.OK:
        rows = new_rows(count)
        rows["status"], rows["panic_zone"] = booted.status, booted.panic_zone
        return rows
    rows = new_rows(count)
    lats = np.full((count, _latency_width(storm)), np.nan)
    rms = np.zeros((count, L.RM_SIZE), dtype=np.int64)
    _burst_many(booted.machine, w, srv, replicate_states(seed, count, start=first), numbers, rows, lats, rms)
    for i, lat in enumerate(lats):
        finite = lat[np.isfinite(lat)]
        if finite.size:
            p50, p99 = np.percentile(finite, (50, 99))
            rows["p50_latency_ms"][i] = round(float(p50) * 1e3, 3)
            rows["p99_latency_ms"][i] = round(float(p99) * 1e3, 3)
    return rows


def _latency_width(storm: _Storm) -> int:
    """Latency slots each replicate of a ``runs=N`` storm keeps (every close notifies null, then ext2fs)."""
    return min(LATENCY_CAP // 16, 2 * storm.processes * storm.ports_each + 1)


def run_replicates(
    kernel: Kernel,
    *,
    processes: int,
    ports_each: int,
    close: Close = "fast",
    policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
    limits: Limits | None = None,
    other: int = 0,
    nofile: int = NOFILE,
    seed: SeedLike,
    first: int,
    count: int,
) -> np.ndarray:
    """Replicates ``first .. first + count - 1`` of a close burst, as replicate rows (``ROW_DTYPE``).

    Replicate ``first + i`` is seeded by child ``first + i`` of *seed*, so
    batches of replicates give the same rows as one call: the unit of work
    that :func:`zonemodel.sweep` ships to workers, and what
    ``close_burst(..., runs=N)`` summarises.
    """
    storm = check_storm(
        kernel,
        processes=processes,
        ports_each=ports_each,
        close=close,
        policy=policy,
        limits=limits,
        other=other,
        nofile=nofile,
    )
    first_n, count_n = check_count("first", first, 0), check_count("count", count)
    compile_notice(*BOOT_KERNELS, _burst_chunk)
    return _run(storm, seed, first_n, count_n)


class Summary:
    """A :class:`CloseBurstRuns` built batch by batch from replicate rows (see :func:`run_replicates`), in order.

    *other* is the second user's ports; *kernel*, if given, gives each run's
    zone-map use in bytes, names why a kernel does not boot, and is recorded in the result.
    """

    def __init__(self, *, other: int = 0, kernel: Kernel | None = None) -> None:
        self.other, self.kernel = other, kernel
        self._tally = Tally()
        self._runs = self._other_done = 0

    def add(self, rows: np.ndarray) -> None:
        """Add the next replicates' rows."""
        k = self.kernel
        boot_message = ""
        if k is not None and (rows["status"] == L.NO_BOOT).any():
            report = boot(k)
            boot_message = report.message or f"[the kernel does not boot: {report.reason}]"
        outcomes, limits, messages = words_of_rows(
            rows, lambda row: _words(row, boot_message), ("status", "panic_zone", "phase")
        )
        tally = self._tally
        tally.add("outcomes", outcomes)
        tally.add("limits", limits)
        tally.add("messages", messages)
        for name in (
            "count",
            "peak_null_threads",
            "peak_ext2fs_threads",
            "peak_null_backlog",
            "peak_ext2fs_backlog",
            "p50_latency_ms",
            "p99_latency_ms",
            "emfile",
        ):
            tally.add(name, rows[name])
        if k is not None:
            page = k.page_size
            offset = k.zone_map // page - int(zone_map_state(k)[L.M_MAP_PAGES])
            tally.add("zone_map_used", (rows["zone_map_pages"] + offset) * page)
        self._runs += len(rows)
        if self.other:
            self._other_done += int(((rows["other"] == self.other) & (rows["status"] == L.OK)).sum())

    def result(self, seed: np.random.SeedSequence | None = None) -> CloseBurstRuns:
        """The distribution of every row added so far; *seed* is recorded in it."""
        if not self._runs:
            raise ParameterError('"rows": a distribution needs at least one replicate row, got none')
        c = self._tally.column
        outcomes, limits, messages = c("outcomes"), c("limits"), c("messages")
        return CloseBurstRuns(
            outcomes=most_common(outcomes),
            messages=most_common(messages),
            peak_null_threads=c("peak_null_threads"),
            p99_latency_ms=c("p99_latency_ms"),
            other_completed=self._other_done / self._runs if self.other else None,
            run_outcomes=outcomes,
            run_messages=messages,
            limits=most_common(limits),
            run_limits=limits,
            opened=c("count"),
            peak_ext2fs_threads=c("peak_ext2fs_threads"),
            peak_null_backlog=c("peak_null_backlog"),
            peak_ext2fs_backlog=c("peak_ext2fs_backlog"),
            p50_latency_ms=c("p50_latency_ms"),
            zone_map_used=c("zone_map_used"),
            emfile=c("emfile"),
            kernel=self.kernel,
            seed=seed,
        )


def summarise(
    rows: np.ndarray, *, other: int = 0, kernel: Kernel | None = None, seed: np.random.SeedSequence | None = None
) -> CloseBurstRuns:
    """The distribution of close-burst replicates (rows of :func:`run_replicates`, in replicate order).

    *kernel* and *seed*, if given, are recorded in the result.
    """
    summary = Summary(other=other, kernel=kernel)
    summary.add(rows)
    return summary.result(seed)


_REMEDIES: Final = (
    (L.RM_REFUSED_PORTS, "ports_per_task refused opens"),
    (L.RM_REFUSED_QUOTA, "kmem_quota refused opens or threads"),
    (L.RM_REFUSED_THREADS, "threads_per_task refused threads"),
    (L.RM_OOM_KILLS, "oom_killer killed null"),
)


def _remedies(rm: np.ndarray) -> dict[str, int]:
    return {name: int(rm[i]) for i, name in _REMEDIES if rm[i]}


@dataclass(frozen=True)
class _Opens:
    """A validated open storm."""

    kernel: Kernel
    processes: int
    ports_each: int
    nofile: int
    policy: ThreadPolicy = UPSTREAM_1997


def check_opens(
    kernel: object,
    *,
    processes: object,
    ports_each: object,
    path: object,
    nofile: object,
    policy: object = UPSTREAM_1997,
) -> _Opens:
    """Check every argument of an open storm once."""
    k = check_kernel(kernel)
    n_proc = check_count("processes", processes, 1, 1_000_000)
    n_ports = check_count("ports_each", ports_each, 1, 1_000_000)
    if n_proc * n_ports > MAX_PORTS:
        raise ParameterError(f'"processes" x "ports_each" must be at most {MAX_PORTS} opens, got {n_proc * n_ports}')
    if path != "/dev/null":
        raise ParameterError(f'"path" must be "/dev/null" (the only translator modelled), got {path!r}')
    return _Opens(k, n_proc, n_ports, check_nofile(nofile), get_policy(policy))  # type: ignore[arg-type]


def opens_on(
    opens: _Opens, booted: Booted, srv: L.ServerModel, live: L.Live
) -> tuple[OpenPortsResult, np.ndarray, np.ndarray]:
    """One open storm on a running system: the result, the clients' tables and the protids they hold per instance."""
    n_proc = opens.processes
    tables = np.zeros((L.O_CLIENT0 + n_proc, L.T_SIZE), dtype=np.int64)
    held = np.zeros(MAX_NULL_INSTANCES, dtype=np.int64)
    per = np.zeros(MAX_NULL_INSTANCES, dtype=np.int64)
    numbers = job(processes=n_proc, ports_each=n_proc * opens.ports_each, nofile=opens.nofile)
    status, opened, failed, instances = _open_storm(
        booted.machine, booted.workload(), srv, live, numbers, tables, held, per
    )
    message = describe(int(status), booted.panic_zone)[2] if status != L.OK else ""
    result = OpenPortsResult(
        opened=int(opened),
        failed=int(failed),
        error="an IPC entry table could not grow in kalloc_map (KERN_NO_SPACE)" if failed else "",
        instances=int(instances),
        per_instance=tuple(int(v) for v in per[: int(instances)]),
        survived=status == L.OK,
        message=message,
        zone_map_used=booted.zone_map_used,
        kalloc_map_free=booted.kalloc_map_free,
        emfile=int(srv.rm[L.RM_EMFILE]),
        kernel=opens.kernel,
    )
    return result, tables, held


def open_ports(
    kernel: Kernel,
    *,
    processes: int,
    ports_each: int,
    path: str = "/dev/null",
    nofile: int = NOFILE,
    policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
) -> OpenPortsResult:
    """*processes* clients open up to *ports_each* ports each to /dev/null, in turn, and keep them.

    Opening is slow enough that no server queues, so nothing is random.
    Each open costs two kernel ports and entries in three IPC spaces (null,
    ext2fs, the client); an entry table that cannot grow makes that open
    fail with an error instead of a panic.  When null's own table is the one
    that cannot grow, the instance is wedged and ext2fs starts a new one on
    the next lookup.  A fresh :class:`~zonemodel.System` runs the one
    experiment (:meth:`zonemodel.System.open_ports`).

    Parameters
    ----------
    kernel
        A zalloc-era kernel preset.
    processes, ports_each
        How many client processes, and how many opens each makes.
    path
        ``"/dev/null"``, the only translator modelled.
    nofile
        Each client's soft ``RLIMIT_NOFILE`` (1024, glibc's in 2005; see
        :func:`close_burst`): past ``nofile - 3`` opens, open() fails with
        EMFILE (``result.emfile``).  Pass more for a client that raised its limit.
    policy
        The servers' thread policy (as for :func:`close_burst`): no server
        queues here, so it decides only the threads each server and each new
        null instance starts with; on a :class:`~zonemodel.System` it stays the
        servers' policy for the later experiments.

    Examples
    --------
    >>> import zonemodel
    >>> zonemodel.open_ports(zonemodel.gnumach(2005), processes=2, ports_each=1000)
    OpenPortsResult(opened=2000, failed=0, instances=1, survived=True, message='')
    >>> zonemodel.open_ports(zonemodel.gnumach(2005), processes=1, ports_each=1500)
    OpenPortsResult(opened=1021, failed=0, emfile=479, instances=1, survived=True, message='')
    """
    opens = check_opens(kernel, processes=processes, ports_each=ports_each, path=path, nofile=nofile, policy=policy)
    compile_notice(*BOOT_KERNELS, _open_storm)
    from zonemodel.experiments.system import System

    return System(opens.kernel)._run_opens(opens)
