"""The fork bomb: fork processes until the kernel gives out.

:func:`fork_bomb` boots a fresh system from a kernel preset, starts the
login session the bomb runs in, and forks children (all from one parent, or
each from the previous child with ``chain=True``) until a limit is reached:

* the zone map has no page left: ``panic: zalloc: zone <name> exhausted``,
  naming whichever zone needed a page at that moment;
* the ipc spaces zone refuses a new space: ``panic: ipc_task_init``;
* kernel_map has no room for a page directory: ``panic: pmap_create``;
* kalloc_map cannot hold a larger IPC entry table: the fork fails;
* no physical page is free: the forking thread waits for ever (a hang).

With ``runs=1`` the result is a :class:`ForkBombResult`; with ``runs=N``
the :class:`ForkBombRuns` distribution of N independently seeded runs,
computed in parallel.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from zonemodel._kernels import engine as S
from zonemodel._kernels import forkbomb as _forkbomb
from zonemodel._kernels import process as P
from zonemodel._kernels import remedies as R
from zonemodel._kernels import zalloc as _zalloc
from zonemodel.errors import ParameterError
from zonemodel.experiments.common import (
    START_METHODS,
    USERS,
    State,
    check_choice,
    check_kernel,
    child_row,
    describe,
    limit_array,
    policy_arrays,
)
from zonemodel.experiments.results import ZoneUsage, format_zone_table, zone_usage
from zonemodel.experiments.storms import _arrays
from zonemodel.model.boot import boot
from zonemodel.model.kernel import Kernel
from zonemodel.model.limits import Limits
from zonemodel.model.policies import UPSTREAM_1997, ThreadPolicy
from zonemodel.model.policies import policy as get_policy
from zonemodel.model.zones import ZONE_NAMES
from zonemodel.seeds import SeedLike, replicate_states

__all__ = ["ForkBombResult", "ForkBombRuns", "fork_bomb"]


@dataclass(frozen=True)
class ForkBombResult:
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
    outcome: str
    """``"panic"``, ``"fork failure"``, ``"hang"`` or ``"child limit"`` (no kernel limit reached)."""
    message: str
    """The console line (a panic), or a bracketed description when nothing is printed."""
    limit: str
    """The resource that ran out.

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
class ForkBombRuns:
    """The distribution of the count over independently seeded fork bombs.

    Examples
    --------
    >>> import zonemodel
    >>> runs = zonemodel.fork_bomb(zonemodel.gnumach(2005, zone_map="4 MiB"), runs=20, seed=1)
    >>> runs.runs, runs.limits[0][0]
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

    @property
    def runs(self) -> int:
        """Number of runs."""
        return len(self.values)

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


def _check_common(start: object, user: object, interval: object, chain: object) -> tuple[str, str]:
    start_s = check_choice("start", start, START_METHODS)
    user_s = check_choice("user", user, USERS)
    if not isinstance(chain, bool):
        raise ParameterError(f'"chain" must be True or False, got {chain!r}')
    if interval is not None and (
        isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 1e-7 <= interval <= 10.0
    ):
        raise ParameterError(f'"interval" must be None or a number of seconds between 1e-07 and 10, got {interval!r}')
    return start_s, user_s


def _result(
    state: State,
    *,
    processes: int,
    described: tuple[str, str, str],
    hit_by: str,
    start: str,
    chain: bool,
    user: str,
    background: int,
    **extra: Any,
) -> ForkBombResult:
    """A ForkBombResult read off a system's state after a bomb."""
    outcome, limit, message = described
    return ForkBombResult(
        processes=int(processes),
        outcome=outcome,
        message=message,
        limit=limit,
        hit_by=hit_by,
        start=start,
        chain=chain,
        user=user,
        background_tasks=int(background),
        zone_map_used=state.zone_map_used,
        zone_map_size=state.kernel.zone_map,
        kernel_map_free=int(state.res[P.R_KMAP_FREE]),
        kalloc_map_free=int(state.res[P.R_KALLOC_FREE]),
        ram_free=state.ram_free,
        zones=zone_usage(ZONE_NAMES, state.zones),
        **extra,
    )


def run_on_state(
    state: State, *, start: str, chain: bool, user: str, rng_state: np.ndarray
) -> tuple[ForkBombResult, np.ndarray]:
    """Run one bomb on *state* in place; return the result and the children's table indices and addresses."""
    kernel = state.kernel
    state.gp[P.G_CHAIN] = int(chain)
    child_q = child_row(kernel, start, user)
    child_tidx = np.empty((state.gp[P.G_MAX_CHILDREN] + 1, 2), dtype=np.int64)
    bg_tidx = np.empty((state.gp[P.G_MAX_CHILDREN] + 1, 2), dtype=np.int64)
    status = state.start_session(start)
    count, who, nbg = 0, _forkbomb.WHO_BACKGROUND, 0
    if status == P.OK:
        count, status, who, nbg = _forkbomb._bomb(
            state.zones,
            state.ms,
            state.res,
            state.gp,
            state.its,
            child_q,
            state.base_q,
            state.fp,
            rng_state,
            child_tidx,
            bg_tidx,
        )
    result = _result(
        state,
        processes=count,
        described=describe(int(status), int(state.ms[_zalloc.M_PANIC_ZONE])),
        hit_by="child" if who == _forkbomb.WHO_CHILD else "background",
        start=start,
        chain=chain,
        user=user,
        background=nbg,
    )
    return result, child_tidx[: int(count)]


def fork_bomb(
    kernel: Kernel,
    *,
    start: str = "console",
    chain: bool = False,
    user: str = "user",
    interval: float | None = None,
    policy: str | ThreadPolicy = UPSTREAM_1997,
    limits: Limits | None = None,
    other: int = 0,
    runs: int = 1,
    seed: SeedLike = None,
) -> ForkBombResult | ForkBombRuns:
    """Boot *kernel* and fork until a limit is reached.

    Parameters
    ----------
    kernel
        A zalloc-era kernel preset (2005, 2007, 2009), e.g. ``gnumach(2005, zone_map="8 MiB")``.
    start
        Where the bomb is started: ``"console"`` (the Mach console), ``"ssh"``
        (a raw ssh session) or ``"screen"`` (screen inside an ssh session).
    chain
        False: one parent forks every child.  True: each child forks the next,
        so each generation inherits more ports.
    user
        ``"user"`` or ``"root"`` (root processes hold a few more send rights).
    interval
        ``None``: forking slowly enough that no server ever queues.  A number
        of seconds: one fork every *interval*; each child's start-up requests
        go to proc and auth, whose thread pools grow by the *policy*.
    policy
        The servers' thread policy when *interval* is given (see
        :mod:`zonemodel.model.policies`).
    limits
        Remedies (:class:`~zonemodel.model.limits.Limits`): per-user process limit,
        kernel-memory quota, OOM killer.  The bomb then goes on after a refused
        fork as long as the other user is still starting processes.
    other
        Processes a second, well-behaved user starts once the bomb has saturated
        the system (its first refused or failed fork), one per fork attempt of
        the still-running bomb; the result says whether they all started.
    runs
        1 for a :class:`ForkBombResult`; N > 1 for the :class:`ForkBombRuns`
        distribution over N independently seeded runs (computed in parallel).
    seed
        An int, a :class:`numpy.random.SeedSequence` or None.  Run *i* uses
        child *i* of the sequence, so ``runs=1`` reproduces run 0 of ``runs=N``.

    Examples
    --------
    >>> import zonemodel
    >>> r = zonemodel.fork_bomb(zonemodel.gnumach(2005, zone_map="4 MiB"), seed=1)
    >>> r.outcome, r.limit
    ('panic', 'zone map')
    """
    check_kernel(kernel)
    start_s, user_s = _check_common(start, user, interval, chain)
    pol = get_policy(policy)
    if limits is not None and not isinstance(limits, Limits):
        raise ParameterError(f'"limits" must be None or a zonemodel.model.limits.Limits, got {limits!r}')
    if isinstance(other, bool) or not isinstance(other, (int, np.integer)) or not 0 <= other <= 100_000:
        raise ParameterError(f'"other" must be an integer between 0 and 100000, got {other!r}')
    if limits is not None or other:
        if interval is not None:
            raise ParameterError('"limits" and "other" need interval=None (slow forking); got both')
        if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
            raise ParameterError(f'"runs" must be an integer >= 1, got {runs!r}')
        return _limited(kernel, start_s, chain, user_s, limits or Limits(), int(other), int(runs), seed)
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise ParameterError(f'"runs" must be an integer >= 1, got {runs!r}')
    if interval is not None:
        if not boot(kernel).booted:
            return _no_boot(State.booted(kernel, chain=chain), start_s, chain, user_s, int(runs))
        if runs == 1:
            return _timed_single(kernel, start_s, chain, user_s, float(interval), pol, seed)
        return summarise(
            run_replicates(
                kernel, start=start_s, chain=chain, user=user_s, seed=seed, first=0, count=int(runs),
                interval=float(interval), policy=pol,
            )
        )  # fmt: skip
    if runs == 1:
        booted = State.booted(kernel, chain=chain)
        if not booted.boot.booted or booted.boot_status != P.OK:
            return _no_boot(booted, start_s, chain, user_s, 1)
        state = replicate_states(seed, 1)[0].copy()
        result, _ = run_on_state(booted, start=start_s, chain=chain, user=user_s, rng_state=state)
        return result
    return summarise(
        run_replicates(kernel, start=start_s, chain=chain, user=user_s, seed=seed, first=0, count=int(runs))
    )


def run_replicates(
    kernel: Kernel,
    *,
    start: str,
    chain: bool,
    user: str,
    seed: SeedLike,
    first: int,
    count: int,
    interval: float | None = None,
    policy: str | ThreadPolicy = UPSTREAM_1997,
) -> np.ndarray:
    """Replicates ``first .. first + count - 1`` of a fork bomb, as raw rows.

    Row *i* is (children, status, who, background alive, panic zone) of
    replicate ``first + i``, seeded by child ``first + i`` of *seed*.  This is
    the unit of work that :func:`zonemodel.sweep` ships to workers: splitting
    the replicates of one setting into batches gives the same rows.
    """
    check_kernel(kernel)
    start_s, user_s = _check_common(start, user, None, chain)
    out = np.zeros((count, 5), dtype=np.int64)
    booted = State.booted(kernel, chain=chain)
    status = booted.boot_status if booted.boot.booted else P.NO_BOOT
    if status == P.OK:
        status = booted.start_session(start_s)
    if status != P.OK:
        out[:, 1] = status
        out[:, 4] = booted.ms[_zalloc.M_PANIC_ZONE]
        return out
    if interval is not None:
        rpcs, pi, pf, svc, msize, thread_bytes, most = _timed_arrays(kernel, get_policy(policy))
        S._bomb_timed_many(
            booted.zones, booted.ms, booted.res, booted.gp, booted.its, child_row(kernel, start_s, user_s),
            booted.base_q, booted.fp, replicate_states(seed, count, start=first), float(interval), rpcs, pi, pf,
            svc, msize, kernel.zone_map, thread_bytes, most, out,
        )  # fmt: skip
        return out
    _forkbomb._bomb_many(
        booted.zones,
        booted.ms,
        booted.res,
        booted.gp,
        booted.its,
        child_row(kernel, start_s, user_s),
        booted.base_q,
        booted.fp,
        replicate_states(seed, count, start=first),
        out,
    )
    return out


def _timed_arrays(
    kernel: Kernel, pol: ThreadPolicy
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Kernel arrays of a timed bomb: requests per fork, policy, service times, message sizes."""
    rpcs = np.zeros(S.N_SERVERS, dtype=np.int64)
    rpcs[S.PROC] = kernel.fork_rpcs_proc
    rpcs[S.AUTH] = kernel.fork_rpcs_auth
    pi, pf = policy_arrays(pol)
    svc, msize, thread_bytes = _arrays(kernel)
    most = kernel.space_max + 16 if kernel.ipc_spaces_exhaustible else 50_000
    return rpcs, pi, pf, svc, msize, thread_bytes, most


def _timed_single(
    kernel: Kernel, start: str, chain: bool, user: str, interval: float, pol: ThreadPolicy, seed: SeedLike
) -> ForkBombResult:
    booted = State.booted(kernel, chain=chain)
    if booted.boot_status != P.OK:
        result = _no_boot(booted, start, chain, user, 1)
        assert isinstance(result, ForkBombResult)
        return result
    status = booted.start_session(start)
    sv = np.zeros((S.N_SERVERS, S.S_COLS), dtype=np.int64)
    count, who, nbg = 0, 1, 0
    if status == P.OK:
        rpcs, pi, pf, svc, msize, thread_bytes, most = _timed_arrays(kernel, pol)
        count, status, who, nbg = S._bomb_timed(
            booted.zones, booted.ms, booted.res, booted.gp, booted.its, child_row(kernel, start, user),
            booted.base_q, booted.fp, replicate_states(seed, 1)[0].copy(), interval, rpcs, pi, pf, svc, msize,
            kernel.zone_map, thread_bytes, most, sv,
        )  # fmt: skip
    return _result(
        booted,
        processes=count,
        described=describe(int(status), int(booted.ms[_zalloc.M_PANIC_ZONE])),
        hit_by=("child", "background", "server")[int(who)],
        start=start,
        chain=chain,
        user=user,
        background=nbg,
        server_threads={name: int(sv[i, S.S_PEAK_THREADS]) for i, name in enumerate(S.SERVER_NAMES)},
    )


_ACTS: Final = (
    "nproc on the bomber",
    "kmem_quota on the bomber",
    "oom_killer on the bomber",
    "kernel refused the bomber",
    "nproc on the other user",
    "kmem_quota on the other user",
    "oom_killer (unused slot)",
    "kernel refused the other user",
)


def _limited_outcome(status: int, zone: int, acts: np.ndarray) -> tuple[str, str, str]:
    if status in (R.OTHER_DONE, P.CHILD_LIMIT):
        return "survived", "", ""
    if status in (R.OTHER_FAILED, R.LIMITED):
        # The run ended at the first refusal of that user, so exactly one of its counters is set.
        mine = range(4) if status == R.LIMITED else range(4, 8)
        name = _ACTS[next(i for i in mine if acts[i])]
        outcome = "stopped by a limit" if status == R.LIMITED else "survived"
        who = "the other user's" if status == R.OTHER_FAILED else "the bomber's"
        return outcome, name, f"[no panic: {who} fork() fails ({name})]"
    return describe(status, zone)


def _limited(
    kernel: Kernel, start: str, chain: bool, user: str, limits: Limits, other: int, runs: int, seed: SeedLike
) -> ForkBombResult | ForkBombRuns:
    booted = State.booted(kernel, chain=chain)
    if not booted.boot.booted or booted.boot_status != P.OK:
        return _no_boot(booted, start, chain, user, runs)
    status = booted.start_session(start)
    if status != P.OK:
        return _no_boot(booted, start, chain, user, runs)
    lim = limit_array(limits)
    child_q = child_row(kernel, start, user)
    other_q = booted.base_q.copy()
    other_q[P.Q_RESIDENT] = child_q[P.Q_RESIDENT]
    states = replicate_states(seed, runs)
    if runs > 1:
        out = np.zeros((runs, 6), dtype=np.int64)
        acts = np.zeros((runs, 8), dtype=np.int64)
        R._bomb_limited_many(
            booted.zones, booted.ms, booted.res, booted.gp, booted.its, child_q, other_q, booted.fp, states, lim,
            other, out, acts,
        )  # fmt: skip
        described = [_limited_outcome(int(out[i, 1]), int(out[i, 4]), acts[i]) for i in range(runs)]
        completed = tuple(bool(out[i, 5] == other and other > 0) for i in range(runs))
        return ForkBombRuns(
            values=tuple(int(v) for v in out[:, 0]),
            outcomes=tuple(Counter(d[0] for d in described).most_common()),
            limits=tuple(Counter(d[1] for d in described).most_common()),
            messages=tuple(Counter(d[2] for d in described).most_common()),
            other_completed=sum(completed) / runs if other else None,
        )
    acts_one = np.zeros(8, dtype=np.int64)
    a, status, who, nbg, b = R._bomb_limited(
        booted.zones, booted.ms, booted.res, booted.gp, booted.its, child_q, other_q, booted.fp,
        states[0].copy(), lim, other, acts_one,
    )  # fmt: skip
    return _result(
        booted,
        processes=a,
        described=_limited_outcome(int(status), int(booted.ms[_zalloc.M_PANIC_ZONE]), acts_one),
        hit_by=("child", "background", "other user")[int(who)],
        start=start,
        chain=chain,
        user=user,
        background=nbg,
        other_processes=int(b),
        other_completed=(int(b) == other) if other else None,
        remedies={name: int(n) for name, n in zip(_ACTS, acts_one, strict=True) if n},
    )


def summarise(out: np.ndarray) -> ForkBombRuns:
    """The :class:`ForkBombRuns` of raw replicate rows (see :func:`run_replicates`)."""
    described = [describe(int(s), int(z)) for s, z in zip(out[:, 1], out[:, 4], strict=True)]
    return ForkBombRuns(
        values=tuple(int(v) for v in out[:, 0]),
        outcomes=tuple(Counter(d[0] for d in described).most_common()),
        limits=tuple(Counter(d[1] for d in described).most_common()),
        messages=tuple(Counter(d[2] for d in described).most_common()),
    )


def _no_boot(state: State, start: str, chain: bool, user: str, runs: int) -> ForkBombResult | ForkBombRuns:
    if state.boot.booted:
        outcome, limit, message = describe(state.boot_status, int(state.ms[_zalloc.M_PANIC_ZONE]))
    else:
        outcome, limit, message = "no boot", "kernel_map", state.boot.message
    if runs > 1:
        return ForkBombRuns((0,) * runs, ((outcome, runs),), ((limit, runs),), ((message, runs),))
    return _result(
        state,
        processes=0,
        described=(outcome, limit, message),
        hit_by="child",
        start=start,
        chain=chain,
        user=user,
        background=0,
    )
