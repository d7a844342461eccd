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

from dataclasses import dataclass
from typing import Final, Literal, overload

import numpy as np

from zonemodel._kernels import layout as L
from zonemodel._kernels.forkbomb import _bomb, _bomb_chunk, _bomb_many
from zonemodel._kernels.remedies import _bomb_limited, _bomb_limited_chunk, _bomb_limited_many
from zonemodel._kernels.storms import _bomb_timed, _bomb_timed_chunk, _bomb_timed_many
from zonemodel.errors import ParameterError
from zonemodel.experiments.common import (
    BOOT_KERNELS,
    SERVER_NAMES,
    START_METHODS,
    USERS,
    WHO,
    Booted,
    Start,
    Tally,
    User,
    check_choice,
    check_count,
    check_kernel,
    check_runs,
    child_row,
    compile_notice,
    describe,
    in_batches,
    job,
    limit_array,
    most_common,
    new_rows,
    server_model,
    up_or_raise,
    words_of_rows,
    zone_map_state,
)
from zonemodel.experiments.progress import check_progress
from zonemodel.experiments.results import ForkBombResult, ForkBombRuns, Outcome, zone_usage
from zonemodel.model.boot import boot
from zonemodel.model.kernel import Kernel
from zonemodel.model.limits import Limits
from zonemodel.model.policies import UPSTREAM_1997, PolicyKey, ThreadPolicy
from zonemodel.model.policies import policy as get_policy
from zonemodel.model.zones import ZONE_NAMES
from zonemodel.seeds import SeedLike, as_seed_sequence, replicate_states

__all__ = ["ForkBombResult", "ForkBombRuns", "Summary", "fork_bomb", "fork_bomb_runs"]

Mode = Literal["slow", "timed", "limited"]


_ACTS: Final[dict[int, str]] = {
    L.ACT_NPROC: "nproc on the bomber",
    L.ACT_QUOTA: "kmem_quota on the bomber",
    L.ACT_OOM: "oom_killer on the bomber",
    L.ACT_KERNEL: "kernel refused the bomber",
    L.ACT_OTHER + L.ACT_NPROC: "nproc on the other user",
    L.ACT_OTHER + L.ACT_QUOTA: "kmem_quota on the other user",
    L.ACT_OTHER + L.ACT_KERNEL: "kernel refused the other user",
}
"""What each remedy counter of a limited bomb records (the OOM killer's kills all count on the bomber)."""


@dataclass(frozen=True)
class _Spec:
    """A validated fork bomb: what to run, and on which kernel."""

    kernel: Kernel
    start: Start
    chain: bool
    user: User
    mode: Mode
    interval: float = 0.0
    policy: ThreadPolicy = UPSTREAM_1997
    limits: Limits | None = None
    other: int = 0


def check_bomb(
    kernel: object,
    *,
    start: object = "console",
    chain: object = False,
    user: object = "user",
    interval: object = None,
    policy: object = UPSTREAM_1997,
    limits: object = None,
    other: object = 0,
) -> _Spec:
    """Check every argument of a fork bomb once; the mode follows from them."""
    k = check_kernel(kernel)
    start_s: Start = check_choice("start", start, START_METHODS)  # type: ignore[assignment]
    user_s: User = check_choice("user", user, USERS)  # type: ignore[assignment]
    if not isinstance(chain, (bool, np.bool_)):
        raise ParameterError(f'"chain" must be True or False, got {chain!r}')
    if interval is not None and (
        isinstance(interval, (bool, np.bool_))
        or not isinstance(interval, (int, float, np.integer, np.floating))
        or not 1e-7 <= interval <= 10.0
    ):
        raise ParameterError(f'"interval" must be None or a number of seconds between 1e-07 and 10, got {interval!r}')
    pol = get_policy(policy)  # type: ignore[arg-type]
    if limits is not None and not isinstance(limits, Limits):
        raise ParameterError(f'"limits" must be None or a zonemodel.Limits, got {limits!r}')
    n_other = check_count("other", other, 0, 100_000)
    if (limits is not None or n_other) and interval is not None:
        raise ParameterError('"limits" and "other" need interval=None (slow forking); got both')
    if interval is None and pol != UPSTREAM_1997:
        raise ParameterError(
            f'"policy" ({pol.key!r}) decides how the servers grow their thread pools, which only matters when '
            "forking at an interval: pass interval=<seconds between forks> as well (with interval=None no server "
            "ever queues), or leave policy at its default"
        )
    mode: Mode = "limited" if limits is not None or n_other else ("slow" if interval is None else "timed")
    return _Spec(k, start_s, bool(chain), user_s, mode, float(interval or 0.0), pol, limits, n_other)


def _gate(spec: _Spec, booted: Booted | None = None) -> tuple[Booted, np.ndarray]:
    """The boot gate: boot the kernel (unless *booted* runs already) and start the login session.

    Returns the system and one replicate row: status OK, or why the bomb never
    started (the boot, or the session), with who failed and the zone a panic named.
    """
    if booted is None:
        booted = Booted.up(spec.kernel)
    status, who = booted.status, L.WHO_CHILD
    if status == L.OK:
        booted.machine.gp[L.G_CHAIN] = int(spec.chain)
        status, who = booted.start_session(spec.start), L.WHO_BACKGROUND
    gate = new_rows(1)
    gate["status"], gate["who"], gate["panic_zone"] = status, who, booted.panic_zone
    gate["zone_map_pages"] = booted.machine.ms[L.M_MAP_USED]
    return booted, gate


_KERNELS: Final[dict[tuple[Mode, bool], tuple[object, ...]]] = {
    ("slow", False): (_bomb,),
    ("slow", True): (_bomb_chunk,),
    ("timed", False): (_bomb_timed,),
    ("timed", True): (_bomb_timed_chunk,),
    ("limited", False): (_bomb_limited,),
    ("limited", True): (_bomb_limited_chunk,),
}
"""The kernels of each kind of bomb, one run (False) or many (True)."""


def _notice(spec: _Spec, many: bool) -> None:
    """The first-compile notice for a bomb of *spec* (see :func:`~zonemodel.experiments.common.compile_notice`)."""
    compile_notice(*BOOT_KERNELS, *_KERNELS[spec.mode, many])


def _timed_parts(spec: _Spec) -> tuple[L.ServerModel, L.Job]:
    """The servers and the numbers of a timed bomb: proc and auth hear from every new child."""
    k = spec.kernel
    srv = server_model(k, spec.policy, rpcs={L.PROC: k.fork_rpcs_proc, L.AUTH: k.fork_rpcs_auth})
    most = k.space_max + 16 if k.ipc_spaces_exhaustible else 50_000
    return srv, job(max_forks=most, interval=spec.interval)


def _remedy_of(status: int, acts: np.ndarray) -> int:
    """The counter of the remedy that ended a limited run (the run ends at that user's first refusal), or -1."""
    if status == L.LIMITED:
        mine = range(L.ACT_OTHER)
    elif status == L.OTHER_FAILED:
        mine = range(L.ACT_OTHER, L.ACT_SIZE)
    else:
        return -1
    return next(i for i in mine if acts[i])


def _words(row: np.void, mode: Mode, boot_message: str) -> tuple[Outcome, str, str]:
    """(outcome, limit, message) of one replicate row."""
    status = int(row["status"])
    if mode == "limited":
        if status in (L.OTHER_DONE, L.CHILD_LIMIT):
            return "survived", "", ""
        if status in (L.OTHER_FAILED, L.LIMITED):
            name = _ACTS[int(row["remedy"])]
            whose = "the other user's" if status == L.OTHER_FAILED else "the bomber's"
            outcome: Outcome = "stopped by a limit" if status == L.LIMITED else "survived"
            return outcome, name, f"[no panic: {whose} fork() fails ({name})]"
    return describe(status, int(row["panic_zone"]), boot_message)


def _run(
    spec: _Spec, seed: SeedLike, first: int, count: int, ready: tuple[Booted, np.ndarray] | None = None
) -> np.ndarray:
    """Replicates ``first .. first + count - 1`` of *spec* as replicate rows (one kernel call).

    *ready* is the system and gate row of :func:`_gate`, booted once for many
    batches (the kernels copy the booted machine for each replicate, never change it).
    """
    booted, gate = ready or _gate(spec)
    if gate["status"][0] != L.OK:
        return np.repeat(gate, count)
    rows = new_rows(count)
    states = replicate_states(seed, count, start=first)
    w = booted.workload(child_row(spec.kernel, spec.start, spec.user))
    if spec.mode == "slow":
        _bomb_many(booted.machine, w, states, rows)
    elif spec.mode == "timed":
        srv, numbers = _timed_parts(spec)
        _bomb_timed_many(booted.machine, w, srv, states, numbers, rows)
    else:
        acts = np.zeros((count, L.ACT_SIZE), dtype=np.int64)
        _bomb_limited_many(booted.machine, w, states, limit_array(spec.limits), spec.other, rows, acts)
        rows["remedy"] = [_remedy_of(int(s), a) for s, a in zip(rows["status"], acts, strict=True)]
    return rows


def _once(
    booted: Booted,
    spec: _Spec,
    stream: np.ndarray,
    children: np.ndarray,
    servers: L.ServerModel | None = None,
    most: int | None = None,
) -> tuple[np.ndarray, dict[str, int], dict[str, int]]:
    """One bomb on *booted*, in place: its replicate row, the remedies that acted, the servers' peak threads.

    *children* (rows of ``P_*``) receives the children's records (slow bombs only).  A timed bomb
    runs against *servers* (a running system's; fresh ones if None) and forks at most *most* times.
    """
    rows = new_rows(1)
    row = rows[0]
    w = booted.workload(child_row(spec.kernel, spec.start, spec.user))
    acted: dict[str, int] = {}
    threads: dict[str, int] = {}
    if spec.mode == "slow":
        bg = np.empty((int(booted.machine.gp[L.G_MAX_CHILDREN]) + 1, L.P_SIZE), dtype=np.int64)
        row["count"], row["status"], row["who"], row["background"] = _bomb(
            booted.machine, w, stream, children, bg, np.empty(L.P_SIZE, dtype=np.int64)
        )
    elif spec.mode == "timed":
        srv, numbers = _timed_parts(spec)
        srv = servers or srv
        if most is not None:
            numbers.ji[L.J_MAX_FORKS] = min(int(numbers.ji[L.J_MAX_FORKS]), most)
        row["count"], row["status"], row["who"], row["background"] = _bomb_timed(
            booted.machine, w, srv, stream, numbers
        )
        threads = {name: int(srv.sv[i, L.S_PEAK_THREADS]) for i, name in enumerate(SERVER_NAMES)}
    else:
        acts = np.zeros(L.ACT_SIZE, dtype=np.int64)
        a, status, who, nbg, b = _bomb_limited(booted.machine, w, stream, limit_array(spec.limits), spec.other, acts)
        row["count"], row["status"], row["who"], row["background"], row["other"] = a, status, who, nbg, b
        row["remedy"] = _remedy_of(int(status), acts)
        acted = {name: int(acts[slot]) for slot, name in _ACTS.items() if acts[slot]}
    row["panic_zone"] = booted.panic_zone
    return rows, acted, threads


def result(
    booted: Booted, spec: _Spec, row: np.void, remedies: dict[str, int], threads: dict[str, int]
) -> ForkBombResult:
    """A :class:`ForkBombResult` read off a system after one bomb (or a failed boot gate)."""
    outcome, limit, message = _words(row, spec.mode, booted.boot.message)
    return ForkBombResult(
        processes=int(row["count"]),
        outcome=outcome,
        message=message,
        limit=limit,
        hit_by=WHO[int(row["who"])],
        start=spec.start,
        chain=spec.chain,
        user=spec.user,
        background_tasks=int(row["background"]),
        zone_map_used=booted.zone_map_used,
        zone_map_size=spec.kernel.zone_map,
        kernel_map_free=booted.kernel_map_free,
        kalloc_map_free=booted.kalloc_map_free,
        ram_free=booted.ram_free,
        zones=zone_usage(ZONE_NAMES, booted.machine.zones),
        server_threads=threads,
        other_processes=int(row["other"]),
        other_completed=(int(row["other"]) == spec.other) if spec.other else None,
        remedies=remedies,
        kernel=spec.kernel,
    )


def run_once(
    spec: _Spec,
    stream: np.ndarray,
    booted: Booted | None = None,
    *,
    servers: L.ServerModel | None = None,
    most: int | None = None,
) -> tuple[ForkBombResult, np.ndarray]:
    """One bomb, on a fresh system or on *booted*: the result and the children's records (``P_*`` rows).

    *servers* and *most* are those of :func:`_once` (a timed bomb on a running system).
    """
    booted, gate = _gate(spec, booted)
    if gate["status"][0] != L.OK:
        threads = dict.fromkeys(SERVER_NAMES, 0) if spec.mode == "timed" else {}
        return result(booted, spec, gate[0], {}, threads), np.empty((0, L.P_SIZE), dtype=np.int64)
    children = np.empty((int(booted.machine.gp[L.G_MAX_CHILDREN]) + 1, L.P_SIZE), dtype=np.int64)
    rows, acted, threads = _once(booted, spec, stream, children, servers, most)
    count = int(rows[0]["count"]) if spec.mode == "slow" else 0
    return result(booted, spec, rows[0], acted, threads), children[:count]


@overload
def fork_bomb(
    kernel: Kernel,
    *,
    start: Start = ...,
    chain: bool = ...,
    user: User = ...,
    interval: float | None = ...,
    policy: PolicyKey | ThreadPolicy = ...,
    limits: Limits | None = ...,
    other: int = ...,
    runs: Literal[1] = ...,
    seed: SeedLike = ...,
    progress: bool | None = ...,
) -> ForkBombResult: ...


@overload
def fork_bomb(
    kernel: Kernel,
    *,
    start: Start = ...,
    chain: bool = ...,
    user: User = ...,
    interval: float | None = ...,
    policy: PolicyKey | ThreadPolicy = ...,
    limits: Limits | None = ...,
    other: int = ...,
    runs: int,
    seed: SeedLike = ...,
    progress: bool | None = ...,
) -> ForkBombResult | ForkBombRuns: ...


def fork_bomb(
    kernel: Kernel,
    *,
    start: Start = "console",
    chain: bool = False,
    user: User = "user",
    interval: float | None = None,
    policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
    limits: Limits | None = None,
    other: int = 0,
    runs: int = 1,
    seed: SeedLike = None,
    progress: bool | None = None,
) -> ForkBombResult | ForkBombRuns:
    """Boot *kernel* and fork until a limit is reached.

    Parameters
    ----------
    kernel
        A kernel preset, e.g. ``gnumach(2005, zone_map="8 MiB")``: a zalloc-era one
        (2005, 2007, 2009) ends at the zone map or the ipc spaces cap, the 2013 one
        (GNU Mach 1.4's slab allocator) in failed forks once RAM or ``kernel_map`` runs out.
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
        distribution over N independently seeded runs (computed in parallel,
        in batches: memory does not grow with N beyond the per-run columns),
        at most 1 000 000 per call (``MAX_RUNS``).
    seed
        An int, a :class:`numpy.random.SeedSequence` or None.  Run *i* uses
        child *i* of the sequence, so ``runs=1`` reproduces run 0 of ``runs=N``.
    progress
        A progress bar over the runs (needs tqdm): True, False, or None (the
        default) for a bar in a terminal once the call has run two seconds.

    Raises
    ------
    zonemodel.errors.BootError
        If *kernel* does not boot (see :func:`zonemodel.boot`), with any *runs*.

    Examples
    --------
    >>> import zonemodel
    >>> r = zonemodel.fork_bomb(zonemodel.gnumach(2005, zone_map="4 MiB"), seed=1)
    >>> r.outcome, r.limit
    ('panic', 'zone map')
    """
    spec = check_bomb(
        kernel, start=start, chain=chain, user=user, interval=interval, policy=policy, limits=limits, other=other
    )
    n = check_runs(runs)
    ss = as_seed_sequence(seed)
    shown = check_progress(progress)
    _notice(spec, n > 1)
    if n == 1:  # a fresh System, one experiment
        from zonemodel.experiments.system import System

        return System(spec.kernel, seed=ss).fork_bomb(
            start=spec.start,
            chain=spec.chain,
            user=spec.user,
            interval=interval,
            policy=spec.policy,
            limits=spec.limits,
            other=spec.other,
        )
    return _distribution(spec, ss, n, shown, up_or_raise(spec.kernel))


def _distribution(
    spec: _Spec, seed: np.random.SeedSequence, runs: int, progress: bool | None, booted: Booted | None = None
) -> ForkBombRuns:
    """The :class:`ForkBombRuns` of *runs* replicates, run and summarised in batches."""
    ready = _gate(spec, booted)
    summary = Summary(mode=spec.mode, other=spec.other, kernel=spec.kernel)
    in_batches(
        lambda first, count: _run(spec, seed, first, count, ready),
        runs,
        summary.add,
        most=20_000,
        progress=progress,
        desc="fork_bomb",
    )
    return summary.result(seed)


def fork_bomb_runs(
    kernel: Kernel,
    *,
    start: Start = "console",
    chain: bool = False,
    user: User = "user",
    interval: float | None = None,
    policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
    limits: Limits | None = None,
    other: int = 0,
    runs: int,
    seed: SeedLike = None,
    progress: bool | None = False,
) -> ForkBombRuns:
    """:func:`fork_bomb` that always returns the :class:`ForkBombRuns` distribution, ``runs=1`` included.

    For code that takes *runs* from its caller and needs one type (the studies use it).
    Like :func:`zonemodel.sweep`, and unlike :func:`fork_bomb`, it does not raise for a
    kernel that does not boot: its runs have the outcome ``"no boot"`` and a count of 0.

    Examples
    --------
    >>> import zonemodel
    >>> fork_bomb_runs(zonemodel.gnumach(2005, zone_map="4 MiB"), runs=1, seed=1).values
    (419,)
    """
    spec = check_bomb(
        kernel, start=start, chain=chain, user=user, interval=interval, policy=policy, limits=limits, other=other
    )
    n = check_runs(runs)
    shown = check_progress(progress)
    _notice(spec, True)
    return _distribution(spec, as_seed_sequence(seed), n, shown)


def run_replicates(
    kernel: Kernel,
    *,
    start: Start = "console",
    chain: bool = False,
    user: User = "user",
    interval: float | None = None,
    policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
    limits: Limits | None = None,
    other: int = 0,
    seed: SeedLike,
    first: int,
    count: int,
) -> np.ndarray:
    """Replicates ``first .. first + count - 1`` of a fork bomb, as replicate rows (``ROW_DTYPE``).

    Replicate ``first + i`` is seeded by child ``first + i`` of *seed*, so
    batches of replicates give the same rows as one call: the unit of work
    that :func:`zonemodel.sweep` ships to workers.
    """
    spec = check_bomb(
        kernel, start=start, chain=chain, user=user, interval=interval, policy=policy, limits=limits, other=other
    )
    first_n, count_n = check_count("first", first, 0), check_count("count", count)
    _notice(spec, True)
    return _run(spec, seed, first_n, count_n)


class Summary:
    """A :class:`ForkBombRuns` built batch by batch from replicate rows (see :func:`run_replicates`), in order.

    *mode* and *other* say how the bomb ran; *kernel*, if given, names the
    console line of a kernel that does not boot, gives each run's zone-map
    use in bytes, and is recorded in the result.
    """

    def __init__(self, *, mode: Mode = "slow", other: int = 0, kernel: Kernel | None = None) -> None:
        self.mode, self.other, self.kernel = mode, other, kernel
        self._tally = Tally()
        self._runs = self._other_done = 0
        self._boot_message = ""

    def add(self, rows: np.ndarray) -> None:
        """Add the next replicates' rows."""
        k = self.kernel
        if k is not None and not self._boot_message and (rows["status"] == L.NO_BOOT).any():
            report = boot(k)
            self._boot_message = report.message or f"[the kernel does not boot: {report.reason}]"
        outcomes, limits, messages = words_of_rows(
            rows, lambda row: _words(row, self.mode, self._boot_message), ("status", "panic_zone", "remedy")
        )
        tally = self._tally
        tally.add("values", rows["count"])
        tally.add("outcomes", outcomes)
        tally.add("limits", limits)
        tally.add("messages", messages)
        if k is not None:
            page = k.page_size
            offset = k.zone_map // page - int(zone_map_state(k)[L.M_MAP_PAGES])
            tally.add("zone_map_used", (rows["zone_map_pages"] + offset) * page)
        self._runs += len(rows)
        self._other_done += int((rows["other"] == self.other).sum()) if self.other else 0

    def result(self, seed: np.random.SeedSequence | None = None) -> ForkBombRuns:
        """The distribution of every row added so far; *seed* is recorded in it."""
        if not self._runs:
            raise ParameterError('"rows": a distribution needs at least one replicate row, got none')
        tally = self._tally
        outcomes, limits, messages = tally.column("outcomes"), tally.column("limits"), tally.column("messages")
        return ForkBombRuns(
            values=tally.column("values"),
            outcomes=most_common(outcomes),
            limits=most_common(limits),
            messages=most_common(messages),
            other_completed=self._other_done / self._runs if self.other else None,
            run_outcomes=outcomes,
            run_limits=limits,
            run_messages=messages,
            zone_map_used=tally.column("zone_map_used"),
            kernel=self.kernel,
            seed=seed,
        )


def summarise(
    rows: np.ndarray,
    *,
    mode: Mode = "slow",
    other: int = 0,
    kernel: Kernel | None = None,
    seed: np.random.SeedSequence | None = None,
) -> ForkBombRuns:
    """The :class:`ForkBombRuns` of replicate rows (see :func:`run_replicates`), in replicate order.

    *mode* and *other* say how the bomb ran; *kernel*, if given, names the
    console line of a kernel that does not boot; *kernel* and *seed* are recorded in the result.
    """
    summary = Summary(mode=mode, other=other, kernel=kernel)
    summary.add(rows)
    return summary.result(seed)
