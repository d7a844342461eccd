"""The zones of the zalloc-era kernel, as a table built from a :class:`~zonemodel.Kernel`.

A *zone* hands out elements of one size.  It grows one element at a time
from a bump allocator shared by every ordinary zone (``zget_space``), which
takes whole pages from the zone map and never gives them back; freed
elements only go back on the zone's own free list.  A zone's maximum is
*soft* (it grows by half when reached) unless the zone is *exhaustible*, in
which case the allocation fails.  The two largest kalloc zones are
*collectable*: they take ``alloc_size`` bytes of pages at a time.

The table below lists the zones the simulation uses; the indices are the
``Z_*`` constants, shared by the kernels and the reference model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from zonemodel.presets import Kernel

__all__ = [
    "COLLECTABLE",
    "EXHAUSTIBLE",
    "KALLOC_SIZES",
    "ZONE_DTYPE",
    "ZONE_NAMES",
    "ZoneSpec",
    "kalloc_zone",
    "zone_specs",
    "zone_table",
]

COLLECTABLE: Final = 0x2
"""ZONE_COLLECTABLE: grows by whole pages from the zone map (kalloc.4096 and kalloc.8192)."""
EXHAUSTIBLE: Final = 0x4
"""ZONE_EXHAUSTIBLE: an allocation beyond the maximum fails instead of raising the maximum."""

KALLOC_SIZES: Final = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
"""Element sizes of the kalloc zones (kalloc_max is 16 KiB: larger requests go to kalloc_map)."""

ZONE_NAMES: Final = (
    "tasks",
    "threads",
    "i386 pcb state",
    "ipc spaces",
    "ipc tree entries",
    "ipc ports",
    "ipc port sets",
    "maps",
    "non-kernel map entries",
    "objects",
    "pmap",
    "pv_list",
    *(f"kalloc.{size}" for size in KALLOC_SIZES),
)
"""Zone names as GNU Mach prints them in ``panic: zalloc: zone <name> exhausted``."""

(
    Z_TASKS,
    Z_THREADS,
    Z_PCB,
    Z_SPACES,
    Z_TREE,
    Z_PORTS,
    Z_PSETS,
    Z_MAPS,
    Z_MAP_ENTRIES,
    Z_OBJECTS,
    Z_PMAP,
    Z_PV,
) = range(12)
Z_KALLOC0: Final = 12
"""Index of kalloc.16; kalloc.N follows in order of size."""

ZONE_DTYPE: Final = np.dtype(
    [
        ("elem_size", np.int64),  # bytes per element
        ("max_size", np.int64),  # current maximum in bytes (soft maxima grow)
        ("cur_size", np.int64),  # bytes of elements carved so far (high-water mark)
        ("alloc_size", np.int64),  # bytes taken at a time by collectable zones
        ("flags", np.int64),  # EXHAUSTIBLE | COLLECTABLE
        ("in_use", np.int64),  # elements handed out and not freed
        ("free", np.int64),  # elements on the free list
        ("peak", np.int64),  # largest in_use seen
    ]
)
"""Layout of the zone table the kernels work on."""


@dataclass(frozen=True)
class ZoneSpec:
    """One zone as ``zinit`` would create it."""

    name: str
    elem_size: int
    max_size: int
    alloc_size: int
    flags: int


def _round_page(n: int, page: int) -> int:
    return -(-n // page) * page


def zone_specs(kernel: Kernel) -> tuple[ZoneSpec, ...]:
    """The zones of *kernel* with their element sizes, maxima and flags.

    Maxima follow the ``zinit`` calls of GNU Mach 1.3 (kern/mach_param.h
    limits times element size, rounded up to a page).

    Examples
    --------
    >>> import zonemodel
    >>> spaces = zone_specs(zonemodel.gnumach(2005))[3]
    >>> spaces.name, spaces.max_size // spaces.elem_size
    ('ipc spaces', 1088)
    """
    k = kernel
    page = k.page_size

    slab = k.allocator == "slab"

    def spec(name: str, size: int, max_elems: int, flags: int = 0, alloc: int = 0) -> ZoneSpec:
        elem = _round_page(size, 4)  # zinit rounds the element size to the free-list pointer
        if slab:  # kmem caches have no maxima (commit 88382234 removed them) and nothing is collectable
            return ZoneSpec(name, elem, 1 << 62, page, 0)
        return ZoneSpec(name, elem, _round_page(max_elems * elem, page), alloc or page, flags)

    exhaust_spaces = EXHAUSTIBLE if k.ipc_spaces_exhaustible else 0
    specs = [
        spec("tasks", k.task_size, k.task_max),
        spec("threads", k.thread_size, k.thread_max),
        spec("i386 pcb state", k.pcb_size, k.thread_max),
        spec("ipc spaces", k.space_size, k.space_max, exhaust_spaces),
        spec("ipc tree entries", k.tree_entry_size, k.ite_max, EXHAUSTIBLE),
        spec("ipc ports", k.port_size, k.port_max),
        spec("ipc port sets", 20, k.set_max, EXHAUSTIBLE),
        spec("maps", k.vm_map_size, (40 * 1024) // k.vm_map_size),
        spec("non-kernel map entries", k.map_entry_size, (1 << 20) // k.map_entry_size),
        spec("objects", k.vm_object_size, (512 * 1024) // k.vm_object_size),
        spec("pmap", k.pmap_size, 400),
        spec("pv_list", k.pv_entry_size, 10000),
    ]
    # kalloc.c: k_zone_max = 1024 for 16 B, 4096 for 32..256 B, 1024 for 512..4096 B, 4096 for 8192 B.
    for size in KALLOC_SIZES:
        if size == 16:
            n = 1024
        elif size <= 256:
            n = 4096
        elif size <= 4096:
            n = 1024
        else:
            n = 4096
        flags = COLLECTABLE if size >= page else 0
        specs.append(spec(f"kalloc.{size}", size, n, flags, alloc=size if size >= page else page))
    return tuple(specs)


def zone_table(kernel: Kernel) -> np.ndarray:
    """A fresh, empty zone table (structured array of :data:`ZONE_DTYPE`) for *kernel*."""
    specs = zone_specs(kernel)
    table = np.zeros(len(specs), dtype=ZONE_DTYPE)
    table["elem_size"] = [s.elem_size for s in specs]
    table["max_size"] = [s.max_size for s in specs]
    table["alloc_size"] = [s.alloc_size for s in specs]
    table["flags"] = [s.flags for s in specs]
    return table


def kalloc_zone(size: int) -> int:
    """Index of the kalloc zone serving a request of *size* bytes, or -1 for kalloc_map.

    Examples
    --------
    >>> ZONE_NAMES[kalloc_zone(100)]
    'kalloc.128'
    >>> kalloc_zone(8193)
    -1
    """
    for i, s in enumerate(KALLOC_SIZES):
        if size <= s:
            return Z_KALLOC0 + i
    return -1
