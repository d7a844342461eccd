"""Reference of ``zonemodel._kernels.zalloc``: the zones, the zone map and its shared bump allocator.

The zone table is written here from GNU Mach's ``zinit`` calls (GNU Mach 1.3
and the 2005/2007 gnumach-1 branch, see ``gnumach-facts.md`` section 2), with
the structure sizes and ``kern/mach_param.h`` limits read off the Kernel's
fields.  It does not use ``zonemodel.model.zones``: the golden tables of
``tests/test_reference_tables.py`` pin both to the same literal numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import zonemodel

# kern/zalloc.h (GNU Mach 1.3): zone types.
ZONE_COLLECTABLE = 0x2
ZONE_EXHAUSTIBLE = 0x4

# kern/kalloc.c: kalloc zones for 16 .. 8192 B (kalloc_max is 16 KiB), with k_zone_max[] elements each.
KALLOC_MAX_ELEMENTS = {
    16: 1024,
    32: 4096,
    64: 4096,
    128: 4096,
    256: 4096,
    512: 1024,
    1024: 1024,
    2048: 1024,
    4096: 1024,
    8192: 4096,
}

# sizeof(struct ipc_pset), i386; no Kernel field, since no preset changes it.
IPC_PSET_SIZE = 20


@dataclass(frozen=True)
class ZoneInit:
    """What one ``zinit(size, max, alloc, memtype, name)`` call sets up."""

    name: str
    elem_size: int
    max_size: int | None  # None: no maximum (the slab era's caches)
    alloc_size: int
    flags: int


def _round_page(nbytes: int, page: int) -> int:
    return -(-nbytes // page) * page


def zinit(name: str, size: int, max_bytes: int, alloc: int, memtype: int, page: int) -> ZoneInit:
    """kern/zalloc.c zinit: the element holds the free-list pointer; max and alloc are whole pages."""
    elem = -(-size // 4) * 4
    return ZoneInit(name, elem, _round_page(max_bytes, page), _round_page(alloc, page) or page, memtype)


def zone_table(kernel: zonemodel.Kernel) -> list[ZoneInit]:
    """The zones the simulation uses, in the kernels' order, as *kernel*'s zinit calls create them.

    zalloc era: the zinit calls of kern/task.c, kern/thread.c, i386/i386/pcb.c,
    ipc/ipc_init.c, vm/vm_map.c, vm/vm_object.c, i386/intel/pmap.c and
    kern/kalloc.c.  Slab era (GNU Mach 1.4): the same objects come from
    kmem caches that have no maximum (commit 88382234) and are never
    exhaustible or collectable.
    """
    k, page = kernel, kernel.page_size
    spaces = ZONE_EXHAUSTIBLE if k.ipc_spaces_exhaustible else 0
    calls = [
        # (name, sizeof, max in bytes, alloc in bytes, memtype)
        ("tasks", k.task_size, k.task_max * k.task_size, 64 * k.task_size, 0),  # TASK_CHUNK 64
        ("threads", k.thread_size, k.thread_max * k.thread_size, 64 * k.thread_size, 0),  # THREAD_CHUNK 64
        ("i386 pcb state", k.pcb_size, k.thread_max * k.pcb_size, 64 * k.pcb_size, 0),
        ("ipc spaces", k.space_size, k.space_max * k.space_size, k.space_size, spaces),
        ("ipc tree entries", k.tree_entry_size, k.ite_max * k.tree_entry_size, k.tree_entry_size, ZONE_EXHAUSTIBLE),
        ("ipc ports", k.port_size, k.port_max * k.port_size, k.port_size, 0),
        ("ipc port sets", IPC_PSET_SIZE, k.set_max * IPC_PSET_SIZE, IPC_PSET_SIZE, ZONE_EXHAUSTIBLE),
        ("maps", k.vm_map_size, 40 * 1024, page, 0),
        ("non-kernel map entries", k.map_entry_size, 1024 * 1024, 5 * page, 0),
        ("objects", k.vm_object_size, 512 * 1024, 12 * 1024, 0),
        ("pmap", k.pmap_size, 400 * k.pmap_size, 4096, 0),
        ("pv_list", k.pv_entry_size, 10000 * k.pv_entry_size, 4096, 0),
    ]
    for size, most in KALLOC_MAX_ELEMENTS.items():
        calls.append((f"kalloc.{size}", size, most * size, size, ZONE_COLLECTABLE if size >= page else 0))
    calls.append(("map copies", k.vm_map_copy_size, 16 * 1024, page, 0))  # vm/vm_map.c: vm_map_copy_zone
    if k.allocator == "slab":
        return [ZoneInit(name, -(-size // 4) * 4, None, page, 0) for name, size, _, _, _ in calls]
    return [zinit(name, size, most, alloc, memtype, page) for name, size, most, alloc, memtype in calls]


def zone_names(kernel: zonemodel.Kernel) -> list[str]:
    """Names of the zones, in the kernels' order."""
    return [z.name for z in zone_table(kernel)]


class ZoneMapFull(Exception):
    """zget_space or kmem_alloc_wired found no page: GNU Mach panics."""


@dataclass
class Zone:
    """One zone, as in kern/zalloc.c."""

    name: str
    elem_size: int
    max_size: int | None
    alloc_size: int
    flags: int
    cur_size: int = 0
    in_use: int = 0
    free: int = 0
    peak: int = 0


class ZoneMap:
    """The zone map with its shared bump allocator, and the zones that use it."""

    MAP_BASE = 1 << 40

    def __init__(self, kernel: zonemodel.Kernel) -> None:
        self.page = kernel.page_size
        pages = kernel.zone_map // self.page
        page_table_bytes = pages * 8  # zone_init carves the GC page table from the start of the map
        self.usable_pages = pages - (page_table_bytes + self.page - 1) // self.page
        self.used_pages = 0
        self.next = 0  # the zdata chunk comes first
        self.end = kernel.zdata
        self.wasted = 0
        self.zones = [Zone(z.name, z.elem_size, z.max_size, z.alloc_size, z.flags) for z in zone_table(kernel)]

    def index(self, name: str) -> int:
        return [z.name for z in self.zones].index(name)

    def _take_pages(self, nbytes: int) -> int:
        npages = -(-nbytes // self.page)
        if self.used_pages + npages > self.usable_pages:
            raise ZoneMapFull
        address = self.MAP_BASE + self.used_pages * self.page
        self.used_pages += npages
        return address

    def zget_space(self, size: int) -> None:
        while self.next + size > self.end:
            add = -(-size // self.page) * self.page
            address = self._take_pages(add)
            if address != self.end:
                self.wasted += self.end - self.next
                self.next = address
            self.end = address + add
        self.next += size

    def zalloc(self, index: int) -> str:
        """Return 'ok', 'exhausted' or 'panic'."""
        zone = self.zones[index]
        if zone.free:
            zone.free -= 1
        else:
            if zone.max_size is not None and zone.cur_size + zone.elem_size > zone.max_size:
                if zone.flags & ZONE_EXHAUSTIBLE:
                    return "exhausted"
                zone.max_size += zone.max_size // 2
            try:
                if zone.flags & ZONE_COLLECTABLE:
                    self._take_pages(zone.alloc_size)
                    zone.cur_size += zone.alloc_size
                    zone.free += zone.alloc_size // zone.elem_size - 1
                else:
                    self.zget_space(zone.elem_size)
                    zone.cur_size += zone.elem_size
            except ZoneMapFull:
                return "panic"
        zone.in_use += 1
        zone.peak = max(zone.peak, zone.in_use)
        return "ok"

    def zfree(self, index: int) -> None:
        zone = self.zones[index]
        zone.in_use -= 1
        zone.free += 1

    def free_bytes(self) -> int:
        """Bytes the bump allocator can still hand out: free pages of the map and the rest of the open chunk."""
        return (self.usable_pages - self.used_pages) * self.page + self.end - self.next


def replay(kernel: zonemodel.Kernel, ops: list[tuple[str, int]]) -> dict[str, object]:
    """Reference for zonemodel.replay: same outcome, failure index and zone table."""
    zmap = ZoneMap(kernel)
    outcome, failed = "ok", -1
    for i, (name, count) in enumerate(ops):
        index = zmap.index(name)
        if count < 0:
            for _ in range(-count):
                zmap.zfree(index)
            continue
        for _ in range(count):
            status = zmap.zalloc(index)
            if status != "ok":
                outcome, failed = status, i
                break
        if failed >= 0:
            break
    return {
        "outcome": outcome,
        "failed_at": failed,
        "wasted": zmap.wasted,
        "used_pages": zmap.used_pages,
        "zones": [(z.name, z.in_use, z.peak, z.cur_size, z.max_size) for z in zmap.zones],
    }
