"""Plain-Python reference models, written independently of the numba kernels.

Each class or function here has the same semantics as one kernel in
``zonemodel/_kernels/`` and is written the obvious way (objects, lists, dicts),
without sharing code with the kernel.  Tests feed both the same inputs and
seeds and require exactly equal results.
"""

from __future__ import annotations

from dataclasses import dataclass

import zonemodel
from zonemodel.model.zones import ZONE_NAMES, zone_specs

COLLECTABLE, EXHAUSTIBLE = 0x2, 0x4


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
        self.zones = [
            Zone(
                s.name, s.elem_size, s.max_size, s.alloc_size, EXHAUSTIBLE * s.exhaustible | COLLECTABLE * s.collectable
            )
            for s in zone_specs(kernel)
        ]

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
    """xoshiro256** (Blackman and Vigna), the generator of zonemodel._kernels.rng."""

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
    """A booted zalloc-era system: zones, kernel_map, kalloc_map, RAM and the servers' space."""

    def __init__(self, kernel: zonemodel.Kernel) -> None:
        self.k = kernel
        self.page = kernel.page_size
        self.zmap = ZoneMap(kernel)
        report = zonemodel.boot(kernel)
        self.kmap_free = report.kernel_map_free + kernel.system_tasks * kernel.page_size
        self.kalloc_free = kernel.kalloc_map
        self.km_free: list[list[int]] = [[0, kernel.kalloc_map // kernel.page_size]]  # [start, pages], sorted
        self.proc_pages = 0
        stolen = sum(
            size
            for what, size in report.items
            if what
            not in {
                "zone_map",
                "kmem_map",
                "kalloc_map",
                "ipc_kernel_map",
                "device_io_map",
                "boot stacks and driver glue",
            }
            and not what.startswith("page directories")
        )
        self.base_pages = -(-(kernel.boot_resident + stolen) // self.page)
        self.ram_pages = kernel.usable_ram // self.page
        self.sizes = table_sizes(kernel.entry_size, self.page)
        self.server_names = 0
        self.server_table = Table()
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

    # -- processes ----------------------------------------------------------
    def spawn(self, proc: Proc, server_names: int) -> None:
        k = self.k
        kalloc_pages = (k.kalloc_map - self.kalloc_free) // self.page
        resident_pages = -(-k.process_resident // self.page)
        in_use = self.base_pages + self.zmap.used_pages + kalloc_pages + self.proc_pages
        if in_use + 1 + resident_pages > self.ram_pages:
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

    def system_task(self) -> Proc:
        k = self.k
        return Proc(ports=k.process_ports, names=k.process_names + k.process_ports, generation=1)

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
            m.background_step(rng, background)
            who = "child"
            generation = count + 1 if chain else 1
            extra = k.chain_ports * (generation - 1)
            m.spawn(Proc(ports=ports + extra, names=names + extra, generation=generation), k.server_names_per_process)
            count += 1
    except ZonePanic as exc:
        ending, panic_zone = ("kmem_map", "") if k.allocator == "slab" else ("zone map", exc.zone)
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


# ---------------------------------------------------------------------------
# Servers: the discrete-event simulation, with heapq.

SERVERS = ("proc", "auth", "exec", "term", "ext2fs", "null")
NOTIFY, RPC = 0, 1
ARRIVE, DONE, READY = 0, 1, 2


@dataclass
class Pool:
    """One server's thread pool and its port-set queue (``epoch``: lives so far, for the OOM killer)."""

    threads: int = 0
    counter: int = 0  # libports' count of threads not busy
    receivers: int = 0
    busy: int = 0
    queue: list[tuple[float, int]] | None = None  # (arrival time, message kind), FIFO
    peak_threads: int = 0
    peak_queue: int = 0
    served: int = 0
    queued: int = 0
    refused: int = 0
    dropped: int = 0
    epoch: int = 0

    def __post_init__(self) -> None:
        self.queue = []


class Servers:
    """The six libports servers sharing one CPU, charging their memory to a Machine's zones."""

    def __init__(
        self, machine: Machine, policy: object, rng: Xoshiro, record_latency: bool = True, limits: object = None
    ) -> None:
        import heapq

        from zonemodel.model.limits import Limits

        self.limits = limits if limits is not None else Limits()
        self.charge_a = 0
        self.opened = 0  # null protids of the storm (for the OOM killer)
        self.null_done = 0
        self.refused_threads = self.refused_quota = self.oom_kills = 0

        self.heapq = heapq
        self.m = machine
        self.k = machine.k
        self.policy = policy
        self.rng = rng
        self.pools = [Pool() for _ in SERVERS]
        self.events: list[tuple[float, int, int, int, int, float]] = []
        self.seq = 0
        self.now = 0.0
        self.cpu = 0.0
        self.latencies: list[float] = []
        self.record_latency = record_latency
        k = self.k
        self.thread_bytes = k.thread_size + k.pcb_size + 2 * k.port_size
        self.service = [[k.service_rpc, k.service_rpc] for _ in SERVERS]
        self.service[5][NOTIFY] = k.service_notify_null
        self.service[4][NOTIFY] = k.service_notify_ext2fs
        self.msg_size = [k.notify_msg_size, k.rpc_msg_size]

    def push(self, t: float, kind: int, server: int, mtype: int, arrival: float) -> None:
        self.heapq.heappush(self.events, (t, self.seq, kind, server, mtype, arrival))
        self.seq += 1

    def exp(self, mean: float) -> float:
        import math

        return -mean * math.log(1.0 - self.rng.uniform())

    def spawn_thread(self) -> None:
        self.m.alloc("threads")
        self.m.alloc("i386 pcb state")
        self.m.alloc("ipc ports", 2)

    def start_pools(self) -> None:
        for pool in self.pools:
            for _ in range(self.policy.pool):  # type: ignore[attr-defined]
                self.spawn_thread()
                pool.threads += 1
                pool.counter += 1
                pool.receivers += 1
            pool.peak_threads = pool.threads

    def decide(self, pool: Pool) -> tuple[bool, float]:
        p = self.policy
        n = pool.threads
        kind = p.kind  # type: ignore[attr-defined]
        if kind == "unbounded":
            return True, 0.0
        if kind == "throttle":
            if n > p.cap:  # type: ignore[attr-defined]
                return False, 0.0
            return True, (p.delay if n >= p.delay_from else 0.0)  # type: ignore[attr-defined]
        if kind == "depress":
            total = n + 1
            return True, (10 + ((total - 1) // 100 + 1) * 10) / 1000.0
        if kind == "fixed":
            return False, 0.0
        zmap = self.m.zmap
        free = (zmap.usable_pages - zmap.used_pages) * zmap.page + zmap.end - zmap.next
        if free - self.thread_bytes < p.reserve * self.k.zone_map:  # type: ignore[attr-defined]
            return False, 0.0
        if n < p.free_threads:  # type: ignore[attr-defined]
            return True, 0.0
        return True, p.backoff * n / p.free_threads  # type: ignore[attr-defined]

    def short(self) -> bool:
        """The OOM killer's test (see zonemodel._kernels.remedies._short)."""
        m, k = self.m, self.k
        zmap = m.zmap
        margin = round(self.limits.oom_margin * 1_000_000)  # type: ignore[attr-defined]
        total = zmap.usable_pages * zmap.page
        free = (zmap.usable_pages - zmap.used_pages) * zmap.page + zmap.end - zmap.next
        free += sum(z.free * z.elem_size for z in zmap.zones)
        if free * 1_000_000 < margin * total:
            return True
        spaces = zmap.zones[ZONE_NAMES.index("ipc spaces")]
        if spaces.flags & EXHAUSTIBLE:
            cap = spaces.max_size // spaces.elem_size
            left = (spaces.max_size - spaces.cur_size) // spaces.elem_size + spaces.free
            if left * 1_000_000 < margin * cap or left < 2:
                return True
        if m.kmap_free < 16 * m.page:
            return True
        kalloc_pages = (k.kalloc_map - m.kalloc_free) // m.page
        used = m.base_pages + zmap.used_pages + kalloc_pages + m.proc_pages
        return (m.ram_pages - used) * 1_000_000 < margin * m.ram_pages

    def kill_null(self, t: float) -> None:
        null = self.pools[5]
        assert null.queue is not None
        n = null.threads
        self.m.free("threads", n)
        self.m.free("i386 pcb state", n)
        self.m.free("ipc ports", 2 * n)
        for _, m in null.queue:
            self.m.kfree(self.msg_size[m], -1)
        left = self.opened - self.null_done
        self.m.free("ipc ports", left)
        for _ in range(left):
            self.push(t, ARRIVE, 4, NOTIFY + 2 * self.pools[4].epoch, t)
        null.threads = null.counter = null.receivers = null.busy = 0
        null.queue = []
        null.epoch += 1
        self.opened = self.null_done = 0
        self.oom_kills += 1

    def run(self) -> None:
        """Process events until none is left."""
        while self.events:
            self.step()

    def step(self) -> None:
        t, _, kind, s, tagged, arrival = self.heapq.heappop(self.events)
        self.now = t
        pool = self.pools[s]
        assert pool.queue is not None
        mtype = tagged % 2
        if tagged // 2 != pool.epoch:
            return
        tag = 2 * pool.epoch
        slab = self.k.allocator == "slab"
        if kind == ARRIVE:
            try:
                self.m.kalloc(self.msg_size[mtype])
            except (ZonePanic, KallocMapFull):
                if not slab:
                    raise
                pool.dropped += 1
                return
            pool.queue.append((arrival, mtype))
            if pool.receivers == 0:
                pool.queued += 1
        elif kind == DONE:
            pool.busy -= 1
            pool.receivers += 1
            pool.counter += 1
            pool.served += 1
            if self.record_latency:
                self.latencies.append(t - arrival)
            if mtype == NOTIFY:
                self.m.free("ipc ports")
                if s == 5:
                    self.null_done += 1
                    self.push(t, ARRIVE, 4, NOTIFY + 2 * self.pools[4].epoch, t)
        else:
            pool.receivers += 1
        while pool.receivers > 0 and pool.queue:
            arrived, m = pool.queue.pop(0)
            self.m.kfree(self.msg_size[m], -1)
            pool.receivers -= 1
            pool.busy += 1
            pool.counter -= 1
            if pool.counter == 0:
                allowed, delay = self.decide(pool)
                lim = self.limits
                if allowed and lim.threads_per_task and pool.threads >= lim.threads_per_task:  # type: ignore[attr-defined]
                    self.refused_threads += 1
                    allowed = False
                if allowed and lim.kmem_quota and self.charge_a + self.thread_bytes > lim.kmem_quota:  # type: ignore[attr-defined]
                    self.refused_quota += 1
                    allowed = False
                if allowed and lim.oom_killer and self.short() and self.pools[5].threads > 0:  # type: ignore[attr-defined]
                    self.kill_null(t)
                    if s == 5:
                        return
                    allowed = False
                if allowed:
                    try:
                        self.spawn_thread()
                    except ZonePanic:
                        if not slab:
                            raise
                        allowed = False
                if allowed:
                    if lim.kmem_quota:  # type: ignore[attr-defined]
                        self.charge_a += self.thread_bytes
                    pool.threads += 1
                    pool.counter += 1
                    pool.peak_threads = max(pool.peak_threads, pool.threads)
                    self.push(t + delay, READY, s, tag, t)
                else:
                    pool.refused += 1
            start = max(t, self.cpu)
            finish = start + self.exp(self.service[s][m])
            self.cpu = finish
            self.push(finish, DONE, s, m + tag, arrived)
        pool.peak_queue = max(pool.peak_queue, len(pool.queue))


def _ending(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ZonePanic):
        return "zone map", exc.zone
    return {
        SpacesExhausted: "ipc spaces",
        OutOfKernelMap: "kernel_map",
        KallocMapFull: "kalloc_map",
        NoMemory: "physical memory",
    }[type(exc)], ""


@dataclass
class Storm:
    """A system after the open phase of a close burst, ready for the closes."""

    machine: Machine
    servers: Servers
    null: Table
    ext2fs: Table
    opened: int
    refused_ports: int


def open_null(
    m: Machine,
    names: dict[str, int],
    ext2fs: Table,
    null: Table,
    client: Table,
    client_names: list[int],
    c: int,
) -> None:
    """One open("/dev/null") from client *c*, as zonemodel._kernels.engine._open_one.

    Two kernel ports; +1 name in ext2fs, +null_names_per_open in null, +1 in
    the client, each table grown as needed.  A table that cannot grow raises
    KallocMapFull with its count of names unchanged.
    """
    m.alloc("ipc ports", 2)
    for key, table, add in (("ext2fs", ext2fs, 1), ("null", null, m.k.null_names_per_open)):
        names[key] += add
        try:
            m.grow_table(table, names[key])
        except KallocMapFull:
            names[key] -= add
            raise
    client_names[c] += 1
    try:
        m.grow_table(client, client_names[c])
    except KallocMapFull:
        client_names[c] -= 1
        raise


def storm_setup(
    kernel: zonemodel.Kernel,
    processes: int,
    ports_each: int,
    policy: object,
    state: object,
    limits: object = None,
    servers_class: type = Servers,
) -> Storm:
    """Boot, start the clients and open every port (the deterministic part of a close burst)."""
    from zonemodel.model.limits import Limits

    k = kernel
    lim = limits if limits is not None else Limits()
    m = Machine(k)
    m.boot_tasks(k.system_tasks, kernel_part=True)
    srv = servers_class(m, policy, Xoshiro(state), limits=lim)
    null, ext2fs = Table(), Table()
    names = {"null": k.null_names, "ext2fs": k.ext2fs_names}
    storm = Storm(m, srv, null, ext2fs, 0, 0)
    for table, key in ((null, "null"), (ext2fs, "ext2fs")):
        table.address = m.kalloc(m.sizes[0] * k.entry_size)
        m.grow_table(table, names[key])
    srv.start_pools()
    clients, client_names = [], []
    for _ in range(processes):
        task = m.system_task()
        m.spawn(task, k.server_names_per_process)
        assert task.table is not None
        clients.append(task.table)
        client_names.append(task.names)
    port_bytes = k.port_size
    for _ in range(ports_each):
        for c in range(processes):
            if lim.ports_per_task and client_names[c] + 1 > lim.ports_per_task:  # type: ignore[attr-defined]
                storm.refused_ports += 1
                continue
            if lim.kmem_quota and srv.charge_a + 2 * port_bytes > lim.kmem_quota:  # type: ignore[attr-defined]
                srv.refused_quota += 1
                continue
            open_null(m, names, ext2fs, null, clients[c], client_names, c)
            if lim.kmem_quota:  # type: ignore[attr-defined]
                srv.charge_a += 2 * port_bytes
            storm.opened += 1
    srv.opened = storm.opened
    return storm


def close_phase(storm: Storm, close: str) -> None:
    """Close every port (exponential gaps) and run the servers until no event is left."""
    k, srv = storm.machine.k, storm.servers
    interval = k.close_interval_fast if close == "fast" else k.close_interval_slow
    t = 0.0
    for _ in range(storm.opened):
        t += srv.exp(interval)
        srv.push(t, ARRIVE, 5, NOTIFY, t)
    srv.run()


def close_burst(
    kernel: zonemodel.Kernel,
    processes: int,
    ports_each: int,
    close: str,
    policy: object,
    state: object,
    limits: object = None,
    other: int = 0,
    servers_class: type | None = None,
) -> dict[str, object]:
    """Reference for one run of zonemodel.close_burst (with remedies and the other user)."""
    from zonemodel.model.limits import Limits

    k = kernel
    lim = limits if limits is not None else Limits()
    ending, zone, other_opened = "", "", 0
    storm: Storm | None = None
    try:
        storm = storm_setup(kernel, processes, ports_each, policy, state, lim, servers_class or Servers)
        close_phase(storm, close)
        m, srv, null, ext2fs = storm.machine, storm.servers, storm.null, storm.ext2fs
        if other:
            if srv.pools[5].threads == 0:  # killed: a new null on this lookup
                null = Table(0, m.kalloc(m.sizes[0] * k.entry_size))
                m.grow_table(null, k.null_names)
                srv.spawn_thread()
            task = m.system_task()
            m.spawn(task, k.server_names_per_process)
            assert task.table is not None
            mine, my_names = task.table, [task.names]
            names = {"null": k.null_names, "ext2fs": k.ext2fs_names}
            charge_b, port_bytes = 0, k.port_size
            for _ in range(other):
                if lim.ports_per_task and my_names[0] + 1 > lim.ports_per_task:  # type: ignore[attr-defined]
                    break
                if lim.kmem_quota and charge_b + 2 * port_bytes > lim.kmem_quota:  # type: ignore[attr-defined]
                    break
                open_null(m, names, ext2fs, null, mine, my_names, 0)
                charge_b += 2 * port_bytes
                other_opened += 1
    except (ZonePanic, SpacesExhausted, OutOfKernelMap, KallocMapFull, NoMemory) as exc:
        ending, zone = _ending(exc)
    assert storm is not None, "the reference failed before the storm could start"
    m, srv = storm.machine, storm.servers
    return {
        "limit": ending,
        "zone": zone,
        "opened": storm.opened,
        "peak_threads": [p.peak_threads for p in srv.pools],
        "peak_backlog": [p.peak_queue for p in srv.pools],
        "zones": [(z.name, z.in_use, z.peak, z.cur_size) for z in m.zmap.zones],
        "latencies": srv.latencies,
        "remedies": (storm.refused_ports, srv.refused_quota, srv.refused_threads, srv.oom_kills),
        "other_opened": other_opened,
    }


def open_ports(kernel: zonemodel.Kernel, processes: int, ports: int) -> dict[str, object]:
    """Reference for zonemodel.open_ports."""
    k = kernel
    m = Machine(k)
    m.boot_tasks(k.system_tasks, kernel_part=True)
    null, ext2fs = Table(), Table()
    names = {"null": k.null_names, "ext2fs": k.ext2fs_names}
    per_instance = [0]
    opened = failed = 0
    ending = ""
    try:
        for table, key in ((null, "null"), (ext2fs, "ext2fs")):
            table.address = m.kalloc(m.sizes[0] * k.entry_size)
            m.grow_table(table, names[key])
        clients, client_names = [], []
        for _ in range(processes):
            task = m.system_task()
            m.spawn(task, k.server_names_per_process)
            clients.append(task.table)
            client_names.append(task.names)
        for i in range(processes * ports):
            c = i % processes
            try:
                open_null(m, names, ext2fs, null, clients[c], client_names, c)  # type: ignore[arg-type]
            except KallocMapFull:
                failed += 1
                if names["null"] + k.null_names_per_open > m.sizes[null.index] - 1 and len(per_instance) < 64:
                    per_instance.append(0)
                    null = Table(0, m.kalloc(m.sizes[0] * k.entry_size))
                    names["null"] = k.null_names
                    m.grow_table(null, names["null"])
                continue
            opened += 1
            per_instance[-1] += 1
    except (ZonePanic, SpacesExhausted, OutOfKernelMap, NoMemory) as exc:
        ending = _ending(exc)[0]
    return {"opened": opened, "failed": failed, "per_instance": tuple(per_instance), "ending": ending}


def timed_fork_bomb(
    kernel: zonemodel.Kernel, start: str, chain: bool, user: str, interval: float, policy: object, state: object
) -> dict[str, object]:
    """Reference for zonemodel.fork_bomb(interval=...)."""
    k = kernel
    m = Machine(k)
    rng = Xoshiro(state)
    srv = Servers(m, policy, rng, record_latency=False)
    ports = {"console": k.ports_console, "ssh": k.ports_ssh, "screen": k.ports_screen}[start]
    names = k.process_names + ports + (k.root_extra_names if user == "root" else 0)
    session = {"console": 0, "ssh": k.session_tasks_ssh, "screen": k.session_tasks_screen}[start]
    rpcs = [k.fork_rpcs_proc, k.fork_rpcs_auth, 0, 0, 0, 0]
    most = k.space_max + 16 if k.ipc_spaces_exhaustible else 50_000
    count, who, ending, zone = 0, "child", "child limit", ""
    background: list[Proc] = []
    try:
        m.boot_tasks(k.system_tasks, kernel_part=True)
        who = "background"
        m.boot_tasks(session, kernel_part=False)
        who = "server"
        srv.start_pools()
        for i in range(most):
            t = i * interval
            who = "background"
            m.background_step(rng, background)
            who = "server"
            while srv.events and srv.events[0][0] <= t:
                srv.step()
            who = "child"
            generation = count + 1 if chain else 1
            extra = k.chain_ports * (generation - 1)
            m.spawn(Proc(ports=ports + extra, names=names + extra, generation=generation), k.server_names_per_process)
            count += 1
            for s, n in enumerate(rpcs):
                for _ in range(n):
                    srv.push(t, ARRIVE, s, RPC, t)
    except (ZonePanic, SpacesExhausted, OutOfKernelMap, KallocMapFull, NoMemory) as exc:
        ending, zone = _ending(exc)
    return {
        "processes": count,
        "limit": ending,
        "zone": zone,
        "hit_by": who,
        "threads": [p.peak_threads for p in srv.pools],
        "zones": [(z.name, z.in_use, z.peak, z.cur_size) for z in m.zmap.zones],
    }


def limited_fork_bomb(
    kernel: zonemodel.Kernel, start: str, chain: bool, user: str, limits: object, other: int, state: object
) -> dict[str, object]:
    """Reference for zonemodel.fork_bomb(limits=..., other=...)."""
    k = kernel
    lim = limits
    m = Machine(k)
    rng = Xoshiro(state)
    srv = Servers(m, None, rng, limits=lim)  # only its OOM test is used
    ports = {"console": k.ports_console, "ssh": k.ports_ssh, "screen": k.ports_screen}[start]
    names = k.process_names + ports + (k.root_extra_names if user == "root" else 0)
    session = {"console": 0, "ssh": k.session_tasks_ssh, "screen": k.session_tasks_screen}[start]
    entry, page = k.entry_size, k.page_size
    e = {z.name: z.elem_size for z in m.zmap.zones}
    slab = k.allocator == "slab"

    def charge(proc_ports: int, proc_names: int, generation: int, threads: int) -> int:
        extra = k.chain_ports * (generation - 1)
        index = 0
        while m.sizes[index] <= proc_names + extra and index + 1 < len(m.sizes):
            index += 1
        n_ports = 1 + int(k.mach_ipc_compat) + threads + proc_ports + extra
        return (
            e["tasks"] + e["maps"] + e["pmap"] + page + e["ipc spaces"]
            + k.process_map_entries * e["non-kernel map entries"] + n_ports * e["ipc ports"]
            + threads * (e["threads"] + e["i386 pcb state"]) + m.sizes[index] * entry
            + k.process_shadow_objects * e["objects"] + k.process_pv_entries * e["pv_list"]
        )  # fmt: skip

    def fork(proc: Proc) -> str:
        """'ok', 'error' (a slab-era refusal) or raise for a dead kernel."""
        try:
            m.spawn(proc, k.server_names_per_process)
        except (ZonePanic, OutOfKernelMap) as exc:
            if slab:
                return "error"
            raise exc
        except NoMemory:
            if slab and not k.kmem_waits_for_memory:
                return "error"
            raise
        except KallocMapFull:
            return "error"
        return "ok"

    a_procs: list[Proc] = []
    a_charge = b_count = b_charge = 0
    acts = [0] * 8
    background: list[Proc] = []
    ending, who, saturated = "child limit", "child", False
    base_charge = charge(k.process_ports, k.process_names + k.process_ports, 1, k.process_threads)
    try:
        m.boot_tasks(k.system_tasks, kernel_part=True)
        m.boot_tasks(session, kernel_part=False)
        for _ in range(200_000):
            who = "background"
            if rng.uniform() < k.background_rate:
                task = m.system_task()
                if fork(task) == "ok":
                    background.append(task)
            for task in list(background):
                if rng.uniform() < k.background_exit:
                    m.exit(task, k.server_names_per_process)
                    background.remove(task)
            who = "child"
            generation = len(a_procs) + 1 if chain else 1
            cost = charge(ports, names, generation, k.process_threads)
            blocked = False
            if lim.nproc and len(a_procs) >= lim.nproc:  # type: ignore[attr-defined]
                acts[0] += 1
                blocked = True
            elif lim.kmem_quota and a_charge + cost > lim.kmem_quota:  # type: ignore[attr-defined]
                acts[1] += 1
                blocked = True
            elif lim.oom_killer and a_procs and srv.short():  # type: ignore[attr-defined]
                victim = a_procs.pop()
                m.exit(victim, k.server_names_per_process)
                a_charge -= charge(ports, names, victim.generation, k.process_threads)
                acts[2] += 1
                blocked = True
            else:
                extra = k.chain_ports * (generation - 1)
                proc = Proc(ports=ports + extra, names=names + extra, generation=generation)
                if fork(proc) == "ok":
                    a_procs.append(proc)
                    a_charge += cost
                else:
                    acts[3] += 1
                    blocked = True
            if not other:
                if blocked:
                    ending = "limited"
                    break
                continue
            saturated = saturated or blocked
            if not saturated:
                continue
            if lim.nproc and b_count >= lim.nproc:  # type: ignore[attr-defined]
                acts[4] += 1
                ending = "other failed"
                break
            if lim.kmem_quota and b_charge + base_charge > lim.kmem_quota:  # type: ignore[attr-defined]
                acts[5] += 1
                ending = "other failed"
                break
            if lim.oom_killer and a_procs and srv.short():  # type: ignore[attr-defined]
                victim = a_procs.pop()
                m.exit(victim, k.server_names_per_process)
                a_charge -= charge(ports, names, victim.generation, k.process_threads)
                acts[2] += 1
            who = "other user"
            if fork(m.system_task()) != "ok":
                acts[7] += 1
                ending = "other failed"
                break
            b_count += 1
            b_charge += base_charge
            if b_count == other:
                ending = "other done"
                break
    except (ZonePanic, SpacesExhausted, OutOfKernelMap, KallocMapFull, NoMemory) as exc:
        ending = _ending(exc)[0]
    return {
        "processes": len(a_procs),
        "ending": ending,
        "hit_by": who,
        "other": b_count,
        "acts": acts,
        "zones": [(z.name, z.in_use, z.peak, z.cur_size) for z in m.zmap.zones],
    }
