"""Numba kernels of the servers: a discrete-event simulation of libports thread pools.

Numba JIT-compiled; called by :func:`zonemodel.close_burst` and by the fork
bomb when forks come at a given interval.  ``tests/reference.py`` has the
same event loop in plain Python (with :mod:`heapq`).

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
:data:`HEAP_DTYPE` records, so equal times are served in the order they were made.
The two event loops (:func:`_close_loop`, :func:`_run_until`) inline the
handlers and are compiled without reference counting.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numba import prange

from zonemodel._kernels import process as P
from zonemodel._kernels import zalloc as _zalloc
from zonemodel._kernels.forkbomb import _background_exits
from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import L_OOM, L_PORTS, L_QUOTA, L_THREADS, Z_PCB, Z_PORTS, Z_THREADS
from zonemodel._kernels.remedies import _fatal, _short
from zonemodel._kernels.rng import _uniform

# Servers.
PROC: Final = 0
AUTH: Final = 1
EXEC: Final = 2
TERM: Final = 3
EXT2FS: Final = 4
NULL: Final = 5
N_SERVERS: Final = 6
SERVER_NAMES: Final = ("proc", "auth", "exec", "term", "ext2fs", "null")

# Message kinds.
M_NOTIFY: Final = 0  # a no-senders notification
M_RPC: Final = 1  # an ordinary request
N_KINDS: Final = 2

# Event kinds.
EV_ARRIVE: Final = 0
EV_DONE: Final = 1
EV_READY: Final = 2  # a spawned thread starts receiving

# Per-server counters (int64 columns of ``sv``).
S_THREADS: Final = 0  # threads in the pool
S_COUNTER: Final = 1  # libports' count of threads not busy (nreqthreads)
S_RECEIVERS: Final = 2  # threads actually waiting in mach_msg
S_BUSY: Final = 3
S_QHEAD: Final = 4
S_QTAIL: Final = 5
S_PEAK_THREADS: Final = 6
S_PEAK_QUEUE: Final = 7
S_SERVED: Final = 8
S_QUEUED: Final = 9  # messages that found no receiver and had to wait
S_REFUSED: Final = 10  # spawns the policy refused (or, in the slab era, that failed)
S_DROPPED: Final = 11  # messages lost for want of a kernel buffer (slab era)
S_EPOCH: Final = 12  # bumped when the OOM killer kills the server; older events are void
S_COLS: Final = 13

# Remedy state (int64 ``rm``).
RM_CHARGE_A: Final = 0  # kernel memory charged to the storm's user
RM_CHARGE_B: Final = 1  # ... and to the other user
RM_OPENED: Final = 2  # ports the storm opened (null protids)
RM_NULL_DONE: Final = 3  # notifications null has served in its current life
RM_REFUSED_PORTS: Final = 4  # opens refused by ports_per_task
RM_REFUSED_QUOTA: Final = 5  # opens and spawns refused by kmem_quota
RM_REFUSED_THREADS: Final = 6  # spawns refused by threads_per_task
RM_OOM_KILLS: Final = 7  # times the OOM killer killed null
RM_B_OPENED: Final = 8  # opens of the other user that succeeded
RM_SIZE: Final = 9

# Policy (int64 ``pi`` and float64 ``pf``).
K_UNBOUNDED: Final = 0  # upstream libports 1997-2008: spawn at once, no limit
K_THROTTLE: Final = 1  # Debian thread-throttle 2005-2009
K_DEPRESS: Final = 2  # upstream 2012: new threads first depress their priority
K_FIXED: Final = 3  # a fixed pool with a queue (libpager 2014)
K_HEADROOM: Final = 4  # ours: spawn while the zone map keeps a reserve, with a backoff
PI_KIND: Final = 0
PI_CAP: Final = 1  # throttle: no spawn above this many threads
PI_DELAY_FROM: Final = 2  # throttle: threads from this count on sleep first
PI_POOL: Final = 3  # fixed: threads per server; others: threads at start
PI_FREE_THREADS: Final = 4  # headroom: threads spawned without backoff
PI_SIZE: Final = 5
PF_DELAY: Final = 0  # throttle: the sleep in seconds
PF_RESERVE: Final = 1  # headroom: fraction of the zone map kept free
PF_BACKOFF: Final = 2  # headroom: seconds of delay per free_threads threads
PF_SIZE: Final = 3

# Engine slots: int64 ``en`` and float64 ``ef``.
E_HEAP: Final = 0  # events in the heap
E_SEQ: Final = 1  # next sequence number
E_NLAT: Final = 2  # latencies recorded
E_SIZE: Final = 3
F_NOW: Final = 0
F_CPU: Final = 1  # when the CPU is next free
F_SIZE: Final = 2


HEAP_DTYPE: Final = np.dtype(
    [
        ("t", np.float64),  # when
        ("seq", np.int64),  # order among equal times: the order events were made in
        ("kind", np.int64),  # EV_*
        ("server", np.int64),
        ("mtype", np.int64),  # message kind + 2 * the server's epoch
        ("arrival", np.float64),  # when the message arrived (for latencies)
    ]
)
"""One event of the servers' binary heap."""


@kernel(inline=True)
def _before(heap: np.ndarray, i: int, t: float, seq: int) -> bool:
    """Whether event *i* comes before an event at (*t*, *seq*)."""
    return heap[i].t < t or (heap[i].t == t and heap[i].seq < seq)


@kernel(inline=True)
def _push(heap: np.ndarray, en: np.ndarray, t: float, kind: int, server: int, mtype: int, arrival: float) -> None:
    """Push an event; the heap is ordered by (time, sequence)."""
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
def _pop(heap: np.ndarray, en: np.ndarray) -> tuple[float, int, int, int, float]:
    """Pop the earliest event: (time, kind, server, message kind, arrival time)."""
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
    return (
        (ms[_zalloc.M_MAP_PAGES] - ms[_zalloc.M_MAP_USED]) * ms[_zalloc.M_PAGE] + ms[_zalloc.M_END] - ms[_zalloc.M_NEXT]
    )


@kernel
def _spawn_thread(zones: np.ndarray, ms: np.ndarray) -> int:
    """A worker's kernel objects: thread, pcb, thread port and MIG reply port."""
    if _zalloc._zalloc(zones, ms, Z_THREADS) != _zalloc.OK:
        return P.ZONE_PANIC
    if _zalloc._zalloc(zones, ms, Z_PCB) != _zalloc.OK:
        return P.ZONE_PANIC
    if _zalloc._zalloc_n(zones, ms, Z_PORTS, 2) != _zalloc.OK:
        return P.ZONE_PANIC
    return P.OK


@kernel
def _policy(
    sv: np.ndarray, s: int, pi: np.ndarray, pf: np.ndarray, ms: np.ndarray, zone_map: int, thread_bytes: int
) -> tuple[bool, float]:
    """Whether server *s* may spawn a thread now, and after what delay it starts receiving."""
    kind = pi[PI_KIND]
    n = sv[s, S_THREADS]
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
    if _zone_free_bytes(ms) - thread_bytes < pf[PF_RESERVE] * zone_map:
        return False, 0.0
    free_threads = pi[PI_FREE_THREADS]
    if n < free_threads:
        return True, 0.0
    return True, pf[PF_BACKOFF] * n / free_threads


@kernel(inline=True)
def _exp(state: np.ndarray, mean: float) -> float:
    return -mean * math.log(1.0 - _uniform(state))


@kernel
def _kill_null(
    zones: np.ndarray, res: np.ndarray, gp: np.ndarray, sv: np.ndarray, qm: np.ndarray,
    heap: np.ndarray,
    en: np.ndarray, msize: np.ndarray, rm: np.ndarray, t: float,
) -> None:  # fmt: skip
    """The OOM killer kills null: its threads, queued messages and ports go, and ext2fs hears of each port.

    null's remaining protids die with it (their clients keep dead names, so later
    closes send nothing), and each of null's send rights to an ext2fs protid is
    released, which sends ext2fs a no-senders notification.
    """
    n = sv[NULL, S_THREADS]
    _zalloc._zfree_n(zones, Z_THREADS, n)
    _zalloc._zfree_n(zones, Z_PCB, n)
    _zalloc._zfree_n(zones, Z_PORTS, 2 * n)
    for i in range(sv[NULL, S_QHEAD], sv[NULL, S_QTAIL]):
        P._kfree(zones, res, gp, msize[qm[NULL, i]], -1)
    left = rm[RM_OPENED] - rm[RM_NULL_DONE]
    _zalloc._zfree_n(zones, Z_PORTS, left)
    for _ in range(left):
        _push(heap, en, t, EV_ARRIVE, EXT2FS, M_NOTIFY + 2 * sv[EXT2FS, S_EPOCH], t)
    sv[NULL, S_THREADS] = 0
    sv[NULL, S_COUNTER] = 0
    sv[NULL, S_RECEIVERS] = 0
    sv[NULL, S_BUSY] = 0
    sv[NULL, S_QHEAD] = sv[NULL, S_QTAIL]
    sv[NULL, S_EPOCH] += 1
    rm[RM_OPENED] = 0
    rm[RM_NULL_DONE] = 0
    rm[RM_OOM_KILLS] += 1


@kernel(inline=True)
def _handle(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray,
    sv: np.ndarray, qa: np.ndarray, qm: np.ndarray,
    heap: np.ndarray,
    en: np.ndarray, ef: np.ndarray, lat: np.ndarray,
    pi: np.ndarray, pf: np.ndarray, svc: np.ndarray, msize: np.ndarray, state: np.ndarray,
    zone_map: int, thread_bytes: int, lim: np.ndarray, rm: np.ndarray,
    t: float, kind: int, s: int, tagged: int, arrival: float,
) -> int:  # fmt: skip
    """Process one event (already taken off the heap); return a _process status code.

    An event carries the epoch of its server (``mtype = kind of message + 2 * epoch``);
    events of a server the OOM killer has killed since are void.
    """
    ef[F_NOW] = t
    mtype = tagged % 2
    epoch = sv[s, S_EPOCH]
    if tagged // 2 != epoch:
        return P.OK  # a thread, port or message of a killed instance: gone with it
    tag = 2 * epoch
    receive = False
    if kind == EV_ARRIVE:
        status, _ = P._kalloc(zones, ms, res, gp, msize[mtype])
        if status != P.OK:
            if gp[P.G_SLAB]:  # mach_msg fails for want of a buffer: the message is lost, nothing panics
                sv[s, S_DROPPED] += 1
                return P.OK
            return status
        tail = sv[s, S_QTAIL]
        qa[s, tail] = arrival
        qm[s, tail] = mtype
        sv[s, S_QTAIL] = tail + 1
        if sv[s, S_RECEIVERS] == 0:
            sv[s, S_QUEUED] += 1
        receive = True
    elif kind == EV_DONE:
        sv[s, S_BUSY] -= 1
        sv[s, S_RECEIVERS] += 1
        sv[s, S_COUNTER] += 1
        sv[s, S_SERVED] += 1
        if en[E_NLAT] < lat.shape[0]:
            lat[en[E_NLAT]] = t - arrival
            en[E_NLAT] += 1
        if mtype == M_NOTIFY:
            _zalloc._zfree(zones, Z_PORTS)  # the dead port is destroyed with its receive right
            if s == NULL:  # null drops its send right to the ext2fs protid behind the dead one
                rm[RM_NULL_DONE] += 1
                _push(heap, en, t, EV_ARRIVE, EXT2FS, M_NOTIFY + 2 * sv[EXT2FS, S_EPOCH], t)
        receive = True
    else:  # EV_READY
        sv[s, S_RECEIVERS] += 1
        receive = True
    # Receivers take queued messages (one per receiver), spawning as libports does.
    while receive and sv[s, S_RECEIVERS] > 0 and sv[s, S_QHEAD] < sv[s, S_QTAIL]:
        head = sv[s, S_QHEAD]
        sv[s, S_QHEAD] = head + 1
        m = qm[s, head]
        P._kfree(zones, res, gp, msize[m], -1)
        sv[s, S_RECEIVERS] -= 1
        sv[s, S_BUSY] += 1
        sv[s, S_COUNTER] -= 1
        if sv[s, S_COUNTER] == 0:
            allowed, delay = _policy(sv, s, pi, pf, ms, zone_map, thread_bytes)
            if allowed and lim[L_THREADS] > 0 and sv[s, S_THREADS] >= lim[L_THREADS]:
                rm[RM_REFUSED_THREADS] += 1
                allowed = False
            if allowed and lim[L_QUOTA] > 0 and rm[RM_CHARGE_A] + thread_bytes > lim[L_QUOTA]:
                rm[RM_REFUSED_QUOTA] += 1
                allowed = False
            if allowed and lim[L_OOM] and _short(zones, ms, res, gp, lim) and sv[NULL, S_THREADS] > 0:
                _kill_null(zones, res, gp, sv, qm, heap, en, msize, rm, t)
                if s == NULL:
                    return P.OK  # this very thread died with null
                allowed = False
            if allowed and _spawn_thread(zones, ms) != P.OK:
                if not gp[P.G_SLAB]:
                    return P.ZONE_PANIC
                allowed = False  # thread_create returns an error: no new thread, nothing panics
            if allowed:
                if lim[L_QUOTA] > 0:
                    rm[RM_CHARGE_A] += thread_bytes
                sv[s, S_THREADS] += 1
                sv[s, S_COUNTER] += 1
                if sv[s, S_THREADS] > sv[s, S_PEAK_THREADS]:
                    sv[s, S_PEAK_THREADS] = sv[s, S_THREADS]
                _push(heap, en, t + delay, EV_READY, s, tag, t)
            else:
                sv[s, S_REFUSED] += 1
        start = max(t, ef[F_CPU])
        finish = start + _exp(state, svc[s, m])
        ef[F_CPU] = finish
        _push(heap, en, finish, EV_DONE, s, m + tag, qa[s, head])
    backlog = sv[s, S_QTAIL] - sv[s, S_QHEAD]
    if backlog > sv[s, S_PEAK_QUEUE]:
        sv[s, S_PEAK_QUEUE] = backlog
    return P.OK


@kernel(inline=True)
def _step(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray,
    sv: np.ndarray, qa: np.ndarray, qm: np.ndarray,
    heap: np.ndarray,
    en: np.ndarray, ef: np.ndarray, lat: np.ndarray,
    pi: np.ndarray, pf: np.ndarray, svc: np.ndarray, msize: np.ndarray, state: np.ndarray,
    zone_map: int, thread_bytes: int, lim: np.ndarray, rm: np.ndarray,
) -> int:  # fmt: skip
    """Pop the earliest event off the heap and process it (see :func:`_handle`)."""
    t, kind, s, tagged, arrival = _pop(heap, en)
    return _handle(
        zones, ms, res, gp, sv, qa, qm, heap, en, ef, lat, pi, pf, svc, msize, state,
        zone_map, thread_bytes, lim, rm, t, kind, s, tagged, arrival,
    )  # fmt: skip


@kernel(refcount=False)
def _run_until(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray,
    sv: np.ndarray, qa: np.ndarray, qm: np.ndarray,
    heap: np.ndarray,
    en: np.ndarray, ef: np.ndarray, lat: np.ndarray,
    pi: np.ndarray, pf: np.ndarray, svc: np.ndarray, msize: np.ndarray, state: np.ndarray,
    zone_map: int, thread_bytes: int, lim: np.ndarray, rm: np.ndarray, until: float,
) -> int:  # fmt: skip
    """Process every event due by *until*; stop at the first that does not return OK.

    Compiled without reference counting (``refcount=False``): with the
    handlers inlined, each event would otherwise pay an atomic increment and
    decrement for most of these arrays, several times the cost of the event.
    """
    while en[E_HEAP] > 0 and heap[0].t <= until:
        status = _step(
            zones, ms, res, gp, sv, qa, qm, heap, en, ef, lat,
            pi, pf, svc, msize, state, zone_map, thread_bytes, lim, rm,
        )  # fmt: skip
        if status != P.OK:
            return status
    return P.OK


@kernel
def _start_pools(zones: np.ndarray, ms: np.ndarray, sv: np.ndarray, pi: np.ndarray) -> int:
    """Each server starts with its initial threads (one for libports, the pool for a fixed pool)."""
    for s in range(sv.shape[0]):
        for _ in range(pi[PI_POOL]):
            if _spawn_thread(zones, ms) != P.OK:
                return P.ZONE_PANIC
            sv[s, S_THREADS] += 1
            sv[s, S_COUNTER] += 1
            sv[s, S_RECEIVERS] += 1
        sv[s, S_PEAK_THREADS] = sv[s, S_THREADS]
    return P.OK


@kernel
def _close_burst(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray,
    sv: np.ndarray, pi: np.ndarray, pf: np.ndarray, svc: np.ndarray, msize: np.ndarray,
    state: np.ndarray, closes: int, interval: float, zone_map: int, thread_bytes: int,
    lat: np.ndarray, trace: np.ndarray, lim: np.ndarray, rm: np.ndarray,
) -> tuple[int, float, int]:  # fmt: skip
    """Close *closes* ports to null, one every ~*interval* seconds, and serve the notifications.

    The gaps between closes are exponential with mean *interval*.  ``trace``
    (shape (k, 3): time, null threads, zone-map bytes used) samples the run at
    every ``closes // k``-th event when it has rows.  Returns (status, time
    of the end, events processed).
    """
    cap = 3 * closes + 64 * N_SERVERS + 16
    heap = np.empty(cap, dtype=HEAP_DTYPE)
    qa = np.empty((N_SERVERS, 2 * closes + 1), dtype=np.float64)
    qm = np.empty((N_SERVERS, 2 * closes + 1), dtype=np.int64)
    en = np.zeros(E_SIZE, dtype=np.int64)
    ef = np.zeros(F_SIZE, dtype=np.float64)
    # NOTE: the closes form a sorted stream, merged with the heap instead of pushed into it, so the heap
    # holds only events in flight (for performance).  All arrival times are drawn first and arrival i
    # ranks as sequence number i, below every other event's: the order is that of pushing them all first.
    arrivals = np.empty(closes, dtype=np.float64)
    t = 0.0
    for i in range(closes):
        t += _exp(state, interval)
        arrivals[i] = t
    en[E_SEQ] = closes
    return _close_loop(
        zones, ms, res, gp, sv, pi, pf, svc, msize, state, zone_map, thread_bytes, lat, trace, lim, rm,
        heap, qa, qm, en, ef, arrivals,
    )  # fmt: skip


@kernel(refcount=False)
def _close_loop(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray,
    sv: np.ndarray, pi: np.ndarray, pf: np.ndarray, svc: np.ndarray, msize: np.ndarray,
    state: np.ndarray, zone_map: int, thread_bytes: int,
    lat: np.ndarray, trace: np.ndarray, lim: np.ndarray, rm: np.ndarray,
    heap: np.ndarray, qa: np.ndarray, qm: np.ndarray, en: np.ndarray, ef: np.ndarray, arrivals: np.ndarray,
) -> tuple[int, float, int]:  # fmt: skip
    """The event loop of :func:`_close_burst`: merge the sorted *arrivals* with the heap and serve them.

    Compiled without reference counting (``refcount=False``), like
    :func:`_run_until`: the caller owns every array.
    """
    closes = arrivals.shape[0]
    nxt = 0
    events = 0
    every = max(1, (3 * closes) // max(1, trace.shape[0]))
    row = 0
    while nxt < closes or en[E_HEAP] > 0:
        if nxt < closes and (en[E_HEAP] == 0 or not _before(heap, 0, arrivals[nxt], nxt)):
            t = arrivals[nxt]
            nxt += 1
            kind, s, tagged, arrival = EV_ARRIVE, NULL, M_NOTIFY, t
        else:
            t, kind, s, tagged, arrival = _pop(heap, en)
        status = _handle(
            zones, ms, res, gp, sv, qa, qm, heap, en, ef, lat,
            pi, pf, svc, msize, state, zone_map, thread_bytes, lim, rm, t, kind, s, tagged, arrival,
        )  # fmt: skip
        events += 1
        if row < trace.shape[0] and events % every == 0:
            trace[row, 0] = ef[F_NOW]
            trace[row, 1] = sv[NULL, S_THREADS]
            trace[row, 2] = ms[_zalloc.M_MAP_USED] * ms[_zalloc.M_PAGE]
            row += 1
        if status != P.OK:
            return status, ef[F_NOW], events
    return P.OK, ef[F_NOW], events


# Owners of IPC spaces in an open/close experiment (rows of ``tables``: names, size index, address).
O_NULL: Final = 0
O_EXT2FS: Final = 1
O_CLIENT0: Final = 2


@kernel
def _open_one(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, its: np.ndarray, tables: np.ndarray, client: int
) -> int:
    """One ``open("/dev/null")``: two kernel ports, +2 names in null, +1 in ext2fs, +1 in the client.

    ext2fs makes a protid port for null (io_restrict_auth) and null keeps a
    send right to it; null makes its own protid port and gives the client a
    send right.  (The names null gains are ``gp[G_NULL_PER_OPEN]``, 2 in every
    preset, for what-ifs.)  An entry table that cannot grow makes the open fail
    (KALLOC_MAP_FULL), which the client sees as an error, not a panic.
    """
    if _zalloc._zalloc_n(zones, ms, Z_PORTS, 2) != _zalloc.OK:
        return P.ZONE_PANIC
    for owner, names in ((O_EXT2FS, 1), (O_NULL, gp[P.G_NULL_PER_OPEN]), (client, 1)):
        tables[owner, 0] += names
        status, tidx, addr = P._grow_table(
            zones, ms, res, gp, its, tables[owner, 1], tables[owner, 2], tables[owner, 0]
        )
        tables[owner, 1] = tidx
        tables[owner, 2] = addr
        if status != P.OK:
            tables[owner, 0] -= names
            return status
    return P.OK


@kernel
def _new_table(zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, its: np.ndarray,
               tables: np.ndarray, owner: int, names: int) -> int:  # fmt: skip
    """Give *owner* a fresh IPC space table holding *names* names."""
    status, addr = P._kalloc(zones, ms, res, gp, its[0] * gp[P.G_ENTRY])
    if status != P.OK:
        return status
    tables[owner, 0] = names
    status, tidx, addr = P._grow_table(zones, ms, res, gp, its, 0, addr, names)
    tables[owner, 1] = tidx
    tables[owner, 2] = addr
    return status


@kernel
def _setup_clients(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, its: np.ndarray, base_q: np.ndarray,
    tables: np.ndarray, null_names: int, ext2fs_names: int, sv: np.ndarray, pi: np.ndarray, pools: bool,
) -> int:  # fmt: skip
    """Null's and ext2fs's tables, the servers' first threads (if *pools*), then one process per client row."""
    status = _new_table(zones, ms, res, gp, its, tables, O_NULL, null_names)
    if status == P.OK:
        status = _new_table(zones, ms, res, gp, its, tables, O_EXT2FS, ext2fs_names)
    if status == P.OK and pools:
        status = _start_pools(zones, ms, sv, pi)
    rec = np.empty(2, dtype=np.int64)
    for c in range(O_CLIENT0, tables.shape[0]):
        if status != P.OK:
            break
        status = P._spawn(zones, ms, res, gp, its, base_q, 1, rec)
        tables[c, 0] = base_q[P.Q_NAMES]
        tables[c, 1] = rec[0]
        tables[c, 2] = rec[1]
    return status


@kernel
def _burst_run(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, its: np.ndarray, base_q: np.ndarray,
    pi: np.ndarray, pf: np.ndarray, svc: np.ndarray, msize: np.ndarray, state: np.ndarray,
    processes: int, ports_each: int, null_names: int, ext2fs_names: int, interval: float,
    zone_map: int, thread_bytes: int, sv: np.ndarray, lat: np.ndarray, trace: np.ndarray, out: np.ndarray,
    lim: np.ndarray, rm: np.ndarray, port_bytes: int, other: int,
) -> None:  # fmt: skip
    """One close burst on a booted state: start the clients, open every port, then close them all.

    Under ``ports_per_task`` a client's open fails once it holds that many
    names; under ``kmem_quota`` an open that would take the storm's user past
    its quota fails (each open charges its two kernel ports).  After the storm,
    if the kernel is alive, the other user starts a process and opens *other*
    ports (``rm[RM_B_OPENED]``), restarting null if the OOM killer killed it.

    ``out`` receives (status, phase (0 boot, 1 open, 2 close), opened, events,
    simulated end time in microseconds).
    """
    out[:] = 0
    tables = np.zeros((O_CLIENT0 + processes, 3), dtype=np.int64)
    rec = np.empty(2, dtype=np.int64)
    status = _setup_clients(zones, ms, res, gp, its, base_q, tables, null_names, ext2fs_names, sv, pi, True)
    if status != P.OK:
        out[0] = status
        return
    opened = 0
    for _ in range(ports_each):
        for c in range(processes):
            if lim[L_PORTS] > 0 and tables[O_CLIENT0 + c, 0] + 1 > lim[L_PORTS]:
                rm[RM_REFUSED_PORTS] += 1
                continue
            if lim[L_QUOTA] > 0 and rm[RM_CHARGE_A] + 2 * port_bytes > lim[L_QUOTA]:
                rm[RM_REFUSED_QUOTA] += 1
                continue
            status = _open_one(zones, ms, res, gp, its, tables, O_CLIENT0 + c)
            if status != P.OK:
                out[0], out[1], out[2] = status, 1, opened
                return
            if lim[L_QUOTA] > 0:
                rm[RM_CHARGE_A] += 2 * port_bytes
            opened += 1
    rm[RM_OPENED] = opened
    status, end, events = _close_burst(
        zones, ms, res, gp, sv, pi, pf, svc, msize, state, opened, interval, zone_map, thread_bytes, lat, trace,
        lim, rm,
    )  # fmt: skip
    out[0], out[1], out[2], out[3] = status, 2, opened, events
    out[4] = int(end * 1e6)
    if status != P.OK or other == 0:
        return
    # The other user: a process of its own, opening ports to /dev/null one after the other.
    other_tables = np.zeros((O_CLIENT0 + 1, 3), dtype=np.int64)
    other_tables[O_NULL, :] = tables[O_NULL, :]
    other_tables[O_EXT2FS, :] = tables[O_EXT2FS, :]
    # Every storm port is closed and served: the names are free again (tables keep their size).
    other_tables[O_NULL, 0] = null_names
    other_tables[O_EXT2FS, 0] = ext2fs_names
    if sv[NULL, S_THREADS] == 0:  # the OOM killer killed null: ext2fs starts a new one on this lookup
        status = _new_table(zones, ms, res, gp, its, other_tables, O_NULL, null_names)
        if status == P.OK:
            status = _spawn_thread(zones, ms)
        if status != P.OK:
            out[0], out[1] = status, 3
            return
    status = P._spawn(zones, ms, res, gp, its, base_q, 1, rec)
    other_tables[O_CLIENT0, 0] = base_q[P.Q_NAMES]
    other_tables[O_CLIENT0, 1] = rec[0]
    other_tables[O_CLIENT0, 2] = rec[1]
    for _ in range(other):
        if status != P.OK:
            break
        if lim[L_PORTS] > 0 and other_tables[O_CLIENT0, 0] + 1 > lim[L_PORTS]:
            break
        if lim[L_QUOTA] > 0 and rm[RM_CHARGE_B] + 2 * port_bytes > lim[L_QUOTA]:
            break
        status = _open_one(zones, ms, res, gp, its, other_tables, O_CLIENT0)
        if status == P.OK:
            rm[RM_CHARGE_B] += 2 * port_bytes
            rm[RM_B_OPENED] += 1
    if status != P.OK and _fatal(status):
        out[0], out[1] = status, 3


@kernel(parallel=True)
def _burst_many(
    zones0: np.ndarray, ms0: np.ndarray, res0: np.ndarray, gp: np.ndarray, its: np.ndarray, base_q: np.ndarray,
    pi: np.ndarray, pf: np.ndarray, svc: np.ndarray, msize: np.ndarray, states: np.ndarray,
    processes: int, ports_each: int, null_names: int, ext2fs_names: int, interval: float,
    zone_map: int, thread_bytes: int, out: np.ndarray, peaks: np.ndarray, lats: np.ndarray,
    lim: np.ndarray, port_bytes: int, other: int, rms: np.ndarray,
) -> None:  # fmt: skip
    """Independent close bursts, one per row of *states* (each replicate owns its copies and its rows)."""
    for r in prange(states.shape[0]):
        zones = zones0.copy()
        ms = ms0.copy()
        res = res0.copy()
        sv = np.zeros((N_SERVERS, S_COLS), dtype=np.int64)
        lat = np.empty(lats.shape[1], dtype=np.float64)
        trace = np.empty((0, 3), dtype=np.float64)
        row = np.zeros(5, dtype=np.int64)
        _burst_run(
            zones, ms, res, gp, its, base_q, pi, pf, svc, msize, states[r].copy(), processes, ports_each,
            null_names, ext2fs_names, interval, zone_map, thread_bytes, sv, lat, trace, row,
            lim, rms[r], port_bytes, other,
        )  # fmt: skip
        out[r, :5] = row
        out[r, 5] = ms[_zalloc.M_PANIC_ZONE]
        out[r, 6] = ms[_zalloc.M_MAP_USED]
        for s in range(N_SERVERS):
            peaks[r, s] = sv[s, S_PEAK_THREADS]
            peaks[r, N_SERVERS + s] = sv[s, S_PEAK_QUEUE]
        n = min(lats.shape[1], sv[NULL, S_SERVED] + sv[EXT2FS, S_SERVED])
        lats[r, :n] = lat[:n]


@kernel
def _open_storm(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, its: np.ndarray, base_q: np.ndarray,
    processes: int, ports: int, null_names: int, ext2fs_names: int, per_instance: np.ndarray, out: np.ndarray,
) -> None:  # fmt: skip
    """Open up to *ports* ports to /dev/null from *processes* clients, round robin, and keep them (a leak).

    When null's own entry table cannot grow, that null instance is finished:
    every later open through it fails, and ext2fs starts a new instance on
    the next lookup (a fresh space; the old one keeps its names).  Opens
    that fail for other reasons (a client's table) count as open() errors.
    ``per_instance[i]`` receives the opens served by instance *i*;
    ``out`` = (status, opens, failed opens, instances, last failure status).
    """
    out[:] = 0
    tables = np.zeros((O_CLIENT0 + processes, 3), dtype=np.int64)
    sv = np.zeros((N_SERVERS, S_COLS), dtype=np.int64)  # unused: no pools in an open storm
    status = _setup_clients(zones, ms, res, gp, its, base_q, tables, null_names, ext2fs_names, sv, base_q, False)
    if status != P.OK:
        out[0] = status
        return
    instance = 0
    out[3] = 1
    for i in range(ports):
        client = O_CLIENT0 + i % processes
        status = _open_one(zones, ms, res, gp, its, tables, client)
        if status == P.OK:
            out[1] += 1
            per_instance[instance] += 1
            continue
        if status != P.KALLOC_MAP_FULL:
            out[0] = status
            return
        out[2] += 1
        out[4] = status
        full = tables[O_NULL, 0] + gp[P.G_NULL_PER_OPEN] > its[tables[O_NULL, 1]] - 1
        if full and instance + 1 < per_instance.shape[0]:
            # null's table is what could not grow: this instance is dead; ext2fs starts another.
            instance += 1
            out[3] += 1
            status = _new_table(zones, ms, res, gp, its, tables, O_NULL, null_names)
            if status != P.OK:
                out[0] = status
                return


WHO_SERVER: Final = 2  # a server thread or message made the allocation that failed


@kernel
def _bomb_timed(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, its: np.ndarray,
    child_q: np.ndarray, base_q: np.ndarray, fp: np.ndarray, state: np.ndarray,
    interval: float, rpcs: np.ndarray, pi: np.ndarray, pf: np.ndarray, svc: np.ndarray, msize: np.ndarray,
    zone_map: int, thread_bytes: int, max_children: int, sv: np.ndarray,
) -> tuple[int, int, int, int]:  # fmt: skip
    """A fork bomb with one fork every *interval* seconds, the servers running alongside.

    Fork *i* happens at ``i * interval``; before it, the servers process every
    event due by then.  Each fork then sends ``rpcs[s]`` requests to server
    *s* (the new child's start-up calls).  Background tasks move as in the
    slow bomb.  Returns (children, status, who, background alive); *who* is
    2 when a server's thread or message hit the limit.
    """
    total = 0
    for s in range(N_SERVERS):
        total += rpcs[s]
    cap = (max_children + 2) * (3 * total + 2) + 64 * N_SERVERS
    heap = np.empty(cap, dtype=HEAP_DTYPE)
    qcap = (max_children + 2) * total + 1
    qa = np.empty((N_SERVERS, qcap), dtype=np.float64)
    qm = np.empty((N_SERVERS, qcap), dtype=np.int64)
    en = np.zeros(E_SIZE, dtype=np.int64)
    ef = np.zeros(F_SIZE, dtype=np.float64)
    lat = np.empty(0, dtype=np.float64)
    rec = np.empty(2, dtype=np.int64)
    bg = np.empty((max_children + 1, 2), dtype=np.int64)
    lim = np.zeros(6, dtype=np.int64)  # no remedies in a timed bomb
    rm = np.zeros(RM_SIZE, dtype=np.int64)
    status = _start_pools(zones, ms, sv, pi)
    if status != P.OK:
        return 0, status, WHO_SERVER, 0
    count = 0
    nbg = 0
    for i in range(max_children):
        t = i * interval
        if _uniform(state) < fp[0]:
            status = P._spawn(zones, ms, res, gp, its, base_q, 1, rec)
            if status != P.OK:
                return count, status, 1, nbg
            bg[nbg, 0] = rec[0]
            bg[nbg, 1] = rec[1]
            nbg += 1
        nbg = _background_exits(zones, res, gp, its, base_q, fp, state, bg, nbg)
        status = _run_until(
            zones, ms, res, gp, sv, qa, qm, heap, en, ef, lat,
            pi, pf, svc, msize, state, zone_map, thread_bytes, lim, rm, t,
        )  # fmt: skip
        if status != P.OK:
            return count, status, WHO_SERVER, nbg
        generation = count + 1 if gp[P.G_CHAIN] else 1
        status = P._spawn(zones, ms, res, gp, its, child_q, generation, rec)
        if status != P.OK:
            return count, status, 0, nbg
        count += 1
        for s in range(N_SERVERS):
            for _ in range(rpcs[s]):
                _push(heap, en, t, EV_ARRIVE, s, M_RPC, t)
    return count, P.CHILD_LIMIT, 0, nbg


@kernel(parallel=True)
def _bomb_timed_many(
    zones0: np.ndarray, ms0: np.ndarray, res0: np.ndarray, gp: np.ndarray, its: np.ndarray,
    child_q: np.ndarray, base_q: np.ndarray, fp: np.ndarray, states: np.ndarray,
    interval: float, rpcs: np.ndarray, pi: np.ndarray, pf: np.ndarray, svc: np.ndarray, msize: np.ndarray,
    zone_map: int, thread_bytes: int, max_children: int, out: np.ndarray,
) -> None:  # fmt: skip
    """Independent timed bombs, one per row of *states*; ``out[r]`` as in ``_forkbomb._bomb_many``."""
    for r in prange(states.shape[0]):
        zones = zones0.copy()
        ms = ms0.copy()
        res = res0.copy()
        sv = np.zeros((N_SERVERS, S_COLS), dtype=np.int64)
        count, status, who, nbg = _bomb_timed(
            zones, ms, res, gp, its, child_q, base_q, fp, states[r].copy(), interval, rpcs, pi, pf, svc, msize,
            zone_map, thread_bytes, max_children, sv,
        )  # fmt: skip
        out[r, 0] = count
        out[r, 1] = status
        out[r, 2] = who
        out[r, 3] = nbg
        out[r, 4] = ms[_zalloc.M_PANIC_ZONE]
