"""Numba kernels of the servers' event loop: libports thread pools on the 2005 uniprocessor scheduler.

Numba JIT-compiled; called by the storm kernels (:mod:`.storms`) and the
builds (:mod:`.builds`).  The scheduler's primitives (events, run queue,
delivery) are in :mod:`.sched`; what a build's threads do with a pager
message, a page fault or the disk is in :mod:`.paging`, called from here.
``tests/reference/servers.py`` has the same event loop in plain Python
(with :mod:`heapq`).

Model, per server (proc, auth, exec, term, ext2fs, null, and in a build
ext2fs's pager pool), after the sources summarised in ``storms-2005.md`` §A-E:

* one CPU, shared by the servers' threads and the clients' threads (a
  client closing its ports is a thread too).  A thread runs until it blocks,
  until its 100 ms quantum ends and a thread of equal or better priority is
  waiting, or until a thread of strictly better priority becomes runnable.
  A thread's priority is its base priority plus one level per
  ``SP_LEVEL`` seconds of CPU it was charged, weighted by the load; the
  running thread is charged a clock tick at every clock tick, and usage
  decays by ``SP_DECAY`` at every scheduler tick (once a second);
* a message sent to a server goes to its longest-waiting receiver, if a
  thread is blocked in ``mach_msg``, which becomes runnable holding it (and
  preempts the sender if its priority is strictly better); otherwise it
  waits in the port-set queue, a kmsg from a kalloc zone, until a thread
  that runs takes it.  A thread must run to receive;
* libports keeps a counter of threads that are not busy (``nreqthreads``).
  A thread that takes a message lowers it; when it reaches zero, the policy
  decides whether the thread creates another (``cthread_fork``: CPU time,
  a thread, a pcb, a thread port and a reply port from the zones), which
  counts as not busy at once, before it has received anything.  The new
  thread, with no CPU usage, is resumed at the end of the fork, after the
  policy's sleep if any (the Debian patch's 2 s, the 2012 depression);
* threads never exit (1997-2008 libports, and Debian until 2014);
* a no-senders notification served by null makes null drop its send right
  to the ext2fs protid behind it, which sends ext2fs a notification in turn;
  serving a notification destroys the dead port (back to the ipc ports zone).

Events that the CPU does not decide (messages from outside, sleeps that end)
are ordered by (time, sequence number) in a binary heap of
:data:`~.layout.HEAP_DTYPE` records; the run queue is a heap of
:data:`~.layout.RQ_DTYPE` entries.  At equal times a heap event comes
first, then the end of the running thread's work, then the clock tick.
"""

from __future__ import annotations

import math

import numpy as np

from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import (
    E_CUR,
    E_CURPRI,
    E_HEAP,
    E_LOAD,
    E_NLAT,
    E_NTH,
    E_QUANTUM,
    E_RUNNABLE,
    E_SEC,
    E_SECOFF,
    E_TICKN,
    EF_CPU_END,
    EF_GAP,
    EF_NOW,
    EF_PHASE,
    EF_STARTED,
    EV_ARRIVE,
    EV_DISK,
    EV_PAGEOUT,
    EV_READY,
    EV_SYNC,
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
    M_MAP_USED,
    M_PAGE,
    MSG_CALL,
    MSG_DATA_RETURN,
    MSG_NOTIFY,
    NULL,
    OK,
    PAGER,
    PF_BACKOFF,
    PF_DELAY,
    PF_RESERVE,
    PI_CAP,
    PI_DELAY_FROM,
    PI_FREE_THREADS,
    PI_KIND,
    PRI_LOWEST,
    RM_CHARGE_A,
    RM_NULL_DONE,
    RM_OOM_KILLS,
    RM_OPENED,
    RM_REFUSED_QUOTA,
    RM_REFUSED_THREADS,
    S_BUSY,
    S_COUNTER,
    S_EPOCH,
    S_PEAK_THREADS,
    S_QHEAD,
    S_QTAIL,
    S_RECEIVERS,
    S_RHEAD,
    S_RTAIL,
    S_SERVED,
    S_STALLED,
    S_STUCK,
    S_THREADS,
    SP_CLOSE_CPU,
    SP_KILL_CPU,
    SP_QUANTUM,
    SP_SECOND,
    SP_SPAWN_CPU,
    SP_STALL,
    SP_TICK,
    SP_WALK_CPU,
    SP_YIELDS,
    ST_DEAD,
    ST_DONE,
    ST_NEW,
    ST_READY,
    ST_RECV,
    ST_RUN,
    ST_SLEEP,
    ST_STUCK,
    STEP_CLOSE,
    STEP_IO,
    STEP_JOB,
    STEP_KILL,
    STEP_PAGE,
    STEP_RECEIVE,
    STEP_SERVE,
    STEP_SPAWN,
    STEP_YIELD,
    TF_ARRIVAL,
    TF_DELAY,
    TF_LEFT,
    TF_USAGE,
    TH_CHILD,
    TH_EPOCH,
    TH_MSG,
    TH_PAY,
    TH_SERVER,
    TH_STATE,
    TH_STEP,
    TR_NULL_THREADS,
    TR_TIME,
    TR_ZONE_MAP_USED,
    Z_PCB,
    Z_PORTS,
    Z_THREADS,
    ZONE_PANIC,
    Engine,
    Machine,
    Paging,
    ServerModel,
)
from zonemodel._kernels.paging import (
    _call_served,
    _disk_done,
    _io_step,
    _job_step,
    _page_step,
    _pageout,
    _pager_served,
    _sample,
    _sync,
    _took_return,
)
from zonemodel._kernels.process import _kfree
from zonemodel._kernels.remedies import _short
from zonemodel._kernels.rng import _uniform
from zonemodel._kernels.sched import (
    _age,
    _cpu_time,
    _deliver,
    _exp,
    _new_thread,
    _pop,
    _preempt,
    _push,
    _rq_best,
    _rq_pop,
    _rq_push,
    _setrun,
    _spawn_thread,
    _stop_running,
    _wait_receive,
    _zone_free_bytes,
)
from zonemodel._kernels.zalloc import _zfree_n


@kernel(refcount=False)
def _policy(m: Machine, srv: ServerModel, s: int) -> tuple[bool, float]:
    """Whether server *s* may spawn a thread now, and how long the new thread sleeps before it receives."""
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


@kernel(refcount=False)
def _kill_null(m: Machine, eng: Engine, srv: ServerModel, t: float) -> None:
    """The OOM killer kills null: its threads, queued messages and ports go, and ext2fs hears of each port.

    null's remaining protids die with it (their clients keep dead names, so later
    closes send nothing), and each of null's send rights to an ext2fs protid is
    released, which sends ext2fs a no-senders notification.
    """
    sv, rm, th = srv.sv, srv.rm, eng.th
    n = sv[NULL, S_THREADS]
    _zfree_n(m.zones, Z_THREADS, n)
    _zfree_n(m.zones, Z_PCB, n)
    _zfree_n(m.zones, Z_PORTS, 2 * n)
    for i in range(sv[NULL, S_QHEAD], sv[NULL, S_QTAIL]):
        _kfree(m, srv.msize[eng.qm[NULL, i % eng.qm.shape[1]]], -1)
    for j in range(eng.en[E_NTH]):
        if th[j, TH_SERVER] != NULL or th[j, TH_STATE] == ST_DEAD:
            continue
        if th[j, TH_STEP] == STEP_RECEIVE and th[j, TH_MSG] >= 0:  # handed a message it has not taken yet
            _kfree(m, srv.msize[th[j, TH_MSG]], -1)
        if th[j, TH_STATE] == ST_RUN:
            _stop_running(eng, ST_DEAD)
        elif th[j, TH_STATE] == ST_READY:
            eng.en[E_RUNNABLE] -= 1
        th[j, TH_STATE] = ST_DEAD
    left = rm[RM_OPENED] - rm[RM_NULL_DONE]
    _zfree_n(m.zones, Z_PORTS, left)
    for _ in range(left):
        _push(eng, t, EV_ARRIVE, EXT2FS, MSG_NOTIFY + 2 * sv[EXT2FS, S_EPOCH], t)
    sv[NULL, S_THREADS] = 0
    sv[NULL, S_COUNTER] = 0
    sv[NULL, S_RECEIVERS] = 0
    sv[NULL, S_RHEAD] = -1
    sv[NULL, S_RTAIL] = -1
    sv[NULL, S_BUSY] = 0
    sv[NULL, S_STALLED] = 0
    sv[NULL, S_STUCK] = 0
    sv[NULL, S_QHEAD] = sv[NULL, S_QTAIL]
    sv[NULL, S_EPOCH] += 1
    rm[RM_OPENED] = 0
    rm[RM_NULL_DONE] = 0
    rm[RM_OOM_KILLS] += 1


@kernel(refcount=False)
def _may_spawn(m: Machine, eng: Engine, srv: ServerModel, s: int, t: float) -> tuple[int, bool, float]:
    """Whether server *s*, whose last idle thread just took a message, gets a new thread, and its sleep.

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
def _take(m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, i: int, t: float) -> int:
    """Server thread *i*, on the CPU, receives: the message it was handed, the queue's first, or it blocks.

    Taking a message lowers libports' counter; at zero the thread first
    creates another (``STEP_SPAWN``), if the policy and the kernel let it,
    and then serves the message (``STEP_SERVE``).
    """
    sv, th, tf = srv.sv, eng.th, eng.tf
    s = th[i, TH_SERVER]
    if th[i, TH_MSG] < 0:
        head = sv[s, S_QHEAD]
        if head == sv[s, S_QTAIL]:
            _stop_running(eng, ST_RECV)
            _wait_receive(eng, srv, i)
            return OK
        sv[s, S_QHEAD] = head + 1
        k = head % eng.qm.shape[1]
        th[i, TH_MSG] = eng.qm[s, k]
        th[i, TH_PAY] = eng.qp[s, k]
        tf[i, TF_ARRIVAL] = eng.qa[s, k]
    msg = th[i, TH_MSG]
    _kfree(m, srv.msize[msg], -1)
    if msg == MSG_DATA_RETURN:
        status = _took_return(m)
        if status != OK:
            return status
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
            j = _new_thread(eng, srv, s, ST_NEW, STEP_RECEIVE)
            tf[j, TF_DELAY] = delay
            th[i, TH_CHILD] = j
            th[i, TH_STEP] = STEP_SPAWN
            tf[i, TF_LEFT] = srv.sp[SP_SPAWN_CPU] + srv.sp[SP_WALK_CPU] * sv[s, S_THREADS]
            return OK
    th[i, TH_STEP] = STEP_SERVE
    tf[i, TF_LEFT] = _cpu_time(state, srv.sp, srv.svc[s, msg])
    return OK


@kernel(inline=True)
def _complete(m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, t: float, pager: Paging | None) -> int:
    """The running thread has finished its piece of work at *t*: what it does next, and whom it wakes.

    *pager* is as for :func:`_serve`.
    """
    sv, th, tf, sp, en = srv.sv, eng.th, eng.tf, srv.sp, eng.en
    i = en[E_CUR]
    s = th[i, TH_SERVER]
    step = th[i, TH_STEP]
    eng.ef[EF_STARTED] = t
    # The notifications this step sends: *notes* of them to pool *to*, waking
    # a receiver that may preempt if *wake*.  One call site of _deliver (it
    # is inlined, and every copy costs compile time).
    to, notes, wake = NULL, 0, True
    if step == STEP_CLOSE:  # a client closed a port: mach_port_deallocate notifies null
        th[i, TH_MSG] -= 1
        if th[i, TH_MSG] == 0:
            _stop_running(eng, ST_DONE)
        elif eng.ef[EF_GAP] > 0:
            _stop_running(eng, ST_SLEEP)
            _push(eng, t + _exp(state, eng.ef[EF_GAP]), EV_READY, i, 0, t)
            tf[i, TF_LEFT] = _cpu_time(state, sp, sp[SP_CLOSE_CPU])
        else:
            tf[i, TF_LEFT] = _cpu_time(state, sp, sp[SP_CLOSE_CPU])
        if th[i, TH_EPOCH] == sv[NULL, S_EPOCH]:  # else null was killed since: the client holds a dead name
            notes = 1
    elif step == STEP_KILL:  # a victim's space is destroyed: all its notifications, then back to user mode
        n = eng.vic[eng.vic.shape[0] - th[i, TH_MSG]]
        th[i, TH_MSG] -= 1
        if th[i, TH_MSG] == 0:
            _stop_running(eng, ST_DONE)
        else:
            _next_victim(eng, srv, i)
        if th[i, TH_EPOCH] == sv[NULL, S_EPOCH]:  # after an OOM kill of null the victims hold dead names
            notes = n
        wake = False  # the kernel is not preemptive
    else:
        status, notes = _finish(m, eng, srv, state, t, i, s, step, pager)
        if status != OK:
            return status
        to = EXT2FS
    for _ in range(notes):
        status = _deliver(m, eng, srv, to, MSG_NOTIFY, 0, t, t, wake)
        if status != OK:
            return status
    if step == STEP_KILL and en[E_CUR] == i and _rq_best(eng) < en[E_CURPRI]:
        _preempt(eng, srv, t)
    return OK


@kernel(inline=True)
def _finish(
    m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, t: float, i: int, s: int, step: int,
    pager: Paging | None,
) -> tuple[int, int]:  # fmt: skip
    """The rest of :func:`_complete`: every step but a close or a kill; return (status, notifications to ext2fs).

    A build's steps (a job's, a page's, the disk's, an RPC's, the pager pool's)
    are only compiled when *pager* is a build's paging state (see :func:`_serve`).
    """
    sv, th, tf, sp, en = srv.sv, eng.th, eng.tf, srv.sp, eng.en
    if step == STEP_SPAWN:  # cthread_fork returns: the creator serves, the new thread is resumed
        j = th[i, TH_CHILD]
        th[i, TH_STEP] = STEP_SERVE
        tf[i, TF_LEFT] = _cpu_time(state, sp, srv.svc[s, th[i, TH_MSG]])
        if tf[j, TF_DELAY] > 0.0:
            th[j, TH_STATE] = ST_SLEEP
            _push(eng, t + tf[j, TF_DELAY], EV_READY, j, 0, t)
        else:
            _setrun(eng, srv, j, t, True)
        return OK, 0
    if pager is None:  # outside a build: the message is served (numba drops the build's branches below)
        status, done = OK, True
    elif step == STEP_JOB:
        return _job_step(m, eng, srv, state, t), 0
    elif step == STEP_PAGE:
        status, done = _page_step(m, eng, srv, state, t)
    elif step == STEP_IO:
        status, done = _io_step(m, eng, srv, state, t)
    elif th[i, TH_MSG] == MSG_CALL:
        status, done = _call_served(m, eng, srv, state, t)
    elif s == PAGER:
        status, done = _pager_served(m, eng, srv, state, t)
    else:
        status, done = OK, True
    if status != OK or not done:
        return status, 0
    # the message is done; the thread goes back to receive
    msg = th[i, TH_MSG]
    if s == NULL and msg == MSG_NOTIFY and sp[SP_STALL] > 0.0:  # trivfs_clean_protid's use-after-free
        if sv[NULL, S_STALLED]:
            sv[NULL, S_STUCK] += 1
            _stop_running(eng, ST_STUCK)  # cntl->lock is held: this cleanup blocks for good
            return OK, 0
        others = sv[NULL, S_BUSY] - 1
        if others > 0 and _uniform(state) < sp[SP_STALL] * others:
            sv[NULL, S_STALLED] = 1  # this cleanup unlocked freed memory; cntl->lock stays held
    sv[s, S_BUSY] -= 1
    sv[s, S_COUNTER] += 1
    sv[s, S_SERVED] += 1
    if en[E_NLAT] < eng.lat.shape[0]:
        eng.lat[en[E_NLAT]] = t - tf[i, TF_ARRIVAL]
        en[E_NLAT] += 1
    th[i, TH_MSG] = -1
    th[i, TH_STEP] = STEP_RECEIVE
    tf[i, TF_LEFT] = 0.0
    if msg == MSG_NOTIFY:
        _zfree_n(m.zones, Z_PORTS, 1)  # the dead port is destroyed with its receive right
        if s == NULL:  # null drops its send right to the ext2fs protid behind the dead one
            srv.rm[RM_NULL_DONE] += 1
            return OK, 1
    return OK, 0


@kernel(refcount=False)
def _next_victim(eng: Engine, srv: ServerModel, i: int) -> None:
    """The killer *i* turns to its next victim: first a yield per thread of it, then the teardown."""
    th, tf = eng.th, eng.tf
    th[i, TH_CHILD] = int(srv.sp[SP_YIELDS])
    th[i, TH_STEP] = STEP_YIELD if th[i, TH_CHILD] > 0 else STEP_KILL
    tf[i, TF_LEFT] = 0.0
    if th[i, TH_STEP] == STEP_KILL:
        tf[i, TF_LEFT] = srv.sp[SP_KILL_CPU] * eng.vic[eng.vic.shape[0] - th[i, TH_MSG]]


@kernel(refcount=False)
def _yield(eng: Engine, srv: ServerModel, i: int, t: float) -> None:
    """The killer *i*, on the CPU, yields (``thread_block(0)``): the run queue's first runs, even if worse."""
    en, th, tf = eng.en, eng.th, eng.tf
    th[i, TH_CHILD] -= 1
    if th[i, TH_CHILD] <= 0:
        th[i, TH_STEP] = STEP_KILL
        tf[i, TF_LEFT] = srv.sp[SP_KILL_CPU] * eng.vic[eng.vic.shape[0] - th[i, TH_MSG]]
    if _rq_best(eng) > PRI_LOWEST:
        return  # nobody else is runnable: the killer goes on
    j, pri = _rq_pop(eng)
    th[i, TH_STATE] = ST_READY
    _rq_push(eng, _age(eng, srv, i), i)
    th[j, TH_STATE] = ST_RUN
    en[E_CUR] = j
    en[E_CURPRI] = pri
    en[E_QUANTUM] = int(srv.sp[SP_QUANTUM])
    eng.ef[EF_STARTED] = t


@kernel(inline=True)
def _run_cpu(m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, t: float) -> int:
    """Give the CPU a thread with work to do: take the run queue's first while none runs; receive at once.

    When the CPU was idle, the clock ticks start again from the first tick
    after *t*; scheduler ticks that passed meanwhile found nothing runnable.
    """
    en, ef, th, sp = eng.en, eng.ef, eng.th, srv.sp
    while True:
        i = en[E_CUR]
        if i < 0:
            if _rq_best(eng) > PRI_LOWEST:
                return OK  # nothing to run: the CPU idles
            tick = sp[SP_TICK]
            if ef[EF_PHASE] + en[E_TICKN] * tick <= t:  # it was idle: ticks resume after t
                n = int(math.floor((t - ef[EF_PHASE]) / tick)) + 1  # noqa: RUF046 (a float in numba)
                while ef[EF_PHASE] + n * tick <= t:
                    n += 1
                if n > en[E_TICKN]:
                    en[E_TICKN] = n
                sec = (en[E_TICKN] - 1 + en[E_SECOFF]) // int(sp[SP_SECOND])
                if sec > en[E_SEC]:
                    en[E_SEC] = sec
                    en[E_LOAD] = 1
            i, pri = _rq_pop(eng)
            th[i, TH_STATE] = ST_RUN
            en[E_CUR] = i
            en[E_CURPRI] = pri
            en[E_QUANTUM] = int(sp[SP_QUANTUM])
            ef[EF_STARTED] = t
        if th[i, TH_STEP] == STEP_RECEIVE:
            status = _take(m, eng, srv, state, i, t)
            if status != OK:
                return status
            continue
        if th[i, TH_STEP] == STEP_YIELD:
            _yield(eng, srv, i, t)
            continue
        ef[EF_CPU_END] = ef[EF_STARTED] + eng.tf[i, TF_LEFT]
        return OK


@kernel(inline=True)
def _tick(eng: Engine, srv: ServerModel, t: float) -> None:
    """A clock tick while a thread runs: charge it, count the load each second, end its quantum or preempt it."""
    en, sp = eng.en, srv.sp
    n = en[E_TICKN]
    en[E_TICKN] = n + 1
    sec = (n + en[E_SECOFF]) // int(sp[SP_SECOND])
    if sec > en[E_SEC]:
        en[E_SEC] = sec
        en[E_LOAD] = max(1, en[E_RUNNABLE])
    i = en[E_CUR]
    _age(eng, srv, i)
    eng.tf[i, TF_USAGE] += sp[SP_TICK] * en[E_LOAD]
    pri = _age(eng, srv, i)
    en[E_CURPRI] = pri
    en[E_QUANTUM] -= 1
    best = _rq_best(eng)
    if best < pri or (en[E_QUANTUM] <= 0 and best <= pri):
        _preempt(eng, srv, t)
    elif en[E_QUANTUM] <= 0:
        en[E_QUANTUM] = int(sp[SP_QUANTUM])


@kernel(inline=True)
def _event(
    m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, t: float, kind: int, s: int, tagged: int,
    arrival: float, pager: Paging | None,
) -> int:  # fmt: skip
    """A heap event: a message from outside arrives, a sleeping thread (number *s*) wakes, or a build's event.

    A build's events (the disk, the sync, the pageout daemon) are only
    compiled when *pager* is a build's paging state (see :func:`_serve`).
    """
    if kind == EV_ARRIVE:
        if tagged // 2 != srv.sv[s, S_EPOCH]:
            return OK  # sent to a killed instance: gone with it
        return _deliver(m, eng, srv, s, tagged % 2, 0, arrival, t, True)
    if pager is not None:
        if kind == EV_DISK:
            _disk_done(eng, srv, state, s, t)
            return OK
        if kind == EV_SYNC:
            return _sync(m, eng, srv, t)
        if kind == EV_PAGEOUT:
            return _pageout(m, eng, srv, t)
    if eng.th[s, TH_STATE] == ST_SLEEP:
        _setrun(eng, srv, s, t, True)
    return OK


@kernel(refcount=False)
def _serve(
    m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, until: float, pager: Paging | None
) -> tuple[int, int]:
    """Run the CPU and the events due by *until*; return (status, events processed).

    The one event loop: a close burst runs until nothing is left to do
    (``until=inf``); a timed fork bomb runs up to the time of its next fork.
    Each step is the earliest of: the heap's first event, the end of the
    running thread's piece of work, the next clock tick (these two only
    while a thread runs).  ``eng.trace`` (shape (k, 3): time, null threads,
    zone-map bytes used) samples the run every ``2 * len(eng.lat) // k`` steps
    when it has rows; in a build, :func:`.paging._sample` fills it instead.
    Stops at the first step that does not return OK.

    *pager* is ``eng.pg`` in a build and None elsewhere (a storm, a timed
    fork bomb, a kill).  numba compiles the loop once for each, and prunes
    the branches on ``pager is None`` before typing: outside a build, the
    loop has none of a build's steps and events, and the kernels of
    :mod:`.paging` behind them are not compiled (about a third of a first
    close burst's compile time, issue 17).

    Compiled without reference counting (``refcount=False``): the caller
    owns every array.
    """
    heap, en, ef, trace = eng.heap, eng.en, eng.ef, eng.trace
    events = 0
    every = max(1, 2 * eng.lat.shape[0] // max(1, trace.shape[0]))
    row = 0
    status = OK
    t = ef[EF_NOW]
    started = False
    while True:
        # One call site of the CPU's side (inlined, and it inlines much):
        # give the CPU a thread, count the step just done, stop on a failure.
        if status == OK:
            status = _run_cpu(m, eng, srv, state, t)
        if started:
            events += 1
            if pager is not None:  # a build samples its own trace (TR_BUILD_SIZE columns)
                _sample(m, eng, srv)
            elif row < trace.shape[0] and events % every == 0:
                trace[row, TR_TIME] = ef[EF_NOW]
                trace[row, TR_NULL_THREADS] = srv.sv[NULL, S_THREADS]
                trace[row, TR_ZONE_MAP_USED] = m.ms[M_MAP_USED] * m.ms[M_PAGE]
                row += 1
        if status != OK:
            return status, events
        started = True
        t_heap = heap[0].t if en[E_HEAP] > 0 else np.inf
        running = en[E_CUR] >= 0
        t_cpu = ef[EF_CPU_END] if running else np.inf
        t_tick = ef[EF_PHASE] + en[E_TICKN] * srv.sp[SP_TICK] if running else np.inf
        if t_heap <= t_cpu and t_heap <= t_tick:
            if t_heap > until or en[E_HEAP] == 0:
                break
            t, kind, s, tagged, arrival = _pop(eng)
            ef[EF_NOW] = t
            status = _event(m, eng, srv, state, t, kind, s, tagged, arrival, pager)
        elif t_cpu <= t_tick:
            if t_cpu > until:
                break
            t = t_cpu
            ef[EF_NOW] = t
            status = _complete(m, eng, srv, state, t, pager)
        else:
            if t_tick > until:
                break
            t = t_tick
            ef[EF_NOW] = t
            _tick(eng, srv, t)
            status = OK
    return OK, events
