"""Reference of ``zonemodel._kernels.paging`` and ``.builds``: a build's jobs, ext2fs's two pools, the disk.

Plain Python on :class:`tests.reference.servers.Servers`, written from the
model's description (``disk-load-2005.md``) rather than from the kernels'
tables: objects are dataclasses, the disk queue and the object cache are
deques and lists, a job's program is a list of tuples.

What is simulated: jobs (``make -j`` slots) run programs of lookups, RPCs,
io_read/io_write windows, closes, an unlink and their own memory; an ext2fs
thread faults each page of a window in through ext2fs's pager pool (a read
from disk, or a zero-filled page and its data_unlock); the kernel sends
data_returns from the periodic sync (runs of up to DATA_WRITE_MAX pages,
copied), from object-cache trimming and from the pageout daemon (one page
each); a pager thread writes each page in turn through the one disk, after
reading the superblock back if the daemon took it and ext2fs does not keep
it in memory.  A build with every thread waiting and no event left is a
deadlock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tests.reference.machine import Machine, NoMemory
from tests.reference.rng import Xoshiro
from tests.reference.servers import EXT2FS, RECEIVE, SERVE, Pool, Servers, Thread

PROC, PAGER, CLIENT = 0, 6, 7
NOTIFY, RPC, CALL, DATA_REQUEST, DATA_UNLOCK, DATA_RETURN = range(6)
ARRIVE, READY, DISK, SYNC, PAGEOUT = 0, 2, 3, 4, 5
SB_REQUEST = -1
JOB, PAGE, IO = "job", "page", "io"
OPEN, CALLS, NOTE, CPU, READ, WRITE, CLOSE, UNLINK, MEM, END = range(10)


class Deadlock(Exception):
    """Every thread waits and nothing is left that would wake one."""


class SuperblockDeadlock(Deadlock):
    """The pager threads wait for the superblock, and the request that would read it waits in their queue."""


class Unfinished(Exception):
    """The build was still running at its timeout."""


@dataclass
class Obj:
    """A memory object: a header, a .s, a .o or an installed file."""

    size: int = 0
    open: int = 0
    stamp: int = -1  # index of its cache entry while cached
    res: int = 0  # resident pages (clean and dirty)
    dirty: int = 0


@dataclass
class Params:
    """What a build is: its files, its jobs' programs, the kernel's paging fields."""

    jobs: int
    files: int
    compile: bool
    headers: int
    headers_per_file: tuple[int, int]
    pages: tuple[int, int]
    object_pages: tuple[int, int]
    compile_cpu: float
    job_pages: int
    timeout: float


@dataclass
class Outcome:
    """What a build did, as the kernel's BUILD_ROW fields."""

    status: str  # "ok", "panic", "hang", "deadlock", "unfinished"
    zone: str
    events: int
    end_us: int
    files_done: int
    peak_threads: list[int]
    peak_pager_backlog: int
    peak_dirty: int
    largest_sync: int
    syncs: int
    data_returns: int
    trimmed: int
    laundered: int
    min_free: int
    zone_map_pages: int
    p50: float
    p99: float
    bursts: list[int] = field(default_factory=list)


class Build(Servers):
    """The servers, ext2fs's pager pool, the disk and the jobs of one build."""

    def __init__(self, machine: Machine, policy: object, rng: Xoshiro, p: Params) -> None:
        super().__init__(machine, policy, rng)
        k = self.k
        self.p = p
        self.pools = [Pool() for _ in range(7)]
        self.service = [[k.service_rpc] * 6 for _ in range(7)]
        self.service[5][NOTIFY] = k.service_notify_null
        self.service[EXT2FS][NOTIFY] = k.service_notify_ext2fs
        self.service[EXT2FS][CALL] = k.service_fs_rpc
        self.service[PAGER] = [k.service_pager] * 6
        self.msg_size = [k.notify_msg_size, k.rpc_msg_size, k.rpc_msg_size] + [k.pager_msg_size] * 3
        self.base = [k.priority_user] * 8
        self.base[PROC] = k.priority_proc
        headers = p.headers if p.compile else 0
        self.nheaders = headers
        self.objs = [Obj(size=1) for _ in range(headers)] + [Obj() for _ in range(2 * p.files)]
        self.lru: list[int] = []
        self.lru_head = 0
        self.cached = 0
        self.disk: Thread | None = None
        self.disk_queue: deque[tuple[Thread, int]] = deque()
        self.sb = "in"
        self.sb_waiters: list[Thread] = []
        self.file_pages = self.held = self.anon = 0
        self.dirty_pages = self.meta = self.peak_dirty = 0
        self.daemon = False
        self.pauses = 0
        self.wait = k.pageout_wait
        self.next_file = 0
        self.jobs_left = p.jobs
        self.files_done = 0
        self.bursts: list[int] = []
        self.returns = self.trimmed = self.laundered = 0
        self.programs: list[list[tuple[int, int, int, float]]] = [[] for _ in range(p.jobs)]
        m = machine
        self.free0 = m.ram_pages - m.ram_pages_in_use()
        self.map0 = m.zmap.used_pages
        self.target = 65 + (self.free0 - 50) // 80
        self.free_min = 60 + self.free0 // 100
        self.page_waiters: list[Thread] = []
        self.sync_next, self.sync_sent, self.sync_waiting = -1, 0, False
        self.min_free = self.free0
        self.events_done = 0

    # ------------------------------------------------------------------ threads and messages
    def new_thread(self, server: int, state: str, step: str) -> Thread:
        epoch = self.pools[server].epoch if server != CLIENT else 0
        th = Thread(len(self.threads), server, state, step, stamp=self.sec, epoch=epoch)
        th.pay = 0  # type: ignore[attr-defined]
        th.sub = 0  # type: ignore[attr-defined]
        th.pc = 0  # type: ignore[attr-defined]
        self.threads.append(th)
        return th

    def deliver(self, s: int, mtype: int, arrival: float, preempt: bool = True, payload: int = 0) -> None:  # type: ignore[override]
        self.m.kalloc(self.msg_size[mtype])
        pool = self.pools[s]
        if pool.waiting:
            th = pool.waiting.popleft()
            th.msg = mtype
            th.pay = payload  # type: ignore[attr-defined]
            th.arrival = arrival
            self.setrun(th, preempt=preempt)
            return
        pool.queue.append((arrival, mtype, payload))  # type: ignore[arg-type]
        pool.peak_queue = max(pool.peak_queue, len(pool.queue))

    def take(self, th: Thread) -> None:
        pool = self.pools[th.server]
        if th.msg < 0:
            if not pool.queue:
                self.leave_cpu("recv")
                pool.waiting.append(th)
                return
            th.arrival, th.msg, th.pay = pool.queue.popleft()  # type: ignore[misc, attr-defined]
        self.m.kfree(self.msg_size[th.msg], -1)
        if th.msg == DATA_RETURN:  # mapped into ext2fs: the map copy becomes a map entry
            self.m.free("map copies")
            self.m.alloc("non-kernel map entries")
        pool.busy += 1
        pool.counter -= 1
        if pool.counter == 0:
            spawned, delay, _ = self.may_spawn(th.server, pool)
            if spawned:
                pool.threads += 1
                pool.counter += 1
                pool.peak_threads = max(pool.peak_threads, pool.threads)
                child = self.new_thread(th.server, "new", RECEIVE)
                child.delay = delay
                th.child = child
                th.step = "spawn"
                th.left = self.k.thread_start_cpu + self.k.thread_walk_cpu * pool.threads
                return
        th.step = SERVE
        th.left = self.cpu_time(self.service[th.server][th.msg])

    # ------------------------------------------------------------------ memory
    def free_pages(self) -> int:
        return self.free0 - (self.m.zmap.used_pages - self.map0) - self.file_pages - self.held - self.anon

    def took_pages(self, t: float) -> None:
        free = self.free_pages()
        self.min_free = min(self.min_free, free)
        if free <= 0:
            raise NoMemory
        if free < self.target and not self.daemon:
            self.daemon = True
            self.push(t, PAGEOUT, 0, 0, t)

    def short_of_pages(self, pages: int) -> bool:
        return self.free_pages() - pages < self.free_min

    def wait_pages(self, t: float) -> None:
        th = self.current
        assert th is not None
        self.leave_cpu("wait")
        self.page_waiters.append(th)
        if not self.daemon:
            self.daemon = True
            self.push(t, PAGEOUT, 0, 0, t)

    def freed_pages(self, t: float) -> None:
        if self.free_pages() < self.free_min:
            return
        if self.sync_waiting:
            self.sync_waiting = False
            self.push(t, SYNC, 0, 0, t)
        waiters, self.page_waiters = self.page_waiters, []
        for th in waiters:
            self.setrun(th, preempt=True)

    def send_return(self, pages: int, copied: bool, t: float, preempt: bool) -> None:
        self.m.alloc("objects")
        self.m.alloc("map copies")
        self.held += pages
        if not copied:
            self.file_pages -= pages
        self.returns += 1
        self.deliver(PAGER, DATA_RETURN, t, preempt=preempt, payload=pages)

    def make_dirty(self, o: Obj, pages: int) -> None:
        o.dirty += pages
        self.dirty_pages += pages
        self.peak_dirty = max(self.peak_dirty, self.dirty_pages + self.meta)

    # ------------------------------------------------------------------ the object cache
    def oldest(self) -> int:
        while self.lru_head < len(self.lru):
            e = self.lru_head
            if self.objs[self.lru[e]].stamp == e:
                return self.lru[e]
            self.lru_head += 1
        return -1

    def uncache(self, o: Obj) -> None:
        if o.stamp >= 0:
            o.stamp = -1
            self.cached -= 1

    def terminate(self, o: Obj, t: float, preempt: bool) -> None:
        dirty = o.dirty
        self.file_pages -= o.res - dirty
        self.dirty_pages -= dirty
        o.res = o.dirty = 0
        self.uncache(o)
        self.freed_pages(t)
        for _ in range(dirty):
            self.send_return(1, False, t, preempt)

    def cache(self, index: int, t: float) -> None:
        o = self.objs[index]
        o.stamp = len(self.lru)
        self.lru.append(index)
        self.cached += 1
        while self.cached > self.k.object_cache_max:
            old = self.objs[self.oldest()]
            self.trimmed += old.dirty
            self.terminate(old, t, False)

    # ------------------------------------------------------------------ the disk and the superblock
    def disk_start(self, th: Thread, write: int, t: float) -> None:
        self.disk = th
        mean = self.k.disk_write_time if write else self.k.disk_read_time
        self.push(t + self.cpu_time(mean), DISK, th, 0, t)

    def disk_submit(self, write: int, t: float) -> None:
        th = self.current
        assert th is not None
        self.leave_cpu("wait")
        if self.disk is None:
            self.disk_start(th, write, t)
        else:
            self.disk_queue.append((th, write))

    def disk_done(self, th: Thread, t: float) -> None:
        self.disk = None
        self.setrun(th, preempt=True)
        if self.disk_queue:
            nxt, write = self.disk_queue.popleft()
            self.disk_start(nxt, write, t)

    def sb_read(self) -> None:
        self.sb = "in"
        waiters, self.sb_waiters = self.sb_waiters, []
        for th in waiters:
            self.setrun(th, preempt=True)

    # ------------------------------------------------------------------ pager threads
    def reply(self, c: Thread) -> None:
        if c.step != PAGE:
            c.left = self.cpu_time(self.k.close_interval_fast)
        self.setrun(c, preempt=True)

    def io_step(self, t: float) -> bool:
        th = self.current
        assert th is not None
        if th.child > 0:  # type: ignore[operator]
            th.child -= 1  # type: ignore[operator]
            self.disk_submit(1 if th.msg == DATA_RETURN else 0, t)
            return False
        pay = th.pay  # type: ignore[attr-defined]
        if th.msg == DATA_RETURN:
            self.m.free("non-kernel map entries")
            self.m.free("objects")
            self.held -= pay
            self.freed_pages(t)
        elif pay == SB_REQUEST:
            self.sb_read()
        else:
            self.reply(self.threads[pay // 2])
        return True

    def pager_served(self, t: float) -> bool:
        th = self.current
        assert th is not None
        msg, pay = th.msg, th.pay  # type: ignore[attr-defined]
        th.step = IO
        th.left = 0.0
        if msg == DATA_UNLOCK:
            self.reply(self.threads[pay])
            return True
        if msg == DATA_REQUEST:
            th.child = 1 if pay == SB_REQUEST or pay % 2 == 1 else 0  # type: ignore[assignment]
            return self.io_step(t)
        th.child = pay
        if not self.k.superblock_in_memory and self.sb != "in":
            if self.sb == "out":
                self.sb = "reading"
                self.deliver(PAGER, DATA_REQUEST, t, preempt=False, payload=SB_REQUEST)
            self.leave_cpu("wait")
            self.sb_waiters.append(th)
            return False
        return self.io_step(t)

    # ------------------------------------------------------------------ ext2fs threads
    def window(self, c: Thread) -> int:
        return min(self.k.io_window_pages, c.msg)

    def call_served(self, t: float) -> bool:
        th = self.current
        assert th is not None
        c = self.threads[th.pay]  # type: ignore[attr-defined]
        kind = self.programs[c.job][c.pc][0]  # type: ignore[attr-defined]
        if kind in (READ, WRITE):
            th.child = self.window(c)  # type: ignore[assignment]
            th.sub = 0  # type: ignore[attr-defined]
            th.step = PAGE
            th.left = 0.0
            return self.page_step(t)
        self.reply(c)
        return True

    def fault(self, msg: int, payload: int, t: float) -> bool:
        self.leave_cpu("wait")
        self.deliver(PAGER, msg, t, preempt=True, payload=payload)
        return False

    def page_step(self, t: float) -> bool:
        th = self.current
        assert th is not None
        c = self.threads[th.pay]  # type: ignore[attr-defined]
        kind, a, b, _ = self.programs[c.job][c.pc]  # type: ignore[attr-defined]
        o = self.objs[a]
        while th.child > 0:  # type: ignore[operator]
            if kind == WRITE:
                if th.sub == 0:  # type: ignore[attr-defined]
                    if self.short_of_pages(1):
                        self.wait_pages(t)
                        return False
                    th.sub = 1  # type: ignore[attr-defined]
                    return self.fault(DATA_REQUEST, 2 * th.number, t)
                if th.sub == 1:  # type: ignore[attr-defined]
                    th.sub = 2  # type: ignore[attr-defined]
                    return self.fault(DATA_UNLOCK, th.number, t)
                th.sub = 0  # type: ignore[attr-defined]
                o.size += 1
                o.res += 1
                self.file_pages += 1
                self.make_dirty(o, 1)
                self.took_pages(t)
            else:
                if th.sub == 1:  # type: ignore[attr-defined]
                    th.sub = 0  # type: ignore[attr-defined]
                    if o.res < o.size:
                        o.res += 1
                        self.file_pages += 1
                        self.took_pages(t)
                done = b - c.msg + self.window(c) - th.child  # type: ignore[operator]
                if o.res <= done < o.size:
                    if self.short_of_pages(1):
                        self.wait_pages(t)
                        return False
                    th.sub = 1  # type: ignore[attr-defined]
                    return self.fault(DATA_REQUEST, 2 * th.number + 1, t)
            th.child -= 1  # type: ignore[operator]
        c.msg -= self.window(c)
        self.reply(c)
        return True

    # ------------------------------------------------------------------ jobs
    def between(self, lo: int, hi: int) -> int:
        return lo + int(self.rng.uniform() * (hi - lo + 1))

    def plan(self, job: int, f: int) -> None:
        p = self.p
        s_obj = self.nheaders + 2 * f
        o_obj = s_obj + 1
        ops: list[tuple[int, int, int, float]] = []
        if not p.compile:
            pages = self.between(*p.pages)
            ops += [(OPEN, o_obj, 1, 0.0), (WRITE, o_obj, pages, 0.0), (CLOSE, o_obj, 1, 0.0)]
            ops += [(CALLS, EXT2FS, 2, 0.0), (END, 0, 1, 0.0)]
            self.programs[job] = ops
            return
        gcc_libs, cc1_libs, as_libs = (self.between(1, 3) for _ in range(3))
        headers = self.between(*p.headers_per_file)
        start = int(self.rng.uniform() * self.nheaders)
        s_pages = self.between(*p.pages)
        o_pages = self.between(*p.object_pages)

        def exec_(libs: int) -> None:
            ops.extend([(OPEN, -1, 1 + libs, 0.0), (CALLS, EXT2FS, 7 + 4 * libs, 0.0), (CALLS, PROC, 2, 0.0)])

        exec_(gcc_libs)
        exec_(cc1_libs)
        ops.append((MEM, p.job_pages, 1, 0.0))
        for k in range(headers):
            h = (start + k) % self.nheaders
            ops += [(OPEN, h, 1, 0.0), (READ, h, 1, 0.0), (CLOSE, h, 1, 0.0)]
        ops.append((CPU, 0, 1, p.compile_cpu))
        ops += [(OPEN, s_obj, 1, 0.0), (WRITE, s_obj, s_pages, 0.0), (CLOSE, s_obj, 1, 0.0)]
        ops += [(MEM, -p.job_pages, 1, 0.0), (NOTE, EXT2FS, 1 + cc1_libs, 0.0)]
        exec_(as_libs)
        ops += [(OPEN, s_obj, 1, 0.0), (READ, s_obj, s_pages, 0.0), (CLOSE, s_obj, 1, 0.0)]
        ops += [(OPEN, o_obj, 1, 0.0), (WRITE, o_obj, o_pages, 0.0), (CLOSE, o_obj, 1, 0.0)]
        ops += [(NOTE, EXT2FS, 1 + as_libs, 0.0), (UNLINK, s_obj, 1, 0.0), (NOTE, EXT2FS, 1 + gcc_libs, 0.0)]
        ops.append((END, 0, 1, 0.0))
        self.programs[job] = ops

    def take_file(self, th: Thread) -> bool:
        if self.next_file >= self.p.files:
            return False
        self.plan(th.job, self.next_file)  # type: ignore[attr-defined]
        self.next_file += 1
        th.pc = 0  # type: ignore[attr-defined]
        th.msg = self.programs[th.job][0][2]  # type: ignore[attr-defined]
        return True

    def call(self, s: int, t: float) -> None:
        th = self.current
        assert th is not None
        self.leave_cpu("wait")
        self.deliver(s, CALL, t, preempt=True, payload=th.number)

    def job_step(self, t: float) -> None:
        th = self.current
        assert th is not None
        prog = self.programs[th.job]  # type: ignore[attr-defined]
        if th.msg <= 0:
            th.pc += 1  # type: ignore[attr-defined]
            th.msg = prog[th.pc][2]  # type: ignore[attr-defined]
        kind, a, _, cpu = prog[th.pc]  # type: ignore[attr-defined]
        if kind in (READ, WRITE):
            self.call(EXT2FS, t)
            return
        if kind == MEM and a > 0 and self.short_of_pages(a):
            th.left = 0.0
            self.wait_pages(t)
            return
        th.msg -= 1
        if kind == OPEN:
            self.m.alloc("ipc ports")
            if a >= 0:
                self.objs[a].open += 1
                self.uncache(self.objs[a])
            self.call(EXT2FS, t)
            return
        if kind == CALLS:
            self.call(a, t)
            return
        th.left = self.cpu_time(self.k.close_interval_fast)
        if kind == NOTE:
            self.deliver(a, NOTIFY, t, preempt=True)
            return
        if kind == CPU:
            th.left = self.cpu_time(cpu)
            return
        if kind == CLOSE:
            o = self.objs[a]
            o.open -= 1
            if a >= self.nheaders:
                self.meta += 1
            if o.open == 0:
                self.cache(a, t)
            self.deliver(EXT2FS, NOTIFY, t, preempt=self.current is th)
            if self.current is th and self.best_waiting() < self.current_pri:
                self.preempt(t)
            return
        if kind == UNLINK:
            o = self.objs[a]
            self.file_pages -= o.res
            self.dirty_pages -= o.dirty
            o.res = o.dirty = o.size = 0
            self.uncache(o)
            self.meta += 1
            self.freed_pages(t)
            self.call(EXT2FS, t)
            return
        if kind == MEM:
            self.anon += a
            if a > 0:
                self.took_pages(t)
            else:
                self.freed_pages(t)
            return
        self.files_done += 1
        if not self.take_file(th):
            self.jobs_left -= 1
            self.leave_cpu("done")

    # ------------------------------------------------------------------ the sync and the pageout daemon
    def stuck(self) -> bool:
        if self.jobs_left > 0 or self.sync_waiting:
            return True
        if any(pool.queue for pool in self.pools):
            return True
        return any(th.state == "wait" for th in self.threads)

    def sync(self, t: float) -> None:
        if self.sync_next < 0:
            self.sync_next, self.sync_sent = 0, 0
        for index in range(self.sync_next, len(self.objs)):
            o = self.objs[index]
            while o.dirty > 0:
                n = min(o.dirty, self.k.data_write_max)
                if self.short_of_pages(n):
                    self.sync_waits(index, t)
                    return
                o.dirty -= n
                self.dirty_pages -= n
                self.sync_sent += 1
                self.send_return(n, True, t, True)
        while self.meta > 0:
            if self.short_of_pages(1):
                self.sync_waits(len(self.objs), t)
                return
            self.meta -= 1
            self.sync_sent += 1
            self.send_return(1, True, t, True)
        self.sync_next = -1
        self.bursts.append(self.sync_sent)
        self.took_pages(t)
        if self.jobs_left > 0 or self.dirty_pages > 0 or self.meta > 0:
            if self.runnable == 0 and self.disk is None and not self.events and self.stuck():
                self.deadlock()
            self.push(t + self.k.sync_interval, SYNC, 0, 0, t)

    def sync_waits(self, index: int, t: float) -> None:
        self.sync_next = index
        self.sync_waiting = True
        if not self.daemon:
            self.daemon = True
            self.push(t, PAGEOUT, 0, 0, t)

    def pageout(self, t: float) -> None:
        if self.free_pages() >= self.target:
            self.daemon = False
            return
        if not self.k.superblock_in_memory and self.sb == "in":
            self.sb = "out"
        sent = 0
        while sent < self.k.pageout_burst and self.free_pages() < self.target:
            index = self.oldest()
            if index < 0:
                break
            o = self.objs[index]
            clean = o.res - o.dirty
            if clean > 0:
                o.res -= clean
                self.file_pages -= clean
                self.freed_pages(t)
            elif o.dirty > 0:
                o.dirty -= 1
                o.res -= 1
                self.dirty_pages -= 1
                self.laundered += 1
                sent += 1
                self.send_return(1, False, t, True)
            else:
                self.uncache(o)
        if sent == 0:
            self.daemon = False
            return
        self.pauses += 1
        if self.pauses % 11 == 0:
            self.wait = max(self.k.pageout_wait_min, self.wait * 0.75)
        self.push(t + sent * self.wait, PAGEOUT, 0, 0, t)

    # ------------------------------------------------------------------ the event loop
    def complete(self, t: float) -> None:
        th = self.current
        assert th is not None
        if th.step in ("close", "kill", "spawn"):
            super().complete(t)
            return
        self.started = t
        if th.step == JOB:
            self.job_step(t)
            return
        if th.step == PAGE:
            done = self.page_step(t)
        elif th.step == IO:
            done = self.io_step(t)
        elif th.msg == CALL:
            done = self.call_served(t)
        elif th.server == PAGER:
            done = self.pager_served(t)
        else:
            done = True
        if done:
            self.finish(th, t)

    def finish(self, th: Thread, t: float) -> None:
        """*th* is done with its message (a reply it sent may have preempted it): back to receive."""
        pool = self.pools[th.server]
        msg = th.msg
        pool.busy -= 1
        pool.counter += 1
        pool.served += 1
        self.latencies.append(t - th.arrival)
        th.msg = -1
        th.step = RECEIVE
        th.left = 0.0
        if msg == NOTIFY:
            self.m.free("ipc ports")
            if th.server == 5:
                self.null_done += 1
                self.deliver(EXT2FS, NOTIFY, t)

    def event(self, t: float, kind: int, target: object, tagged: int, arrival: float) -> None:
        if kind == DISK:
            assert isinstance(target, Thread)
            self.disk_done(target, t)
        elif kind == SYNC:
            self.sync(t)
        elif kind == PAGEOUT:
            self.pageout(t)
        else:
            super().event(t, kind, target, tagged, arrival)

    def run_build(self) -> None:
        """Start the pools and the jobs, schedule the first sync, and run to the end or the timeout."""
        self.start_pools()
        self.start()
        for j in range(self.p.jobs):
            th = self.new_thread(CLIENT, "new", JOB)
            th.job = j  # type: ignore[attr-defined]
            if self.take_file(th):
                th.left = self.cpu_time(self.k.close_interval_fast)
                self.setrun(th, preempt=False)
            else:
                self.jobs_left -= 1
                th.state = "done"
        phase = self.rng.uniform() if self.k.clock_phase == "random" else 1.0
        self.push(self.k.sync_interval * phase, SYNC, 0, 0, 0.0)
        self.run_cpu(self.now)
        while True:
            self.events_done += 1
            if not self.step(self.p.timeout):
                self.events_done -= 1
                break
        if self.events or self.runnable > 0:
            raise Unfinished
        if self.stuck():
            self.deadlock()

    def deadlock(self) -> None:
        if self.sb == "reading" and self.sb_waiters:
            raise SuperblockDeadlock
        raise Deadlock


def run(kernel: object, policy: object, seed_state: list[int], p: Params, latency_cap: int = 1 << 17) -> Outcome:
    """One build on a freshly booted *kernel* with the xoshiro state *seed_state*."""
    from tests.reference.machine import ZonePanic

    m = Machine(kernel)  # type: ignore[arg-type]
    m.boot_tasks(kernel.system_tasks, True)  # type: ignore[attr-defined]
    b = Build(m, policy, Xoshiro(seed_state), p)
    status, zone = "ok", ""
    try:
        b.run_build()
    except ZonePanic as exc:
        status, zone = "panic", exc.zone
    except NoMemory:
        status = "hang"
    except SuperblockDeadlock:
        status = "superblock deadlock"
    except Deadlock:
        status = "deadlock"
    except Unfinished:
        status = "unfinished"
    lat = sorted(b.latencies[:latency_cap])
    n = len(lat)
    return Outcome(
        status=status,
        zone=zone,
        events=b.events_done,
        end_us=int(b.now * 1e6),
        files_done=b.files_done,
        peak_threads=[pool.peak_threads for pool in b.pools],
        peak_pager_backlog=b.pools[PAGER].peak_queue,
        peak_dirty=b.peak_dirty,
        largest_sync=max(b.bursts, default=0),
        syncs=len(b.bursts),
        data_returns=b.returns,
        trimmed=b.trimmed,
        laundered=b.laundered,
        min_free=b.min_free,
        zone_map_pages=m.zmap.used_pages,
        p50=1e3 * lat[min(n - 1, int(0.5 * n))] if n else 0.0,
        p99=1e3 * lat[min(n - 1, int(0.99 * n))] if n else 0.0,
        bursts=b.bursts,
    )


__all__ = ["Build", "Deadlock", "Outcome", "Params", "SuperblockDeadlock", "Unfinished", "run"]
