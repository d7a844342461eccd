"""The zones of the zalloc-era kernel, as ``zinit`` creates them from a :class:`~zonemodel.Kernel`.

A *zone* hands out elements of one size.  It grows one element at a time
from a bump allocator shared by every ordinary zone (``zget_space``), which
takes whole pages from the zone map and never gives them back; freed
elements only go back on the zone's own free list.  A zone's maximum is
*soft* (it grows by half when reached) unless the zone is *exhaustible*, in
which case the allocation fails.  The two largest kalloc zones are
*collectable*: they take ``alloc_size`` bytes of pages at a time.

:func:`zone_specs` lists the zones the simulation uses, in the order of
:data:`ZONE_NAMES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from zonemodel.units import round_up

if TYPE_CHECKING:  # pragma: no cover
    from zonemodel.model.kernel import Kernel

__all__ = ["KALLOC_SIZES", "ZONE_NAMES", "ZoneSpec", "zone_specs"]

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
    "map copies",
)
"""Zone names as GNU Mach prints them in ``panic: zalloc: zone <name> exhausted``."""


@dataclass(frozen=True)
class ZoneSpec:
    """One zone as ``zinit`` would create it."""

    name: str
    """The zone's name."""
    elem_size: int
    """Bytes per element (rounded up to the free-list pointer)."""
    max_size: int
    """The zone's maximum, in bytes (whole pages)."""
    alloc_size: int
    """Bytes a collectable zone takes at a time."""
    exhaustible: bool = False
    """ZONE_EXHAUSTIBLE: an allocation beyond the maximum fails instead of raising the maximum."""
    collectable: bool = False
    """ZONE_COLLECTABLE: grows by ``alloc_size`` pages from the zone map (kalloc.4096 and kalloc.8192)."""


def _kalloc_max_elements(size: int) -> int:
    """kern/kalloc.c: k_zone_max is 1024 for 16 B, 4096 for 32..256 B, 1024 for 512..4096 B, 4096 for 8192 B."""
    if size == 16:
        return 1024
    if size <= 256:
        return 4096
    if size <= 4096:
        return 1024
    return 4096


def zone_specs(kernel: Kernel) -> tuple[ZoneSpec, ...]:
    """The zones of *kernel* with their element sizes, maxima and flags, in :data:`ZONE_NAMES` order.

    Maxima follow the ``zinit`` calls of GNU Mach 1.3 (kern/mach_param.h
    limits times element size, rounded up to a page).  In the slab era the
    caches have no maxima (commit 88382234 removed them) and none is collectable.

    Examples
    --------
    >>> import zonemodel
    >>> spaces = zone_specs(zonemodel.gnumach(2005))[3]
    >>> spaces.name, spaces.max_size // spaces.elem_size, spaces.exhaustible
    ('ipc spaces', 1088, True)
    """
    k = kernel
    page = k.page_size
    slab = k.allocator == "slab"

    def spec(name: str, size: int, max_elems: int, *, exhaustible: bool = False, alloc: int = 0) -> ZoneSpec:
        elem = round_up(size, 4)  # zinit rounds the element size to the free-list pointer
        if slab:
            return ZoneSpec(name, elem, 1 << 62, page)
        collectable = alloc >= page
        return ZoneSpec(name, elem, round_up(max_elems * elem, page), alloc or page, exhaustible, collectable)

    specs = [
        spec("tasks", k.task_size, k.task_max),
        spec("threads", k.thread_size, k.thread_max),
        spec("i386 pcb state", k.pcb_size, k.thread_max),
        spec("ipc spaces", k.space_size, k.space_max, exhaustible=k.ipc_spaces_exhaustible),
        spec("ipc tree entries", k.tree_entry_size, k.ite_max, exhaustible=True),
        spec("ipc ports", k.port_size, k.port_max),
        spec("ipc port sets", 20, k.set_max, exhaustible=True),
        spec("maps", k.vm_map_size, (40 * 1024) // k.vm_map_size),
        spec("non-kernel map entries", k.map_entry_size, (1 << 20) // k.map_entry_size),
        spec("objects", k.vm_object_size, (512 * 1024) // k.vm_object_size),
        spec("pmap", k.pmap_size, 400),
        spec("pv_list", k.pv_entry_size, 10000),
    ]
    specs += [
        spec(f"kalloc.{size}", size, _kalloc_max_elements(size), alloc=size if size >= page else 0)
        for size in KALLOC_SIZES
    ]
    specs.append(spec("map copies", k.vm_map_copy_size, (16 * 1024) // k.vm_map_copy_size))
    return tuple(specs)
