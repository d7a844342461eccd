"""The scheduler's side of the event loop: events, the run queue, threads, clocks, message delivery.

Numba JIT-compiled.  :mod:`.engine` (what a thread does with the CPU) and
:mod:`.paging` (a build's disk, files and memory) are written on these
primitives.  ``tests/reference/servers.py`` has the same in plain Python.
See :mod:`.engine` for the model of the one CPU and the pools.
"""

from __future__ import annotations

import math

import numpy as np

from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import (
    CLIENT,
    E_CUR,
    E_CURPRI,
    E_HEAP,
    E_LOAD,
    E_NTH,
    E_RQ,
    E_RQSEQ,
    E_RUNNABLE,
    E_SEC,
    E_SECOFF,
    E_SEQ,
    E_SIZE,
    E_TICKN,
    EF_PHASE,
    EF_SIZE,
    EF_STARTED,
    G_SLAB,
    HEAP_DTYPE,
    M_END,
    M_MAP_PAGES,
    M_MAP_USED,
    M_NEXT,
    M_PAGE,
    N_POOLS,
    N_SERVERS,
    O_COLS,
    OK,
    OP_COLS,
    PI_POOL,
    PRI_LOWEST,
    RQ_DTYPE,
    S_BUSY,
    S_COUNTER,
    S_EPOCH,
    S_PEAK_QUEUE,
    S_PEAK_THREADS,
    S_QHEAD,
    S_QTAIL,
    S_RECEIVERS,
    S_RHEAD,
    S_RTAIL,
    S_STUCK,
    S_THREADS,
    SP_DECAY,
    SP_FIXED,
    SP_LEVEL,
    SP_PHASE,
    SP_SECOND,
    SP_TICK,
    ST_READY,
    ST_RECV,
    STEP_RECEIVE,
    TF_ARRIVAL,
    TF_COLS,
    TF_LEFT,
    TF_USAGE,
    TH_CHILD,
    TH_COLS,
    TH_EPOCH,
    TH_MSG,
    TH_NEXT,
    TH_PAY,
    TH_PC,
    TH_SERVER,
    TH_STAMP,
    TH_STATE,
    TH_STEP,
    TH_SUB,
    TR_SIZE,
    Z_PCB,
    Z_PORTS,
    Z_THREADS,
    ZONE_PANIC,
    Engine,
    Machine,
    Paging,
    ServerModel,
)
from zonemodel._kernels.process import _kalloc
from zonemodel._kernels.rng import _uniform
from zonemodel._kernels.zalloc import _zalloc, _zalloc_n


@kernel
def _no_paging() -> Paging:
    """The paging state of an event loop outside a build: every array empty."""
    return Paging(
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.float64),
        np.zeros((0, O_COLS), dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        np.zeros((0, 0, OP_COLS), dtype=np.int64),
        np.zeros((0, 0), dtype=np.float64),
        np.zeros(0, dtype=np.int64),
    )


@kernel
def _engine(
    rows: int, heap_cap: int, queue_cap: int, thread_cap: int, lat: np.ndarray, trace: np.ndarray,
    vic: np.ndarray, pg: Paging,
) -> Engine:  # fmt: skip
    """An empty event loop over *rows* pools: *heap_cap* events, *queue_cap* queued messages per pool."""
    en = np.zeros(E_SIZE, dtype=np.int64)
    en[E_CUR] = -1
    en[E_LOAD] = 1
    return Engine(
        np.empty(heap_cap, dtype=HEAP_DTYPE),
        en,
        np.zeros(EF_SIZE, dtype=np.float64),
        np.empty((rows, queue_cap), dtype=np.float64),
        np.empty((rows, queue_cap), dtype=np.int64),
        lat,
        trace,
        np.empty((thread_cap, TH_COLS), dtype=np.int64),
        np.empty((thread_cap, TF_COLS), dtype=np.float64),
        np.empty(thread_cap, dtype=RQ_DTYPE),
        vic,
        np.empty((rows, queue_cap), dtype=np.int64),
        pg,
    )


@kernel
def _new_engine(
    heap_cap: int, queue_cap: int, thread_cap: int, lat: np.ndarray, trace: np.ndarray, vic: np.ndarray
) -> Engine:
    """An empty event loop of a storm: *heap_cap* events, *queue_cap* queued messages per server, *thread_cap* threads.

    *vic* holds the notifications of each victim of a kill storm (empty otherwise).
    """
    return _engine(N_SERVERS, heap_cap, queue_cap, thread_cap, lat, trace, vic, _no_paging())


@kernel
def _build_engine(
    heap_cap: int, queue_cap: int, thread_cap: int, lat: np.ndarray, trace: np.ndarray, pg: Paging
) -> Engine:
    """An empty event loop of a build: the storms' servers and ext2fs's pager pool, with *pg*'s files and disk."""
    return _engine(N_POOLS, heap_cap, queue_cap, thread_cap, lat, trace, np.empty(0, dtype=np.int64), pg)


@kernel
def _quiet_engine(srv: ServerModel, state: np.ndarray, messages: int) -> Engine:
    """An event loop outside a storm for *messages* notifications queued at once: every server thread seated, idle."""
    seated = 0
    for s in range(srv.sv.shape[0]):
        seated += srv.sv[s, S_THREADS]
    threads = seated + 2 * messages + 16
    eng = _new_engine(
        threads + messages + 16,
        2 * messages + 1,
        threads,
        np.empty(0, dtype=np.float64),
        np.empty((0, TR_SIZE), dtype=np.float64),
        np.empty(0, dtype=np.int64),
    )
    _start_clock(eng, srv, state)
    _seat_threads(eng, srv)
    return eng


@kernel(inline=True)
def _before(heap: np.ndarray, i: int, t: float, seq: int) -> bool:
    """Whether event *i* comes before an event at (*t*, *seq*)."""
    return heap[i].t < t or (heap[i].t == t and heap[i].seq < seq)


@kernel(inline=True)
def _push(eng: Engine, t: float, kind: int, server: int, mtype: int, arrival: float) -> None:
    """Push an event; the heap is ordered by (time, sequence)."""
    heap, en = eng.heap, eng.en
    i = en[E_HEAP]
    en[E_HEAP] += 1
    seq = en[E_SEQ]
    en[E_SEQ] += 1
    while i > 0:
        parent = (i - 1) // 2
        if _before(heap, parent, t, seq):
            break
        heap[i] = heap[parent]
        i = parent
    ev = heap[i]
    ev.t = t
    ev.seq = seq
    ev.kind = kind
    ev.server = server
    ev.mtype = mtype
    ev.arrival = arrival


@kernel(inline=True)
def _pop(eng: Engine) -> tuple[float, int, int, int, float]:
    """Pop the earliest event: (time, kind, server, message kind, arrival time)."""
    heap, en = eng.heap, eng.en
    top = heap[0]
    t, kind, server, mtype, arrival = top.t, top.kind, top.server, top.mtype, top.arrival
    n = en[E_HEAP] - 1
    en[E_HEAP] = n
    if n == 0:
        return t, kind, server, mtype, arrival
    last_t, last_seq = heap[n].t, heap[n].seq
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _before(heap, c + 1, heap[c].t, heap[c].seq):
            c += 1
        if not _before(heap, c, last_t, last_seq):
            break
        heap[i] = heap[c]
        i = c
    heap[i] = heap[n]
    return t, kind, server, mtype, arrival


@kernel(inline=True)
def _rq_before(rq: np.ndarray, i: int, pri: int, seq: int) -> bool:
    """Whether run-queue entry *i* runs before an entry (*pri*, *seq*)."""
    return rq[i].pri < pri or (rq[i].pri == pri and rq[i].seq < seq)


@kernel(inline=True)
def _rq_push(eng: Engine, pri: int, th: int) -> None:
    """Put thread *th* at the tail of the run queue of priority *pri*."""
    rq, en = eng.rq, eng.en
    i = en[E_RQ]
    en[E_RQ] += 1
    seq = en[E_RQSEQ]
    en[E_RQSEQ] += 1
    while i > 0:
        parent = (i - 1) // 2
        if _rq_before(rq, parent, pri, seq):
            break
        rq[i] = rq[parent]
        i = parent
    e = rq[i]
    e.pri = pri
    e.seq = seq
    e.th = th


@kernel(inline=True)
def _rq_pop(eng: Engine) -> tuple[int, int]:
    """Take the first entry of the run queue: (thread, priority)."""
    rq, en = eng.rq, eng.en
    th, pri = rq[0].th, rq[0].pri
    n = en[E_RQ] - 1
    en[E_RQ] = n
    if n == 0:
        return th, pri
    last_pri, last_seq = rq[n].pri, rq[n].seq
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _rq_before(rq, c + 1, rq[c].pri, rq[c].seq):
            c += 1
        if not _rq_before(rq, c, last_pri, last_seq):
            break
        rq[i] = rq[c]
        i = c
    rq[i] = rq[n]
    return th, pri


@kernel(inline=True)
def _rq_best(eng: Engine) -> int:
    """The best priority waiting in the run queue (dropping the entries of dead threads), or PRI_LOWEST + 1."""
    while eng.en[E_RQ] > 0:
        if eng.th[eng.rq[0].th, TH_STATE] == ST_READY:
            return eng.rq[0].pri
        _rq_pop(eng)
    return PRI_LOWEST + 1


@kernel(refcount=False)
def _zone_free_bytes(ms: np.ndarray) -> int:
    """Bytes the zone map can still hand out (pages left plus the open chunk)."""
    return (ms[M_MAP_PAGES] - ms[M_MAP_USED]) * ms[M_PAGE] + ms[M_END] - ms[M_NEXT]


@kernel(refcount=False)
def _spawn_thread(m: Machine) -> int:
    """A worker's kernel objects: thread, pcb, thread port and MIG reply port."""
    for z in (Z_THREADS, Z_PCB):
        if _zalloc(m.zones, m.ms, z) != OK:
            return ZONE_PANIC
    if _zalloc_n(m.zones, m.ms, Z_PORTS, 2) != OK:
        return ZONE_PANIC
    return OK


@kernel(refcount=False, entry=True)
def _start_pools(m: Machine, srv: ServerModel) -> int:
    """Each server starts with its initial threads (one for libports, the pool for a fixed pool)."""
    sv = srv.sv
    for s in range(sv.shape[0]):
        for _ in range(srv.pi[PI_POOL]):
            if _spawn_thread(m) != OK:
                return ZONE_PANIC
            sv[s, S_THREADS] += 1
        sv[s, S_PEAK_THREADS] = sv[s, S_THREADS]
    return OK


@kernel(refcount=False)
def _new_thread(eng: Engine, srv: ServerModel, s: int, state: int, step: int) -> int:
    """A thread slot for a new thread of server *s* (or a client, ``s == CLIENT``), with no CPU usage."""
    th, tf, en = eng.th, eng.tf, eng.en
    j = en[E_NTH]
    en[E_NTH] = j + 1
    th[j, TH_SERVER] = s
    th[j, TH_STATE] = state
    th[j, TH_STEP] = step
    th[j, TH_MSG] = -1
    th[j, TH_NEXT] = -1
    th[j, TH_CHILD] = -1
    th[j, TH_STAMP] = en[E_SEC]
    th[j, TH_EPOCH] = srv.sv[s, S_EPOCH] if s != CLIENT else 0
    th[j, TH_PAY] = 0
    th[j, TH_SUB] = 0
    th[j, TH_PC] = 0
    for c in range(TF_COLS):
        tf[j, c] = 0.0
    return j


@kernel(inline=True)
def _wait_receive(eng: Engine, srv: ServerModel, j: int) -> None:
    """Thread *j* blocks in ``mach_msg``: the last of its server's waiting receivers."""
    sv, th = srv.sv, eng.th
    s = th[j, TH_SERVER]
    th[j, TH_STATE] = ST_RECV
    th[j, TH_NEXT] = -1
    tail = sv[s, S_RTAIL]
    if tail >= 0:
        th[tail, TH_NEXT] = j
    else:
        sv[s, S_RHEAD] = j
    sv[s, S_RTAIL] = j
    sv[s, S_RECEIVERS] += 1


@kernel(refcount=False)
def _seat_threads(eng: Engine, srv: ServerModel) -> None:
    """Every thread the servers have, idle and blocked in ``mach_msg``, its CPU usage long decayed.

    Threads stuck for good on a lock (``S_STUCK``) stay busy and get no slot.
    """
    sv = srv.sv
    for s in range(sv.shape[0]):
        sv[s, S_RHEAD] = -1
        sv[s, S_RTAIL] = -1
        sv[s, S_RECEIVERS] = 0
        sv[s, S_QHEAD] = 0
        sv[s, S_QTAIL] = 0
        sv[s, S_BUSY] = sv[s, S_STUCK]
        sv[s, S_COUNTER] = sv[s, S_THREADS] - sv[s, S_STUCK]
        for _ in range(sv[s, S_THREADS] - sv[s, S_STUCK]):
            _wait_receive(eng, srv, _new_thread(eng, srv, s, ST_RECV, STEP_RECEIVE))


@kernel(inline=True)
def _exp(state: np.ndarray, mean: float) -> float:
    return -mean * math.log(1.0 - _uniform(state))


@kernel(inline=True)
def _cpu_time(state: np.ndarray, sp: np.ndarray, mean: float) -> float:
    """CPU seconds of one request or close: exponential about *mean*, or exactly *mean* (``SP_FIXED``)."""
    if sp[SP_FIXED] > 0:
        return mean
    return _exp(state, mean)


@kernel(refcount=False)
def _start_clock(eng: Engine, srv: ServerModel, state: np.ndarray) -> None:
    """Where the run starts against the clock: on a tick, or (``SP_PHASE``) at a random point of both ticks."""
    sp = srv.sp
    if sp[SP_PHASE] > 0:
        eng.ef[EF_PHASE] = _uniform(state) * sp[SP_TICK]
        eng.en[E_SECOFF] = int(_uniform(state) * sp[SP_SECOND])
    eng.en[E_SEC] = eng.en[E_SECOFF] // int(sp[SP_SECOND])
    eng.en[E_TICKN] = 1


@kernel(inline=True)
def _age(eng: Engine, srv: ServerModel, i: int) -> int:
    """Decay thread *i*'s usage for the scheduler ticks since it was last aged; return its priority."""
    th, tf = eng.th, eng.tf
    k = eng.en[E_SEC] - th[i, TH_STAMP]
    if k > 64:
        tf[i, TF_USAGE] = 0.0
    else:
        for _ in range(k):
            tf[i, TF_USAGE] *= srv.sp[SP_DECAY]
    th[i, TH_STAMP] = eng.en[E_SEC]
    return min(PRI_LOWEST, srv.prio[th[i, TH_SERVER]] + int(tf[i, TF_USAGE] / srv.sp[SP_LEVEL]))


@kernel(inline=True)
def _preempt(eng: Engine, srv: ServerModel, now: float) -> None:
    """The running thread goes back to the tail of its run queue, keeping the work it has left."""
    i = eng.en[E_CUR]
    eng.tf[i, TF_LEFT] -= now - eng.ef[EF_STARTED]
    eng.th[i, TH_STATE] = ST_READY
    _rq_push(eng, _age(eng, srv, i), i)
    eng.en[E_CUR] = -1


@kernel(inline=True)
def _setrun(eng: Engine, srv: ServerModel, j: int, now: float, preempt: bool) -> None:
    """Thread *j* becomes runnable; it preempts the running thread if *preempt* and its priority is strictly better."""
    en = eng.en
    pri = _age(eng, srv, j)
    eng.th[j, TH_STATE] = ST_READY
    en[E_RUNNABLE] += 1
    _rq_push(eng, pri, j)
    if preempt and en[E_CUR] >= 0 and pri < en[E_CURPRI]:
        _preempt(eng, srv, now)


@kernel(inline=True)
def _stop_running(eng: Engine, state: int) -> None:
    """The running thread leaves the CPU for *state* (blocked, sleeping, done, dead)."""
    i = eng.en[E_CUR]
    eng.th[i, TH_STATE] = state
    eng.en[E_RUNNABLE] -= 1
    eng.en[E_CUR] = -1


@kernel(inline=True)
def _deliver(
    m: Machine, eng: Engine, srv: ServerModel, s: int, mtype: int, payload: int, arrival: float, now: float,
    preempt: bool,
) -> int:  # fmt: skip
    """A message to pool *s*: to its longest-waiting receiver, or into its queue (a kalloc'd kmsg either way).

    *payload* goes with it (see ``MSG_*``).  The receiver it wakes preempts
    the running thread if *preempt* and its priority is strictly better.
    """
    sv, th = srv.sv, eng.th
    status, _ = _kalloc(m, srv.msize[mtype])
    if status != OK:
        if m.gp[G_SLAB]:  # mach_msg fails for want of a buffer: the message is lost, nothing panics
            return OK
        return status
    j = sv[s, S_RHEAD]
    if j >= 0:
        sv[s, S_RHEAD] = th[j, TH_NEXT]
        if th[j, TH_NEXT] < 0:
            sv[s, S_RTAIL] = -1
        sv[s, S_RECEIVERS] -= 1
        th[j, TH_MSG] = mtype
        th[j, TH_PAY] = payload
        eng.tf[j, TF_ARRIVAL] = arrival
        _setrun(eng, srv, j, now, preempt)
        return OK
    tail = sv[s, S_QTAIL]
    eng.qa[s, tail] = arrival
    eng.qm[s, tail] = mtype
    eng.qp[s, tail] = payload
    sv[s, S_QTAIL] = tail + 1
    if tail + 1 - sv[s, S_QHEAD] > sv[s, S_PEAK_QUEUE]:
        sv[s, S_PEAK_QUEUE] = tail + 1 - sv[s, S_QHEAD]
    return OK
