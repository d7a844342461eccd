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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from zonemodel.errors import ParameterError, UnknownPresetError
from zonemodel.model.eras import DISTROS as _DISTRO_TABLES
from zonemodel.model.eras import ERAS, Entry, preset_table
from zonemodel.model.fields import _FLAG, _STRUCT, _choice, _coerce_to, _count, _real, _size, _Spec
from zonemodel.model.provenance import Override, Provenance
from zonemodel.units import format_size

__all__ = ["DISTROS", "FIELD_NAMES", "SIZE_FIELDS", "YEARS", "Kernel", "gnumach", "provenance_table"]

YEARS: Final = tuple(year for year, _ in ERAS)
"""Preset years: the code of GNU Mach and the Hurd as of that year."""

DISTROS: Final = tuple(_DISTRO_TABLES)
"""Distributions a preset can be built as (``gnumach(year, distro=...)``): ``"upstream"``, ``"debian"``."""

_KiB: Final = 1 << 10
_MiB: Final = 1 << 20
_G: Final = 1 << 30


@dataclass(frozen=True, repr=False)
class Kernel:
    """Every parameter of one simulated GNU Mach system.

    Build one with :func:`gnumach`; fields are documented below.  Sizes are
    in bytes, counts are plain integers.  Instances are immutable; use
    :meth:`replace` (or :func:`gnumach` with overrides) to change a field.
    Every way of making one (the constructor, :meth:`replace`,
    ``dataclasses.replace``, unpickling) checks each field against its
    allowed range and raises :class:`~zonemodel.errors.ParameterError`
    otherwise.

    Examples
    --------
    >>> import zonemodel
    >>> k = zonemodel.gnumach(2005)
    >>> k.zone_map, k.kernel_map
    (12582912, 41943040)
    """

    year: int = field(metadata=_count(2005, 2013))
    """Preset year the kernel was built from."""
    allocator: Literal["zalloc", "slab"] = field(metadata=_choice("zalloc", "slab"))
    """``"zalloc"`` (zone allocator, GNU Mach 1.x until 2011) or ``"slab"`` (GNU Mach 1.4)."""
    page_size: int = field(metadata=_size(4096, 4096))
    """Size of a virtual-memory page."""
    ram: int = field(metadata=_size(16 * _MiB, 64 * _G))
    """Physical memory of the machine."""
    ram_limit: int = field(metadata=_size(0, 64 * _G))
    """RAM the kernel truncates physical memory to at boot (0: no truncation); see :attr:`usable_ram`."""

    # --- kernel virtual address space -------------------------------------
    kernel_va: int = field(metadata=_size(256 * _MiB, 4 * _G))
    """Kernel virtual address space below ``VM_MAX_KERNEL_ADDRESS`` (physical memory is mapped 1:1 from 0)."""
    kernel_map_base: int = field(metadata=_size(4 * _MiB, 4 * _G))
    """Fixed part of kernel_map (``morevm``), placed right after the direct map of physical memory."""
    kernel_map_ram_fraction: float = field(metadata=_real(0.0, 4.0))
    """kernel_map grows by this fraction of RAM (0 in 2005, 1/15 from 2006-05, 1 from 2008-12)."""
    zone_map: int = field(metadata=_size(4 * _KiB, 4 * _G))
    """Size of the zone map, the sub-map of kernel_map from which zones take pages (``zone_map_size``).

    On the slab allocator (2013) it is the size of kmem_map, the sub-map that took the zone map's place
    (``kmem_init``), and is reported under that name.
    """
    zdata: int = field(metadata=_size(0, 64 * _MiB))
    """Boot-time zone memory stolen outside the zone map; zget_space hands it out first."""
    kalloc_map: int = field(metadata=_size(0, 4 * _G))
    """Sub-map for kalloc requests too large for the kalloc zones and for big IPC entry tables."""
    ipc_kernel_map: int = field(metadata=_size(64 * _KiB, 4 * _G))
    """Sub-map for IPC kernel buffers (out-of-line data in transit)."""
    device_io_map: int = field(metadata=_size(0, 4 * _G))
    """Sub-map for device I/O buffers."""
    kentry_data: int = field(metadata=_size(0, 64 * _MiB))
    """Stolen at boot for the first kernel map entries (kentry_count x entry size)."""
    boot_kernel_map_other: int = field(metadata=_size(0, 1 * _G))
    """kernel_map taken at boot besides stolen memory and sub-maps (boot kernel stacks, driver glue)."""
    vm_page_struct: int = field(metadata=_size(1, 4096))
    """sizeof(struct vm_page): the boot-time page array costs this per physical page."""
    vm_page_bucket: int = field(metadata=_size(1, 4096))
    """Size of one vm_page hash bucket; there is one per physical page, rounded up to a power of two."""
    pmap_bytes_per_page_x8: int = field(metadata=_count(0, 4096))
    """pmap_init tables per physical page, in eighths of a byte (pv head, attribute byte, lock bit)."""

    # --- limits from kern/mach_param.h --------------------------------------
    task_max: int = field(metadata=_count(1, 1 << 24))
    """TASK_MAX: soft maximum of the tasks zone, in elements."""
    thread_max: int = field(metadata=_count(1, 1 << 24))
    """THREAD_MAX: soft maximum of the threads and pcb zones, in elements."""
    port_max: int = field(metadata=_count(1, 1 << 26))
    """PORT_MAX: soft maximum of the ipc ports zone, in elements."""
    space_max: int = field(metadata=_count(4, 1 << 24))
    """SPACE_MAX: maximum of the ipc spaces zone, in elements (hard when that zone is exhaustible)."""
    ite_max: int = field(metadata=_count(1, 1 << 26))
    """ITE_MAX: maximum of the ipc tree entries zone (exhaustible), in elements."""
    set_max: int = field(metadata=_count(1, 1 << 24))
    """SET_MAX: maximum of the ipc port sets zone (exhaustible), in elements."""
    ipc_spaces_exhaustible: bool = field(metadata=_FLAG)
    """Whether the ipc spaces zone may refuse an allocation (until 2011-08-22), which panics ipc_task_init."""
    ram_above_direct_map: Literal["no boot", "kernel_map shrinks", "ignored"] = field(
        metadata=_choice("no boot", "kernel_map shrinks", "ignored")
    )
    """When RAM plus kernel_map exceed the kernel's addresses: ``"no boot"`` (1997-2006), ``"kernel_map shrinks"``
    to what is left (2006-2011), or ``"ignored"`` (RAM beyond the addresses left by kernel_map is not used, 2011 on)."""
    kmem_waits_for_memory: bool = field(metadata=_FLAG)
    """Slab era: True if a kernel allocation waits for a free page (2016 on) instead of failing (2011-2016)."""
    mach_ipc_compat: bool = field(metadata=_FLAG)
    """MACH_IPC_COMPAT: every task gets an extra compat notify port (on until 2006-12)."""

    # --- structure sizes (i386) ---------------------------------------------
    task_size: int = field(metadata=_STRUCT)
    """sizeof(struct task)."""
    thread_size: int = field(metadata=_STRUCT)
    """sizeof(struct thread)."""
    pcb_size: int = field(metadata=_STRUCT)
    """sizeof(struct pcb) (i386 pcb state zone)."""
    port_size: int = field(metadata=_STRUCT)
    """sizeof(struct ipc_port)."""
    space_size: int = field(metadata=_STRUCT)
    """sizeof(struct ipc_space)."""
    entry_size: int = field(metadata=_STRUCT)
    """sizeof(struct ipc_entry): one slot of an IPC entry table."""
    tree_entry_size: int = field(metadata=_STRUCT)
    """sizeof(struct ipc_tree_entry): a name kept in the splay tree instead of the table."""
    vm_map_size: int = field(metadata=_STRUCT)
    """sizeof(struct vm_map)."""
    map_entry_size: int = field(metadata=_STRUCT)
    """sizeof(struct vm_map_entry)."""
    vm_object_size: int = field(metadata=_STRUCT)
    """sizeof(struct vm_object)."""
    pmap_size: int = field(metadata=_STRUCT)
    """sizeof(struct pmap); the page directory itself comes from kernel_map."""
    pv_entry_size: int = field(metadata=_STRUCT)
    """sizeof(struct pv_entry): one per extra mapping of a physical page."""

    # --- the Hurd around the kernel -------------------------------------------
    kernel_boot_spaces: int = field(metadata=_count(0, 64))
    """IPC spaces the kernel takes for itself (ipc_space_kernel, ipc_space_reply, the kernel task)."""
    kernel_threads: int = field(metadata=_count(0, 10000))
    """Kernel threads created at boot (each a thread and a pcb)."""
    system_tasks: int = field(metadata=_count(1, 100000))
    """Tasks running on the booted system before the experiment (servers, daemons, the shell)."""
    boot_ports: int = field(metadata=_count(0, 10_000_000))
    """Kernel ports held by the system's servers at boot besides those of their tasks (ext2fs nodes, proc, term...)."""
    boot_resident: int = field(metadata=_size(0, 64 * _G))
    """Physical memory in use after boot besides zone pages and the tasks' own pages (kernel image, servers' data)."""
    process_threads: int = field(metadata=_count(1, 1000))
    """Threads of a Hurd process: the main thread and the signal thread."""
    process_ports: int = field(metadata=_count(0, 100000))
    """New kernel ports of an ordinary system or background task (msgport, MIG reply ports, proc port)."""
    process_names: int = field(metadata=_count(0, 100000))
    """Names in a process's IPC space besides its own new ports (init ports, fds, task and thread ports...)."""
    process_map_entries: int = field(metadata=_count(0, 100000))
    """vm_map entries of a process (text, data and bss of the program and each shared library, stacks, heap)."""
    process_shadow_objects: int = field(metadata=_count(0, 100000))
    """Shadow vm_objects a fork creates (copy-on-write regions written by the child or again by the parent)."""
    process_pv_entries: int = field(metadata=_count(0, 1_000_000))
    """pv entries of a process: pages it maps that another pmap maps too."""
    process_resident: int = field(metadata=_size(0, 1 * _G))
    """Physical memory a sleeping forked child keeps resident besides its page directory (page tables, copies)."""
    server_names_per_process: int = field(metadata=_count(0, 100000))
    """Names the servers' IPC spaces gain per process (proc's task and proc ports, msgport, ctty ports)."""
    ports_console: int = field(metadata=_count(0, 100000))
    """New kernel ports a child costs when the bomb runs on the Mach console (besides task, thread and compat ports)."""
    ports_ssh: int = field(metadata=_count(0, 100000))
    """New kernel ports a child costs when the bomb runs in a raw ssh session."""
    ports_screen: int = field(metadata=_count(0, 100000))
    """New kernel ports a child costs when the bomb runs under screen through ssh."""
    session_tasks_ssh: int = field(metadata=_count(0, 1000))
    """Extra tasks an ssh session runs (sshd's session processes, the login shell)."""
    session_tasks_screen: int = field(metadata=_count(0, 1000))
    """Extra tasks a screen session through ssh runs (the ssh session's plus screen and its shell)."""
    root_extra_names: int = field(metadata=_count(0, 1000))
    """Extra send rights a root process holds (host_priv, device master)."""
    chain_ports: int = field(metadata=_count(0, 1000))
    """Extra ports (and names) each generation of a fork chain holds over its parent."""
    background_rate: float = field(metadata=_real(0.0, 1.0))
    """Chance per fork that a short-lived background task starts (cron jobs, daemons' helpers)."""
    background_exit: float = field(metadata=_real(0.0, 1.0))
    """Chance per fork that a running background task exits."""

    # --- servers ----------------------------------------------------------------
    null_names: int = field(metadata=_count(0, 1_000_000))
    """Names in the null translator's IPC space before any open."""
    null_names_per_open: int = field(metadata=_count(1, 64))
    """Names each ``open("/dev/null")`` adds to null's IPC space (its new protid, the ext2fs protid it keeps)."""
    ext2fs_names: int = field(metadata=_count(0, 10_000_000))
    """Names in the root ext2fs's IPC space before the experiment (its node and protid ports)."""
    notify_msg_size: int = field(metadata=_size(16, 8192))
    """Bytes of kernel message buffer a queued no-senders notification holds (kalloc)."""
    rpc_msg_size: int = field(metadata=_size(16, 8192))
    """Bytes of kernel message buffer a queued request holds (kalloc)."""
    service_notify_null: float = field(metadata=_real(1e-7, 10.0))
    """Mean CPU time null needs for one no-senders notification, in seconds."""
    service_notify_ext2fs: float = field(metadata=_real(1e-7, 10.0))
    """Mean CPU time ext2fs needs for one no-senders notification, in seconds."""
    service_rpc: float = field(metadata=_real(1e-7, 10.0))
    """Mean CPU time a server needs for one ordinary request, in seconds."""
    close_interval_fast: float = field(metadata=_real(1e-7, 10.0))
    """Mean CPU time of one close() in a client's loop, in seconds (a fast close runs these back to back)."""
    close_interval_slow: float = field(metadata=_real(1e-7, 10.0))
    """Mean time a client sleeps between two closes when they are spread out, in seconds."""
    fork_rpcs_proc: int = field(metadata=_count(0, 1000))
    """Requests a newly forked child sends proc as it starts (proc_child, proc_setmsgport, getpids...)."""
    fork_rpcs_auth: int = field(metadata=_count(0, 1000))
    """Requests a newly forked child sends auth as it starts."""

    # --- scheduler (one CPU) -------------------------------------------------------
    hz: int = field(metadata=_count(1, 10_000))
    """Clock ticks per second; at each, the running thread is charged one tick of CPU."""
    quantum_ticks: int = field(metadata=_count(1, 10_000))
    """Clock ticks a thread may run before a waiting thread of equal priority gets the CPU."""
    sched_tick_ticks: int = field(metadata=_count(1, 1_000_000))
    """Clock ticks per scheduler tick, at which CPU usage decays and the load is counted."""
    priority_level_cpu: float = field(metadata=_real(1e-6, 100.0))
    """CPU seconds, charged at a load of one runnable thread, that worsen a thread's priority by one level."""
    usage_decay: float = field(metadata=_real(0.0, 1.0))
    """Factor applied to every thread's CPU usage at each scheduler tick."""
    priority_user: int = field(metadata=_count(0, 31))
    """Base priority of user threads: the clients and the servers but proc (0 is the best, 31 the worst)."""
    priority_proc: int = field(metadata=_count(0, 31))
    """Base priority of proc's threads."""
    thread_start_cpu: float = field(metadata=_real(0.0, 1.0))
    """CPU seconds cthread_fork takes to create and resume a server thread (stack, ports, thread_create)."""
    thread_walk_cpu: float = field(metadata=_real(0.0, 1e-3))
    """CPU seconds per thread of the server that a new thread's first hurd_thread_self spends walking them."""
    clock_phase: Literal["random", "on a tick"] = field(metadata=_choice("random", "on a tick"))
    """Where an experiment starts against the clock and scheduler ticks: anywhere (``"random"``) or on a tick."""
    cpu_times: Literal["exponential", "fixed"] = field(metadata=_choice("exponential", "fixed"))
    """How the CPU time of each request and each close varies: exponentially about its mean, or not at all."""
    kill_cpu_per_right: float = field(metadata=_real(0.0, 1e-3))
    """CPU seconds ``task_terminate`` spends per right of the victim's IPC space (a kill storm)."""
    null_stall_chance: float = field(metadata=_real(0.0, 1.0))
    """Chance, per other cleanup in progress, that null finishing a notification leaves ``cntl->lock`` held.

    The 2005 use-after-free in ``trivfs_clean_protid``: from then on every
    cleanup blocks for good, so every notification needs a new thread.
    """

    # --- disk and paging (a build, :func:`zonemodel.compile_job`) -------------------
    vm_map_copy_size: int = field(metadata=_STRUCT)
    """Bytes of a ``struct vm_map_copy`` (zone "map copies"): one per pager message carrying pages."""
    pager_msg_size: int = field(metadata=_size(16, 8192))
    """Kernel buffer bytes of a data_request, data_unlock or data_return message."""
    service_fs_rpc: float = field(metadata=_real(1e-7, 10.0))
    """Mean CPU seconds ext2fs spends on a client RPC (dir_lookup, io_stat, io_read...), its page faults apart."""
    service_pager: float = field(metadata=_real(1e-7, 10.0))
    """Mean CPU seconds ext2fs's pager spends on a pager message, its disk requests apart."""
    disk_read_time: float = field(metadata=_real(1e-6, 86400.0))
    """Seconds the disk takes to read one page."""
    disk_write_time: float = field(metadata=_real(1e-6, 86400.0))
    """Seconds the disk takes to write one page."""
    sync_interval: float = field(metadata=_real(0.01, 86400.0))
    """Seconds between two of ext2fs's periodic syncs."""
    data_write_max: int = field(metadata=_count(1, 4096))
    """Most pages in one data_return of a sync (``DATA_WRITE_MAX``)."""
    object_cache_max: int = field(metadata=_count(1, 1_000_000))
    """Unreferenced memory objects the kernel keeps cached (``vm_object_cached_max``)."""
    pageout_burst: int = field(metadata=_count(1, 10_000))
    """Pages the pageout daemon sends per burst before it pauses."""
    pageout_wait: float = field(metadata=_real(1e-6, 10.0))
    """The pageout daemon's first pause, seconds per page sent (``burst_wait``)."""
    pageout_wait_min: float = field(metadata=_real(1e-6, 10.0))
    """The shortest pause the daemon's ``burst_wait`` decays to, seconds per page."""
    io_window_pages: int = field(metadata=_count(1, 4096))
    """Pages io_read and io_write map and copy at a time in ext2fs."""
    superblock_in_memory: bool = field(metadata=_FLAG)
    """Whether ext2fs keeps its superblock in memory, so that writes never wait for it to be read back."""

    _recorded: Mapping[str, Entry] = field(default_factory=dict, compare=False, repr=False)
    """Each field's provenance with the value it was recorded for; a field missing or changed since gets Override."""

    def __post_init__(self) -> None:
        """Check and normalise every field, so that no way of building a Kernel makes an invalid one.

        Sizes given as strings become bytes and numpy scalars Python numbers;
        a field whose value differs from the one its provenance was recorded
        for (``dataclasses.replace``, the constructor without provenance) gets
        :class:`~zonemodel.model.provenance.Override`.
        """
        for name in FIELD_NAMES:
            object.__setattr__(self, name, _coerce_to(_SPECS[name], name, getattr(self, name)))
        for name in _SUBMAPS:
            if getattr(self, name) % self.page_size:
                raise ParameterError(
                    f'"{name}" must be a whole number of {self.page_size}-byte pages, got {getattr(self, name)}'
                )
        preset = self._recorded.get("year")
        if preset is not None and preset[0] != self.year:
            raise ParameterError(_YEAR_FIXED.format(year=self.year))
        recorded = {}
        for name in FIELD_NAMES:
            value = getattr(self, name)
            entry = self._recorded.get(name)
            recorded[name] = (value, entry[1] if entry is not None and entry[0] == value else _OVERRIDE)
        object.__setattr__(self, "_recorded", _Records(recorded))

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
        if name not in FIELD_NAMES:
            raise UnknownPresetError(f'"name": {name!r} is not a Kernel field; known: {", ".join(FIELD_NAMES)}')
        return self._recorded[name][1]

    def replace(self, **overrides: int | str | float | bool) -> Kernel:
        """Return a copy with some fields changed (validated; provenance becomes 'override').

        ``year`` is not one of them: it selects the preset every other value
        comes from, so another year is another preset, ``gnumach(year, **overrides)``.
        """
        return _from_records(_overridden(self._recorded, overrides))

    def to_dict(self) -> dict[str, int | float | str | bool]:
        """Every field's value (sizes in bytes), e.g. for ``json.dumps``; ``dataclasses.asdict`` works too."""
        return {name: getattr(self, name) for name in FIELD_NAMES}

    def overrides(self) -> tuple[str, ...]:
        """Names of the fields set by the user rather than by the preset."""
        return tuple(n for n in FIELD_NAMES if self._recorded[n][1].kind == "override")

    def __reduce__(self) -> tuple[Callable[..., Kernel], tuple[dict[str, Any], dict[str, Provenance]]]:
        """Pickle as field values and provenance; loading validates them again."""
        return _unpickle, ({n: getattr(self, n) for n in FIELD_NAMES}, {n: self.provenance(n) for n in FIELD_NAMES})

    def __repr__(self) -> str:
        changed = self.overrides()
        extra = f", overrides=({', '.join(changed)})" if changed else ""
        return (
            f"Kernel(gnumach {self.year}, {self.allocator}, zone_map={format_size(self.zone_map)}, "
            f"kernel_map={format_size(self.kernel_map)}, ram={format_size(self.ram)}{extra})"
        )


FIELD_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in dataclasses.fields(Kernel) if not f.name.startswith("_"))
"""Names of the fields of :class:`Kernel`, in declaration order."""

_SPECS: Final[dict[str, _Spec]] = {
    f.name: f.metadata["spec"] for f in dataclasses.fields(Kernel) if f.name in FIELD_NAMES
}
"""How each field is given and checked (kind and range), read from the field declarations."""

SIZE_FIELDS: Final = frozenset(name for name, spec in _SPECS.items() if spec.kind == "size")
"""Names of the fields that are sizes in bytes (given as an ``int`` or a string such as ``"8 MiB"``)."""


_SUBMAPS: Final = ("zone_map", "kalloc_map", "ipc_kernel_map", "device_io_map")
"""Sub-maps of kernel_map: each must be whole pages."""

_OVERRIDE: Final = Override()
_YEAR_FIXED: Final = (
    '"year" selects the preset every other value comes from and cannot be replaced (got year={year}); '
    "build the other preset with zonemodel.gnumach(year, **overrides), e.g. "
    "zonemodel.gnumach({year}, **{{name: getattr(kernel, name) for name in kernel.overrides()}})"
)


class _Records(Mapping[str, Entry]):
    """The read-only provenance records of a Kernel (copied by reference, so ``dataclasses.asdict`` works)."""

    def __init__(self, records: dict[str, Entry]) -> None:
        self._records = records

    def __getitem__(self, name: str) -> Entry:
        return self._records[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __deepcopy__(self, memo: dict[int, object]) -> _Records:
        return self  # immutable

    def __repr__(self) -> str:
        return f"<provenance of {len(self)} fields>"


def _unpickle(values: dict[str, Any], provenance: dict[str, Provenance]) -> Kernel:
    """Rebuild a pickled kernel (see :meth:`Kernel.__reduce__`); ``__post_init__`` validates it."""
    return Kernel(**values, _recorded={name: (values.get(name), prov) for name, prov in provenance.items()})


def _overridden(recorded: Mapping[str, Entry], overrides: Mapping[str, object]) -> dict[str, Entry]:
    """*recorded* with each override checked, in the order given, and recorded as set by the user."""
    result = dict(recorded)
    for name, raw in overrides.items():
        if name == "year":
            raise ParameterError(_YEAR_FIXED.format(year=raw))
        if name == "distro":
            raise ParameterError(
                '"distro" is chosen with the preset, not a Kernel field: zonemodel.gnumach(year, distro=..., '
                f"**overrides), one of {', '.join(map(repr, DISTROS))}"
            )
        if name not in FIELD_NAMES:
            known = ", ".join(n for n in FIELD_NAMES if n != "year")
            raise UnknownPresetError(f"unknown Kernel field {name!r}; fields that can be set: {known}")
        result[name] = (_coerce_to(_SPECS[name], name, raw), _OVERRIDE)
    return result


def _from_records(recorded: Mapping[str, Entry]) -> Kernel:
    """The kernel whose fields have the recorded values, with their provenance."""
    return Kernel(**{name: value for name, (value, _) in recorded.items()}, _recorded=recorded)


def gnumach(year: int, *, distro: str = "upstream", **overrides: int | str | float | bool) -> Kernel:
    """Return the GNU Mach preset of *year*, as *distro* built it, with optional field overrides.

    Parameters
    ----------
    year
        One of :data:`YEARS`: 2005 (GNU Mach 1.3 line as measured for the
        page, zone map 12 MiB, MACH_IPC_COMPAT on), 2007 (IPC compat removed,
        kernel_map grows with RAM/15, RAM cut to 960 MiB), 2009 (zone map
        64 MiB, kernel_map 40 MiB + RAM, RAM cut to 5/6 GiB; kernel_map of
        both shrinks to the kernel addresses RAM leaves) or 2013 (GNU Mach
        1.4, slab allocator).
    distro
        ``"upstream"`` (the default: GNU Mach's own sources) or ``"debian"``
        (2005 and 2007 only): Debian's gnumach of May 2005 to February 2009,
        whose ``debian/patches/14_alloc_params.patch`` set the zone map to
        16 MiB (18 MiB from 2005-05-11 to 05-14; give ``zone_map="18 MiB"``
        for it) and multiplied TASK_MAX and THREAD_MAX by 64.  The maxima
        that ``kern/mach_param.h`` derives from them (SPACE_MAX, PORT_MAX,
        SET_MAX) are computed by ``zonemodel.model.eras.mach_param_maxima()``.
        Overriding ``task_max`` or ``thread_max`` does not recompute them.
    **overrides
        Any :class:`Kernel` field except ``year``.  Sizes accept bytes or
        strings with binary units (``"8 MiB"``).

    Raises
    ------
    UnknownPresetError
        For a year without a preset (for *distro*) or an unknown field.
    ParameterError
        For an unknown *distro* or a value outside the field's allowed range.

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
    >>> debian = gnumach(2005, distro="debian")
    >>> debian.zone_map == 16 * 2**20, debian.task_max, debian.space_max, debian.port_max, debian.set_max
    (True, 65536, 65541, 433216, 131272)
    >>> debian.provenance("space_max").file
    'kern/mach_param.h:63 formula SPACE_MAX = TASK_MAX + 5'
    >>> gnumach(2005, distro="ubuntu")
    Traceback (most recent call last):
    ...
    zonemodel.errors.ParameterError: "distro" must be one of 'upstream', 'debian', got 'ubuntu'
    """
    if isinstance(year, bool) or year not in YEARS:
        raise UnknownPresetError(f'"year": no preset for {year!r}; presets exist for {", ".join(map(str, YEARS))}')
    return _from_records(_overridden(preset_table(year, distro), overrides))


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
    if not isinstance(kernel, Kernel):
        raise ParameterError(f'"kernel" must be a zonemodel.Kernel (see zonemodel.gnumach), got {kernel!r}')
    rows = []
    for name in FIELD_NAMES:
        value = getattr(kernel, name)
        prov = kernel.provenance(name)
        if name in SIZE_FIELDS:
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
