"""What every experiment shares: checks, the boot gate, the kernels' arrays, replicate rows, summaries.

An experiment is a small function over this module::

    validate the arguments  ->  boot (the boot gate)  ->  build the bundles  ->  run a kernel
                            ->  replicate rows (one ROW_DTYPE for every experiment)  ->  a summary

:class:`Booted` boots a :class:`~zonemodel.Kernel`: kernel_map first (see
:func:`zonemodel.boot`), then the zones, the kernel's own spaces and threads
and the system's tasks, in a :class:`~zonemodel._kernels.layout.Machine`.
The functions below turn model values (limits, thread policies, processes)
into the kernels' arrays, and status codes back into words.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

import numpy as np

from zonemodel._kernels import layout as L
from zonemodel._kernels.forkbomb import _boot, _boot_tasks
from zonemodel._kernels.jit import CACHE, one_thread, will_compile
from zonemodel._kernels.process import _pages_in_use
from zonemodel.errors import BootError, ConfigurationError, ParameterError
from zonemodel.experiments.progress import Progress
from zonemodel.experiments.results import Outcome
from zonemodel.model.boot import BootReport, boot
from zonemodel.model.ipc_tables import table_sizes
from zonemodel.model.kernel import Kernel
from zonemodel.model.limits import Limits
from zonemodel.model.policies import ThreadPolicy
from zonemodel.model.zones import ZONE_NAMES, zone_specs

__all__ = [
    "BOOT_KERNELS",
    "CACHE",
    "MAX_CHILDREN",
    "MAX_RUNS",
    "MORE_RUNS",
    "SERVER_NAMES",
    "START_METHODS",
    "USERS",
    "Booted",
    "Limit",
    "Outcome",
    "Start",
    "Tally",
    "User",
    "check_choice",
    "check_count",
    "check_kernel",
    "check_runs",
    "check_zalloc",
    "compile_notice",
    "describe",
    "first_use_notice",
    "in_batches",
    "limit_array",
    "most_common",
    "new_rows",
    "one_thread",
    "policy_arrays",
    "process_row",
    "up_or_raise",
    "will_compile",
    "zone_table",
]

Start: TypeAlias = Literal["console", "ssh", "screen"]
"""How a fork bomb is started: on the Mach console, in a raw ssh session, under screen through ssh."""
User: TypeAlias = Literal["user", "root"]
"""Who runs the bomb."""
Limit: TypeAlias = Literal[
    "", "zone map", "ipc spaces", "kernel_map", "kalloc_map", "physical memory", "kmem_map"
]  # fmt: skip
"""The kernel resource that ran out (``""``: none)."""

START_METHODS: Final[tuple[Start, ...]] = ("console", "ssh", "screen")
USERS: Final[tuple[User, ...]] = ("user", "root")
SERVER_NAMES: Final = ("proc", "auth", "exec", "term", "ext2fs", "null")
"""The servers of the simulation, in the kernels' order (``PROC`` .. ``NULL``)."""
MAX_CHILDREN: Final = 200_000
"""The experiments' own cap on the children of one fork bomb."""
MAX_RUNS: Final = 1_000_000
"""The most replicates one call of an experiment runs (``runs=``), the same bound as :func:`zonemodel.sweep`'s."""
MORE_RUNS: Final = (
    "to run more, call again in batches with seed=numpy.random.SeedSequence(seed).spawn(n)[i] for batch i "
    "and combine the results, or use zonemodel.sweep (on a dask cluster with executor=client.get_executor())"
)
"""What the error of too many ``runs`` suggests."""
BATCH_SECONDS: Final = 0.5
"""About how long one batch of replicates runs (:func:`in_batches`): the bar advances, memory stays flat."""

_NO_BOOT_MESSAGE: Final = "[the kernel does not boot: see zonemodel.boot()]"
_STATUS: Final[dict[int, tuple[Outcome, Limit, str]]] = {
    # status: (outcome, limit, console line or a bracketed description); ZONE_PANIC's names the zone.
    L.OK: ("survived", "", ""),
    L.ZONE_PANIC: ("panic", "zone map", "panic: zalloc: zone {zone} exhausted"),
    L.IPC_TASK_INIT: ("panic", "ipc spaces", "panic: ipc_task_init"),
    L.PMAP_CREATE: ("panic", "kernel_map", "panic: pmap_create"),
    L.KALLOC_MAP_FULL: (
        "fork failure",
        "kalloc_map",
        "[no panic: fork() fails, an IPC entry table cannot grow in kalloc_map]",
    ),
    L.NO_MEMORY: ("hang", "physical memory", "[no message: the forking thread waits for a free page for ever]"),
    L.DEADLOCK: (
        "deadlock",
        "",
        "[no message: ext2fs hangs; every thread it has waits, and no event is left that would wake one]",
    ),
    L.TIMEOUT: ("unfinished", "", "[the build was still running at its timeout]"),
    L.SB_DEADLOCK: (
        "deadlock",
        "",
        "[no message: ext2fs hangs; its pager threads wait for the superblock, and the request that would read it "
        "waits in their queue]",
    ),
    L.CHILD_LIMIT: ("child limit", "", ""),
    L.NO_BOOT: ("no boot", "kernel_map", _NO_BOOT_MESSAGE),
    L.KMEM_FULL: (
        "fork failure",
        "kmem_map",
        "[no panic: fork() fails, kmem_cache_alloc finds no room in kmem_map (KERN_RESOURCE_SHORTAGE)]",
    ),
    L.KMEM_NOMEM: (
        "fork failure",
        "physical memory",
        "[no panic: fork() fails, no free page for a kernel object (KERN_RESOURCE_SHORTAGE)]",
    ),
    L.KMAP_FAIL: (
        "fork failure",
        "kernel_map",
        "[no panic: fork() fails, no kernel_map for a page directory (KERN_RESOURCE_SHORTAGE)]",
    ),
}

WHO: Final[dict[int, str]] = {
    L.WHO_CHILD: "child",
    L.WHO_BACKGROUND: "background",
    L.WHO_SERVER: "server",
    L.WHO_OTHER: "other user",
}
"""Who made the allocation that ended a run, in words."""


# ---------------------------------------------------------------------------- first use

COLD_SECONDS: Final[dict[str, int]] = {
    "_boot": 2,
    "_boot_tasks": 1,
    "_pages_in_use": 1,
    "_exit_children": 1,
    "_replay": 1,
    "_bomb": 1,
    "_bomb_chunk": 1,
    "_bomb_timed": 13,
    "_bomb_timed_chunk": 14,
    "_bomb_limited": 2,
    "_bomb_limited_chunk": 1,
    "_burst_run": 15,
    "_burst_chunk": 16,
    "_open_storm": 3,
    "_exit_clients": 1,
    "_kill_clients": 13,
    "_kill_null_instances": 13,
    "_build": 24,
    "_build_row": 1,
    "_new_paging": 1,
    "_build_chunk": 25,
}
"""About how long compiling each kernel called from Python takes on two cores, with the kernels it calls,
on an empty cache; unknown ones count 5 s.

Measured in new processes on an empty cache (issue 17; ``nox -s bench``, section (f), and the same calls
by hand) on a 2-core machine on 4 December 2026: a first fork bomb 4.7 s, an open() storm 6.4 s, a timed
fork bomb 16.5 s, a close burst 19.4 s, a first ``compile_job`` 27.9 s, a first kill on a System (after
its open() storm) 12.9 s.  About 3 s of each is the boot kernels'.  Every kernel that runs the servers'
event loop (``_kernels.engine._serve``) compiles it with everything it inlines: a timed fork bomb, a
close burst or a kill on a System without a build's branches, a build with them (and the paging kernels)."""
BOOT_KERNELS: Final = (_boot, _boot_tasks, _pages_in_use)
"""The kernels every experiment on a booted system calls (:meth:`Booted.up`, the session, RAM left)."""
_noticed = False
_seen: set[int] = set()


def compile_notice(*kernels: object) -> None:
    """Before *kernels* are first called: if any will be compiled (not loaded), say so on stderr, once per process.

    The one line names the expected time; kernels loaded from numba's cache
    (or already in memory) print nothing.  Each kernel is looked at once per process.
    """
    if _noticed:
        return
    fresh = [k for k in kernels if id(k) not in _seen]
    if not fresh:
        return
    _seen.update(id(k) for k in fresh)
    compiling = [k for k in fresh if will_compile(k)]
    if not compiling:
        return
    seconds = sum(COLD_SECONDS.get(getattr(getattr(k, "py_func", k), "__name__", ""), 5) for k in compiling)
    first_use_notice("", seconds)


def first_use_notice(what: str, seconds: float) -> None:
    """Say on stderr, once per process, that kernels are being compiled for first use in about *seconds*.

    *what* names who compiles (``""``: the experiment just called); after
    this line no :func:`compile_notice` prints another.
    """
    global _noticed
    _noticed = True
    later = (
        "later calls load them from the cache"
        if CACHE
        else "later calls in this process reuse them (ZONEMODEL_NUMBA_CACHE=0: every process compiles them)"
    )
    about = max(5, 5 * round(seconds / 5))
    print(f"zonemodel: {what}compiling zonemodel kernels for first use, about {about} s; {later}", file=sys.stderr)


# ---------------------------------------------------------------------------- checks


def check_kernel(kernel: object) -> Kernel:
    """Refuse anything but a :class:`~zonemodel.Kernel`."""
    if not isinstance(kernel, Kernel):
        raise ParameterError(f'"kernel" must be a zonemodel.Kernel (see zonemodel.gnumach), got {kernel!r}')
    return kernel


def check_zalloc(kernel: object) -> Kernel:
    """Refuse anything but a zalloc-era :class:`~zonemodel.Kernel`."""
    k = check_kernel(kernel)
    if k.allocator != "zalloc":
        raise ConfigurationError(
            f'"kernel": {k!r} uses the {k.allocator} allocator; this experiment needs '
            'allocator="zalloc" (presets 2005, 2007, 2009)'
        )
    return k


def check_choice(name: str, value: object, allowed: Iterable[str]) -> str:
    """*value* if it is one of *allowed*, else a ParameterError naming *name* and the choices."""
    choices = tuple(allowed)
    if not isinstance(value, str) or value not in choices:
        raise ParameterError(f'"{name}" must be one of {", ".join(map(repr, choices))}, got {value!r}')
    return value


def check_count(name: str, value: object, low: int = 1, high: int | None = None) -> int:
    """An integer (numpy integers too, not bools) in [*low*, *high*], as a Python int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f'"{name}" must be an integer >= {low}, got {value!r}')
    number = int(value)
    if number < low or (high is not None and number > high):
        shown = f">= {low}" if high is None else f"between {low} and {high}"
        raise ParameterError(f'"{name}" must be an integer {shown}, got {value!r}')
    return number


def check_runs(value: object, high: int = MAX_RUNS, why: str = "") -> int:
    """``runs``: an integer in [1, *high*]; past the bound, an error that says how to run more."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f'"runs" must be an integer between 1 and {high:_}, got {value!r}')
    number = int(value)
    if number < 1:
        raise ParameterError(f'"runs" must be an integer between 1 and {high:_}, got {value!r}')
    if number > high:
        raise ParameterError(f'"runs" must be an integer between 1 and {high:_}{why}, got {value!r}; {MORE_RUNS}')
    return number


# ---------------------------------------------------------------------------- arrays from model values


def zone_table(kernel: Kernel) -> np.ndarray:
    """A fresh, empty zone table (:data:`~zonemodel._kernels.layout.ZONE_DTYPE`) for *kernel*."""
    specs = zone_specs(kernel)
    table = np.zeros(len(specs), dtype=L.ZONE_DTYPE)
    table["elem_size"] = [s.elem_size for s in specs]
    table["max_size"] = [s.max_size for s in specs]
    table["alloc_size"] = [s.alloc_size for s in specs]
    table["flags"] = [(L.EXHAUSTIBLE if s.exhaustible else 0) | (L.COLLECTABLE if s.collectable else 0) for s in specs]
    return table


def zone_map_state(kernel: Kernel) -> np.ndarray:
    """The zone map right after ``zone_init`` (``M_*``): the GC page table takes the first pages."""
    page = kernel.page_size
    pages = kernel.zone_map // page
    table_pages = -(-(pages * 8) // page)  # 8 B of zone_page_table_entry per page
    ms = np.zeros(L.M_SIZE, dtype=np.int64)
    ms[L.M_PAGE] = page
    ms[L.M_MAP_PAGES] = pages - table_pages
    ms[L.M_END] = kernel.zdata  # zget_space hands out zdata first
    ms[L.M_PANIC_ZONE] = -1
    return ms


def limit_array(limits: Limits | None) -> np.ndarray:
    """The remedies as the kernels' ``L_*`` array (zeros: no limit)."""
    lim = limits or Limits()
    out = np.zeros(L.L_SIZE, dtype=np.int64)
    out[L.L_NPROC] = lim.nproc or 0
    out[L.L_PORTS] = lim.ports_per_task or 0
    out[L.L_THREADS] = lim.threads_per_task or 0
    out[L.L_QUOTA] = int(lim.kmem_quota or 0)
    out[L.L_OOM] = int(lim.oom_killer)
    out[L.L_MARGIN_PPM] = round(lim.oom_margin * 1_000_000)
    return out


_POLICY_KINDS: Final = {
    "unbounded": L.K_UNBOUNDED,
    "throttle": L.K_THROTTLE,
    "depress": L.K_DEPRESS,
    "fixed": L.K_FIXED,
    "headroom": L.K_HEADROOM,
}


def policy_arrays(pol: ThreadPolicy) -> tuple[np.ndarray, np.ndarray]:
    """A thread policy as the kernels' (``PI_*`` int64, ``PF_*`` float64) arrays."""
    pi = np.zeros(L.PI_SIZE, dtype=np.int64)
    pi[L.PI_KIND] = _POLICY_KINDS[pol.kind]
    pi[L.PI_CAP] = pol.cap
    pi[L.PI_DELAY_FROM] = pol.delay_from
    pi[L.PI_POOL] = pol.pool
    pi[L.PI_FREE_THREADS] = max(1, pol.free_threads)
    pf = np.zeros(L.PF_SIZE, dtype=np.float64)
    pf[L.PF_DELAY] = pol.delay
    pf[L.PF_RESERVE] = pol.reserve
    pf[L.PF_BACKOFF] = pol.backoff
    return pi, pf


def server_model(
    kernel: Kernel, pol: ThreadPolicy, limits: Limits | None = None, rpcs: dict[int, int] | None = None
) -> L.ServerModel:
    """The servers' bundle: empty pools, the policy, service times, message sizes, remedies."""
    svc = np.full((L.N_SERVERS, L.N_MSG_KINDS), kernel.service_rpc, dtype=np.float64)
    svc[L.NULL, L.MSG_NOTIFY] = kernel.service_notify_null
    svc[L.EXT2FS, L.MSG_NOTIFY] = kernel.service_notify_ext2fs
    msize = np.zeros(L.N_MSG_KINDS, dtype=np.int64)
    msize[L.MSG_NOTIFY] = kernel.notify_msg_size
    msize[L.MSG_RPC] = msize[L.MSG_CALL] = kernel.rpc_msg_size
    msize[L.MSG_DATA_REQUEST] = msize[L.MSG_DATA_UNLOCK] = msize[L.MSG_DATA_RETURN] = kernel.pager_msg_size
    requests = np.zeros(L.N_SERVERS, dtype=np.int64)
    for server, n in (rpcs or {}).items():
        requests[server] = n
    pi, pf = policy_arrays(pol)
    return L.ServerModel(
        np.zeros((L.N_SERVERS, L.S_COLS), dtype=np.int64),
        pi,
        pf,
        svc,
        msize,
        requests,
        limit_array(limits),
        np.zeros(L.RM_SIZE, dtype=np.int64),
        scheduler_array(kernel),
        base_priorities(kernel),
    )


def scheduler_array(kernel: Kernel) -> np.ndarray:
    """The scheduler's parameters (``SP_*``) of *kernel*."""
    sp = np.zeros(L.SP_SIZE, dtype=np.float64)
    sp[L.SP_TICK] = 1.0 / kernel.hz
    sp[L.SP_QUANTUM] = kernel.quantum_ticks
    sp[L.SP_SECOND] = kernel.sched_tick_ticks
    sp[L.SP_LEVEL] = kernel.priority_level_cpu
    sp[L.SP_DECAY] = kernel.usage_decay
    sp[L.SP_SPAWN_CPU] = kernel.thread_start_cpu
    sp[L.SP_WALK_CPU] = kernel.thread_walk_cpu
    sp[L.SP_CLOSE_CPU] = kernel.close_interval_fast
    sp[L.SP_PHASE] = 1.0 if kernel.clock_phase == "random" else 0.0
    sp[L.SP_FIXED] = 1.0 if kernel.cpu_times == "fixed" else 0.0
    sp[L.SP_STALL] = kernel.null_stall_chance
    sp[L.SP_KILL_CPU] = kernel.kill_cpu_per_right
    sp[L.SP_YIELDS] = kernel.process_threads
    return sp


def base_priorities(kernel: Kernel) -> np.ndarray:
    """Base priority of each pool's threads (ext2fs's pager pool included), then of the clients' (row ``CLIENT``)."""
    prio = np.full(L.N_POOLS + 1, kernel.priority_user, dtype=np.int64)
    prio[L.PROC] = kernel.priority_proc
    return prio


def job(
    *,
    processes: int = 0,
    ports_each: int = 0,
    other: int = 0,
    max_forks: int = 0,
    interval: float = 0.0,
    nofile: int = 0,
    gap: float = 0.0,
    kill: bool = False,
) -> L.Job:
    """The numbers of one storm or timed bomb as the kernels' :class:`~zonemodel._kernels.layout.Job`.

    *nofile* is each client's soft RLIMIT_NOFILE (0: none); *gap* is a slow
    close's mean sleep of a client between two closes (0: a fast close);
    *kill*: the clients are killed from a shell instead of closing their ports.
    """
    ji = np.zeros(L.J_SIZE, dtype=np.int64)
    ji[L.J_NOFILE] = nofile
    ji[L.J_PROCESSES] = processes
    ji[L.J_PORTS_EACH] = ports_each
    ji[L.J_OTHER] = other
    ji[L.J_MAX_FORKS] = max_forks
    ji[L.J_KILL] = int(kill)
    jf = np.zeros(L.JF_SIZE, dtype=np.float64)
    jf[L.JF_INTERVAL] = interval
    jf[L.JF_GAP] = gap
    return L.Job(ji, jf)


def process_row(kernel: Kernel, *, ports: int, names: int, chain_ports: int = 0) -> np.ndarray:
    """The parameter row (``Q_*``) of one process of *kernel*."""
    q = np.zeros(L.Q_SIZE, dtype=np.int64)
    q[L.Q_THREADS] = kernel.process_threads
    q[L.Q_PORTS] = ports
    q[L.Q_NAMES] = names
    q[L.Q_MAP_ENTRIES] = kernel.process_map_entries
    q[L.Q_SHADOW] = kernel.process_shadow_objects
    q[L.Q_PV] = kernel.process_pv_entries
    q[L.Q_RESIDENT] = -(-kernel.process_resident // kernel.page_size)
    q[L.Q_SERVER_NAMES] = kernel.server_names_per_process
    q[L.Q_CHAIN_PORTS] = chain_ports
    return q


def child_row(kernel: Kernel, start: str, user: str) -> np.ndarray:
    """Parameters of one bomb child started from *start* by *user*."""
    ports = {"console": kernel.ports_console, "ssh": kernel.ports_ssh, "screen": kernel.ports_screen}[start]
    names = kernel.process_names + ports + (kernel.root_extra_names if user == "root" else 0)
    return process_row(kernel, ports=ports, names=names, chain_ports=kernel.chain_ports)


def session_tasks(kernel: Kernel, start: str) -> int:
    """Extra tasks of the login session a bomb started from *start* runs in."""
    return {"console": 0, "ssh": kernel.session_tasks_ssh, "screen": kernel.session_tasks_screen}[start]


# ---------------------------------------------------------------------------- the booted system


@dataclass
class Booted:
    """One booted simulated system: the kernel's :class:`~zonemodel._kernels.layout.Machine` and more."""

    kernel: Kernel
    """The kernel it runs."""
    boot: BootReport
    """What :func:`zonemodel.boot` said."""
    machine: L.Machine
    """The kernels' arrays."""
    base_q: np.ndarray
    """Parameter row of an ordinary task."""
    fp: np.ndarray
    """The background's rates (``F_*``)."""
    status: int
    """``OK``, or why the system did not come up (``NO_BOOT``, or a panic while starting its tasks)."""

    @classmethod
    def up(cls, kernel: Kernel) -> Booted:
        """Boot *kernel*: kernel_map, then the kernel's own spaces and threads and the system's tasks."""
        report = boot(kernel)
        page = kernel.page_size
        res = np.zeros(L.RES_SIZE, dtype=np.int64)
        # boot() already reserved the system tasks' page directories; the kernel takes them again below.
        res[L.R_KMAP_FREE] = report.kernel_map_free + kernel.system_tasks * page
        res[L.R_KALLOC_FREE] = kernel.kalloc_map
        res[L.R_KM_SEGMENTS] = 1  # kalloc_map: one free range (first fit, by pages)
        res[L.KM_BASE + 1] = kernel.kalloc_map // page
        res[L.R_SERVER_ADDR] = -1
        gp = np.zeros(L.G_SIZE, dtype=np.int64)
        gp[L.G_PAGE] = page
        gp[L.G_COMPAT] = int(kernel.mach_ipc_compat)
        gp[L.G_ENTRY] = kernel.entry_size
        gp[L.G_RAM_PAGES] = kernel.usable_ram // page
        gp[L.G_BASE_PAGES] = -(-(kernel.boot_resident + report.stolen) // page)
        gp[L.G_KALLOC_MAP] = kernel.kalloc_map
        gp[L.G_MAX_CHILDREN] = MAX_CHILDREN
        gp[L.G_SLAB] = int(kernel.allocator == "slab")
        gp[L.G_WAITS] = int(kernel.kmem_waits_for_memory)
        gp[L.G_NULL_PER_OPEN] = kernel.null_names_per_open
        gp[L.G_ZONE_MAP] = kernel.zone_map
        gp[L.G_THREAD_BYTES] = kernel.thread_size + kernel.pcb_size + 2 * kernel.port_size
        gp[L.G_PORT_BYTES] = kernel.port_size
        gp[L.G_NULL_NAMES] = kernel.null_names
        gp[L.G_EXT2FS_NAMES] = kernel.ext2fs_names
        machine = L.Machine(zone_table(kernel), zone_map_state(kernel), res, gp, table_sizes(kernel.entry_size, page))
        base_q = process_row(kernel, ports=kernel.process_ports, names=kernel.process_names + kernel.process_ports)
        fp = np.zeros(L.F_SIZE, dtype=np.float64)
        fp[L.F_BG_RATE] = kernel.background_rate
        fp[L.F_BG_EXIT] = kernel.background_exit
        status = L.NO_BOOT
        if report.booted:
            status = int(
                _boot(
                    machine,
                    base_q,
                    kernel.kernel_boot_spaces,
                    kernel.kernel_threads,
                    kernel.system_tasks,
                    kernel.boot_ports,
                    np.empty(L.P_SIZE, dtype=np.int64),
                )
            )
        return cls(kernel, report, machine, base_q, fp, status)

    def start_session(self, start: str) -> int:
        """Start the login session a bomb runs in (extra tasks for ssh and screen); return a status."""
        tasks = session_tasks(self.kernel, start)
        return int(_boot_tasks(self.machine, self.base_q, 0, 0, tasks, 0, np.empty(L.P_SIZE, dtype=np.int64)))

    def workload(self, child_q: np.ndarray | None = None) -> L.Workload:
        """The processes of an experiment on this system (ordinary tasks where no child row is given)."""
        return L.Workload(self.base_q if child_q is None else child_q, self.base_q, self.fp)

    @property
    def panic_zone(self) -> int:
        """The zone named by a zone-map panic, or -1."""
        return int(self.machine.ms[L.M_PANIC_ZONE])

    @property
    def zone_map_used(self) -> int:
        """Bytes of the zone map taken (whole pages, including the GC page table)."""
        page = self.kernel.page_size
        ms = self.machine.ms
        return int(ms[L.M_MAP_USED] + self.kernel.zone_map // page - ms[L.M_MAP_PAGES]) * page

    @property
    def ram_free(self) -> int:
        """Bytes of physical memory left."""
        gp = self.machine.gp
        return int(gp[L.G_RAM_PAGES] - _pages_in_use(self.machine)) * int(gp[L.G_PAGE])

    @property
    def kernel_map_free(self) -> int:
        """Bytes of kernel_map left."""
        return int(self.machine.res[L.R_KMAP_FREE])

    @property
    def kalloc_map_free(self) -> int:
        """Bytes of kalloc_map left."""
        return int(self.machine.res[L.R_KALLOC_FREE])


def up_or_raise(kernel: Kernel) -> Booted:
    """Boot *kernel* (:meth:`Booted.up`), or raise :class:`~zonemodel.errors.BootError` saying why it does not boot.

    The one boot gate of the public experiments: a kernel that does not
    boot, or whose own tasks do not fit at boot, is reported the same way
    by every experiment, whatever ``runs`` is.
    """
    booted = Booted.up(kernel)
    if booted.status == L.OK:
        return booted
    report = booted.boot
    if not report.booted:
        why = report.message + (": " if report.message and report.reason else "") + report.reason
    else:
        why = f"its own tasks do not fit at boot ({describe(booted.status, booted.panic_zone)[2]})"
    raise BootError(
        f'"kernel": {kernel!r} does not boot: {why}; see zonemodel.boot(kernel) for its kernel_map budget',
        report,
    )


# ---------------------------------------------------------------------------- batches


def in_batches(
    run: Callable[[int, int], np.ndarray],
    total: int,
    consume: Callable[[np.ndarray], None],
    *,
    most: int,
    progress: bool | None,
    desc: str,
) -> None:
    """Replicates ``0 .. total - 1`` as ``run(first, count)`` batches, each handed to *consume*, in order.

    Batches are sized to run about :data:`BATCH_SECONDS` each (from the pace of
    the previous one, at most *most* replicates), so the progress bar advances
    and only one batch of rows is held at a time.  Replicate *i* is seeded by
    its index alone, so the cut changes no result.
    """
    size = min(total, most, 16)
    first = 0
    with Progress(total, enabled=progress, desc=desc) as bar:
        while first < total:
            count = min(size, total - first)
            began = time.perf_counter()
            consume(run(first, count))
            pace = count / max(time.perf_counter() - began, 1e-6)
            bar.update(count)
            first += count
            size = int(max(1, min(most, 4 * count, pace * BATCH_SECONDS)))


class Tally:
    """Per-run columns gathered batch by batch, compactly: equal values of a batch share one Python object.

    >>> tally = Tally()
    >>> tally.add("count", np.array([420, 420, 419]))
    >>> tally.add("count", np.array([420]))
    >>> tally.column("count")
    (420, 420, 419, 420)
    """

    def __init__(self) -> None:
        self._columns: dict[str, list[object]] = {}

    def add(self, name: str, values: np.ndarray | Sequence[object]) -> None:
        """Append *values* (a NumPy array, or a list of Python values) to column *name*."""
        column = self._columns.setdefault(name, [])
        if isinstance(values, np.ndarray) and values.size:
            distinct, inverse = np.unique(values, return_inverse=True)
            objects = np.empty(len(distinct), dtype=object)
            objects[:] = distinct.tolist()
            column.extend(objects[inverse.reshape(-1)].tolist())
        else:
            column.extend(values.tolist() if isinstance(values, np.ndarray) else list(values))

    def column(self, name: str) -> tuple[Any, ...]:
        """Column *name* as a tuple (empty if nothing was added)."""
        return tuple(self._columns.get(name, ()))


def words_of_rows(
    rows: np.ndarray, words: Callable[[np.void], tuple[str, str, str]], keys: tuple[str, ...]
) -> tuple[list[str], list[str], list[str]]:
    """(outcomes, limits, messages) of *rows*: *words* is called once per distinct combination of the *keys* fields."""
    if not len(rows):
        return [], [], []
    stacked = np.stack([rows[k] for k in keys], axis=1)
    _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    table = np.empty((len(first), 3), dtype=object)
    for j, i in enumerate(first):
        table[j] = words(rows[i])
    picked = table[inverse.reshape(-1)]
    return picked[:, 0].tolist(), picked[:, 1].tolist(), picked[:, 2].tolist()


# ---------------------------------------------------------------------------- rows and words


def new_rows(count: int) -> np.ndarray:
    """*count* empty replicate rows (:data:`~zonemodel._kernels.layout.ROW_DTYPE`)."""
    rows = np.zeros(count, dtype=L.ROW_DTYPE)
    rows["panic_zone"] = -1
    return rows


def describe(status: int, panic_zone: int = -1, boot_message: str = "") -> tuple[Outcome, Limit, str]:
    """(outcome, limit, console message) of a status code; *boot_message* names a boot failure."""
    outcome, limit, message = _STATUS[status]
    if status == L.ZONE_PANIC:
        message = message.format(zone=ZONE_NAMES[panic_zone])
    elif status == L.NO_BOOT and boot_message:
        message = boot_message
    return outcome, limit, message


def most_common(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """``(value, count)`` pairs, most frequent first (ties in order of first appearance)."""
    return tuple(Counter(values).most_common())
