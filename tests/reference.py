"""Plain-Python reference models, written independently of the numba kernels.

Each class or function here has the same semantics as one kernel in
``zonemodel/_*.py`` and is written the obvious way (objects, lists, dicts),
without sharing code with the kernel.  Tests feed both the same inputs and
seeds and require exactly equal results.
"""

from __future__ import annotations

from dataclasses import dataclass

import zonemodel
from zonemodel.zones import COLLECTABLE, EXHAUSTIBLE, ZONE_NAMES, zone_specs


class ZoneMapFull(Exception):
    """zget_space or kmem_alloc_wired found no page: GNU Mach panics."""


@dataclass
class Zone:
    """One zone, as in kern/zalloc.c."""

    name: str
    elem_size: int
    max_size: int
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
        page_table_bytes = pages * 8
        self.usable_pages = pages - (page_table_bytes + self.page - 1) // self.page
        self.used_pages = 0
        self.next = 0  # the zdata chunk comes first
        self.end = kernel.zdata
        self.wasted = 0
        self.zones = [Zone(s.name, s.elem_size, s.max_size, s.alloc_size, s.flags) for s in zone_specs(kernel)]

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
            if zone.cur_size + zone.elem_size > zone.max_size:
                if zone.flags & EXHAUSTIBLE:
                    return "exhausted"
                zone.max_size += zone.max_size // 2
            try:
                if zone.flags & COLLECTABLE:
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


def replay(kernel: zonemodel.Kernel, ops: list[tuple[str, int]]) -> dict[str, object]:
    """Reference for zonemodel.replay: same outcome, failure index and zone table."""
    zmap = ZoneMap(kernel)
    outcome, failed = "ok", -1
    for i, (name, count) in enumerate(ops):
        index = ZONE_NAMES.index(name)
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


# ---------------------------------------------------------------------------
# Random numbers: xoshiro256** with Python integers.

_MASK = (1 << 64) - 1


class Xoshiro:
    """xoshiro256** (Blackman and Vigna), the generator of zonemodel._rng."""

    def __init__(self, state: object) -> None:
        self.s = [int(v) for v in state]  # type: ignore[attr-defined]

    @staticmethod
    def _rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & _MASK

    def next(self) -> int:
        s = self.s
        result = (self._rotl((s[1] * 5) & _MASK, 7) * 9) & _MASK
        t = (s[1] << 17) & _MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self) -> float:
        return (self.next() >> 11) * 2.0**-53


# ---------------------------------------------------------------------------
# Processes and the fork bomb.


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
class Proc:
    """What a process holds, so that its exit can give it back."""

    ports: int
    names: int
    generation: int
    table: int = 0  # size index of its entry table


class Machine:
    """A booted zalloc-era system: zones, kernel_map, kalloc_map, RAM and the servers' space."""

    def __init__(self, kernel: zonemodel.Kernel) -> None:
        self.k = kernel
        self.page = kernel.page_size
        self.zmap = ZoneMap(kernel)
        report = zonemodel.boot(kernel)
        self.kmap_free = report.kernel_map_free + kernel.system_tasks * kernel.page_size
        self.kalloc_free = kernel.kalloc_map
        self.proc_pages = 0
        stolen = sum(
            size
            for what, size in report.items
            if what not in {"zone_map", "kalloc_map", "ipc_kernel_map", "device_io_map", "boot stacks and driver glue"}
            and not what.startswith("page directories")
        )
        self.base_pages = -(-(kernel.boot_resident + stolen) // self.page)
        self.ram_pages = kernel.ram // self.page
        self.sizes = table_sizes(kernel.entry_size, self.page)
        self.server_names = 0
        self.server_table = 0
        self.zone = {name: i for i, name in enumerate(ZONE_NAMES)}

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

    def kalloc(self, nbytes: int) -> None:
        if nbytes < self.page:
            size = 16
            while size < nbytes:
                size *= 2
            self.alloc(f"kalloc.{size}")
        else:
            rounded = -(-nbytes // self.page) * self.page
            if rounded > self.kalloc_free:
                raise KallocMapFull
            self.kalloc_free -= rounded

    def kfree(self, nbytes: int) -> None:
        if nbytes < self.page:
            size = 16
            while size < nbytes:
                size *= 2
            self.free(f"kalloc.{size}")
        else:
            self.kalloc_free += -(-nbytes // self.page) * self.page

    def grow_table(self, index: int, names: int, on_step: object = None) -> int:
        entry = self.k.entry_size
        while self.sizes[index] <= names and index + 1 < len(self.sizes):
            self.kalloc(self.sizes[index + 1] * entry)
            self.kfree(self.sizes[index] * entry)
            index += 1
            if on_step is not None:
                on_step(index)  # type: ignore[operator]
        return index

    # -- processes ----------------------------------------------------------
    def spawn(self, proc: Proc, server_names: int) -> None:
        k = self.k
        kalloc_pages = (k.kalloc_map - self.kalloc_free) // self.page
        resident_pages = -(-k.process_resident // self.page)
        if (
            self.base_pages + self.zmap.used_pages + kalloc_pages + self.proc_pages + 1 + resident_pages
            > self.ram_pages
        ):
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
        self.kalloc(self.sizes[0] * k.entry_size)
        proc.table = 0
        self.alloc("ipc ports", 1 + int(k.mach_ipc_compat))
        for _ in range(k.process_threads):
            self.alloc("threads")
            self.alloc("i386 pcb state")
            self.alloc("ipc ports")

        def record(index: int) -> None:
            proc.table = index

        self.grow_table(0, proc.names, record)
        self.alloc("ipc ports", proc.ports)
        self.server_names += server_names
        self.server_table = self.grow_table(self.server_table, self.server_names, self._server_step)
        self.alloc("objects", k.process_shadow_objects)
        self.alloc("pv_list", k.process_pv_entries)
        self.proc_pages += resident_pages

    def _server_step(self, index: int) -> None:
        self.server_table = index

    def exit(self, proc: Proc, server_names: int) -> None:
        k = self.k
        self.free("tasks")
        self.free("maps")
        self.free("pmap")
        self.kmap_free += self.page
        self.free("non-kernel map entries", k.process_map_entries)
        self.free("ipc spaces")
        self.kfree(self.sizes[proc.table] * k.entry_size)
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

    def boot_tasks(self, tasks: int, kernel_part: bool) -> None:
        k = self.k
        if kernel_part:
            self.kalloc(self.sizes[0] * k.entry_size)
            self.alloc("ipc spaces", k.kernel_boot_spaces)
            for _ in range(k.kernel_threads):
                self.alloc("threads")
                self.alloc("i386 pcb state")
        for _ in range(tasks):
            self.spawn(self.system_task(), k.server_names_per_process)
        if kernel_part:
            self.alloc("ipc ports", k.boot_ports)


def fork_bomb(kernel: zonemodel.Kernel, start: str, chain: bool, user: str, state: object) -> dict[str, object]:
    """Reference for one run of zonemodel.fork_bomb: same count, ending, and final zone table."""
    k = kernel
    m = Machine(k)
    rng = Xoshiro(state)
    count, who, ending, panic_zone = 0, "child", "child limit", ""
    background: list[Proc] = []
    ports = {"console": k.ports_console, "ssh": k.ports_ssh, "screen": k.ports_screen}[start]
    names = k.process_names + ports + (k.root_extra_names if user == "root" else 0)
    session = {"console": 0, "ssh": k.session_tasks_ssh, "screen": k.session_tasks_screen}[start]
    try:
        m.boot_tasks(k.system_tasks, kernel_part=True)
        who = "background"
        m.boot_tasks(session, kernel_part=False)
        for _ in range(200_000):
            who = "background"
            if rng.uniform() < k.background_rate:
                task = m.system_task()
                m.spawn(task, k.server_names_per_process)
                background.append(task)
            for task in list(background):
                if rng.uniform() < k.background_exit:
                    m.exit(task, k.server_names_per_process)
                    background.remove(task)
            who = "child"
            generation = count + 1 if chain else 1
            extra = k.chain_ports * (generation - 1)
            m.spawn(Proc(ports=ports + extra, names=names + extra, generation=generation), k.server_names_per_process)
            count += 1
    except ZonePanic as exc:
        ending, panic_zone = "zone map", exc.zone
    except SpacesExhausted:
        ending = "ipc spaces"
    except OutOfKernelMap:
        ending = "kernel_map"
    except KallocMapFull:
        ending = "kalloc_map"
    except NoMemory:
        ending = "physical memory"
    return {
        "processes": count,
        "limit": ending,
        "panic_zone": panic_zone,
        "hit_by": who,
        "background": len(background),
        "zones": [(z.name, z.in_use, z.peak, z.cur_size) for z in m.zmap.zones],
        "kernel_map_free": m.kmap_free,
        "kalloc_map_free": m.kalloc_free,
    }
