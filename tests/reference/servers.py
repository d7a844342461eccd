"""Reference of ``zonemodel._kernels.engine``: the six libports servers as a discrete-event simulation.

Events sit in a ``heapq`` ordered by (time, sequence).  Each server has a
thread pool and a port-set queue; libports spawns a thread when a message
leaves no idle receiver (subject to the thread policy and the remedies).
Threads and queued messages are charged to the Machine's zones.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import zonemodel
from tests.reference.machine import KallocMapFull, Machine, ZonePanic
from tests.reference.rng import Xoshiro
from tests.reference.zalloc import ZONE_EXHAUSTIBLE

SERVERS = ("proc", "auth", "exec", "term", "ext2fs", "null")
NOTIFY, RPC = 0, 1  # message kinds
ARRIVE, DONE, READY = 0, 1, 2  # event kinds
EXT2FS, NULL = 4, 5


@dataclass
class Pool:
    """One server's thread pool and its port-set queue (``epoch``: lives so far, for the OOM killer)."""

    threads: int = 0
    counter: int = 0  # libports' count of threads not busy
    receivers: int = 0
    busy: int = 0
    queue: list[tuple[float, int]] = field(default_factory=list)  # (arrival time, message kind), FIFO
    peak_threads: int = 0
    peak_queue: int = 0
    served: int = 0
    queued: int = 0
    refused: int = 0
    dropped: int = 0
    epoch: int = 0


class Servers:
    """The six libports servers sharing one CPU, charging their memory to a Machine's zones."""

    def __init__(
        self, machine: Machine, policy: object, rng: Xoshiro, record_latency: bool = True, limits: object = None
    ) -> None:
        self.limits = limits if limits is not None else zonemodel.Limits()
        self.charge_a = 0
        self.opened = 0  # null protids of the storm (for the OOM killer)
        self.null_done = 0
        self.refused_threads = self.refused_quota = self.oom_kills = 0

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
        self.service[NULL][NOTIFY] = k.service_notify_null
        self.service[EXT2FS][NOTIFY] = k.service_notify_ext2fs
        self.msg_size = [k.notify_msg_size, k.rpc_msg_size]

    def push(self, t: float, kind: int, server: int, mtype: int, arrival: float) -> None:
        heapq.heappush(self.events, (t, self.seq, kind, server, mtype, arrival))
        self.seq += 1

    def exp(self, mean: float) -> float:
        return self.rng.exp(mean)

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
        """The thread policy: may this pool spawn a thread, and after what delay does it serve."""
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
        free = self.m.zmap.free_bytes()
        if free - self.thread_bytes < p.reserve * self.k.zone_map:  # type: ignore[attr-defined]
            return False, 0.0
        if n < p.free_threads:  # type: ignore[attr-defined]
            return True, 0.0
        return True, p.backoff * n / p.free_threads  # type: ignore[attr-defined]

    def short(self) -> bool:
        """The OOM killer's test: is a kernel resource within the margin of running out."""
        m = self.m
        zmap = m.zmap
        margin = round(self.limits.oom_margin * 1_000_000)  # type: ignore[attr-defined]
        total = zmap.usable_pages * zmap.page
        free = zmap.free_bytes() + sum(z.free * z.elem_size for z in zmap.zones)
        if free * 1_000_000 < margin * total:
            return True
        spaces = zmap.zones[m.zone["ipc spaces"]]
        if spaces.flags & ZONE_EXHAUSTIBLE:
            assert spaces.max_size is not None
            cap = spaces.max_size // spaces.elem_size
            left = (spaces.max_size - spaces.cur_size) // spaces.elem_size + spaces.free
            if left * 1_000_000 < margin * cap or left < 2:
                return True
        if m.kmap_free < 16 * m.page:
            return True
        return (m.ram_pages - m.ram_pages_in_use()) * 1_000_000 < margin * m.ram_pages

    def kill_null(self, t: float) -> None:
        null = self.pools[NULL]
        n = null.threads
        self.m.free("threads", n)
        self.m.free("i386 pcb state", n)
        self.m.free("ipc ports", 2 * n)
        for _, m in null.queue:
            self.m.kfree(self.msg_size[m], -1)
        left = self.opened - self.null_done
        self.m.free("ipc ports", left)
        for _ in range(left):
            self.push(t, ARRIVE, EXT2FS, NOTIFY + 2 * self.pools[EXT2FS].epoch, t)
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
        t, _, kind, s, tagged, arrival = heapq.heappop(self.events)
        self.now = t
        pool = self.pools[s]
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
                if s == NULL:
                    self.null_done += 1
                    self.push(t, ARRIVE, EXT2FS, NOTIFY + 2 * self.pools[EXT2FS].epoch, t)
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
                if allowed and lim.oom_killer and self.short() and self.pools[NULL].threads > 0:  # type: ignore[attr-defined]
                    self.kill_null(t)
                    if s == NULL:
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
