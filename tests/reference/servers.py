"""Reference of ``zonemodel._kernels.engine``: the six libports servers on a one-CPU priority scheduler.

Plain Python, written from the model's description rather than from the
kernel's tables.  Threads are objects; the run queue is a :mod:`heapq` of
(priority, order, thread); events that the CPU does not decide (messages from
outside, sleeps that end) are a heapq of (time, order, ...).  At equal times
an event comes first, then the end of the running thread's work, then the
clock tick.

What is simulated (see ``storms-2005.md`` §A-D): a thread must run to
receive; a message goes to the longest-waiting blocked receiver, or into
the server's queue; libports' counter of threads not busy decides when a
thread creates another, which counts as not busy before it has received
anything; a thread keeps the CPU until it blocks, until its quantum ends
with an equal or better thread waiting, or until a strictly better thread
becomes runnable; priorities worsen with the CPU charged at clock ticks
(weighted by the load) and usage decays at each scheduler tick.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

import zonemodel
from tests.reference.machine import KallocMapFull, Machine, ZonePanic
from tests.reference.rng import Xoshiro
from tests.reference.zalloc import ZONE_EXHAUSTIBLE

SERVERS = ("proc", "auth", "exec", "term", "ext2fs", "null")
NOTIFY, RPC = 0, 1  # message kinds
ARRIVE, READY = 0, 2  # event kinds: a message from outside, a sleeping thread wakes
EXT2FS, NULL, CLIENT = 4, 5, 6
WORST = 31  # the worst priority

# What a thread does with the CPU next.
RECEIVE, SERVE, SPAWN, CLOSE = "receive", "serve", "spawn", "close"
YIELD, KILL = "yield", "kill"  # a shell killing the clients: task_terminate's yields, then the teardown


@dataclass(eq=False)
class Thread:
    """One thread: a server's worker or a client closing its ports."""

    number: int
    server: int
    state: str  # "recv", "ready", "run", "sleep", "new", "done", "dead"
    step: str
    stamp: int
    epoch: int = 0
    msg: int = -1  # message kind held; a client: closes left
    arrival: float = 0.0
    usage: float = 0.0
    left: float = 0.0
    delay: float = 0.0
    child: Thread | None = None
    yields: int = 0  # the killer: yields left before the next teardown


@dataclass
class Pool:
    """One server's thread pool and its port-set queue (``epoch``: lives so far, for the OOM killer)."""

    threads: int = 0
    counter: int = 0  # libports' count of threads not busy
    busy: int = 0
    waiting: deque[Thread] = field(default_factory=deque)  # threads blocked in mach_msg, longest first
    queue: deque[tuple[float, int]] = field(default_factory=deque)  # (arrival time, message kind)
    peak_threads: int = 0
    peak_queue: int = 0
    served: int = 0
    epoch: int = 0
    stalled: bool = False  # null: a cleanup left cntl->lock held
    stuck: int = 0  # threads blocked for good on it


class Servers:
    """The six libports servers and the clients sharing one CPU, charging their memory to a Machine's zones."""

    def __init__(
        self, machine: Machine, policy: object, rng: Xoshiro, record_latency: bool = True, limits: object = None
    ) -> None:
        self.limits = limits if limits is not None else zonemodel.Limits()
        self.charge_a = 0
        self.opened = 0  # null protids of the storm (for the OOM killer)
        self.null_done = 0
        self.refused_threads = self.refused_quota = self.oom_kills = 0

        self.m = machine
        self.k = k = machine.k
        self.policy = policy
        self.rng = rng
        self.pools = [Pool() for _ in SERVERS]
        self.events: list[tuple[float, int, int, object, int, float]] = []
        self.seq = 0
        self.now = 0.0
        self.latencies: list[float] = []
        self.record_latency = record_latency
        self.thread_bytes = k.thread_size + k.pcb_size + 2 * k.port_size
        self.service = [[k.service_rpc, k.service_rpc] for _ in SERVERS]
        self.service[NULL][NOTIFY] = k.service_notify_null
        self.service[EXT2FS][NOTIFY] = k.service_notify_ext2fs
        self.msg_size = [k.notify_msg_size, k.rpc_msg_size]
        self.base = [k.priority_user] * (len(SERVERS) + 1)
        self.base[0] = k.priority_proc  # proc
        self.close_gap = 0.0
        self.victims: list[int] = []

        # The scheduler.
        self.threads: list[Thread] = []
        self.runq: list[tuple[int, int, Thread]] = []
        self.rseq = 0
        self.current: Thread | None = None
        self.current_pri = 0
        self.quantum = 0
        self.started = 0.0  # when the running thread's current piece of work was (re)started
        self.cpu_end = 0.0
        self.tick = 1.0 / k.hz
        self.phase = 0.0
        self.next_tick = 1  # number of the next clock tick; tick n is at phase + n * tick
        self.sec_offset = 0
        self.sec = 0  # scheduler ticks so far
        self.load = 1
        self.runnable = 0

    # ------------------------------------------------------------------ events
    def push(self, t: float, kind: int, server: object, mtype: int, arrival: float) -> None:
        heapq.heappush(self.events, (t, self.seq, kind, server, mtype, arrival))
        self.seq += 1

    def exp(self, mean: float) -> float:
        return self.rng.exp(mean)

    def cpu_time(self, mean: float) -> float:
        """CPU seconds of one request or close: exponential about *mean*, or exactly *mean*."""
        return mean if self.k.cpu_times == "fixed" else self.rng.exp(mean)

    # ------------------------------------------------------------------ threads and pools
    def spawn_thread(self) -> None:
        self.m.alloc("threads")
        self.m.alloc("i386 pcb state")
        self.m.alloc("ipc ports", 2)

    def start_pools(self) -> None:
        for pool in self.pools:
            for _ in range(self.policy.pool):  # type: ignore[attr-defined]
                self.spawn_thread()
                pool.threads += 1
            pool.peak_threads = pool.threads

    def new_thread(self, server: int, state: str, step: str) -> Thread:
        epoch = self.pools[server].epoch if server < CLIENT else 0
        th = Thread(len(self.threads), server, state, step, stamp=self.sec, epoch=epoch)
        self.threads.append(th)
        return th

    def start(self, close_gap: float = 0.0) -> None:
        """A new event loop: the clock started, every existing server thread seated, idle, blocked in mach_msg."""
        self.close_gap = close_gap
        self.events, self.seq, self.now = [], 0, 0.0
        self.threads, self.runq, self.rseq = [], [], 0
        self.current, self.current_pri, self.quantum = None, 0, 0
        self.started = self.cpu_end = self.phase = 0.0
        self.sec_offset, self.load, self.runnable = 0, 1, 0
        if self.k.clock_phase == "random":
            self.phase = self.rng.uniform() * self.tick
            self.sec_offset = int(self.rng.uniform() * self.k.sched_tick_ticks)
        self.sec = self.sec_offset // self.k.sched_tick_ticks
        self.next_tick = 1
        for s, pool in enumerate(self.pools):
            pool.waiting.clear()
            pool.queue.clear()
            pool.busy = pool.stuck
            pool.counter = pool.threads - pool.stuck
            for _ in range(pool.threads - pool.stuck):
                pool.waiting.append(self.new_thread(s, "recv", RECEIVE))

    def add_killer(self, victims: list[int]) -> None:
        """A shell that kills the clients one after the other; *victims* are their notifications."""
        self.victims = victims
        th = self.new_thread(CLIENT, "new", YIELD)
        th.msg = len(victims)
        th.epoch = self.pools[NULL].epoch
        self.next_victim(th)
        self.setrun(th, preempt=False)

    def next_victim(self, th: Thread) -> None:
        th.yields = self.k.process_threads
        th.step = YIELD if th.yields > 0 else KILL
        th.left = 0.0
        if th.step == KILL:
            th.left = self.k.kill_cpu_per_right * self.victims[len(self.victims) - th.msg]

    def yield_cpu(self, th: Thread, t: float) -> None:
        """thread_block(0): the run queue's first thread runs, even if its priority is worse."""
        th.yields -= 1
        if th.yields <= 0:
            th.step = KILL
            th.left = self.k.kill_cpu_per_right * self.victims[len(self.victims) - th.msg]
        if self.best_waiting() > WORST:
            return
        pri, _, other = heapq.heappop(self.runq)
        th.state = "ready"
        self.enqueue(th, self.priority(th))
        other.state = "run"
        self.current = other
        self.current_pri = pri
        self.quantum = self.k.quantum_ticks
        self.started = t

    def add_client(self, closes: int) -> None:
        th = self.new_thread(CLIENT, "new", CLOSE)
        th.msg = closes
        th.epoch = self.pools[NULL].epoch
        th.left = self.cpu_time(self.k.close_interval_fast)
        self.setrun(th, preempt=False)

    # ------------------------------------------------------------------ scheduling
    def priority(self, th: Thread) -> int:
        """Age *th*'s usage to the current scheduler tick, and return its priority."""
        k = self.sec - th.stamp
        if k > 64:
            th.usage = 0.0
        else:
            for _ in range(k):
                th.usage *= self.k.usage_decay
        th.stamp = self.sec
        return min(WORST, self.base[th.server] + int(th.usage / self.k.priority_level_cpu))

    def enqueue(self, th: Thread, pri: int) -> None:
        heapq.heappush(self.runq, (pri, self.rseq, th))
        self.rseq += 1

    def best_waiting(self) -> int:
        while self.runq:
            if self.runq[0][2].state == "ready":
                return self.runq[0][0]
            heapq.heappop(self.runq)
        return WORST + 1

    def preempt(self, now: float) -> None:
        th = self.current
        assert th is not None
        th.left -= now - self.started
        th.state = "ready"
        self.enqueue(th, self.priority(th))
        self.current = None

    def setrun(self, th: Thread, preempt: bool) -> None:
        pri = self.priority(th)
        th.state = "ready"
        self.runnable += 1
        self.enqueue(th, pri)
        if preempt and self.current is not None and pri < self.current_pri:
            self.preempt(self.now)

    def leave_cpu(self, state: str) -> None:
        assert self.current is not None
        self.current.state = state
        self.runnable -= 1
        self.current = None

    # ------------------------------------------------------------------ messages
    def deliver(self, s: int, mtype: int, arrival: float, preempt: bool = True) -> None:
        try:
            self.m.kalloc(self.msg_size[mtype])
        except (ZonePanic, KallocMapFull):
            if self.k.allocator != "slab":
                raise
            return  # mach_msg fails for want of a buffer: the message is lost
        pool = self.pools[s]
        if pool.waiting:
            th = pool.waiting.popleft()
            th.msg = mtype
            th.arrival = arrival
            self.setrun(th, preempt=preempt)
            return
        pool.queue.append((arrival, mtype))
        pool.peak_queue = max(pool.peak_queue, len(pool.queue))

    def decide(self, pool: Pool) -> tuple[bool, float]:
        """The thread policy: may this pool spawn a thread, and how long does the new one sleep first."""
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
        for _, kind in null.queue:
            self.m.kfree(self.msg_size[kind], -1)
        for th in self.threads:
            if th.server != NULL or th.state == "dead":
                continue
            if th.step == RECEIVE and th.msg >= 0:
                self.m.kfree(self.msg_size[th.msg], -1)
            if th.state == "run":
                self.leave_cpu("dead")
            elif th.state == "ready":
                self.runnable -= 1
            th.state = "dead"
        left = self.opened - self.null_done
        self.m.free("ipc ports", left)
        for _ in range(left):
            self.push(t, ARRIVE, EXT2FS, NOTIFY + 2 * self.pools[EXT2FS].epoch, t)
        null.threads = null.counter = null.busy = null.stuck = 0
        null.stalled = False
        null.waiting.clear()
        null.queue.clear()
        null.epoch += 1
        self.opened = self.null_done = 0
        self.oom_kills += 1

    def may_spawn(self, s: int, pool: Pool) -> tuple[bool, float, bool]:
        """(spawned, sleep, this thread died with null) for a pool whose counter reached zero."""
        allowed, delay = self.decide(pool)
        lim = self.limits
        slab = self.k.allocator == "slab"
        if allowed and lim.threads_per_task and pool.threads >= lim.threads_per_task:  # type: ignore[attr-defined]
            self.refused_threads += 1
            allowed = False
        if allowed and lim.kmem_quota and self.charge_a + self.thread_bytes > lim.kmem_quota:  # type: ignore[attr-defined]
            self.refused_quota += 1
            allowed = False
        if allowed and lim.oom_killer and self.short() and self.pools[NULL].threads > 0:  # type: ignore[attr-defined]
            self.kill_null(self.now)
            if s == NULL:
                return False, 0.0, True
            allowed = False
        if allowed:
            try:
                self.spawn_thread()
            except ZonePanic:
                if not slab:
                    raise
                allowed = False
        return allowed, delay, False

    # ------------------------------------------------------------------ what threads do
    def take(self, th: Thread) -> None:
        """The running server thread receives, or blocks; at a zero counter it first creates a thread."""
        pool = self.pools[th.server]
        if th.msg < 0:
            if not pool.queue:
                self.leave_cpu("recv")
                pool.waiting.append(th)
                return
            th.arrival, th.msg = pool.queue.popleft()
        self.m.kfree(self.msg_size[th.msg], -1)
        pool.busy += 1
        pool.counter -= 1
        if pool.counter == 0:
            spawned, delay, died = self.may_spawn(th.server, pool)
            if died:
                return
            if spawned:
                if self.limits.kmem_quota:  # type: ignore[attr-defined]
                    self.charge_a += self.thread_bytes
                pool.threads += 1
                pool.counter += 1
                pool.peak_threads = max(pool.peak_threads, pool.threads)
                child = self.new_thread(th.server, "new", RECEIVE)
                child.delay = delay
                th.child = child
                th.step = SPAWN
                th.left = self.k.thread_start_cpu + self.k.thread_walk_cpu * pool.threads
                return
        th.step = SERVE
        th.left = self.cpu_time(self.service[th.server][th.msg])

    def complete(self, t: float) -> None:
        """The running thread's piece of work ends at *t*."""
        th = self.current
        assert th is not None
        self.started = t
        if th.step == CLOSE:
            th.msg -= 1
            if th.msg == 0:
                self.leave_cpu("done")
            elif self.close_gap > 0:
                self.leave_cpu("sleep")
                self.push(t + self.exp(self.close_gap), READY, th, 0, t)
                th.left = self.cpu_time(self.k.close_interval_fast)
            else:
                th.left = self.cpu_time(self.k.close_interval_fast)
            if self.pools[NULL].epoch == th.epoch:  # after a kill, the client holds dead names
                self.deliver(NULL, NOTIFY, t)
            return
        if th.step == KILL:
            n = self.victims[len(self.victims) - th.msg]
            th.msg -= 1
            if th.msg == 0:
                self.leave_cpu("done")
            else:
                self.next_victim(th)
            if self.pools[NULL].epoch == th.epoch:
                for _ in range(n):  # the kernel is not preemptive: the whole death goes out first
                    self.deliver(NULL, NOTIFY, t, preempt=False)
            if self.current is th and self.best_waiting() < self.current_pri:
                self.preempt(t)
            return
        if th.step == SPAWN:
            child = th.child
            assert child is not None
            th.step = SERVE
            th.left = self.cpu_time(self.service[th.server][th.msg])
            if child.delay > 0:
                child.state = "sleep"
                self.push(t + child.delay, READY, child, 0, t)
            else:
                self.setrun(child, preempt=True)
            return
        pool = self.pools[th.server]
        msg = th.msg
        chance = self.k.null_stall_chance
        if th.server == NULL and msg == NOTIFY and chance > 0:  # trivfs_clean_protid's use-after-free
            if pool.stalled:
                pool.stuck += 1
                self.leave_cpu("stuck")
                return
            others = pool.busy - 1
            if others > 0 and self.rng.uniform() < chance * others:
                pool.stalled = True
        pool.busy -= 1
        pool.counter += 1
        pool.served += 1
        if self.record_latency:
            self.latencies.append(t - th.arrival)
        th.msg = -1
        th.step = RECEIVE
        th.left = 0.0
        if msg == NOTIFY:
            self.m.free("ipc ports")
            if th.server == NULL:
                self.null_done += 1
                self.deliver(EXT2FS, NOTIFY, t)

    def run_cpu(self, t: float) -> None:
        """Give the CPU a thread with work to do; receiving takes no time."""
        while True:
            th = self.current
            if th is None:
                if self.best_waiting() > WORST:
                    return
                if self.phase + self.next_tick * self.tick <= t:  # the CPU was idle
                    n = math.floor((t - self.phase) / self.tick) + 1
                    while self.phase + n * self.tick <= t:
                        n += 1
                    self.next_tick = max(self.next_tick, n)
                    sec = (self.next_tick - 1 + self.sec_offset) // self.k.sched_tick_ticks
                    if sec > self.sec:
                        self.sec = sec
                        self.load = 1
                pri, _, th = heapq.heappop(self.runq)
                th.state = "run"
                self.current = th
                self.current_pri = pri
                self.quantum = self.k.quantum_ticks
                self.started = t
            if th.step == RECEIVE:
                self.take(th)
                continue
            if th.step == YIELD:
                self.yield_cpu(th, t)
                continue
            self.cpu_end = self.started + th.left
            return

    def clock_tick(self, t: float) -> None:
        n = self.next_tick
        self.next_tick = n + 1
        sec = (n + self.sec_offset) // self.k.sched_tick_ticks
        if sec > self.sec:
            self.sec = sec
            self.load = max(1, self.runnable)
        th = self.current
        assert th is not None
        self.priority(th)
        th.usage += self.tick * self.load
        pri = self.priority(th)
        self.current_pri = pri
        self.quantum -= 1
        best = self.best_waiting()
        if best < pri or (self.quantum <= 0 and best <= pri):
            self.preempt(t)
        elif self.quantum <= 0:
            self.quantum = self.k.quantum_ticks

    def event(self, t: float, kind: int, target: object, tagged: int, arrival: float) -> None:
        if kind == ARRIVE:
            assert isinstance(target, int)
            if tagged // 2 != self.pools[target].epoch:
                return  # sent to a killed instance
            self.deliver(target, tagged % 2, arrival)
            return
        assert isinstance(target, Thread)
        if target.state == "sleep":
            self.setrun(target, preempt=True)

    def next_times(self) -> tuple[float, float, float]:
        inf = math.inf
        t_event = self.events[0][0] if self.events else inf
        if self.current is None:
            return t_event, inf, inf
        return t_event, self.cpu_end, self.phase + self.next_tick * self.tick

    def step(self, until: float = math.inf) -> bool:
        """Process the next event, work end or tick due by *until*; False when there is none."""
        t_event, t_cpu, t_tick = self.next_times()
        if t_event <= t_cpu and t_event <= t_tick:
            if not self.events or t_event > until:
                return False
            t, _, kind, target, tagged, arrival = heapq.heappop(self.events)
            self.now = t
            self.event(t, kind, target, tagged, arrival)
        elif t_cpu <= t_tick:
            if t_cpu > until:
                return False
            t = self.now = t_cpu
            self.complete(t)
        else:
            if t_tick > until:
                return False
            t = self.now = t_tick
            self.clock_tick(t)
        self.run_cpu(t)
        return True

    def run(self, until: float = math.inf) -> None:
        """Run the CPU and the events due by *until*."""
        self.run_cpu(self.now)
        while self.step(until):
            pass
