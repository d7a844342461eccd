"""Numba kernels of a build (issue 14): ext2fs's pager pool, the disk, file pages, the sync and the pageout daemon.

Numba JIT-compiled; :mod:`.engine` calls these from its event loop when a
thread holds a build's message or step, and :mod:`.builds` sets a build up.
``tests/reference/servers.py`` has the same in plain Python.

Model, after the sources summarised in ``disk-load-2005.md``:

* ext2fs serves client RPCs and notifications in one pool (``EXT2FS``)
  and the kernel's pager messages in another (``PAGER``), each with
  libports' spawn rule and the thread policy (§1);
* a job (one ``make -j`` slot) is a client thread that runs a program per
  file: lookups (each gives it a port), RPCs to ext2fs and proc, io_read
  and io_write in windows of ``PG_WINDOW`` pages, closes (the port dropped,
  the object into the object cache), an unlink, its own memory (§5);
* an ext2fs thread serving io_read or io_write faults each page of the
  window in: a page that is not resident costs a data_request that the
  pager pool reads from the disk; a new page costs a data_request (zero
  fill) and a data_unlock, and is then dirty (§2);
* the kernel sends a data_return, a kmsg with a vm_map_copy and a
  vm_object, when the sync writes a file's dirty pages (one per run of up
  to ``DATA_WRITE_MAX`` pages, the pages copied), when the object cache
  holds more than ``vm_object_cached_max`` objects (the oldest is
  terminated, one data_return per dirty page) and when the pageout daemon
  takes a dirty page (one page each, at most ``PG_BURST`` a burst, then a
  pause of ``pages x burst_wait``, which decays by 3/4 every 11 pauses);
* a pager thread writes a data_return's pages one after another, each a
  synchronous device write queued at the one disk; before it writes it
  needs the superblock, which the pageout daemon may have taken unless
  ext2fs keeps it in memory: then one thread reads it back through a
  data_request to the pager pool itself, and the others wait for it (§3);
* every 5 s the sync sends all dirty pages and the dirty metadata at once.

The run ends when the jobs are done and every page is written; a state in
which every thread waits and no event is left to wake one is DEADLOCK.
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import (
    DEADLOCK,
    E_CUR,
    E_CURPRI,
    E_HEAP,
    E_NTH,
    E_RUNNABLE,
    EF_NOW,
    EF_TRACE_DT,
    EF_TRACE_NEXT,
    EV_DISK,
    EV_PAGEOUT,
    EV_SYNC,
    EXT2FS,
    M_MAP_USED,
    M_PAGE,
    MSG_CALL,
    MSG_DATA_REQUEST,
    MSG_DATA_RETURN,
    MSG_DATA_UNLOCK,
    MSG_NOTIFY,
    NO_MEMORY,
    NULL,
    O_DIRTY,
    O_OPEN,
    O_RES,
    O_SIZE,
    O_STAMP,
    OK,
    OP_A,
    OP_B,
    OP_CALL,
    OP_CLOSE,
    OP_CPU,
    OP_END,
    OP_KIND,
    OP_MEM,
    OP_NOTE,
    OP_OPEN,
    OP_READ,
    OP_UNLINK,
    OP_WRITE,
    PAGER,
    PG_ANON,
    PG_BURST,
    PG_CACHE_MAX,
    PG_CACHED,
    PG_DAEMON,
    PG_DIRTY,
    PG_DISK,
    PG_DQ_HEAD,
    PG_DQ_TAIL,
    PG_FILE_PAGES,
    PG_FILES,
    PG_FILES_DONE,
    PG_FREE0,
    PG_FREE_MIN,
    PG_H_HI,
    PG_H_LO,
    PG_HEADERS,
    PG_HELD,
    PG_JOB_PAGES,
    PG_JOBS_LEFT,
    PG_LARGEST_SYNC,
    PG_LAUNDERED,
    PG_LRU_HEAD,
    PG_LRU_TAIL,
    PG_MAP0,
    PG_MEM_HEAD,
    PG_MEM_TAIL,
    PG_META,
    PG_MIN_FREE,
    PG_NEXT_FILE,
    PG_O_HI,
    PG_O_LO,
    PG_PAUSES,
    PG_PEAK_DIRTY,
    PG_RETURNS,
    PG_ROWS,
    PG_S_HI,
    PG_S_LO,
    PG_SB,
    PG_SB_HEAD,
    PG_SB_KEEP,
    PG_SB_TAIL,
    PG_STAGE,
    PG_SYNC_NEXT,
    PG_SYNC_SENT,
    PG_SYNC_WAIT,
    PG_SYNCS,
    PG_TARGET,
    PG_TRIMMED,
    PG_WINDOW,
    PG_WRITE_MAX,
    PP_COMPILE,
    PP_READ,
    PP_SYNC,
    PP_WAIT,
    PP_WAIT_MIN,
    PP_WRITE,
    PROC,
    S_QHEAD,
    S_QTAIL,
    S_THREADS,
    SB_DEADLOCK,
    SB_IN,
    SB_OUT,
    SB_READING,
    SB_REQUEST,
    SP_CLOSE_CPU,
    ST_DONE,
    ST_WAIT,
    STAGE_COMPILE,
    STEP_IO,
    STEP_PAGE,
    TF_LEFT,
    TH_CHILD,
    TH_MSG,
    TH_NEXT,
    TH_PAY,
    TH_PC,
    TH_STATE,
    TH_STEP,
    TH_SUB,
    TR_DIRTY,
    TR_EXT2FS_THREADS,
    TR_NULL_THREADS,
    TR_PAGER_THREADS,
    TR_TIME,
    TR_ZONE_MAP_USED,
    Z_COPIES,
    Z_MAP_ENTRIES,
    Z_OBJECTS,
    Z_PORTS,
    Engine,
    Machine,
    ServerModel,
)
from zonemodel._kernels.rng import _uniform
from zonemodel._kernels.sched import _cpu_time, _deliver, _preempt, _push, _rq_best, _setrun, _stop_running
from zonemodel._kernels.zalloc import _zalloc, _zfree_n

# ---------------------------------------------------------------------------- memory


@kernel(refcount=False)
def _free_pages(m: Machine, eng: Engine) -> int:
    """Free physical pages: those free at the start, less zone pages, file pages, held pages and jobs' memory since."""
    pc = eng.pg.pc
    return pc[PG_FREE0] - (m.ms[M_MAP_USED] - pc[PG_MAP0]) - pc[PG_FILE_PAGES] - pc[PG_HELD] - pc[PG_ANON]


@kernel(refcount=False)
def _wait_in(eng: Engine, head: int, tail: int) -> None:
    """The running thread waits, last in the list of waiting threads whose ends are ``pc[head]`` and ``pc[tail]``."""
    pc, th = eng.pg.pc, eng.th
    i = eng.en[E_CUR]
    _stop_running(eng, ST_WAIT)
    th[i, TH_NEXT] = -1
    if pc[tail] >= 0:
        th[pc[tail], TH_NEXT] = i
    else:
        pc[head] = i
    pc[tail] = i


@kernel(refcount=False)
def _wake_all(eng: Engine, srv: ServerModel, head: int, tail: int, t: float) -> None:
    """Every thread of the waiting list ``pc[head]`` .. ``pc[tail]`` is runnable, in the order they waited."""
    pc, th = eng.pg.pc, eng.th
    j = pc[head]
    pc[head] = -1
    pc[tail] = -1
    while j >= 0:
        nxt = th[j, TH_NEXT]
        _setrun(eng, srv, j, t, True)
        j = nxt


@kernel(refcount=False)
def _took_pages(m: Machine, eng: Engine, t: float) -> int:
    """Pages were taken: below ``vm_page_free_target`` the pageout daemon starts; no free page left is a hang."""
    pc = eng.pg.pc
    free = _free_pages(m, eng)
    if free < pc[PG_MIN_FREE]:
        pc[PG_MIN_FREE] = free
    if free <= 0:
        return NO_MEMORY
    if free < pc[PG_TARGET] and pc[PG_DAEMON] == 0:
        pc[PG_DAEMON] = 1
        _push(eng, t, EV_PAGEOUT, 0, 0, t)
    return OK


@kernel(refcount=False)
def _short_of_pages(m: Machine, eng: Engine, pages: int) -> bool:
    """Whether taking *pages* pages would leave fewer than ``vm_page_free_min`` free: the thread must wait."""
    return _free_pages(m, eng) - pages < eng.pg.pc[PG_FREE_MIN]


@kernel(refcount=False)
def _wait_pages(m: Machine, eng: Engine, t: float) -> None:
    """The running thread waits for free pages (VM_PAGE_WAIT); the pageout daemon is woken if it sleeps."""
    pc = eng.pg.pc
    _wait_in(eng, PG_MEM_HEAD, PG_MEM_TAIL)
    if pc[PG_DAEMON] == 0:
        pc[PG_DAEMON] = 1
        _push(eng, t, EV_PAGEOUT, 0, 0, t)


@kernel(refcount=False)
def _freed_pages(m: Machine, eng: Engine, srv: ServerModel, t: float) -> None:
    """Pages came back: once ``vm_page_free_min`` pages are free, the sync and every thread waiting for pages go on."""
    pc = eng.pg.pc
    if _free_pages(m, eng) < pc[PG_FREE_MIN]:
        return
    if pc[PG_SYNC_WAIT]:  # the sync goes on where it stopped
        pc[PG_SYNC_WAIT] = 0
        _push(eng, t, EV_SYNC, 0, 0, t)
    _wake_all(eng, srv, PG_MEM_HEAD, PG_MEM_TAIL, t)


@kernel(refcount=False)
def _send_return(m: Machine, eng: Engine, srv: ServerModel, pages: int, copied: bool, t: float, preempt: bool) -> int:
    """The kernel sends ext2fs's pager a data_return of *pages* pages (a vm_object, a vm_map_copy, a kmsg).

    *copied*: the pages are fresh copies (a sync); otherwise the resident
    pages themselves go (the object cache, the pageout daemon).  They are
    held until the pager thread has written them.
    """
    pc = eng.pg.pc
    status = _zalloc(m.zones, m.ms, Z_OBJECTS)
    if status == OK:
        status = _zalloc(m.zones, m.ms, Z_COPIES)
    if status != OK:
        return status
    pc[PG_HELD] += pages
    if not copied:
        pc[PG_FILE_PAGES] -= pages
    pc[PG_RETURNS] += 1
    return _deliver(m, eng, srv, PAGER, MSG_DATA_RETURN, pages, t, t, preempt)


@kernel(refcount=False)
def _dirty(eng: Engine, o: int, pages: int) -> None:
    """*pages* more dirty pages of object *o*."""
    pc, ob = eng.pg.pc, eng.pg.obj
    ob[o, O_DIRTY] += pages
    pc[PG_DIRTY] += pages
    if pc[PG_DIRTY] + pc[PG_META] > pc[PG_PEAK_DIRTY]:
        pc[PG_PEAK_DIRTY] = pc[PG_DIRTY] + pc[PG_META]


# ---------------------------------------------------------------------------- the object cache


@kernel(refcount=False)
def _lru_oldest(eng: Engine) -> int:
    """The least recently used object in the cache, or -1 (entries of objects since taken out are skipped)."""
    pc, lru, ob = eng.pg.pc, eng.pg.lru, eng.pg.obj
    while pc[PG_LRU_HEAD] < pc[PG_LRU_TAIL]:
        e = pc[PG_LRU_HEAD]
        if ob[lru[e], O_STAMP] == e:
            return lru[e]
        pc[PG_LRU_HEAD] = e + 1
    return -1


@kernel(refcount=False)
def _uncache(eng: Engine, o: int) -> None:
    """Object *o* leaves the cache (opened again, terminated or removed); its entry in ``lru`` goes stale."""
    if eng.pg.obj[o, O_STAMP] >= 0:
        eng.pg.obj[o, O_STAMP] = -1
        eng.pg.pc[PG_CACHED] -= 1


@kernel(refcount=False)
def _terminate(m: Machine, eng: Engine, srv: ServerModel, o: int, t: float, preempt: bool) -> int:
    """Object *o* is terminated: its clean pages freed, each dirty page sent as a data_return of its own."""
    pc, ob = eng.pg.pc, eng.pg.obj
    dirty = ob[o, O_DIRTY]
    pc[PG_FILE_PAGES] -= ob[o, O_RES] - dirty
    pc[PG_DIRTY] -= dirty
    ob[o, O_RES] = 0
    ob[o, O_DIRTY] = 0
    _uncache(eng, o)
    _freed_pages(m, eng, srv, t)
    for _ in range(dirty):
        status = _send_return(m, eng, srv, 1, False, t, preempt)
        if status != OK:
            return status
    return OK


@kernel(refcount=False)
def _cache(m: Machine, eng: Engine, srv: ServerModel, o: int, t: float) -> int:
    """The last reference to object *o* is gone: it enters the cache, and the cache is trimmed to its maximum."""
    pc, lru = eng.pg.pc, eng.pg.lru
    e = pc[PG_LRU_TAIL]
    lru[e] = o
    pc[PG_LRU_TAIL] = e + 1
    eng.pg.obj[o, O_STAMP] = e
    pc[PG_CACHED] += 1
    while pc[PG_CACHED] > pc[PG_CACHE_MAX]:
        old = _lru_oldest(eng)
        pc[PG_TRIMMED] += eng.pg.obj[old, O_DIRTY]
        status = _terminate(m, eng, srv, old, t, False)
        if status != OK:
            return status
    return OK


# ---------------------------------------------------------------------------- the disk


@kernel(refcount=False)
def _disk_start(eng: Engine, srv: ServerModel, state: np.ndarray, i: int, write: int, t: float) -> None:
    """The disk starts thread *i*'s request: a page written (*write*) or read, in its service time."""
    pp = eng.pg.pp
    eng.pg.pc[PG_DISK] = i
    _push(eng, t + _cpu_time(state, srv.sp, pp[PP_WRITE] if write else pp[PP_READ]), EV_DISK, i, 0, t)


@kernel(refcount=False)
def _disk_submit(eng: Engine, srv: ServerModel, state: np.ndarray, write: int, t: float) -> None:
    """The running thread asks the disk for one page and waits (``device_write`` or ``device_read``, then sleeps)."""
    pc, dq = eng.pg.pc, eng.pg.dq
    i = eng.en[E_CUR]
    _stop_running(eng, ST_WAIT)
    if pc[PG_DISK] < 0:
        _disk_start(eng, srv, state, i, write, t)
        return
    dq[pc[PG_DQ_TAIL] % dq.shape[0]] = 2 * i + write
    pc[PG_DQ_TAIL] += 1


@kernel(refcount=False)
def _disk_done(eng: Engine, srv: ServerModel, state: np.ndarray, i: int, t: float) -> None:
    """The disk has done thread *i*'s request: it is runnable again, and the disk takes the next request."""
    pc, dq = eng.pg.pc, eng.pg.dq
    pc[PG_DISK] = -1
    _setrun(eng, srv, i, t, True)
    if pc[PG_DQ_HEAD] < pc[PG_DQ_TAIL]:
        e = dq[pc[PG_DQ_HEAD] % dq.shape[0]]
        pc[PG_DQ_HEAD] += 1
        _disk_start(eng, srv, state, e // 2, e % 2, t)


# ---------------------------------------------------------------------------- the superblock


@kernel(refcount=False)
def _sb_wait(eng: Engine) -> None:
    """The running pager thread waits for the superblock to be read back."""
    _wait_in(eng, PG_SB_HEAD, PG_SB_TAIL)


@kernel(refcount=False)
def _sb_read(eng: Engine, srv: ServerModel, t: float) -> None:
    """The superblock is resident again: every thread waiting for it is runnable, in the order they waited."""
    eng.pg.pc[PG_SB] = SB_IN
    _wake_all(eng, srv, PG_SB_HEAD, PG_SB_TAIL, t)


# ---------------------------------------------------------------------------- pager threads


@kernel(refcount=False)
def _reply(eng: Engine, srv: ServerModel, state: np.ndarray, c: int, t: float) -> None:
    """Thread *c*, waiting for a reply or a page, is runnable; a job first spends the CPU of its next step."""
    if eng.th[c, TH_STEP] != STEP_PAGE:
        eng.tf[c, TF_LEFT] = _cpu_time(state, srv.sp, srv.sp[SP_CLOSE_CPU])
    _setrun(eng, srv, c, t, True)


@kernel(refcount=False)
def _io_step(m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, t: float) -> tuple[int, bool]:
    """The running pager thread's next disk request, or the end of its message: (status, message done)."""
    th, pc = eng.th, eng.pg.pc
    i = eng.en[E_CUR]
    msg = th[i, TH_MSG]
    if th[i, TH_CHILD] > 0:
        th[i, TH_CHILD] -= 1
        _disk_submit(eng, srv, state, 1 if msg == MSG_DATA_RETURN else 0, t)
        return OK, False
    pay = th[i, TH_PAY]
    if msg == MSG_DATA_RETURN:  # written: ext2fs unmaps the pages (data-return.c:188)
        _zfree_n(m.zones, Z_MAP_ENTRIES, 1)
        _zfree_n(m.zones, Z_OBJECTS, 1)
        pc[PG_HELD] -= pay
        _freed_pages(m, eng, srv, t)
    elif pay == SB_REQUEST:
        _sb_read(eng, srv, t)
    else:
        _reply(eng, srv, state, pay // 2, t)
    return OK, True


@kernel(refcount=False)
def _pager_served(m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, t: float) -> tuple[int, bool]:
    """The running pager thread has spent its message's CPU: its disk work begins, or it answers.

    Returns (status, message done).
    """
    th, pc = eng.th, eng.pg.pc
    i = eng.en[E_CUR]
    msg, pay = th[i, TH_MSG], th[i, TH_PAY]
    th[i, TH_STEP] = STEP_IO
    eng.tf[i, TF_LEFT] = 0.0
    if msg == MSG_DATA_UNLOCK:
        _reply(eng, srv, state, pay, t)
        return OK, True
    if msg == MSG_DATA_REQUEST:
        th[i, TH_CHILD] = 1 if pay == SB_REQUEST or pay % 2 == 1 else 0
        return _io_step(m, eng, srv, state, t)
    # a data_return: the writes need the superblock (the block-map lookups of file_pager_write_page)
    th[i, TH_CHILD] = pay
    if pc[PG_SB_KEEP] == 0 and pc[PG_SB] != SB_IN:
        if pc[PG_SB] == SB_OUT:
            pc[PG_SB] = SB_READING
            status = _deliver(m, eng, srv, PAGER, MSG_DATA_REQUEST, SB_REQUEST, t, t, False)
            if status != OK:
                return status, False
        _sb_wait(eng)
        return OK, False
    return _io_step(m, eng, srv, state, t)


@kernel(refcount=False)
def _took_return(m: Machine) -> int:
    """A pager thread takes a data_return: the vm_map_copy is mapped into ext2fs (a map entry instead)."""
    _zfree_n(m.zones, Z_COPIES, 1)
    return _zalloc(m.zones, m.ms, Z_MAP_ENTRIES)


# ---------------------------------------------------------------------------- ext2fs threads in io_read and io_write


@kernel(refcount=False)
def _call_served(m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, t: float) -> tuple[int, bool]:
    """The running thread has spent an RPC's CPU: io_read and io_write go on to their pages, others answer."""
    th = eng.th
    i = eng.en[E_CUR]
    c = th[i, TH_PAY]
    kind = eng.pg.ops[th[c, TH_CHILD], th[c, TH_PC], OP_KIND]
    if kind in (OP_READ, OP_WRITE):
        th[i, TH_CHILD] = min(eng.pg.pc[PG_WINDOW], th[c, TH_MSG])
        th[i, TH_SUB] = 0
        th[i, TH_STEP] = STEP_PAGE
        eng.tf[i, TF_LEFT] = 0.0
        return _page_step(m, eng, srv, state, t)
    _reply(eng, srv, state, c, t)
    return OK, True


@kernel(refcount=False)
def _page_step(m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, t: float) -> tuple[int, bool]:
    """The running ext2fs thread copies its window page by page, faulting in what is not resident.

    ``TH_SUB`` says what it waited for: 1 a page read (or the zero-filled
    new page), 2 the data_unlock of a new page.  Returns (status, done).
    """
    th, ob, pc = eng.th, eng.pg.obj, eng.pg.pc
    i = eng.en[E_CUR]
    c = th[i, TH_PAY]
    job, p = th[c, TH_CHILD], th[c, TH_PC]
    write = eng.pg.ops[job, p, OP_KIND] == OP_WRITE
    o = eng.pg.ops[job, p, OP_A]
    while th[i, TH_CHILD] > 0:
        sub = th[i, TH_SUB]
        if write:
            if sub == 0:  # the new page: a zero-filled page, write-locked (ext2fs/pager.c:245-248)
                if _short_of_pages(m, eng, 1):
                    _wait_pages(m, eng, t)
                    return OK, False
                th[i, TH_SUB] = 1
                return _fault(m, eng, srv, MSG_DATA_REQUEST, 2 * i, t)
            if sub == 1:  # the write faults on the lock: data_unlock allocates the block
                th[i, TH_SUB] = 2
                return _fault(m, eng, srv, MSG_DATA_UNLOCK, i, t)
            th[i, TH_SUB] = 0
            ob[o, O_SIZE] += 1
            ob[o, O_RES] += 1
            pc[PG_FILE_PAGES] += 1
            _dirty(eng, o, 1)
            status = _took_pages(m, eng, t)
            if status != OK:
                return status, False
        else:
            if sub == 1:  # the page was read in
                th[i, TH_SUB] = 0
                if ob[o, O_RES] < ob[o, O_SIZE]:
                    ob[o, O_RES] += 1
                    pc[PG_FILE_PAGES] += 1
                    status = _took_pages(m, eng, t)
                    if status != OK:
                        return status, False
            done = eng.pg.ops[job, p, OP_B] - th[c, TH_MSG] + _window(eng, c) - th[i, TH_CHILD]
            if done >= ob[o, O_RES] and done < ob[o, O_SIZE]:
                if _short_of_pages(m, eng, 1):
                    _wait_pages(m, eng, t)
                    return OK, False
                th[i, TH_SUB] = 1
                return _fault(m, eng, srv, MSG_DATA_REQUEST, 2 * i + 1, t)
        th[i, TH_CHILD] -= 1
    th[c, TH_MSG] -= _window(eng, c)
    _reply(eng, srv, state, c, t)
    return OK, True


@kernel(inline=True)
def _window(eng: Engine, c: int) -> int:
    """Pages of job *c*'s current io_read or io_write window."""
    return min(eng.pg.pc[PG_WINDOW], eng.th[c, TH_MSG])


@kernel(refcount=False)
def _fault(m: Machine, eng: Engine, srv: ServerModel, msg: int, payload: int, t: float) -> tuple[int, bool]:
    """The running thread faults: the kernel sends the pager *msg* and the thread waits for the page."""
    _stop_running(eng, ST_WAIT)
    return _deliver(m, eng, srv, PAGER, msg, payload, t, t, True), False


# ---------------------------------------------------------------------------- jobs


@kernel(refcount=False)
def _op(eng: Engine, job: int, n: int, kind: int, a: int, b: int) -> int:
    """Write operation *n* of *job*'s program; return ``n + 1``."""
    ops = eng.pg.ops
    ops[job, n, OP_KIND] = kind
    ops[job, n, OP_A] = a
    ops[job, n, OP_B] = b
    return n + 1


@kernel(refcount=False)
def _exec(eng: Engine, job: int, n: int, libs: int) -> int:
    """An exec's calls: lookups of the program and its libraries, file_exec, io_map, io_stat..., and proc's."""
    n = _op(eng, job, n, OP_OPEN, -1, 1 + libs)
    n = _op(eng, job, n, OP_CALL, EXT2FS, 7 + 4 * libs)
    return _op(eng, job, n, OP_CALL, PROC, 2)


@kernel(refcount=False)
def _between(state: np.ndarray, lo: int, hi: int) -> int:
    """An integer drawn evenly from *lo* to *hi*."""
    return lo + int(_uniform(state) * (hi - lo + 1))


@kernel(refcount=False)
def _plan(eng: Engine, state: np.ndarray, job: int, f: int) -> None:
    """*job*'s program for file *f* (objects ``PG_HEADERS + 2 f``, its .s, and ``+ 1``, its .o or installed file).

    A compile: gcc execs cc1 (which reads its headers, computes, writes the
    .s) and as (which reads the .s and writes the .o); the .s is unlinked;
    each process drops its ports to ext2fs as it exits.  An install: a
    lookup, the file's pages written, a close and two RPCs.
    """
    pc = eng.pg.pc
    s_obj = pc[PG_HEADERS] + 2 * f
    o_obj = s_obj + 1
    n = 0
    if pc[PG_STAGE] != STAGE_COMPILE:
        pages = _between(state, pc[PG_S_LO], pc[PG_S_HI])
        n = _op(eng, job, n, OP_OPEN, o_obj, 1)
        n = _op(eng, job, n, OP_WRITE, o_obj, pages)
        n = _op(eng, job, n, OP_CLOSE, o_obj, 1)
        n = _op(eng, job, n, OP_CALL, EXT2FS, 2)
        _op(eng, job, n, OP_END, 0, 1)
        return
    gcc_libs = _between(state, 1, 3)
    cc1_libs = _between(state, 1, 3)
    as_libs = _between(state, 1, 3)
    headers = _between(state, pc[PG_H_LO], pc[PG_H_HI])
    start = int(_uniform(state) * pc[PG_HEADERS])
    s_pages = _between(state, pc[PG_S_LO], pc[PG_S_HI])
    o_pages = _between(state, pc[PG_O_LO], pc[PG_O_HI])
    n = _exec(eng, job, n, gcc_libs)
    n = _exec(eng, job, n, cc1_libs)
    n = _op(eng, job, n, OP_MEM, pc[PG_JOB_PAGES], 1)
    for k in range(headers):
        h = (start + k) % pc[PG_HEADERS]
        n = _op(eng, job, n, OP_OPEN, h, 1)
        n = _op(eng, job, n, OP_READ, h, 1)
        n = _op(eng, job, n, OP_CLOSE, h, 1)
    eng.pg.opf[job, n] = eng.pg.pp[PP_COMPILE]
    n = _op(eng, job, n, OP_CPU, 0, 1)
    n = _op(eng, job, n, OP_OPEN, s_obj, 1)
    n = _op(eng, job, n, OP_WRITE, s_obj, s_pages)
    n = _op(eng, job, n, OP_CLOSE, s_obj, 1)
    n = _op(eng, job, n, OP_MEM, -pc[PG_JOB_PAGES], 1)
    n = _op(eng, job, n, OP_NOTE, EXT2FS, 1 + cc1_libs)
    n = _exec(eng, job, n, as_libs)
    n = _op(eng, job, n, OP_OPEN, s_obj, 1)
    n = _op(eng, job, n, OP_READ, s_obj, s_pages)
    n = _op(eng, job, n, OP_CLOSE, s_obj, 1)
    n = _op(eng, job, n, OP_OPEN, o_obj, 1)
    n = _op(eng, job, n, OP_WRITE, o_obj, o_pages)
    n = _op(eng, job, n, OP_CLOSE, o_obj, 1)
    n = _op(eng, job, n, OP_NOTE, EXT2FS, 1 + as_libs)
    n = _op(eng, job, n, OP_UNLINK, s_obj, 1)
    n = _op(eng, job, n, OP_NOTE, EXT2FS, 1 + gcc_libs)
    _op(eng, job, n, OP_END, 0, 1)


@kernel(refcount=False)
def _next_file(eng: Engine, state: np.ndarray, i: int) -> bool:
    """Job thread *i* takes the build's next file and plans it; False when none is left."""
    pc, th = eng.pg.pc, eng.th
    if pc[PG_NEXT_FILE] >= pc[PG_FILES]:
        return False
    _plan(eng, state, th[i, TH_CHILD], pc[PG_NEXT_FILE])
    pc[PG_NEXT_FILE] += 1
    th[i, TH_PC] = 0
    th[i, TH_MSG] = eng.pg.ops[th[i, TH_CHILD], 0, OP_B]
    return True


@kernel(refcount=False)
def _call(m: Machine, eng: Engine, srv: ServerModel, s: int, t: float) -> int:
    """The running job sends server *s* an RPC and waits for the reply."""
    i = eng.en[E_CUR]
    _stop_running(eng, ST_WAIT)
    return _deliver(m, eng, srv, s, MSG_CALL, i, t, t, True)


@kernel(refcount=False)
def _job_step(m: Machine, eng: Engine, srv: ServerModel, state: np.ndarray, t: float) -> int:
    """The running job has spent the CPU before its next step: it takes that step (its program's next action).

    A step that waits (an RPC) leaves the CPU before the next step to the
    reply (:func:`_reply`); any other draws it here.
    """
    th, ops, ob, pc, sp = eng.th, eng.pg.ops, eng.pg.obj, eng.pg.pc, srv.sp
    i = eng.en[E_CUR]
    job = th[i, TH_CHILD]
    if th[i, TH_MSG] <= 0:  # the operation is done: the next one
        th[i, TH_PC] += 1
        th[i, TH_MSG] = ops[job, th[i, TH_PC], OP_B]
    p = th[i, TH_PC]
    kind, a = ops[job, p, OP_KIND], ops[job, p, OP_A]
    if kind in (OP_READ, OP_WRITE):  # the server takes a window off TH_MSG
        return _call(m, eng, srv, EXT2FS, t)
    if kind == OP_MEM and a > 0 and _short_of_pages(m, eng, a):  # cc1's heap: it waits for pages, then retries
        eng.tf[i, TF_LEFT] = 0.0
        _wait_pages(m, eng, t)
        return OK
    th[i, TH_MSG] -= 1
    if kind == OP_OPEN:  # dir_lookup: a new protid port, and the object is in use
        status = _zalloc(m.zones, m.ms, Z_PORTS)
        if status != OK:
            return status
        if a >= 0:
            ob[a, O_OPEN] += 1
            _uncache(eng, a)
        return _call(m, eng, srv, EXT2FS, t)
    if kind == OP_CALL:
        return _call(m, eng, srv, a, t)
    eng.tf[i, TF_LEFT] = _cpu_time(state, sp, sp[SP_CLOSE_CPU])  # it goes on: the CPU before its next step
    if kind == OP_NOTE:
        return _deliver(m, eng, srv, a, MSG_NOTIFY, 0, t, t, True)
    if kind == OP_CPU:
        eng.tf[i, TF_LEFT] = _cpu_time(state, sp, eng.pg.opf[job, p])
        return OK
    if kind == OP_CLOSE:
        ob[a, O_OPEN] -= 1
        status = OK
        if a >= pc[PG_HEADERS]:
            pc[PG_META] += 1  # the inode's times and size
        if ob[a, O_OPEN] == 0:
            status = _cache(m, eng, srv, a, t)
        if status == OK:
            status = _deliver(m, eng, srv, EXT2FS, MSG_NOTIFY, 0, t, t, eng.en[E_CUR] == i)
        if eng.en[E_CUR] == i and _rq_best(eng) < eng.en[E_CURPRI]:
            _preempt(eng, srv, t)
        return status
    if kind == OP_UNLINK:  # the last link and reference: truncated, its pages thrown away
        pc[PG_FILE_PAGES] -= ob[a, O_RES]
        pc[PG_DIRTY] -= ob[a, O_DIRTY]
        ob[a, O_RES] = 0
        ob[a, O_DIRTY] = 0
        ob[a, O_SIZE] = 0
        _uncache(eng, a)
        pc[PG_META] += 1
        _freed_pages(m, eng, srv, t)
        return _call(m, eng, srv, EXT2FS, t)
    if kind == OP_MEM:
        pc[PG_ANON] += a
        if a > 0:
            return _took_pages(m, eng, t)
        _freed_pages(m, eng, srv, t)
        return OK
    # OP_END: the file is done; the job takes the next, or stops
    pc[PG_FILES_DONE] += 1
    if not _next_file(eng, state, i):
        pc[PG_JOBS_LEFT] -= 1
        _stop_running(eng, ST_DONE)
    return OK


# ---------------------------------------------------------------------------- the sync and the pageout daemon


@kernel(refcount=False)
def _stuck(eng: Engine, srv: ServerModel) -> bool:
    """Whether work is left: a job not done, a sync waiting for pages, a message queued or a thread waiting."""
    if eng.pg.pc[PG_JOBS_LEFT] > 0 or eng.pg.pc[PG_SYNC_WAIT]:
        return True
    sv = srv.sv
    for s in range(sv.shape[0]):
        if sv[s, S_QTAIL] > sv[s, S_QHEAD]:
            return True
    for j in range(eng.en[E_NTH]):  # noqa: SIM110 (a generator is not compiled without reference counting)
        if eng.th[j, TH_STATE] == ST_WAIT:
            return True
    return False


@kernel(refcount=False)
def _deadlock(eng: Engine) -> int:
    """The kind of a deadlock: SB_DEADLOCK if pager threads wait for a superblock still to be read, else DEADLOCK."""
    pc = eng.pg.pc
    if pc[PG_SB] == SB_READING and pc[PG_SB_HEAD] >= 0:
        return SB_DEADLOCK
    return DEADLOCK


@kernel(refcount=False)
def _sync(m: Machine, eng: Engine, srv: ServerModel, t: float) -> int:
    """ext2fs's periodic sync: every dirty page goes out, a data_return per run, then the metadata.

    All in the sync thread's kernel calls, with no preemption.  Each run's
    pages are copied first (vm_pageout_setup): when that would leave fewer
    than ``vm_page_free_min`` pages free, the sync waits for pages
    (``PG_SYNC_WAIT``) and goes on from where it stopped once pages come
    back (:func:`_freed_pages`).  The next sync is due ``PP_SYNC`` after
    this one ends, unless the build is over.  When no thread can run, the
    disk is idle, no event is left and work remains, nothing will ever move
    again: DEADLOCK.
    """
    pc, ob = eng.pg.pc, eng.pg.obj
    if pc[PG_SYNC_NEXT] < 0:  # a new sync
        pc[PG_SYNC_NEXT] = 0
        pc[PG_SYNC_SENT] = 0
    for o in range(pc[PG_SYNC_NEXT], ob.shape[0]):
        while ob[o, O_DIRTY] > 0:
            n = min(ob[o, O_DIRTY], pc[PG_WRITE_MAX])
            if _short_of_pages(m, eng, n):
                return _sync_waits(eng, o, t)
            ob[o, O_DIRTY] -= n
            pc[PG_DIRTY] -= n
            pc[PG_SYNC_SENT] += 1
            status = _send_return(m, eng, srv, n, True, t, True)
            if status != OK:
                return status
    while pc[PG_META] > 0:
        if _short_of_pages(m, eng, 1):
            return _sync_waits(eng, ob.shape[0], t)
        pc[PG_META] -= 1
        pc[PG_SYNC_SENT] += 1
        status = _send_return(m, eng, srv, 1, True, t, True)
        if status != OK:
            return status
    sent = pc[PG_SYNC_SENT]
    pc[PG_SYNC_NEXT] = -1
    if pc[PG_SYNCS] < eng.pg.bursts.shape[0]:
        eng.pg.bursts[pc[PG_SYNCS]] = sent
    pc[PG_SYNCS] += 1
    if sent > pc[PG_LARGEST_SYNC]:
        pc[PG_LARGEST_SYNC] = sent
    status = _took_pages(m, eng, t)
    if status != OK:
        return status
    if pc[PG_JOBS_LEFT] > 0 or pc[PG_DIRTY] > 0 or pc[PG_META] > 0:
        if eng.en[E_RUNNABLE] == 0 and pc[PG_DISK] < 0 and eng.en[E_HEAP] == 0 and _stuck(eng, srv):
            return _deadlock(eng)
        _push(eng, t + eng.pg.pp[PP_SYNC], EV_SYNC, 0, 0, t)
    return OK


@kernel(refcount=False)
def _sync_waits(eng: Engine, o: int, t: float) -> int:
    """The sync waits for free pages before it copies object *o*'s next run; the pageout daemon is woken."""
    pc = eng.pg.pc
    pc[PG_SYNC_NEXT] = o
    pc[PG_SYNC_WAIT] = 1
    if pc[PG_DAEMON] == 0:
        pc[PG_DAEMON] = 1
        _push(eng, t, EV_PAGEOUT, 0, 0, t)
    return OK


@kernel(refcount=False)
def _pageout(m: Machine, eng: Engine, srv: ServerModel, t: float) -> int:
    """One burst of the pageout daemon while free pages are below ``vm_page_free_target``.

    It takes the least recently used cached objects' pages: clean ones are
    freed, each dirty one is sent as a one-page data_return, at most
    ``PG_BURST`` of those a burst; an object left with no page is terminated.
    The superblock, touched once a sync, is among the first pages it takes.
    """
    pc, pp, ob = eng.pg.pc, eng.pg.pp, eng.pg.obj
    if _free_pages(m, eng) >= pc[PG_TARGET]:
        pc[PG_DAEMON] = 0
        return OK
    if pc[PG_SB_KEEP] == 0 and pc[PG_SB] == SB_IN:
        pc[PG_SB] = SB_OUT
    sent = 0
    while sent < pc[PG_BURST] and _free_pages(m, eng) < pc[PG_TARGET]:
        o = _lru_oldest(eng)
        if o < 0:
            break
        clean = ob[o, O_RES] - ob[o, O_DIRTY]
        if clean > 0:
            ob[o, O_RES] -= clean
            pc[PG_FILE_PAGES] -= clean
            _freed_pages(m, eng, srv, t)
        elif ob[o, O_DIRTY] > 0:
            ob[o, O_DIRTY] -= 1
            ob[o, O_RES] -= 1
            pc[PG_DIRTY] -= 1
            pc[PG_LAUNDERED] += 1
            sent += 1
            status = _send_return(m, eng, srv, 1, False, t, True)
            if status != OK:
                return status
        else:
            _uncache(eng, o)
    if sent == 0:
        pc[PG_DAEMON] = 0  # nothing it may take, or enough free: it sleeps until pages are short again
        return OK
    pc[PG_PAUSES] += 1
    if pc[PG_PAUSES] % 11 == 0:
        pp[PP_WAIT] = max(pp[PP_WAIT_MIN], pp[PP_WAIT] * 0.75)
    _push(eng, t + sent * pp[PP_WAIT], EV_PAGEOUT, 0, 0, t)
    return OK


@kernel(refcount=False)
def _sample(m: Machine, eng: Engine, srv: ServerModel) -> None:
    """A build's trace: a row every ``EF_TRACE_DT`` seconds while rows are left."""
    ef, pc, trace = eng.ef, eng.pg.pc, eng.trace
    while ef[EF_NOW] >= ef[EF_TRACE_NEXT] and pc[PG_ROWS] < trace.shape[0]:
        row = pc[PG_ROWS]
        trace[row, TR_TIME] = ef[EF_TRACE_NEXT]
        trace[row, TR_NULL_THREADS] = srv.sv[NULL, S_THREADS]
        trace[row, TR_ZONE_MAP_USED] = m.ms[M_MAP_USED] * m.ms[M_PAGE]
        trace[row, TR_EXT2FS_THREADS] = srv.sv[EXT2FS, S_THREADS]
        trace[row, TR_PAGER_THREADS] = srv.sv[PAGER, S_THREADS]
        trace[row, TR_DIRTY] = pc[PG_DIRTY] + pc[PG_META]
        pc[PG_ROWS] = row + 1
        ef[EF_TRACE_NEXT] = (row + 1) * ef[EF_TRACE_DT]
