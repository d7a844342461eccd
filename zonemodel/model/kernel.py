"""Kernel presets: GNU Mach (and the Hurd around it) as it was in a given year.

A :class:`Kernel` is a frozen bundle of every number the simulation uses.
:func:`gnumach` builds one from a preset year and optional overrides::

    >>> import zonemodel
    >>> k = zonemodel.gnumach(2005, zone_map="8 MiB")
    >>> k.zone_map
    8388608
    >>> k.provenance("zone_map").kind
    'override'
    >>> k.provenance("kalloc_map").reference
    'kern/kalloc.c:50 (kalloc_map_size) @ GNU Mach 1.3 4fd7c820 (2002-05-27)'

Each value carries its provenance (see :mod:`zonemodel.model.provenance`);
:func:`provenance_table` lists them for the documentation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from zonemodel.errors import ParameterError, UnknownPresetError
from zonemodel.model.provenance import Document, Estimate, Fitted, Override, Provenance, Source
from zonemodel.units import format_size, parse_size

__all__ = ["YEARS", "Kernel", "gnumach", "provenance_table"]

YEARS: Final = (2005, 2007, 2009, 2013)
"""Preset years: the code of GNU Mach and the Hurd as of that year."""

_KiB: Final = 1 << 10
_MiB: Final = 1 << 20


@dataclass(frozen=True, repr=False)
class Kernel:
    """Every parameter of one simulated GNU Mach system.

    Build one with :func:`gnumach`; fields are documented below.  Sizes are
    in bytes, counts are plain integers.  Instances are immutable; use
    :meth:`replace` (or :func:`gnumach` with overrides) to change a field.

    Examples
    --------
    >>> import zonemodel
    >>> k = zonemodel.gnumach(2005)
    >>> k.zone_map, k.kernel_map
    (12582912, 41943040)
    """

    year: int
    """Preset year the kernel was built from."""
    allocator: str
    """``"zalloc"`` (zone allocator, GNU Mach 1.x until 2011) or ``"slab"`` (GNU Mach 1.4)."""
    page_size: int
    """Size of a virtual-memory page."""
    ram: int
    """Physical memory of the machine."""
    ram_limit: int
    """RAM the kernel truncates physical memory to at boot (0: no truncation); see :attr:`usable_ram`."""

    # --- kernel virtual address space -------------------------------------
    kernel_va: int
    """Kernel virtual address space below ``VM_MAX_KERNEL_ADDRESS`` (physical memory is mapped 1:1 from 0)."""
    kernel_map_base: int
    """Fixed part of kernel_map (``morevm``), placed right after the direct map of physical memory."""
    kernel_map_ram_fraction: float
    """kernel_map grows by this fraction of RAM (0 in 2005, 1/15 from 2006-05, 1 from 2008-12)."""
    zone_map: int
    """Size of the zone map, the sub-map of kernel_map from which zones take pages (``zone_map_size``)."""
    zdata: int
    """Boot-time zone memory stolen outside the zone map; zget_space hands it out first."""
    kalloc_map: int
    """Sub-map for kalloc requests too large for the kalloc zones and for big IPC entry tables."""
    ipc_kernel_map: int
    """Sub-map for IPC kernel buffers (out-of-line data in transit)."""
    device_io_map: int
    """Sub-map for device I/O buffers."""
    kentry_data: int
    """Stolen at boot for the first kernel map entries (kentry_count x entry size)."""
    boot_kernel_map_other: int
    """kernel_map taken at boot besides stolen memory and sub-maps (boot kernel stacks, driver glue)."""
    vm_page_struct: int
    """sizeof(struct vm_page): the boot-time page array costs this per physical page."""
    vm_page_bucket: int
    """Size of one vm_page hash bucket; there is one per physical page, rounded up to a power of two."""
    pmap_bytes_per_page_x8: int
    """pmap_init tables per physical page, in eighths of a byte (pv head, attribute byte, lock bit)."""

    # --- limits from kern/mach_param.h --------------------------------------
    task_max: int
    """TASK_MAX: soft maximum of the tasks zone, in elements."""
    thread_max: int
    """THREAD_MAX: soft maximum of the threads and pcb zones, in elements."""
    port_max: int
    """PORT_MAX: soft maximum of the ipc ports zone, in elements."""
    space_max: int
    """SPACE_MAX: maximum of the ipc spaces zone, in elements (hard when that zone is exhaustible)."""
    ite_max: int
    """ITE_MAX: maximum of the ipc tree entries zone (exhaustible), in elements."""
    set_max: int
    """SET_MAX: maximum of the ipc port sets zone (exhaustible), in elements."""
    ipc_spaces_exhaustible: bool
    """Whether the ipc spaces zone may refuse an allocation (until 2011-08-22), which panics ipc_task_init."""
    ram_above_direct_map: str
    """When RAM plus kernel_map exceed the kernel's addresses: ``"no boot"`` (1997-2006), ``"kernel_map shrinks"``
    to what is left (2006-2011), or ``"ignored"`` (RAM beyond the addresses left by kernel_map is not used, 2011 on)."""
    kmem_waits_for_memory: bool
    """Slab era: True if a kernel allocation waits for a free page (2016 on) instead of failing (2011-2016)."""
    mach_ipc_compat: bool
    """MACH_IPC_COMPAT: every task gets an extra compat notify port (on until 2006-12)."""

    # --- structure sizes (i386) ---------------------------------------------
    task_size: int
    """sizeof(struct task)."""
    thread_size: int
    """sizeof(struct thread)."""
    pcb_size: int
    """sizeof(struct pcb) (i386 pcb state zone)."""
    port_size: int
    """sizeof(struct ipc_port)."""
    space_size: int
    """sizeof(struct ipc_space)."""
    entry_size: int
    """sizeof(struct ipc_entry): one slot of an IPC entry table."""
    tree_entry_size: int
    """sizeof(struct ipc_tree_entry): a name kept in the splay tree instead of the table."""
    vm_map_size: int
    """sizeof(struct vm_map)."""
    map_entry_size: int
    """sizeof(struct vm_map_entry)."""
    vm_object_size: int
    """sizeof(struct vm_object)."""
    pmap_size: int
    """sizeof(struct pmap); the page directory itself comes from kernel_map."""
    pv_entry_size: int
    """sizeof(struct pv_entry): one per extra mapping of a physical page."""

    # --- the Hurd around the kernel -------------------------------------------
    kernel_boot_spaces: int
    """IPC spaces the kernel takes for itself (ipc_space_kernel, ipc_space_reply, the kernel task)."""
    kernel_threads: int
    """Kernel threads created at boot (each a thread and a pcb)."""
    system_tasks: int
    """Tasks running on the booted system before the experiment (servers, daemons, the shell)."""
    boot_ports: int
    """Kernel ports held by the system's servers at boot besides those of their tasks (ext2fs nodes, proc, term...)."""
    boot_resident: int
    """Physical memory in use after boot besides zone pages and the tasks' own pages (kernel image, servers' data)."""
    process_threads: int
    """Threads of a Hurd process: the main thread and the signal thread."""
    process_ports: int
    """New kernel ports of an ordinary system or background task (msgport, MIG reply ports, proc port)."""
    process_names: int
    """Names in a process's IPC space besides its own new ports (init ports, fds, task and thread ports...)."""
    process_map_entries: int
    """vm_map entries of a process (text, data and bss of the program and each shared library, stacks, heap)."""
    process_shadow_objects: int
    """Shadow vm_objects a fork creates (copy-on-write regions written by the child or again by the parent)."""
    process_pv_entries: int
    """pv entries of a process: pages it maps that another pmap maps too."""
    process_resident: int
    """Physical memory a sleeping forked child keeps resident besides its page directory (page tables, copies)."""
    server_names_per_process: int
    """Names the servers' IPC spaces gain per process (proc's task and proc ports, msgport, ctty ports)."""
    ports_console: int
    """New kernel ports a child costs when the bomb runs on the Mach console (besides task, thread and compat ports)."""
    ports_ssh: int
    """New kernel ports a child costs when the bomb runs in a raw ssh session."""
    ports_screen: int
    """New kernel ports a child costs when the bomb runs under screen through ssh."""
    session_tasks_ssh: int
    """Extra tasks an ssh session runs (sshd's session processes, the login shell)."""
    session_tasks_screen: int
    """Extra tasks a screen session through ssh runs (the ssh session's plus screen and its shell)."""
    root_extra_names: int
    """Extra send rights a root process holds (host_priv, device master)."""
    chain_ports: int
    """Extra ports (and names) each generation of a fork chain holds over its parent."""
    background_rate: float
    """Chance per fork that a short-lived background task starts (cron jobs, daemons' helpers)."""
    background_exit: float
    """Chance per fork that a running background task exits."""

    # --- servers ----------------------------------------------------------------
    null_names: int
    """Names in the null translator's IPC space before any open."""
    null_names_per_open: int
    """Names each ``open("/dev/null")`` adds to null's IPC space (its new protid, the ext2fs protid it keeps)."""
    ext2fs_names: int
    """Names in the root ext2fs's IPC space before the experiment (its node and protid ports)."""
    notify_msg_size: int
    """Bytes of kernel message buffer a queued no-senders notification holds (kalloc)."""
    rpc_msg_size: int
    """Bytes of kernel message buffer a queued request holds (kalloc)."""
    service_notify_null: float
    """Mean CPU time null needs for one no-senders notification, in seconds."""
    service_notify_ext2fs: float
    """Mean CPU time ext2fs needs for one no-senders notification, in seconds."""
    service_rpc: float
    """Mean CPU time a server needs for one ordinary request, in seconds."""
    close_interval_fast: float
    """Mean time between two closes when a program closes its ports in a tight loop, in seconds."""
    close_interval_slow: float
    """Mean time between two closes when they are spread out, in seconds."""
    fork_rpcs_proc: int
    """Requests a newly forked child sends proc as it starts (proc_child, proc_setmsgport, getpids...)."""
    fork_rpcs_auth: int
    """Requests a newly forked child sends auth as it starts."""

    _provenance: Mapping[str, Provenance] = field(default_factory=dict, compare=False, repr=False)

    # ------------------------------------------------------------------
    @property
    def kernel_map(self) -> int:
        """Size of kernel_map: the fixed part plus the RAM-dependent part, in bytes.

        From 2006 to 2011 (``ram_above_direct_map="kernel_map shrinks"``) it
        is cut to the kernel addresses that the directly mapped RAM leaves.
        """
        ram = self._cut_ram
        extra = int(ram * self.kernel_map_ram_fraction)
        size = self.kernel_map_base + extra - extra % self.page_size
        if self.ram_above_direct_map == "kernel_map shrinks":
            size = min(size, self.kernel_va - ram)
        return size

    @property
    def usable_ram(self) -> int:
        """RAM the kernel uses: up to :attr:`ram_limit`, and (``"ignored"``) what fits beside kernel_map."""
        if self.ram_above_direct_map == "ignored":
            return min(self._cut_ram, self.kernel_va - self.kernel_map)
        return self._cut_ram

    @property
    def _cut_ram(self) -> int:
        """RAM after the boot-time cut to :attr:`ram_limit` (0: no cut)."""
        return min(self.ram, self.ram_limit) if self.ram_limit else self.ram

    def provenance(self, name: str) -> Provenance:
        """Return the provenance of field *name*."""
        if name not in _FIELD_NAMES:
            raise UnknownPresetError(f'"name": {name!r} is not a Kernel field; known: {", ".join(_FIELD_NAMES)}')
        return self._provenance[name]

    def replace(self, **overrides: int | str | float | bool) -> Kernel:
        """Return a copy with some fields changed (validated; provenance becomes 'override')."""
        values = {name: getattr(self, name) for name in _FIELD_NAMES}
        return _build(self.year, values, dict(self._provenance), overrides)

    def overrides(self) -> tuple[str, ...]:
        """Names of the fields set by the user rather than by the preset."""
        return tuple(n for n in _FIELD_NAMES if self._provenance[n].kind == "override")

    def __reduce__(self) -> tuple[Callable[..., Kernel], tuple[dict[str, Any], dict[str, Provenance]]]:
        """Pickle as field values and provenance (the read-only provenance mapping is rebuilt on load)."""
        return _unpickle, ({name: getattr(self, name) for name in _FIELD_NAMES}, dict(self._provenance))

    def __repr__(self) -> str:
        changed = self.overrides()
        extra = f", overrides=({', '.join(changed)})" if changed else ""
        return (
            f"Kernel(gnumach {self.year}, {self.allocator}, zone_map={format_size(self.zone_map)}, "
            f"kernel_map={format_size(self.kernel_map)}, ram={format_size(self.ram)}{extra})"
        )


_FIELD_NAMES: Final = tuple(f.name for f in dataclasses.fields(Kernel) if not f.name.startswith("_"))


def _unpickle(values: dict[str, Any], provenance: dict[str, Provenance]) -> Kernel:
    return Kernel(**values, _provenance=MappingProxyType(provenance))


@dataclass(frozen=True)
class _Spec:
    """How a field is given and checked."""

    kind: str  # "size", "int", "float", "bool", "choice"
    low: float = 0
    high: float = float("inf")
    choices: tuple[str, ...] = ()


_G: Final = 1 << 30
_SPECS: Final[dict[str, _Spec]] = {
    "year": _Spec("int", 2005, 2013),
    "allocator": _Spec("choice", choices=("zalloc", "slab")),
    "page_size": _Spec("size", 4096, 4096),
    "ram": _Spec("size", 16 * _MiB, 64 * _G),
    "ram_limit": _Spec("size", 0, 64 * _G),
    "kernel_va": _Spec("size", 256 * _MiB, 4 * _G),
    "kernel_map_base": _Spec("size", 4 * _MiB, 4 * _G),
    "kernel_map_ram_fraction": _Spec("float", 0.0, 4.0),
    "zone_map": _Spec("size", 4 * _KiB, 4 * _G),
    "zdata": _Spec("size", 0, 64 * _MiB),
    "kalloc_map": _Spec("size", 0, 4 * _G),
    "ipc_kernel_map": _Spec("size", 64 * _KiB, 4 * _G),
    "device_io_map": _Spec("size", 0, 4 * _G),
    "kentry_data": _Spec("size", 0, 64 * _MiB),
    "boot_kernel_map_other": _Spec("size", 0, 1 * _G),
    "vm_page_struct": _Spec("size", 1, 4096),
    "vm_page_bucket": _Spec("size", 1, 4096),
    "pmap_bytes_per_page_x8": _Spec("int", 0, 4096),
    "task_max": _Spec("int", 1, 1 << 24),
    "thread_max": _Spec("int", 1, 1 << 24),
    "port_max": _Spec("int", 1, 1 << 26),
    "space_max": _Spec("int", 4, 1 << 24),
    "ite_max": _Spec("int", 1, 1 << 26),
    "set_max": _Spec("int", 1, 1 << 24),
    "ipc_spaces_exhaustible": _Spec("bool"),
    "ram_above_direct_map": _Spec("choice", choices=("no boot", "kernel_map shrinks", "ignored")),
    "kmem_waits_for_memory": _Spec("bool"),
    "mach_ipc_compat": _Spec("bool"),
    "kernel_boot_spaces": _Spec("int", 0, 64),
    "kernel_threads": _Spec("int", 0, 10000),
    "system_tasks": _Spec("int", 1, 100000),
    "boot_ports": _Spec("int", 0, 10_000_000),
    "boot_resident": _Spec("size", 0, 64 * _G),
    "process_threads": _Spec("int", 1, 1000),
    "process_ports": _Spec("int", 0, 100000),
    "process_names": _Spec("int", 0, 100000),
    "process_map_entries": _Spec("int", 0, 100000),
    "process_shadow_objects": _Spec("int", 0, 100000),
    "process_pv_entries": _Spec("int", 0, 1_000_000),
    "process_resident": _Spec("size", 0, 1 * _G),
    "server_names_per_process": _Spec("int", 0, 100000),
    "ports_console": _Spec("int", 0, 100000),
    "ports_ssh": _Spec("int", 0, 100000),
    "ports_screen": _Spec("int", 0, 100000),
    "session_tasks_ssh": _Spec("int", 0, 1000),
    "session_tasks_screen": _Spec("int", 0, 1000),
    "root_extra_names": _Spec("int", 0, 1000),
    "chain_ports": _Spec("int", 0, 1000),
    "background_rate": _Spec("float", 0.0, 1.0),
    "background_exit": _Spec("float", 0.0, 1.0),
    "null_names": _Spec("int", 0, 1_000_000),
    "null_names_per_open": _Spec("int", 1, 64),
    "ext2fs_names": _Spec("int", 0, 10_000_000),
    "notify_msg_size": _Spec("size", 16, 8192),
    "rpc_msg_size": _Spec("size", 16, 8192),
    "service_notify_null": _Spec("float", 1e-7, 10.0),
    "service_notify_ext2fs": _Spec("float", 1e-7, 10.0),
    "service_rpc": _Spec("float", 1e-7, 10.0),
    "close_interval_fast": _Spec("float", 1e-7, 10.0),
    "close_interval_slow": _Spec("float", 1e-7, 10.0),
    "fork_rpcs_proc": _Spec("int", 0, 1000),
    "fork_rpcs_auth": _Spec("int", 0, 1000),
    **{
        name: _Spec("size", 4, 4096)
        for name in (
            "task_size",
            "thread_size",
            "pcb_size",
            "port_size",
            "space_size",
            "entry_size",
            "tree_entry_size",
            "vm_map_size",
            "map_entry_size",
            "vm_object_size",
            "pmap_size",
            "pv_entry_size",
        )
    },
}

# --------------------------------------------------------------------------
# Provenance shorthands.  Commits are those of the GNU Mach git conversion
# of the CVS history (see docs/reference/parameters.md for the full list).
_GM13 = "GNU Mach 1.3 4fd7c820 (2002-05-27)"
_GM05 = "GNU Mach gnumach-1-branch 80fee107 (2005-07-12)"
_GM07 = "GNU Mach bc85b863 (2007-04-30)"
_GM09 = "GNU Mach fa6c711d (2009-10-14)"
_GM13S = "GNU Mach 1.4 (v1.4, 2013-09-27)"
_SIZEOF = "sizeof measured by compiling the historical headers with gcc -m32 (i386, NCPUS=1)"
_GLIBC = "glibc 2.3 (Debian GNU/Hurd 2005)"
_HURD05 = "GNU Hurd b2d343be"
_ZP = "zalloc panics, r2 (2007-04-12), antrik/Olaf Buddenhagen, Hurd wiki"


def _sizeof(header: str, commit: str = _GM05) -> Source:
    return Source(header, commit, note=_SIZEOF)


_BASE_2005: Final[dict[str, tuple[Any, Provenance]]] = {
    "year": (2005, Document(_ZP, note="antrik measured in July 2005 (first version r1, 2005-07-17)")),
    "allocator": ("zalloc", Source("kern/zalloc.c", _GM05)),
    "page_size": (4096, Source("i386/i386/vm_param.h (I386_PGBYTES)", _GM05)),
    "ram": (
        256 * _MiB,
        Document(_ZP, note="'given enough RAM'; 256 and 384 MiB gave the same counts, so 256 MiB is enough"),
    ),
    "ram_limit": (0, Source("i386/i386at/model_dep.c: no cap on RAM in GNU Mach 1.3", _GM13)),
    "kernel_va": (1 << 30, Source("i386/i386/vm_param.h:30 (VM_MAX_KERNEL_ADDRESS)", _GM13)),
    "kernel_map_base": (40 * _MiB, Source("i386/intel/pmap.c:203,630 (morevm)", _GM13)),
    "kernel_map_ram_fraction": (0.0, Source("i386/intel/pmap.c:630 (fixed morevm)", _GM13)),
    "zone_map": (12 * _MiB, Source("kern/zalloc.c:102 (zone_map_size)", _GM13)),
    "zdata": (420 * _KiB, Source("kern/zalloc.c:117 (zdata_size)", _GM13)),
    "kalloc_map": (8 * _MiB, Source("kern/kalloc.c:50 (kalloc_map_size)", _GM13)),
    "ipc_kernel_map": (1 * _MiB, Source("ipc/ipc_init.c:56 (ipc_kernel_map_size)", _GM13)),
    "device_io_map": (2 * _MiB, Source("device/ds_routines.c:1476 (DEVICE_IO_MAP_SIZE)", _GM13)),
    "kentry_data": (12 * _KiB, Source("vm/vm_map.c (kentry_count = 256 entries of 48 B)", _GM13)),
    "boot_kernel_map_other": (
        512 * _KiB,
        Estimate(
            "kernel stacks of the boot-time kernel threads (4 KiB each), the interrupt stack and "
            "Linux driver glue allocations; order of magnitude only, not measured"
        ),
    ),
    "vm_page_struct": (48, _sizeof("vm/vm_page.h (struct vm_page)")),
    "vm_page_bucket": (4, _sizeof("vm/vm_resident.c (struct vm_page_bucket, uniprocessor)")),
    "pmap_bytes_per_page_x8": (
        105,
        Source(
            "i386/intel/pmap.c pmap_init",
            _GM13,
            note="12 B pv head + 1 attribute byte + 1 lock bit per page = 13.125 B",
        ),
    ),
    "task_max": (1024, Source("kern/mach_param.h (TASK_MAX)", _GM13)),
    "thread_max": (1024, Source("kern/mach_param.h (THREAD_MAX)", _GM13)),
    "port_max": (46144, Source("kern/mach_param.h (PORT_MAX)", _GM13)),
    "space_max": (1029, Source("kern/mach_param.h (SPACE_MAX = TASK_MAX + 5)", _GM13)),
    "ite_max": (65536, Source("kern/mach_param.h (ITE_MAX)", _GM13)),
    "set_max": (2248, Source("kern/mach_param.h (SET_MAX)", _GM13)),
    "ipc_spaces_exhaustible": (True, Source("ipc/ipc_init.c:80 (ZONE_EXHAUSTIBLE)", _GM13)),
    "ram_above_direct_map": (
        "no boot",
        Estimate(
            "GNU Mach 1.3 has no cap on RAM; RAM and kernel_map must fit under VM_MAX_KERNEL_ADDRESS "
            "(what the console shows otherwise is not modelled)"
        ),
    ),
    "kmem_waits_for_memory": (
        False,
        Source(
            "kern/slab.c: kmem_cache_alloc returns 0 on failure; waits only from commit 724326b4 (2016-02-22)", _GM13S
        ),
    ),
    "mach_ipc_compat": (True, Source("ipc/ipc_space.c:156-181 (MACH_IPC_COMPAT=1)", _GM13)),
    "task_size": (132, _sizeof("kern/task.h")),
    "thread_size": (336, _sizeof("kern/thread.h")),
    "pcb_size": (176, _sizeof("i386/i386/thread.h (struct pcb)")),
    "port_size": (76, _sizeof("ipc/ipc_port.h")),
    "space_size": (64, _sizeof("ipc/ipc_space.h")),
    "entry_size": (16, _sizeof("ipc/ipc_entry.h")),
    "tree_entry_size": (32, _sizeof("ipc/ipc_entry.h (struct ipc_tree_entry)")),
    "vm_map_size": (64, _sizeof("vm/vm_map.h")),
    "map_entry_size": (48, _sizeof("vm/vm_map.h (struct vm_map_entry)")),
    "vm_object_size": (76, _sizeof("vm/vm_object.h")),
    "pmap_size": (20, _sizeof("i386/intel/pmap.h")),
    "pv_entry_size": (12, _sizeof("i386/intel/pmap.c (struct pv_entry)")),
    # --- the Hurd ---------------------------------------------------------
    "kernel_boot_spaces": (
        3,
        Source("ipc/ipc_space.c:208 (ipc_space_kernel, ipc_space_reply) and kern/task.c (kernel task)", _GM13),
    ),
    "kernel_threads": (10, Estimate("idle, pageout, reaper, action and device threads of a uniprocessor kernel")),
    "system_tasks": (45, Fitted(("O7",), "zonemodel.studies.calibration.fit_system_tasks")),
    "boot_ports": (1300, Fitted(("O10", "O12"), "zonemodel.studies.calibration.fit_boot_ports")),
    "boot_resident": (
        40 * _MiB,
        Estimate("kernel image and buffers plus the resident data of ext2fs, pfinet, proc, exec and friends"),
    ),
    "process_threads": (2, Source("sysdeps/mach/hurd/fork.c (main and signal thread)", _GLIBC)),
    "process_ports": (5, Estimate("msgport, two MIG reply ports, the proc port and one more (glibc fork.c)")),
    "process_names": (
        20,
        Estimate("6 init ports + task and 2 thread ports + 6 fd ports + a few misc rights (model brief: 16-30)"),
    ),
    "process_map_entries": (
        40,
        Estimate("program and about 8 shared libraries (text, data, bss), two thread stacks, heap, misc"),
    ),
    "process_shadow_objects": (
        10,
        Estimate("about 5 written private regions, shadowed once in the child and once again in the parent"),
    ),
    "process_pv_entries": (120, Estimate("pages of shared text and data a small forked child touches (50-200)")),
    "process_resident": (76 * _KiB, Fitted(("O9",), "zonemodel.studies.calibration.fit_process_resident")),
    "server_names_per_process": (
        4,
        Estimate("proc holds the task port and the proc port, plus the msgport; term one ctty port"),
    ),
    "ports_console": (43, Fitted(("O12",), "zonemodel.studies.calibration.fit_ports")),
    "ports_ssh": (154, Fitted(("O7", "O12"), "zonemodel.studies.calibration.fit_ports")),
    "ports_screen": (147, Fitted(("O7",), "zonemodel.studies.calibration.fit_ports")),
    "session_tasks_ssh": (3, Estimate("sshd's privileged and user session processes and the login shell")),
    "session_tasks_screen": (6, Estimate("the ssh session's 3 tasks, the screen client and server, and its shell")),
    "root_extra_names": (2, Estimate("send rights to host_priv and the device master that root processes hold")),
    "chain_ports": (
        1,
        Document(
            _ZP, note="'child processes have more ports open by default'; one port per generation is our estimate"
        ),
    ),
    "background_rate": (0.01, Estimate("a quiet 2005 system: now and then a cron job or a daemon's helper")),
    "background_exit": (0.02, Estimate("background tasks live about 50 forks; on average 0.5 of them run")),
    "null_names": (
        16,
        Estimate("a freshly started trivfs translator: its control, task and thread ports, reply ports"),
    ),
    "null_names_per_open": (
        2,
        Source(
            "libtrivfs/fsys-getroot.c, libdiskfs/io-restrict-auth.c",
            _HURD05,
            note="a receive right for the new protid, a send right to ext2fs's protid (realnode); "
            "the dotdot port is deallocated",
        ),
    ),
    "ext2fs_names": (
        1000,
        Estimate("the root ext2fs after boot: node ports, protids of running programs, pager ports"),
    ),
    "notify_msg_size": (
        64,
        Source("ipc/ipc_notify.c (mach_no_senders_notification_t in a kmsg from kalloc.64)", _GM13),
    ),
    "rpc_msg_size": (128, Estimate("a small RPC request with its kmsg header")),
    "service_notify_null": (50e-6, Estimate("ports_no_senders, a reference drop and a deallocation on a 2005 PC")),
    "service_notify_ext2fs": (100e-6, Estimate("as for null, plus ext2fs's node and protid bookkeeping")),
    "service_rpc": (500e-6, Estimate("a proc or auth request with its bookkeeping, including its own RPCs")),
    "close_interval_fast": (20e-6, Estimate("close() in a tight loop: a few system calls per port")),
    "close_interval_slow": (10e-3, Estimate("closes spread out, e.g. a program doing other work between them")),
    "fork_rpcs_proc": (3, Estimate("glibc's fork and the child's start: proc_child, proc_setmsgport, proc_getpids")),
    "fork_rpcs_auth": (1, Estimate("one auth request as the child sets up its identity")),
}

_CHANGES: Final[dict[int, dict[str, tuple[Any, Provenance]]]] = {
    2005: {},
    2007: {
        "year": (2007, Document(_ZP, note="the page's r2 is dated 2007-04-12")),
        "kernel_map_ram_fraction": (
            1 / 15,
            Source("i386/intel/pmap.c (morevm = 40 MiB + phys/15), commit 30a90860 (2006-05-08)", _GM07),
        ),
        "ram_limit": (
            960 * _MiB,
            Source("i386/i386at/model_dep.c: RAM above 15/16 of the kernel's 1 GiB is cut, commit 30a90860", _GM07),
        ),
        "ram_above_direct_map": (
            "kernel_map shrinks",
            Source("i386/intel/pmap.c: morevm capped at the kernel's addresses, commit 30a90860 (2006-05-08)", _GM07),
        ),
        "mach_ipc_compat": (False, Source("IPC compat removed, commit 96c01087 (2006-12-03)", _GM07)),
        "space_size": (60, _sizeof("ipc/ipc_space.h", _GM07)),
        "thread_size": (332, _sizeof("kern/thread.h", _GM07)),
        "pcb_size": (192, _sizeof("i386/i386/thread.h (struct pcb)", _GM07)),
    },
    2009: {
        "year": (2009, Source("zone map and kernel VM enlarged", _GM09)),
        "kernel_map_ram_fraction": (
            1.0,
            Source("i386/intel/pmap.c (40 MiB + phys), commit 592b5749 (2008-12-29)", _GM09),
        ),
        "zone_map": (64 * _MiB, Source("kern/zalloc.c (zone_map_size), commit fa6c711d", _GM09)),
        "ram_limit": (
            (_G // 6 * 5) // 4096 * 4096,
            Source("i386/i386at/model_dep.c: RAM above 5/6 of the kernel's 1 GiB is truncated, commit fa6c711d", _GM09),
        ),
        "ram_above_direct_map": (
            "kernel_map shrinks",
            Source(
                "i386/intel/pmap.c: 40 MiB + RAM, cut to the kernel's addresses as since 30a90860, commit 592b5749",
                _GM09,
            ),
        ),
        "mach_ipc_compat": (False, Source("IPC compat removed, commit 96c01087 (2006-12-03)", _GM07)),
        "space_size": (60, _sizeof("ipc/ipc_space.h", _GM07)),
        "thread_size": (332, _sizeof("kern/thread.h", _GM07)),
        "pcb_size": (192, _sizeof("i386/i386/thread.h (struct pcb)", _GM07)),
    },
    2013: {
        "year": (2013, Source("slab allocator, commit 7bc54a62 (2011-12-17)", _GM13S)),
        "allocator": ("slab", Source("kern/slab.c, commit 7bc54a62 'Import the slab allocator'", _GM13S)),
        "kernel_map_base": (
            192 * _MiB,
            Source("i386/i386/vm_param.h VM_KERNEL_MAP_SIZE, commit 3d4e83e3 (2011-08-28)", _GM13S),
        ),
        "kernel_map_ram_fraction": (
            0.0,
            Source("fixed VM_KERNEL_MAP_SIZE; RAM above 1 GiB - 192 MiB is not used, commit 3d4e83e3", _GM13S),
        ),
        "ram_above_direct_map": (
            "ignored",
            Source("i386/i386at/model_dep.c: memory beyond the direct map is truncated, commit 3d4e83e3", _GM13S),
        ),
        "zone_map": (
            128 * _MiB,
            Source(
                "kern/slab.c KMEM_MAP_SIZE: kmem_map, with kalloc_map merged in, commit 2d2da4aa (2012-07-07)", _GM13S
            ),
        ),
        "kalloc_map": (
            128 * _MiB,
            Source(
                "kern/slab.c: big kalloc caches live in kmem_map too; modelled as a range of its own",
                _GM13S,
                note="kalloc_map was merged into kmem_map in 2d2da4aa; the model keeps IPC tables apart",
            ),
        ),
        "ipc_kernel_map": (
            8 * _MiB,
            Source("ipc/ipc_init.c ipc_kernel_map_size, commit 38154426 (2011-04-24)", _GM13S),
        ),
        "device_io_map": (
            16 * _MiB,
            Source("device/ds_routines.c DEVICE_IO_MAP_SIZE, commit 07dc2f7b (2011-04-22)", _GM13S),
        ),
        "ipc_spaces_exhaustible": (
            False,
            Source("ipc/ipc_init.c, commit c48d0e45 (2011-08-22) 'Make ipc_space_zone not exhaustible'", _GM13S),
        ),
        "mach_ipc_compat": (False, Source("IPC compat removed, commit 96c01087 (2006-12-03)", _GM07)),
        "space_size": (60, _sizeof("ipc/ipc_space.h", _GM07)),
        "thread_size": (332, _sizeof("kern/thread.h", _GM07)),
        "pcb_size": (192, _sizeof("i386/i386/thread.h (struct pcb)", _GM07)),
    },
}


def _preset(year: int) -> tuple[dict[str, Any], dict[str, Provenance]]:
    entries = dict(_BASE_2005)
    entries.update(_CHANGES[year])
    values = {name: value for name, (value, _) in entries.items()}
    provenance = {name: prov for name, (_, prov) in entries.items()}
    return values, provenance


def _coerce(name: str, value: Any) -> Any:
    spec = _SPECS[name]
    if spec.kind == "size":
        number = parse_size(value, name=name)
    elif spec.kind == "bool":
        if not isinstance(value, bool):
            raise ParameterError(f'"{name}" must be True or False, got {value!r}')
        return value
    elif spec.kind == "choice":
        if value not in spec.choices:
            raise ParameterError(f'"{name}" must be one of {", ".join(map(repr, spec.choices))}, got {value!r}')
        return value
    elif spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f'"{name}" must be an integer, got {value!r}')
        number = value
    else:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f'"{name}" must be a number, got {value!r}')
        number = float(value)  # type: ignore[assignment]  # int or float both compare with the range
    if not spec.low <= number <= spec.high:
        low = format_size(int(spec.low)) if spec.kind == "size" else spec.low
        high = format_size(int(spec.high)) if spec.kind == "size" else spec.high
        raise ParameterError(f'"{name}" must be between {low} and {high}, got {value!r}')
    return number


def _build(
    year: int,
    values: dict[str, Any],
    provenance: dict[str, Provenance],
    overrides: Mapping[str, Any],
) -> Kernel:
    for name, raw in overrides.items():
        if name not in _SPECS or name == "year":
            known = ", ".join(n for n in _FIELD_NAMES if n != "year")
            raise UnknownPresetError(f"unknown Kernel field {name!r}; fields that can be set: {known}")
        values[name] = _coerce(name, raw)
        provenance[name] = Override()
    page = values["page_size"]
    for name in ("zone_map", "kalloc_map", "ipc_kernel_map", "device_io_map"):
        if values[name] % page:
            raise ParameterError(f'"{name}" must be a whole number of {page}-byte pages, got {values[name]}')
    values.pop("_provenance", None)
    return Kernel(**values, _provenance=MappingProxyType(dict(provenance)))


def gnumach(year: int, **overrides: int | str | float | bool) -> Kernel:
    """Return the GNU Mach preset of *year*, with optional field overrides.

    Parameters
    ----------
    year
        One of :data:`YEARS`: 2005 (GNU Mach 1.3 line as measured for the
        page, zone map 12 MiB, MACH_IPC_COMPAT on), 2007 (IPC compat removed,
        kernel_map grows with RAM/15, RAM cut to 960 MiB), 2009 (zone map
        64 MiB, kernel_map 40 MiB + RAM, RAM cut to 5/6 GiB; kernel_map of
        both shrinks to the kernel addresses RAM leaves) or 2013 (GNU Mach
        1.4, slab allocator).
    **overrides
        Any :class:`Kernel` field except ``year``.  Sizes accept bytes or
        strings with binary units (``"8 MiB"``).

    Raises
    ------
    UnknownPresetError
        For a year without a preset or an unknown field.
    ParameterError
        For a value outside the field's allowed range.

    Examples
    --------
    >>> gnumach(2005)
    Kernel(gnumach 2005, zalloc, zone_map=12 MiB, kernel_map=40 MiB, ram=256 MiB)
    >>> gnumach(2009, ram="256 MiB").kernel_map == 40 * 2**20 + 256 * 2**20
    True
    >>> big = gnumach(2009, ram="1 GiB")  # RAM cut to 5/6 GiB, kernel_map to the addresses left
    >>> format_size(big.usable_ram), format_size(big.kernel_map)
    ('853.33 MiB', '170.67 MiB')
    >>> gnumach(2006)
    Traceback (most recent call last):
    ...
    zonemodel.errors.UnknownPresetError: "year": no preset for 2006; presets exist for 2005, 2007, 2009, 2013
    """
    if isinstance(year, bool) or year not in YEARS:
        raise UnknownPresetError(f'"year": no preset for {year!r}; presets exist for {", ".join(map(str, YEARS))}')
    values, provenance = _preset(year)
    return _build(year, values, provenance, overrides)


def provenance_table(kernel: Kernel) -> list[dict[str, str]]:
    """One row per parameter of *kernel*: its value and where it comes from.

    Keys of each row: ``parameter``, ``value``, ``kind`` (source, document,
    estimate, fitted or override), ``reference`` and ``note``.

    Examples
    --------
    >>> row = provenance_table(gnumach(2005))[0]
    >>> row["parameter"], row["kind"]
    ('year', 'document')
    """
    rows = []
    for name in _FIELD_NAMES:
        value = getattr(kernel, name)
        prov = kernel.provenance(name)
        if _SPECS[name].kind == "size":
            shown = format_size(value)
        elif isinstance(value, float):
            shown = f"{value:.4g}"
        else:
            shown = str(value)
        rows.append(
            {
                "parameter": name,
                "value": shown,
                "kind": prov.kind,
                "reference": prov.reference,
                "note": prov.note,
            }
        )
    return rows
