"""The arrays of one booted simulated system, and how to build them from a kernel preset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from zonemodel._kernels import forkbomb as _forkbomb
from zonemodel._kernels import layout as L
from zonemodel._kernels import process as P
from zonemodel._kernels import zalloc as _zalloc
from zonemodel.errors import ParameterError
from zonemodel.model.boot import BootReport, boot
from zonemodel.model.ipc_tables import table_sizes
from zonemodel.model.kernel import Kernel
from zonemodel.model.limits import Limits
from zonemodel.model.policies import ThreadPolicy
from zonemodel.model.zones import ZONE_NAMES, zone_specs

START_METHODS: Final = ("console", "ssh", "screen")
USERS: Final = ("user", "root")
MAX_CHILDREN: Final = 200_000

_STATUS: Final = {
    # status: (outcome, limit, console line or a bracketed description); ZONE_PANIC's names the zone.
    P.ZONE_PANIC: ("panic", "zone map", "panic: zalloc: zone {zone} exhausted"),
    P.IPC_TASK_INIT: ("panic", "ipc spaces", "panic: ipc_task_init"),
    P.PMAP_CREATE: ("panic", "kernel_map", "panic: pmap_create"),
    P.KALLOC_MAP_FULL: (
        "fork failure",
        "kalloc_map",
        "[no panic: fork() fails, an IPC entry table cannot grow in kalloc_map]",
    ),
    P.NO_MEMORY: ("hang", "physical memory", "[no message: the forking thread waits for a free page for ever]"),
    P.CHILD_LIMIT: ("child limit", "", ""),
    P.NO_BOOT: ("no boot", "kernel_map", "[the kernel does not boot: see zonemodel.boot()]"),
    P.KMEM_FULL: (
        "fork failure",
        "kmem_map",
        "[no panic: fork() fails, kmem_cache_alloc finds no room in kmem_map (KERN_RESOURCE_SHORTAGE)]",
    ),
    P.KMEM_NOMEM: (
        "fork failure",
        "physical memory",
        "[no panic: fork() fails, no free page for a kernel object (KERN_RESOURCE_SHORTAGE)]",
    ),
    P.KMAP_FAIL: (
        "fork failure",
        "kernel_map",
        "[no panic: fork() fails, no kernel_map for a page directory (KERN_RESOURCE_SHORTAGE)]",
    ),
}


def zone_table(kernel: Kernel) -> np.ndarray:
    """A fresh, empty zone table (:data:`~zonemodel._kernels.layout.ZONE_DTYPE`) for *kernel*."""
    specs = zone_specs(kernel)
    table = np.zeros(len(specs), dtype=L.ZONE_DTYPE)
    table["elem_size"] = [s.elem_size for s in specs]
    table["max_size"] = [s.max_size for s in specs]
    table["alloc_size"] = [s.alloc_size for s in specs]
    table["flags"] = [(L.EXHAUSTIBLE if s.exhaustible else 0) | (L.COLLECTABLE if s.collectable else 0) for s in specs]
    return table


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


def describe(status: int, panic_zone: int) -> tuple[str, str, str]:
    """(outcome, limit, console message) for a kernel status code."""
    outcome, limit, message = _STATUS[status]
    if status == P.ZONE_PANIC:
        message = message.format(zone=ZONE_NAMES[panic_zone])
    return outcome, limit, message


def check_kernel(kernel: object) -> Kernel:
    """Refuse anything but a Kernel."""
    if not isinstance(kernel, Kernel):
        raise ParameterError(f'"kernel" must be a zonemodel.Kernel (see zonemodel.gnumach), got {kernel!r}')
    return kernel


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ParameterError(f'"{name}" must be one of {", ".join(map(repr, allowed))}, got {value!r}')
    return str(value)


def process_row(kernel: Kernel, *, ports: int, names: int, chain_ports: int) -> np.ndarray:
    """The per-process parameter row (``_process.Q_*``) for a process of *kernel*."""
    q = np.zeros(P.Q_SIZE, dtype=np.int64)
    q[P.Q_THREADS] = kernel.process_threads
    q[P.Q_PORTS] = ports
    q[P.Q_NAMES] = names
    q[P.Q_MAP_ENTRIES] = kernel.process_map_entries
    q[P.Q_SHADOW] = kernel.process_shadow_objects
    q[P.Q_PV] = kernel.process_pv_entries
    q[P.Q_RESIDENT] = -(-kernel.process_resident // kernel.page_size)
    q[P.Q_SERVER_NAMES] = kernel.server_names_per_process
    q[P.Q_CHAIN_PORTS] = chain_ports
    return q


def child_row(kernel: Kernel, start: str, user: str) -> np.ndarray:
    """Parameters of one bomb child started from *start* by *user*."""
    ports = {"console": kernel.ports_console, "ssh": kernel.ports_ssh, "screen": kernel.ports_screen}[start]
    names = kernel.process_names + ports + (kernel.root_extra_names if user == "root" else 0)
    return process_row(kernel, ports=ports, names=names, chain_ports=kernel.chain_ports)


def session_tasks(kernel: Kernel, start: str) -> int:
    return {"console": 0, "ssh": kernel.session_tasks_ssh, "screen": kernel.session_tasks_screen}[start]


@dataclass
class State:
    """Mutable arrays of one booted system (zones, zone map, other resources)."""

    kernel: Kernel
    boot: BootReport
    zones: np.ndarray
    ms: np.ndarray
    res: np.ndarray
    gp: np.ndarray
    its: np.ndarray
    base_q: np.ndarray
    fp: np.ndarray
    boot_status: int

    @classmethod
    def booted(cls, kernel: Kernel, *, chain: bool = False) -> State:
        """Boot *kernel*: kernel_map, then the kernel's and the system's tasks."""
        report = boot(kernel)
        page = kernel.page_size
        zones = zone_table(kernel)
        ms = _zalloc.new_map_state(kernel.zone_map, kernel.zdata, page)
        res = np.zeros(P.RES_SIZE, dtype=np.int64)
        # boot() already reserved the system tasks' page directories; _spawn takes them again below.
        res[P.R_KMAP_FREE] = report.kernel_map_free + kernel.system_tasks * page
        P.init_kalloc_map(res, kernel.kalloc_map, page)
        stolen = sum(size for what, size in report.items if _is_stolen(what))
        gp = np.zeros(P.G_SIZE, dtype=np.int64)
        gp[P.G_PAGE] = page
        gp[P.G_COMPAT] = int(kernel.mach_ipc_compat)
        gp[P.G_ENTRY] = kernel.entry_size
        gp[P.G_RAM_PAGES] = kernel.usable_ram // page
        gp[P.G_SLAB] = int(kernel.allocator == "slab")
        gp[P.G_WAITS] = int(kernel.kmem_waits_for_memory)
        gp[P.G_BASE_PAGES] = -(-(kernel.boot_resident + stolen) // page)
        gp[P.G_KALLOC_MAP] = kernel.kalloc_map
        gp[P.G_MAX_CHILDREN] = MAX_CHILDREN
        gp[P.G_CHAIN] = int(chain)
        gp[P.G_NULL_PER_OPEN] = kernel.null_names_per_open
        its = table_sizes(kernel.entry_size, page)
        base_q = process_row(
            kernel, ports=kernel.process_ports, names=kernel.process_names + kernel.process_ports, chain_ports=0
        )
        fp = np.array([kernel.background_rate, kernel.background_exit], dtype=np.float64)
        status = P.OK
        if report.booted:
            status, res[P.R_SERVER_ADDR] = P._kalloc(zones, ms, res, gp, its[0] * kernel.entry_size)  # servers
            if status == P.OK:
                status = _forkbomb._boot_tasks(
                    zones,
                    ms,
                    res,
                    gp,
                    its,
                    base_q,
                    kernel.kernel_boot_spaces,
                    kernel.kernel_threads,
                    kernel.system_tasks,
                    kernel.boot_ports,
                )
        return cls(kernel, report, zones, ms, res, gp, its, base_q, fp, status)

    def copy(self) -> State:
        return State(
            self.kernel,
            self.boot,
            self.zones.copy(),
            self.ms.copy(),
            self.res.copy(),
            self.gp.copy(),
            self.its,
            self.base_q,
            self.fp,
            self.boot_status,
        )

    def start_session(self, start: str) -> int:
        """Start the login session the bomb runs in (extra tasks for ssh and screen)."""
        return int(
            _forkbomb._boot_tasks(
                self.zones,
                self.ms,
                self.res,
                self.gp,
                self.its,
                self.base_q,
                0,
                0,
                session_tasks(self.kernel, start),
                0,
            )
        )

    @property
    def zone_map_used(self) -> int:
        page = int(self.gp[P.G_PAGE])
        total = self.kernel.zone_map // page
        return int(self.ms[_zalloc.M_MAP_USED] + total - self.ms[_zalloc.M_MAP_PAGES]) * page

    @property
    def ram_free(self) -> int:
        used = P._pages_in_use(self.ms, self.res, self.gp)
        return int(self.gp[P.G_RAM_PAGES] - used) * int(self.gp[P.G_PAGE])


def _is_stolen(what: str) -> bool:
    """Boot items that are physical memory stolen at boot (not sub-maps or later allocations)."""
    return what not in _SUBMAPS and not what.startswith("page directories")


_SUBMAPS: Final = frozenset(
    {"zone_map", "kmem_map", "kalloc_map", "ipc_kernel_map", "device_io_map", "boot stacks and driver glue"}
)
