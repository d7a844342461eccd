"""Booting a kernel preset: does kernel_map hold everything carved out of it at boot.

On i386 GNU Mach of 2005 the kernel's virtual addresses above the direct map
of physical memory form kernel_map, a fixed 40 MiB range (``morevm``) that
page tables cannot extend after boot.  Before the first task runs, the
kernel takes from it, in this order:

1. memory stolen by ``pmap_steal_memory``: the ``vm_page`` array (one entry
   per physical page), the page hash buckets, the first kernel map entries
   and ``zdata`` (zalloc era);
2. the pmap tables of ``pmap_init`` (a few bytes per physical page);
3. the sub-maps, each with ``kmem_suballoc``: zone_map (``zone_init``),
   kalloc_map (``kalloc_init``), ipc_kernel_map (``ipc_init``) and
   device_io_map (``ds_init``); if one does not fit the kernel panics in
   ``kmem_suballoc``;
4. the rest of the boot-time allocations (kernel stacks, driver glue);
5. a 4 KiB page directory for each task of the booting Hurd (``pmap_create``).

Items 1 and 2 grow with RAM, so a machine with more memory has less room
for the zone map.  :func:`boot` replays this arithmetic and
:func:`max_bootable_zone_map` searches the largest zone map that still boots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from zonemodel.errors import ParameterError
from zonemodel.model.kernel import Kernel
from zonemodel.model.records import Record
from zonemodel.units import format_size, round_up

__all__ = ["BootReport", "boot", "max_bootable_zone_map"]


@dataclass(frozen=True)
class BootReport(Record):
    """Whether a kernel boots, and how its kernel_map was spent.

    Examples
    --------
    >>> import zonemodel
    >>> report = zonemodel.boot(zonemodel.gnumach(2005))
    >>> report.booted, report.message
    (True, '')
    """

    booted: bool
    """True when everything taken at boot fits in kernel_map."""
    message: str
    """The console panic line when it does not boot, else ``""``."""
    reason: str
    """One sentence on what failed (or ``""``)."""
    kernel_map: int
    """Size of kernel_map in bytes."""
    kernel_map_free: int
    """Bytes of kernel_map left after boot (0 when it did not boot)."""
    items: tuple[tuple[str, int], ...]
    """What boot took from kernel_map, in order, as ``(what, bytes)``; stops at the failure."""

    @property
    def stolen(self) -> int:
        """Bytes of physical memory stolen at boot (the ``vm_page`` array, hash buckets, kentry_data, zdata, pmap)."""
        return sum(size for what, size in self.items if what in STOLEN_ITEMS)

    def _frame_rows(self) -> list[dict[str, Any]]:
        return [{"item": what, "bytes": size} for what, size in self.items]

    def table(self) -> str:
        """The kernel_map budget as a text table."""
        lines = [f"{'kernel_map item':<34}{'size':>12}"]
        lines += [f"{what:<34}{format_size(size):>12}" for what, size in self.items]
        lines.append(f"{'free after boot':<34}{format_size(self.kernel_map_free):>12}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        if self.booted:
            return f"BootReport(booted, kernel_map_free={format_size(self.kernel_map_free)})"
        if not self.message:  # no console line is modelled: say why instead
            return f"BootReport(failed, reason={self.reason!r})"
        return f"BootReport(failed, message={self.message!r})"


STOLEN_ITEMS: Final = frozenset(
    {"vm_page array", "page hash buckets", "kernel map entries (kentry_data)", "zdata", "pmap_init tables"}
)
"""The boot items that are physical memory stolen by ``pmap_steal_memory`` and ``pmap_init`` (see :func:`_stolen`)."""


def _stolen(kernel: Kernel) -> list[tuple[str, int]]:
    page = kernel.page_size
    pages = kernel.usable_ram // page
    buckets = 1
    while buckets < pages:
        buckets <<= 1
    items = [
        ("vm_page array", round_up(pages * kernel.vm_page_struct, page)),
        ("page hash buckets", round_up(buckets * kernel.vm_page_bucket, page)),
        ("kernel map entries (kentry_data)", round_up(kernel.kentry_data, page)),
    ]
    if kernel.allocator == "zalloc":
        items.append(("zdata", round_up(kernel.zdata, page)))
    items.append(("pmap_init tables", round_up(-(-pages * kernel.pmap_bytes_per_page_x8 // 8), page)))
    return items


def _submaps(kernel: Kernel) -> list[tuple[str, int, str]]:
    if kernel.allocator == "zalloc":
        first = ("zone_map", kernel.zone_map, "zone_init")
    else:
        first = ("kmem_map", kernel.zone_map, "kmem_init")
    maps = [first]
    if kernel.kalloc_map and kernel.allocator == "zalloc":  # the slab era's big kalloc caches live in kmem_map
        maps.append(("kalloc_map", kernel.kalloc_map, "kalloc_init"))
    maps += [
        ("ipc_kernel_map", kernel.ipc_kernel_map, "ipc_init"),
        ("device_io_map", kernel.device_io_map, "ds_init"),
    ]
    return maps


def boot(kernel: Kernel) -> BootReport:
    """Boot *kernel* as far as kernel virtual memory goes.

    Returns a :class:`BootReport`; a failure names the panic and the item that
    did not fit.

    Examples
    --------
    >>> import zonemodel
    >>> zonemodel.boot(zonemodel.gnumach(2005))
    BootReport(booted, kernel_map_free=11.83 MiB)
    >>> zonemodel.boot(zonemodel.gnumach(2005, zone_map="32 MiB")).message
    'panic: kmem_suballoc'
    """
    if not isinstance(kernel, Kernel):
        raise ParameterError(f'"kernel" must be a zonemodel.Kernel (see zonemodel.gnumach), got {kernel!r}')
    size = kernel.kernel_map
    if kernel.usable_ram + size > kernel.kernel_va and kernel.ram_above_direct_map == "no boot":
        return BootReport(
            booted=False,
            message="",
            reason=(
                f"physical memory ({format_size(kernel.ram)}) plus kernel_map ({format_size(size)}) "
                f"exceed the kernel's {format_size(kernel.kernel_va)} of virtual addresses "
                "(what the console printed is not modelled)"
            ),
            kernel_map=size,
            kernel_map_free=0,
            items=(),
        )
    items: list[tuple[str, int]] = []
    free = size
    for what, nbytes in _stolen(kernel):
        items.append((what, nbytes))
        free -= nbytes
    if free < 0:
        return BootReport(
            False,
            "",
            "memory stolen at boot does not fit in kernel_map (console output not modelled)",
            size,
            0,
            tuple(items),
        )
    for name, nbytes, caller in _submaps(kernel):
        if nbytes > free:
            return BootReport(
                booted=False,
                message="panic: kmem_suballoc",
                reason=(
                    f"{name} ({format_size(nbytes)}) does not fit: {format_size(free)} of kernel_map "
                    f"left when {caller} creates it"
                ),
                kernel_map=size,
                kernel_map_free=0,
                items=tuple(items),
            )
        items.append((name, nbytes))
        free -= nbytes
    other = kernel.boot_kernel_map_other
    if other > free:
        return BootReport(
            booted=False,
            message="panic: stack_alloc",
            reason=f"boot kernel stacks and driver memory ({format_size(other)}) do not fit",
            kernel_map=size,
            kernel_map_free=0,
            items=tuple(items),
        )
    items.append(("boot stacks and driver glue", other))
    free -= other
    directories = kernel.system_tasks * kernel.page_size
    if directories > free:
        return BootReport(
            booted=False,
            message="panic: pmap_create",
            reason=(
                f"the page directories of the system's {kernel.system_tasks} tasks "
                f"({format_size(directories)}) do not fit: {format_size(free)} of kernel_map left"
            ),
            kernel_map=size,
            kernel_map_free=0,
            items=tuple(items),
        )
    items.append((f"page directories of {kernel.system_tasks} system tasks", directories))
    free -= directories
    return BootReport(True, "", "", size, free, tuple(items))


def max_bootable_zone_map(kernel: Kernel) -> int:
    """The largest zone map (whole pages) with which *kernel* still boots, in bytes.

    All other fields of *kernel* are kept.  Returns 0 if no zone map size boots.

    Examples
    --------
    >>> import zonemodel
    >>> zonemodel.format_size(max_bootable_zone_map(zonemodel.gnumach(2005)))
    '23.83 MiB'
    """
    if not isinstance(kernel, Kernel):
        raise ParameterError(f'"kernel" must be a zonemodel.Kernel (see zonemodel.gnumach), got {kernel!r}')
    page = kernel.page_size
    lo, hi = 0, kernel.kernel_map // page  # boots at lo pages (or lo == 0), fails above hi
    if not boot(kernel.replace(zone_map=page)).booted:
        return 0
    lo = 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if boot(kernel.replace(zone_map=mid * page)).booted:
            lo = mid
        else:
            hi = mid - 1
    return lo * page
