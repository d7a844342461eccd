"""Numba kernels of the servers' event loop: a discrete-event simulation of libports thread pools.

Numba JIT-compiled; called by the storm kernels (:mod:`.storms`).
``tests/reference/servers.py`` has the same event loop in plain Python
(with :mod:`heapq`).

Model, per server (proc, auth, exec, term, ext2fs, null):

* a message that arrives is a kmsg allocated from a kalloc zone; it waits
  in the server's port-set queue until a thread receives it;
* libports keeps a counter of threads that are not busy (``nreqthreads``).
  Receiving a message lowers it; when it reaches zero, the policy decides
  whether to spawn a thread at once, later, or not at all.  A spawned thread
  raises the counter at once but starts receiving only after the policy's
  delay (the Debian patch's 2 s sleep, the 2012 priority depression);
* a received message is served on the single CPU, first come first served,
  for an exponential service time; then the thread goes back to receiving;
* threads never exit (1997-2008 libports, and Debian until 2014); each
  costs a thread, a pcb, a thread port and a reply port from the zones;
* a no-senders notification served by null makes null drop its send right
  to the ext2fs protid behind it, which sends ext2fs a notification in turn;
  serving a notification destroys the dead port (back to the ipc ports zone).

Events are ordered by (time, sequence number) in a binary heap of
:data:`~.layout.HEAP_DTYPE` records, so equal times are served in the order
they were made.  The event loop (:func:`_serve`) inlines the handlers and
is compiled without reference counting.
"""

from __future__ import annotations

import math

import numpy as np

from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import (
    E_HEAP,
    E_NLAT,
    E_SEQ,
    EF_CPU,
    EF_NOW,
    EV_ARRIVE,
    EV_DONE,
    EV_READY,
    EXT2FS,
    G_SLAB,
    G_THREAD_BYTES,
    G_ZONE_MAP,
    K_DEPRESS,
    K_FIXED,
    K_THROTTLE,
    K_UNBOUNDED,
    L_OOM,
    L_QUOTA,
    L_THREADS,
    M_END,
    M_MAP_PAGES,
    M_MAP_USED,
    M_NEXT,
    M_PAGE,
    MSG_NOTIFY,
    NULL,
    OK,
    PF_BACKOFF,
    PF_DELAY,
    PF_RESERVE,
    PI_CAP,
    PI_DELAY_FROM,
    PI_FREE_THREADS,
    PI_KIND,
    PI_POOL,
    RM_CHARGE_A,
    RM_NULL_DONE,
    RM_OOM_KILLS,
    RM_OPENED,
    RM_REFUSED_QUOTA,
    RM_REFUSED_THREADS,
    S_BUSY,
    S_COUNTER,
    S_EPOCH,
    S_PEAK_QUEUE,
    S_PEAK_THREADS,
    S_QHEAD,
    S_QTAIL,
    S_RECEIVERS,
    S_SERVED,
    S_THREADS,
    TR_NULL_THREADS,
    TR_TIME,
    TR_ZONE_MAP_USED,
    Z_PCB,
    Z_PORTS,
    Z_THREADS,
    ZONE_PANIC,
    Engine,
    Machine,
    ServerModel,
)
from zonemodel._kernels.process import _kalloc, _kfree
from zonemodel._kernels.remedies import _short
from zonemodel._kernels.rng import _uniform
from zonemodel._kernels.zalloc import _zalloc, _zalloc_n, _zfree_n


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


@kernel
def _zone_free_bytes(ms: np.ndarray) -> int:
    """Bytes the zone map can still hand out (pages left plus the open chunk)."""
    return (ms[M_MAP_PAGES] - ms[M_MAP_USED]) * ms[M_PAGE] + ms[M_END] - ms[M_NEXT]


@kernel
def _spawn_thread(m: Machine) -> int:
    """A worker's kernel objects: thread, pcb, thread port and MIG reply port."""
    for z in (Z_THREADS, Z_PCB):
        if _zalloc(m.zones, m.ms, z) != OK:
            return ZONE_PANIC
    if _zalloc_n(m.zones, m.ms, Z_PORTS, 2) != OK:
        return ZONE_PANIC
    return OK


@kernel
def _start_pools(m: Machine, srv: ServerModel) -> int:
    """Each server starts with its initial threads (one for libports, the pool for a fixed pool)."""
    sv = srv.sv
    for s in range(sv.shape[0]):
        for _ in range(srv.pi[PI_POOL]):
            if _spawn_thread(m) != OK:
                return ZONE_PANIC
            sv[s, S_THREADS] += 1
            sv[s, S_COUNTER] += 1
            sv[s, S_RECEIVERS] += 1
        sv[s, S_PEAK_THREADS] = sv[s, S_THREADS]
    return OK


@kernel
def _policy(m: Machine, srv: ServerModel, s: int) -> tuple[bool, float]:
    """Whether server *s* may spawn a thread now, and after what delay it starts receiving."""
    pi, pf = srv.pi, srv.pf
    kind = pi[PI_KIND]
    n = srv.sv[s, S_THREADS]
    if kind == K_UNBOUNDED:
        return True, 0.0
    if kind == K_THROTTLE:
        if n > pi[PI_CAP]:
            return False, 0.0
        return True, (pf[PF_DELAY] if n >= pi[PI_DELAY_FROM] else 0.0)
    if kind == K_DEPRESS:
        total = n + 1
        return True, (10 + ((total - 1) // 100 + 1) * 10) / 1000.0
    if kind == K_FIXED:
        return False, 0.0
    # K_HEADROOM
    if _zone_free_bytes(m.ms) - m.gp[G_THREAD_BYTES] < pf[PF_RESERVE] * m.gp[G_ZONE_MAP]:
        return False, 0.0
    free_threads = pi[PI_FREE_THREADS]
    if n < free_threads:
        return True, 0.0
    return True, pf[PF_BACKOFF] * n / free_threads


@kernel(inline=True)
def _exp(state: np.ndarray, mean: float) -> float:
    return -mean * math.log(1.0 - _uniform(state))


@kernel
def _kill_null(m: Machine, eng: Engine, srv: ServerModel, t: float) -> None:
    """The OOM killer kills null: its threads, queued messages and ports go, and ext2fs hears of each port.

    null's remaining protids die with it (their clients keep dead names, so later
    closes send nothing), and each of null's send rights to an ext2fs protid is
    released, which sends ext2fs a no-senders notification.
    """
    sv, rm = srv.sv, srv.rm
    n = sv[NULL, S_THREADS]
    _zfree_n(m.zones, Z_THREADS, n)
    _zfree_n(m.zones, Z_PCB, n)
    _zfree_n(m.zones, Z_PORTS, 2 * n)
    for i in range(sv[NULL, S_QHEAD], sv[NULL, S_QTAIL]):
        _kfree(m, srv.msize[eng.qm[NULL, i]], -1)
    left = rm[RM_OPENED] - rm[RM_NULL_DONE]
    _zfree_n(m.zones, Z_PORTS, left)
    for _ in range(left):
        _push(eng, t, EV_ARRIVE, EXT2FS, MSG_NOTIFY + 2 * sv[EXT2FS, S_EPOCH], t)
    sv[NULL, S_THREADS] = 0
    sv[NULL, S_COUNTER] = 0
    sv[NULL, S_RECEIVERS] = 0
    sv[NULL, S_BUSY] = 0
    sv[NULL, S_QHEAD] = sv[NULL, S_QTAIL]
    sv[NULL, S_EPOCH] += 1
    rm[RM_OPENED] = 0
    rm[RM_NULL_DONE] = 0
    rm[RM_OOM_KILLS] += 1


@kernel(refcount=False)
def _may_spawn(m: Machine, eng: Engine, srv: ServerModel, s: int, t: float) -> tuple[int, bool, float]:
    """Whether server *s*, whose last idle thread just took a message, gets a new thread, and its delay.

    The policy decides first, then the remedies (thread limit, kernel-memory
    quota, OOM killer), then the zones.  Returns (status, spawned, delay):
    status is ZONE_PANIC when the zone map cannot hold the thread; a delay
    of -1 says that the OOM killer killed null, and with it the very thread asking.
    """
    lim, rm, gp = srv.lim, srv.rm, m.gp
    allowed, delay = _policy(m, srv, s)
    if allowed and lim[L_THREADS] > 0 and srv.sv[s, S_THREADS] >= lim[L_THREADS]:
        rm[RM_REFUSED_THREADS] += 1
        allowed = False
    if allowed and lim[L_QUOTA] > 0 and rm[RM_CHARGE_A] + gp[G_THREAD_BYTES] > lim[L_QUOTA]:
        rm[RM_REFUSED_QUOTA] += 1
        allowed = False
    if allowed and lim[L_OOM] and _short(m, lim) and srv.sv[NULL, S_THREADS] > 0:
        _kill_null(m, eng, srv, t)
        if s == NULL:
            return OK, False, -1.0  # this very thread died with null
        allowed = False
    if allowed and _spawn_thread(m) != OK:
        if not gp[G_SLAB]:
            return ZONE_PANIC, False, 0.0
        allowed = False  # thread_create returns an error: no new thread, nothing panics
    return OK, allowed, delay


@kernel(inline=True)
def _handle(
    m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, t: float, kind: int, s: int, tagged: int,
    arrival: float,
) -> int:  # fmt: skip
    """Process one event (already taken off the heap); return a status code.

    An event carries the epoch of its server (``mtype = kind of message + 2 * epoch``);
    events of a server the OOM killer has killed since are void.
    """
    sv, qa, qm, en, ef, lat = srv.sv, eng.qa, eng.qm, eng.en, eng.ef, eng.lat
    ef[EF_NOW] = t
    mtype = tagged % 2
    epoch = sv[s, S_EPOCH]
    if tagged // 2 != epoch:
        return OK  # a thread, port or message of a killed instance: gone with it
    tag = 2 * epoch
    if kind == EV_ARRIVE:
        status, _ = _kalloc(m, srv.msize[mtype])
        if status != OK:
            if m.gp[G_SLAB]:  # mach_msg fails for want of a buffer: the message is lost, nothing panics
                return OK
            return status
        tail = sv[s, S_QTAIL]
        qa[s, tail] = arrival
        qm[s, tail] = mtype
        sv[s, S_QTAIL] = tail + 1
    elif kind == EV_DONE:
        sv[s, S_BUSY] -= 1
        sv[s, S_RECEIVERS] += 1
        sv[s, S_COUNTER] += 1
        sv[s, S_SERVED] += 1
        if en[E_NLAT] < lat.shape[0]:
            lat[en[E_NLAT]] = t - arrival
            en[E_NLAT] += 1
        if mtype == MSG_NOTIFY:
            _zfree_n(m.zones, Z_PORTS, 1)  # the dead port is destroyed with its receive right
            if s == NULL:  # null drops its send right to the ext2fs protid behind the dead one
                srv.rm[RM_NULL_DONE] += 1
                _push(eng, t, EV_ARRIVE, EXT2FS, MSG_NOTIFY + 2 * sv[EXT2FS, S_EPOCH], t)
    else:  # EV_READY
        sv[s, S_RECEIVERS] += 1
    # Receivers take queued messages (one per receiver), spawning as libports does.
    while sv[s, S_RECEIVERS] > 0 and sv[s, S_QHEAD] < sv[s, S_QTAIL]:
        head = sv[s, S_QHEAD]
        sv[s, S_QHEAD] = head + 1
        msg = qm[s, head]
        _kfree(m, srv.msize[msg], -1)
        sv[s, S_RECEIVERS] -= 1
        sv[s, S_BUSY] += 1
        sv[s, S_COUNTER] -= 1
        if sv[s, S_COUNTER] == 0:
            status, spawned, delay = _may_spawn(m, eng, srv, s, t)
            if status != OK:
                return status
            if delay < 0.0:
                return OK  # the OOM killer killed null, and this thread with it
            if spawned:
                if srv.lim[L_QUOTA] > 0:
                    srv.rm[RM_CHARGE_A] += m.gp[G_THREAD_BYTES]
                sv[s, S_THREADS] += 1
                sv[s, S_COUNTER] += 1
                if sv[s, S_THREADS] > sv[s, S_PEAK_THREADS]:
                    sv[s, S_PEAK_THREADS] = sv[s, S_THREADS]
                _push(eng, t + delay, EV_READY, s, tag, t)
        start = max(t, ef[EF_CPU])
        finish = start + _exp(state, srv.svc[s, msg])
        ef[EF_CPU] = finish
        _push(eng, finish, EV_DONE, s, msg + tag, qa[s, head])
    backlog = sv[s, S_QTAIL] - sv[s, S_QHEAD]
    if backlog > sv[s, S_PEAK_QUEUE]:
        sv[s, S_PEAK_QUEUE] = backlog
    return OK


@kernel(refcount=False)
def _serve(
    m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, arrivals: np.ndarray, until: float
) -> tuple[int, int]:
    """Serve the events due by *until*, merging the sorted *arrivals* (closes: notifications to null) with the heap.

    The one event loop: a close burst passes its closes and ``until=inf``; a
    timed fork bomb passes no arrivals and the time of its next fork.  An
    arrival at the same time as a heap event comes after it when the event
    is older (arrival *i* has sequence number *i*).  ``eng.trace`` (shape
    (k, 3): time, null threads, zone-map bytes used) samples the run at
    every ``3 * closes // k``-th event when it has rows.  Stops at the first
    event that does not return OK.  Returns (status, events processed).

    Compiled without reference counting (``refcount=False``): with the
    handlers inlined, each event would otherwise pay an atomic increment and
    decrement for most of these arrays, several times the cost of the event.
    The caller owns every array.
    """
    heap, en, trace = eng.heap, eng.en, eng.trace
    closes = arrivals.shape[0]
    nxt = 0
    events = 0
    every = max(1, (3 * closes) // max(1, trace.shape[0]))
    row = 0
    while True:
        if nxt < closes and (en[E_HEAP] == 0 or not _before(heap, 0, arrivals[nxt], nxt)):
            t = arrivals[nxt]
            if t > until:
                break
            nxt += 1
            kind, s, tagged, arrival = EV_ARRIVE, NULL, MSG_NOTIFY, t
        elif en[E_HEAP] > 0:
            if heap[0].t > until:
                break
            t, kind, s, tagged, arrival = _pop(eng)
        else:
            break
        status = _handle(m, eng, srv, state, t, kind, s, tagged, arrival)
        events += 1
        if row < trace.shape[0] and events % every == 0:
            trace[row, TR_TIME] = eng.ef[EF_NOW]
            trace[row, TR_NULL_THREADS] = srv.sv[NULL, S_THREADS]
            trace[row, TR_ZONE_MAP_USED] = m.ms[M_MAP_USED] * m.ms[M_PAGE]
            row += 1
        if status != OK:
            return status, events
    return OK, events
