"""Reference of ``zonemodel._kernels.process``: processes on a booted system.

A :class:`Machine` is a booted zalloc-era (or slab-era) system: its zones,
what is left of kernel_map, kalloc_map (first fit, by pages), physical
memory, and the servers' shared IPC space.  A process costs a task, a map, a
pmap with its page directory, map entries, an IPC space with its entry
table, ports, threads with their pcbs, shadow objects and pv entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import zonemodel
from tests.reference.bootstrap import boot_budget
from tests.reference.rng import Xoshiro
from tests.reference.zalloc import ZoneMap


class NotBooted(Exception):
    """The kernel does not boot (see tests.reference.bootstrap); the reference has nothing to run."""


class OutOfKernelMap(Exception):
    """No kernel_map for a page directory: panic("pmap_create")."""


class SpacesExhausted(Exception):
    """The exhaustible ipc spaces zone refused: panic("ipc_task_init")."""


class KallocMapFull(Exception):
    """kmem_alloc in kalloc_map failed: an entry table cannot grow."""


class NoMemory(Exception):
    """No free physical page."""


class ZonePanic(Exception):
    """zalloc found no page in the zone map."""

    def __init__(self, zone: str) -> None:
        super().__init__(zone)
        self.zone = zone


KERNEL_DEATHS = (ZonePanic, SpacesExhausted, OutOfKernelMap, KallocMapFull, NoMemory)
"""What ends a run: each exception names the resource that ran out."""


def ending(exc: Exception) -> tuple[str, str]:
    """(the resource that ran out, the zone named by a zone panic or "")."""
    if isinstance(exc, ZonePanic):
        return "zone map", exc.zone
    return {
        SpacesExhausted: "ipc spaces",
        OutOfKernelMap: "kernel_map",
        KallocMapFull: "kalloc_map",
        NoMemory: "physical memory",
    }[type(exc)], ""


def table_sizes(entry_size: int, page: int) -> list[int]:
    """ipc_table_fill, written as the C code reads (min 4 entries)."""
    sizes: list[int] = []
    size = 1
    while size < page:
        if size >= 4 * entry_size:
            sizes.append(size // entry_size)
        size *= 2
    increment = page
    while len(sizes) < 512:
        for _ in range(15):
            if len(sizes) == 512:
                break
            sizes.append(size // entry_size)
            size += increment
        if increment < page * 8:
            increment *= 2
    return sizes


@dataclass
class Table:
    """An IPC entry table: its size index and its kalloc_map address (-1 in a zone)."""

    index: int = 0
    address: int = -1


@dataclass
class Proc:
    """What a process holds, so that its exit can give it back."""

    ports: int
    names: int
    generation: int
    table: Table | None = None


class Machine:
    """A booted system: zones, kernel_map, kalloc_map, RAM and the servers' space."""

    def __init__(self, kernel: zonemodel.Kernel) -> None:
        self.k = kernel
        self.page = kernel.page_size
        budget = boot_budget(kernel)
        if not budget.booted:
            raise NotBooted(budget.message or "kernel_map")
        self.zmap = ZoneMap(kernel)
        self.kmap_free = budget.free_for_tasks  # the system tasks' page directories are taken by boot_tasks
        self.kalloc_free = kernel.kalloc_map
        self.km_free: list[list[int]] = [[0, kernel.kalloc_map // kernel.page_size]]  # [start, pages], sorted
        self.proc_pages = 0
        self.base_pages = -(-(kernel.boot_resident + budget.stolen) // self.page)
        self.ram_pages = kernel.usable_ram // self.page
        self.sizes = table_sizes(kernel.entry_size, self.page)
        self.server_names = 0
        self.server_table = Table()
        self.zone = {z.name: i for i, z in enumerate(self.zmap.zones)}

    # -- allocation helpers ---------------------------------------------
    def alloc(self, name: str, n: int = 1) -> None:
        for _ in range(n):
            status = self.zmap.zalloc(self.zone[name])
            if status == "panic":
                raise ZonePanic(name)
            if status == "exhausted":
                raise SpacesExhausted

    def free(self, name: str, n: int = 1) -> None:
        for _ in range(n):
            self.zmap.zfree(self.zone[name])

    def km_alloc(self, pages: int) -> int:
        """First fit in kalloc_map, by pages."""
        for seg in self.km_free:
            if seg[1] >= pages:
                start = seg[0]
                seg[0] += pages
                seg[1] -= pages
                if seg[1] == 0:
                    self.km_free.remove(seg)
                return start
        raise KallocMapFull

    def km_release(self, start: int, pages: int) -> None:
        self.km_free.append([start, pages])
        self.km_free.sort()
        merged: list[list[int]] = []
        for seg in self.km_free:
            if merged and merged[-1][0] + merged[-1][1] == seg[0]:
                merged[-1][1] += seg[1]
            else:
                merged.append(list(seg))
        self.km_free = merged

    def kalloc(self, nbytes: int) -> int:
        """Return the kalloc_map address (pages) for big blocks, -1 for zone blocks."""
        if nbytes < self.page:
            size = 16
            while size < nbytes:
                size *= 2
            self.alloc(f"kalloc.{size}")
            return -1
        pages = -(-nbytes // self.page)
        start = self.km_alloc(pages)
        self.kalloc_free -= pages * self.page
        return start

    def kfree(self, nbytes: int, address: int) -> None:
        if nbytes < self.page:
            size = 16
            while size < nbytes:
                size *= 2
            self.free(f"kalloc.{size}")
        else:
            pages = -(-nbytes // self.page)
            self.km_release(address, pages)
            self.kalloc_free += pages * self.page

    def grow_table(self, table: Table, names: int) -> None:
        """kmem_realloc-style growth: new table first, then the old one goes."""
        entry = self.k.entry_size
        while self.sizes[table.index] <= names and table.index + 1 < len(self.sizes):
            new = self.kalloc(self.sizes[table.index + 1] * entry)
            self.kfree(self.sizes[table.index] * entry, table.address)
            table.index += 1
            table.address = new

    # -- resources ----------------------------------------------------------
    def ram_pages_in_use(self) -> int:
        """Pages in use: boot, zone pages, kalloc_map pages and the processes' own pages."""
        kalloc_pages = (self.k.kalloc_map - self.kalloc_free) // self.page
        return self.base_pages + self.zmap.used_pages + kalloc_pages + self.proc_pages

    # -- processes ----------------------------------------------------------
    def spawn(self, proc: Proc, server_names: int) -> None:
        k = self.k
        resident_pages = -(-k.process_resident // self.page)
        if self.ram_pages_in_use() + 1 + resident_pages > self.ram_pages:
            raise NoMemory
        self.alloc("tasks")
        self.alloc("maps")
        self.alloc("pmap")
        if self.kmap_free < self.page:
            raise OutOfKernelMap
        self.kmap_free -= self.page
        self.proc_pages += 1
        self.alloc("non-kernel map entries", k.process_map_entries)
        self.alloc("ipc spaces")
        proc.table = Table(0, self.kalloc(self.sizes[0] * k.entry_size))
        self.alloc("ipc ports", 1 + int(k.mach_ipc_compat))
        for _ in range(k.process_threads):
            self.alloc("threads")
            self.alloc("i386 pcb state")
            self.alloc("ipc ports")
        self.grow_table(proc.table, proc.names)
        self.alloc("ipc ports", proc.ports)
        self.server_names += server_names
        self.grow_table(self.server_table, self.server_names)
        self.alloc("objects", k.process_shadow_objects)
        self.alloc("pv_list", k.process_pv_entries)
        self.proc_pages += resident_pages

    def fork(self, proc: Proc, server_names: int) -> bool:
        """Spawn *proc* as fork() does; False when the kernel refuses it with an error, raise when the kernel dies.

        A full kalloc_map is an error in every era.  In the slab era a shortage
        of kmem_map, kernel_map or (until 2016, when allocations start to wait)
        of free pages makes kmem_cache_alloc return 0 and the fork fail.
        """
        slab = self.k.allocator == "slab"
        try:
            self.spawn(proc, server_names)
        except KallocMapFull:
            return False
        except (ZonePanic, OutOfKernelMap):
            if slab:
                return False
            raise
        except NoMemory:
            if slab and not self.k.kmem_waits_for_memory:
                return False
            raise
        return True

    def exit(self, proc: Proc, server_names: int) -> None:
        k = self.k
        assert proc.table is not None
        self.free("tasks")
        self.free("maps")
        self.free("pmap")
        self.kmap_free += self.page
        self.free("non-kernel map entries", k.process_map_entries)
        self.free("ipc spaces")
        self.kfree(self.sizes[proc.table.index] * k.entry_size, proc.table.address)
        self.free("ipc ports", 1 + int(k.mach_ipc_compat) + proc.ports)
        for _ in range(k.process_threads):
            self.free("threads")
            self.free("i386 pcb state")
            self.free("ipc ports")
        self.server_names -= server_names
        self.free("objects", k.process_shadow_objects)
        self.free("pv_list", k.process_pv_entries)
        self.proc_pages -= 1 + -(-k.process_resident // self.page)

    def system_task(self) -> Proc:
        k = self.k
        return Proc(ports=k.process_ports, names=k.process_names + k.process_ports, generation=1)

    def background_step(self, rng: Xoshiro, background: list[Proc]) -> None:
        """A background task may start; each running one may exit (in order of creation)."""
        k = self.k
        if rng.uniform() < k.background_rate:
            task = self.system_task()
            self.spawn(task, k.server_names_per_process)
            background.append(task)
        for task in list(background):
            if rng.uniform() < k.background_exit:
                self.exit(task, k.server_names_per_process)
                background.remove(task)

    def boot_tasks(self, tasks: int, kernel_part: bool) -> None:
        k = self.k
        if kernel_part:
            self.server_table = Table(0, self.kalloc(self.sizes[0] * k.entry_size))
            self.alloc("ipc spaces", k.kernel_boot_spaces)
            for _ in range(k.kernel_threads):
                self.alloc("threads")
                self.alloc("i386 pcb state")
        for _ in range(tasks):
            self.spawn(self.system_task(), k.server_names_per_process)
        if kernel_part:
            self.alloc("ipc ports", k.boot_ports)
