"""One booted system on which experiments run one after another.

The module-level experiments (:func:`zonemodel.fork_bomb`,
:func:`zonemodel.close_burst`, :func:`zonemodel.open_ports`) are a fresh
:class:`System` running one experiment.  A :class:`System` boots once and
keeps everything that persists on a real machine between experiments: zones
never give pages back to the zone map, so a second fork bomb finds the first
one's elements on the free lists; the servers' threads never exit; processes
still alive keep their ports, and killing them (or null) sends the
notifications their death implies; a panic or a hang ends the system for good.

>>> import zonemodel
>>> system = zonemodel.System(zonemodel.gnumach(2005, zone_map="4 MiB"), seed=1)
>>> first = system.fork_bomb(stop_at=300)
>>> first.outcome, first.processes
('child limit', 300)
>>> second = system.fork_bomb()
>>> second.outcome
'panic'
>>> system.alive
False
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np

from zonemodel._kernels import layout as L
from zonemodel._kernels.builds import _build, _build_row, _new_paging
from zonemodel._kernels.forkbomb import _bomb
from zonemodel._kernels.storms import _burst_run, _open_storm
from zonemodel._kernels.system import _exit_children, _exit_clients, _kill_clients, _kill_null_instances
from zonemodel.errors import ParameterError, ZonemodelError
from zonemodel.experiments.builds import Stage, _Build, build_on, build_servers, check_build
from zonemodel.experiments.common import (
    BOOT_KERNELS,
    SERVER_NAMES,
    Start,
    User,
    check_count,
    check_kernel,
    child_row,
    compile_notice,
    describe,
    server_model,
    up_or_raise,
)
from zonemodel.experiments.forkbomb import ForkBombResult, check_bomb, run_once
from zonemodel.experiments.results import (
    BuildResult,
    CloseBurstResult,
    KillResult,
    OpenPortsResult,
    ServerTable,
    ServerUsage,
    ZoneUsage,
    zone_usage,
)
from zonemodel.experiments.storms import (
    NOFILE,
    Close,
    _Opens,
    _Storm,
    check_opens,
    check_storm,
    opens_on,
    storm_on,
)
from zonemodel.model.kernel import Kernel
from zonemodel.model.limits import Limits
from zonemodel.model.policies import UPSTREAM_1997, PolicyKey, ThreadPolicy
from zonemodel.model.zones import ZONE_NAMES
from zonemodel.seeds import SeedLike, as_seed_sequence, replicate_states

__all__ = ["System", "SystemDown"]

KILLABLE: Final = ("null", "clients")
"""What :meth:`System.kill` kills: the null translator (every instance), or the clients earlier experiments left."""


class SystemDown(ZonemodelError):
    """The system panicked or hung in an earlier experiment; boot a new one.

    (A kernel that does not boot at all raises :class:`zonemodel.errors.BootError`
    when the :class:`System` is created, as every experiment does.)

    Examples
    --------
    >>> import zonemodel
    >>> system = zonemodel.System(zonemodel.gnumach(2005, zone_map="4 MiB"), seed=1)
    >>> system.fork_bomb().outcome
    'panic'
    >>> try:
    ...     system.fork_bomb()
    ... except zonemodel.SystemDown as exc:
    ...     print(exc)
    this system is down (panic: zalloc: zone ipc ports exhausted); create a new System
    """


@dataclass
class _Clients:
    """Client processes an experiment left alive, and the null protids they hold (per null instance)."""

    experiment: int
    """The experiment that started them (0 for the first)."""
    tables: np.ndarray
    """Their IPC tables (``T_*``), rows ``O_CLIENT0`` on (rows 0 and 1 unused)."""
    held: np.ndarray = field(default_factory=lambda: np.zeros(L.MAX_INSTANCES, dtype=np.int64))
    """Protids of each null instance they hold."""


class System:
    """A booted simulated system on which experiments run one after another.

    Every experiment leaves behind what it would on a real machine: zones
    never give pages back to the zone map (their free lists keep what was
    freed); the servers' threads never exit, and their kernel memory goes back
    to the zones' free lists only when their task dies; kalloc_map keeps its
    holes; a process still alive keeps its ports (the clients of
    :meth:`open_ports`, the other user of :meth:`close_burst`); a wedged or
    killed null instance stays wedged or dead, and ext2fs starts a new one on
    the next lookup of /dev/null.  A panic or a hang ends the system.

    Parameters
    ----------
    kernel
        A zalloc-era kernel preset.
    seed
        Seed of the system's random stream; experiment *k* on this system
        (kills count) uses child *k* of the seed's :class:`numpy.random.SeedSequence`,
        as replicate *k* of ``runs=N`` does.

    Raises
    ------
    zonemodel.errors.BootError
        If *kernel* does not boot (see :func:`zonemodel.boot`).

    Examples
    --------
    >>> import zonemodel
    >>> system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
    >>> system.open_ports(processes=2, ports_each=500).opened
    1000
    >>> system.close_burst(processes=2, ports_each=1000).outcome
    'survived'
    >>> system.kill("clients")
    KillResult('clients', notifications=1000, outcome='survived', message='')
    >>> system
    System(Kernel(gnumach 2005, ...), experiments=3, null instances=1, clients alive=0, alive)
    """

    def __init__(self, kernel: Kernel, *, seed: SeedLike = None) -> None:
        self.kernel = check_kernel(kernel)
        self._seed = as_seed_sequence(seed)
        self._experiments = 0
        compile_notice(*BOOT_KERNELS)
        self._booted = up_or_raise(self.kernel)
        self.history: list[ForkBombResult | CloseBurstResult | OpenPortsResult | KillResult | BuildResult] = []
        """Results of the experiments run so far, in order."""
        self._down = ""
        self._sv = np.zeros((L.N_SERVERS, L.S_COLS), dtype=np.int64)
        self._pager = np.zeros(L.S_COLS, dtype=np.int64)  # ext2fs's pager pool: started by the first build
        self._pager_started = False
        self._live = L.Live(
            np.zeros((L.O_CLIENT0, L.T_SIZE), dtype=np.int64),
            np.zeros(L.Y_SIZE, dtype=np.int64),
            np.zeros((L.MAX_INSTANCES, L.I_SIZE), dtype=np.int64),
        )
        self._policy: ThreadPolicy | None = None
        self._clients: list[_Clients] = []
        self._untracked = 0

    @classmethod
    def _replicate(cls, kernel: Kernel, seed: SeedLike, i: int) -> System:
        """The fresh system whose first experiment is replicate *i* of a ``runs=N`` call with *seed*."""
        system = cls(kernel, seed=seed)
        system._experiments = i
        return system

    # ------------------------------------------------------------------ state

    @property
    def alive(self) -> bool:
        """False once an experiment ended in a panic or a hang."""
        return not self._down

    @property
    def zone_map_used(self) -> int:
        """Bytes of the zone map taken so far (a high-water mark: never returned)."""
        return self._booted.zone_map_used

    @property
    def kalloc_map_free(self) -> int:
        """Bytes of kalloc_map free now (its holes stay between experiments)."""
        return self._booted.kalloc_map_free

    @property
    def kalloc_map_largest_free(self) -> int:
        """Bytes of the largest free range of kalloc_map (an entry table larger than this cannot be reallocated)."""
        res = self._booted.machine.res
        n = int(res[L.R_KM_SEGMENTS])
        lengths = res[L.KM_BASE + 1 : L.KM_BASE + 2 * n : 2]
        return int(lengths.max(initial=0)) * self.kernel.page_size

    def zones(self) -> tuple[ZoneUsage, ...]:
        """Every zone's use now: elements in use, peak, bytes taken (high-water marks, never returned)."""
        return zone_usage(ZONE_NAMES, self._booted.machine.zones)

    def servers(self) -> ServerTable:
        """Each server now: instances, threads, idle threads, names in its IPC space, ports clients hold.

        Examples
        --------
        >>> import zonemodel
        >>> system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
        >>> _ = system.close_burst(processes=2, ports_each=1000)
        >>> system.servers().server("null").threads > 1
        True
        """
        k, ys, inst, tables, gp = (
            self.kernel,
            self._live.ys,
            self._live.inst,
            self._live.tables,
            self._booted.machine.gp,
        )
        its = self._booted.machine.its
        thread_bytes = int(gp[L.G_THREAD_BYTES])
        wedged = [row for row in inst[: min(int(ys[L.Y_INSTANCES]), L.MAX_INSTANCES)] if row[L.I_STATE] == L.I_WEDGED]
        rows = []
        for s, name in enumerate(SERVER_NAMES):
            threads = int(self._sv[s, L.S_THREADS])
            instances = running = 1
            names: int | None = None
            held = 0
            table_bytes = 0
            entries: int | None = None
            if s == L.NULL:
                instances = int(ys[L.Y_INSTANCES])
                running = int(ys[L.Y_NULL_UP]) + len(wedged)
                threads += sum(int(r[L.I_THREADS]) for r in wedged)
                held = int(ys[L.Y_HELD]) + sum(int(r[L.I_HELD]) for r in wedged)
                if running:
                    names = (k.null_names if ys[L.Y_NULL_UP] else 0) + sum(k.null_names for _ in wedged)
                    names += k.null_names_per_open * held
                    table_bytes = sum(int(its[r[L.I_TIDX]]) * k.entry_size for r in wedged)
                    if ys[L.Y_NULL_UP]:
                        entries = int(its[tables[L.O_NULL, L.T_TIDX]])
                        table_bytes += entries * k.entry_size
            elif s == L.EXT2FS and ys[L.Y_SERVERS]:
                held_all = int(ys[L.Y_HELD]) + sum(int(r[L.I_HELD]) for r in wedged)
                names = k.ext2fs_names + held_all
                entries = int(its[tables[L.O_EXT2FS, L.T_TIDX]])
                table_bytes = entries * k.entry_size
            rows.append(
                ServerUsage(
                    name=name,
                    instances=instances,
                    running=running,
                    threads=threads,
                    idle_threads=threads - int(self._sv[s, L.S_STUCK]),
                    names=names,
                    held=held,
                    kernel_bytes=threads * thread_bytes + table_bytes,
                    table_entries=entries,
                    leaked=int(self._sv[s, L.S_STUCK]),
                )
            )
        return ServerTable(tuple(rows))

    # ------------------------------------------------------------------ plumbing

    def _check_up(self) -> None:
        if self._down:
            raise SystemDown(f"this system is down ({self._down}); create a new System")

    def _next_stream(self) -> np.ndarray:
        state: np.ndarray = replicate_states(self._seed, 1, start=self._experiments)[0].copy()
        self._experiments += 1
        return state

    def _servers(
        self, pol: ThreadPolicy, limits: Limits | None = None, rpcs: dict[int, int] | None = None
    ) -> L.ServerModel:
        """The servers' bundle for the next experiment: this system's pools, idle, with *pol* (checked)."""
        if self._policy is not None and pol != self._policy:
            raise ParameterError(
                f'"policy": the servers of this System run {self._policy.key!r} since they started, got '
                f"{pol.key!r}; a server keeps its thread policy for life: create a new System for another"
            )
        srv = server_model(self.kernel, pol, limits, rpcs)
        sv = self._sv
        sv[:, L.S_COUNTER] = sv[:, L.S_THREADS]
        sv[:, L.S_RECEIVERS] = sv[:, L.S_THREADS]
        sv[:, L.S_PEAK_THREADS] = sv[:, L.S_THREADS]
        for col in (L.S_BUSY, L.S_QHEAD, L.S_QTAIL, L.S_PEAK_QUEUE, L.S_SERVED, L.S_EPOCH):
            sv[:, col] = 0
        return srv._replace(sv=sv)

    def _check_instances(self) -> None:
        """Refuse an experiment that could start more null instances than the system keeps count of."""
        ys = self._live.ys
        if ys[L.Y_INSTANCES] >= L.MAX_INSTANCES - 2:  # an experiment may start one more (two, wedging in an open storm)
            raise ZonemodelError(
                f"null has been started {int(ys[L.Y_INSTANCES])} times on this System, and a System keeps count "
                f"of {L.MAX_INSTANCES} instances at most; create a new System"
            )

    def _settle(self, outcome: str, message: str, pol: ThreadPolicy | None) -> None:
        """After an experiment: down if it panicked or hung; the servers' policy once they run; dead names."""
        if outcome in ("panic", "hang"):
            self._down = message
        dead = self._live.inst[:, L.I_STATE] == L.I_DEAD
        for group in self._clients:
            group.held[dead] = 0  # protids of a dead null instance are dead names
        if pol is not None and self._live.ys[L.Y_POOLS] and self._policy is None:
            self._policy = pol

    # ------------------------------------------------------------------ experiments

    def fork_bomb(
        self,
        *,
        start: Start = "console",
        chain: bool = False,
        user: User = "user",
        interval: float | None = None,
        policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
        limits: Limits | None = None,
        other: int = 0,
        stop_at: int | None = None,
    ) -> ForkBombResult:
        """Run a fork bomb on this system, then kill its children (if the system survived).

        Parameters are those of :func:`zonemodel.fork_bomb`; *stop_at* stops
        the bomb after that many children (``outcome == "child limit"``), as
        a user pressing Control-C would.  With *interval*, the bomb's children
        send their start-up requests to this system's servers, whose threads
        stay; the messages still in flight when a surviving timed bomb stops
        are lost with it.  The children of a timed or limited bomb are not
        recorded one by one, so they stay alive (and hold their memory) on a
        system that survives; those of a slow bomb are killed.
        """
        self._check_up()
        compile_notice(*BOOT_KERNELS, _bomb, _exit_children)
        spec = check_bomb(
            self.kernel,
            start=start,
            chain=chain,
            user=user,
            interval=interval,
            policy=policy,
            limits=limits,
            other=other,
        )
        gp = self._booted.machine.gp
        ceiling = int(gp[L.G_MAX_CHILDREN])
        limit = ceiling if stop_at is None else check_count("stop_at", stop_at, 0, ceiling)
        srv = None
        if spec.mode == "timed":
            k = self.kernel
            srv = self._servers(spec.policy, rpcs={L.PROC: k.fork_rpcs_proc, L.AUTH: k.fork_rpcs_auth})
            if self._live.ys[L.Y_POOLS]:  # the pools run already: the timed bomb's start of them adds no thread
                pi = srv.pi.copy()
                pi[L.PI_POOL] = 0
                srv = srv._replace(pi=pi)
        gp[L.G_MAX_CHILDREN] = limit
        try:
            result, children = run_once(
                spec, self._next_stream(), self._booted, servers=srv, most=None if stop_at is None else limit
            )
        finally:
            gp[L.G_MAX_CHILDREN] = ceiling
        if spec.mode == "timed":
            self._live.ys[L.Y_POOLS] = 1
        result = replace(result, seed=self._seed)
        self.history.append(result)
        self._settle(result.outcome, result.message, spec.policy if spec.mode == "timed" else None)
        if self.alive and spec.mode == "slow":  # its user kills the bomb's children
            _exit_children(self._booted.machine, child_row(self.kernel, spec.start, spec.user), children, spec.chain)
        elif self.alive:
            self._untracked += result.processes
        return result

    def close_burst(
        self,
        *,
        processes: int,
        ports_each: int,
        close: Close = "fast",
        policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
        limits: Limits | None = None,
        other: int = 0,
        nofile: int = NOFILE,
    ) -> CloseBurstResult:
        """A close burst on this system (arguments of :func:`zonemodel.close_burst`, without ``runs``).

        Its clients exit once their ports are closed; the other user's process
        (``other``) stays, holding its ports, until :meth:`kill` ``("clients")``.
        """
        self._check_up()
        storm = check_storm(
            self.kernel,
            processes=processes,
            ports_each=ports_each,
            close=close,
            policy=policy,
            limits=limits,
            other=other,
            nofile=nofile,
        )
        return self._run_storm(storm)

    def _run_storm(self, storm: _Storm) -> CloseBurstResult:
        """Run a validated close burst (:func:`~zonemodel.experiments.storms.check_storm`) on this system."""
        self._check_up()
        if storm.kernel is not self.kernel and storm.kernel != self.kernel:
            raise ParameterError(f'"kernel": this System runs {self.kernel!r}, the storm is for {storm.kernel!r}')
        compile_notice(*BOOT_KERNELS, _burst_run, _exit_clients)
        self._check_instances()
        srv = self._servers(storm.policy, storm.limits)
        number = self._experiments
        result, tables, mine = storm_on(storm, self._next_stream(), self._booted, srv, self._live)
        result = replace(result, seed=self._seed)
        self.history.append(result)
        self._settle(result.outcome, result.message, storm.policy)
        if self.alive:
            current = min(int(self._live.ys[L.Y_INSTANCES]), L.MAX_INSTANCES) - 1
            if result.outcome == "open failed":  # the storm stopped; its clients stay, holding what they opened
                group = _Clients(number, tables)
                group.held[current] = result.opened
                self._clients.append(group)
            else:  # every port closed: the clients exit
                _exit_clients(self._booted.machine, self._booted.workload(), tables)
            if mine[L.O_CLIENT0, L.T_NAMES] > 0:  # the other user's process stays, with its ports
                group = _Clients(number, mine)
                group.held[current] = result.other_opened
                self._clients.append(group)
        return result

    def compile_job(
        self,
        *,
        jobs: int = 1,
        files: int = 100,
        stage: Stage = "compile",
        policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
        headers: int = 400,
        headers_per_file: tuple[int, int] = (100, 250),
        pages: tuple[int, int] | None = None,
        object_pages: tuple[int, int] = (5, 75),
        compile_cpu: float = 1.0,
        job_memory: int | str = "16 MiB",
        timeout: float = 3600.0,
    ) -> BuildResult:
        """A build on this system (:func:`zonemodel.compile_job`, same arguments but *runs* and *seed*).

        ext2fs's pager pool starts with its first thread at the first build
        (earlier experiments moved no file page); its threads stay, like every
        server's.  The build's files are its own: each build starts with no
        dirty page and an empty object cache.
        """
        build = check_build(
            self.kernel, jobs=jobs, files=files, stage=stage, policy=policy, headers=headers,
            headers_per_file=headers_per_file, pages=pages, object_pages=object_pages, compile_cpu=compile_cpu,
            job_memory=job_memory, timeout=timeout,
        )  # fmt: skip
        return self._run_build(build)

    def _run_build(self, build: _Build) -> BuildResult:
        """Run a validated build (:func:`~zonemodel.experiments.builds.check_build`) on this system."""
        self._check_up()
        compile_notice(*BOOT_KERNELS, _build, _build_row, _new_paging)
        srv = self._servers(build.policy)
        sv = np.vstack([srv.sv, self._pager[None, :]])
        sv[L.PAGER, L.S_COUNTER] = sv[L.PAGER, L.S_THREADS]
        sv[L.PAGER, L.S_RECEIVERS] = sv[L.PAGER, L.S_THREADS]
        sv[L.PAGER, L.S_PEAK_THREADS] = sv[L.PAGER, L.S_THREADS]
        for col in (L.S_BUSY, L.S_QHEAD, L.S_QTAIL, L.S_PEAK_QUEUE, L.S_SERVED, L.S_EPOCH):
            sv[L.PAGER, col] = 0
        bsrv = build_servers(build, self._booted, sv)
        start = np.zeros(L.N_POOLS, dtype=np.int64)
        if not self._live.ys[L.Y_POOLS]:
            start[:] = 1  # a fresh system: every pool starts now
        elif not self._pager_started:
            start[L.PAGER] = 1
        self._pager_started = True
        result = build_on(build, self._next_stream(), self._booted, bsrv, start, int(sv[:, L.S_THREADS].sum()))
        self._sv[:] = sv[: L.N_SERVERS]
        self._pager[:] = sv[L.PAGER]
        self._live.ys[L.Y_POOLS] = 1
        result = replace(result, seed=self._seed)
        self.history.append(result)
        self._settle(result.outcome, result.message, build.policy)
        if result.outcome == "deadlock":
            self._down = result.message
        return result

    def open_ports(
        self,
        *,
        processes: int,
        ports_each: int,
        path: str = "/dev/null",
        nofile: int = NOFILE,
        policy: PolicyKey | ThreadPolicy = UPSTREAM_1997,
    ) -> OpenPortsResult:
        """An open storm on this system (arguments of :func:`zonemodel.open_ports`); its clients keep their ports.

        They stay alive, holding their ports (and null's and ext2fs's names),
        until :meth:`kill` ``("clients")``.
        """
        self._check_up()
        opens = check_opens(
            self.kernel, processes=processes, ports_each=ports_each, path=path, nofile=nofile, policy=policy
        )
        return self._run_opens(opens)

    def _run_opens(self, opens: _Opens) -> OpenPortsResult:
        """Run a validated open storm (:func:`~zonemodel.experiments.storms.check_opens`) on this system."""
        self._check_up()
        compile_notice(*BOOT_KERNELS, _open_storm)
        self._check_instances()
        srv = self._servers(opens.policy)
        number = self._experiments
        self._next_stream()  # nothing random, but experiment k is still child k of the seed
        result, tables, held = opens_on(opens, self._booted, srv, self._live)
        self.history.append(result)
        self._settle("survived" if result.survived else "panic", result.message, opens.policy)
        if self.alive and (tables[L.O_CLIENT0 :, L.T_NAMES] > 0).all():
            self._clients.append(_Clients(number, tables, held))
        return result

    def kill(self, server: str) -> KillResult:
        """Kill *server* on this system and serve the notifications its death sends.

        ``"null"`` kills every null instance (the serving one and the wedged
        ones): their threads and ports go, their spaces are destroyed, and each
        live protid's send right to an ext2fs protid is released, so ext2fs
        gets one no-senders notification per protid, in one burst (the OOM
        killer's kill of a storm, :func:`zonemodel.close_burst` with
        ``Limits(oom_killer=True)``, is the same).  The clients' descriptors
        become dead names; ext2fs starts a new null on the next lookup.
        ``"clients"`` kills the processes earlier experiments left alive (the
        clients of :meth:`open_ports`, the other user of :meth:`close_burst`):
        each protid they held on the serving null becomes a no-senders
        notification to null, all queued before null runs.

        Raises
        ------
        zonemodel.errors.ParameterError
            If *server* is not one of ``"null"``, ``"clients"`` (``"ext2fs"``, the
            root file system, cannot be killed without taking the system down),
            if no null instance runs, or if no client is alive.  The system is unchanged.
        SystemDown
            If the system is down.

        Examples
        --------
        >>> import zonemodel
        >>> system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
        >>> _ = system.open_ports(processes=4, ports_each=1000)
        >>> system.kill("clients").notifications
        4000
        >>> try:
        ...     system.kill("ext2fs")
        ... except zonemodel.errors.ParameterError as exc:
        ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE
        "server": ext2fs is the root file system: killing it takes the system down;
        must be one of 'null', 'clients', got 'ext2fs'
        """
        self._check_up()
        allowed = ", ".join(map(repr, KILLABLE))
        if server == "ext2fs":
            raise ParameterError(
                '"server": ext2fs is the root file system: killing it takes the system down; '
                f"must be one of {allowed}, got 'ext2fs'"
            )
        if not isinstance(server, str) or server not in KILLABLE:
            raise ParameterError(f'"server" must be one of {allowed}, got {server!r}')
        ys = self._live.ys
        if server == "null":
            wedged = (self._live.inst[:, L.I_STATE] == L.I_WEDGED).any()
            if not (ys[L.Y_NULL_UP] or wedged):
                raise ParameterError(
                    '"server": no null instance runs (none started yet, or the last one died); ext2fs starts one '
                    "on the next lookup of /dev/null"
                )
        elif not self._clients:
            raise ParameterError('"server": no client of an earlier experiment is alive ("clients" has none to kill)')
        compile_notice(*BOOT_KERNELS, _kill_null_instances if server == "null" else _kill_clients)
        srv = self._servers(self._policy or UPSTREAM_1997)
        state = self._next_stream()
        m, w = self._booted.machine, self._booted.workload()
        if server == "null":
            status, sent = _kill_null_instances(m, srv, self._live, state)
            for group in self._clients:
                group.held[:] = 0  # their descriptors are dead names now
        else:
            status, sent = L.OK, 0
            for group in self._clients:
                status, n = _kill_clients(m, w, srv, self._live, state, group.tables, group.held)
                sent += int(n)
                if status != L.OK:
                    break
            self._clients = []
        outcome, _, message = describe(int(status), self._booted.panic_zone)
        result = KillResult(
            target=server,
            notifications=int(sent),
            outcome="survived" if status == L.OK else outcome,
            message=message,
            peak_threads={name: int(self._sv[i, L.S_PEAK_THREADS]) for i, name in enumerate(SERVER_NAMES)},
            zone_map_used=self._booted.zone_map_used,
        )
        self.history.append(result)
        self._settle(result.outcome, message, None)
        return result

    def __repr__(self) -> str:
        status = "alive" if self.alive else f"down ({self._down})"
        clients = sum(int(c.tables.shape[0] - L.O_CLIENT0) for c in self._clients)
        untracked = f", bomb children alive={self._untracked}" if self._untracked else ""
        instances = int(self._live.ys[L.Y_INSTANCES])
        return (
            f"System({self.kernel!r}, experiments={self._experiments}, null instances={instances}, "
            f"clients alive={clients}{untracked}, {status})"
        )
