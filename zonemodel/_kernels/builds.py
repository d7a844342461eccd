"""Numba kernels of a build (issue 14): ``make -j`` jobs compiling or installing files on a booted kernel.

Numba JIT-compiled; called by :func:`zonemodel.compile_job` and
:meth:`zonemodel.System.compile_job`.  The model is in :mod:`.paging`; the
event loop is :mod:`.engine`'s.  ``tests/reference/servers.py`` runs the
same builds in plain Python.
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels.engine import _serve
from zonemodel._kernels.forkbomb import _copy_machine
from zonemodel._kernels.jit import in_chunks, kernel
from zonemodel._kernels.layout import (
    CAP_LRU,
    CAP_OPS,
    CAP_QUEUE,
    CAP_SYNCS,
    CAP_THREADS,
    CLIENT,
    E_HEAP,
    E_NLAT,
    E_RUNNABLE,
    EF_NOW,
    EF_TRACE_DT,
    EV_SYNC,
    EXT2FS,
    G_RAM_PAGES,
    M_MAP_USED,
    M_PANIC_ZONE,
    N_POOLS,
    O_COLS,
    O_SIZE,
    O_STAMP,
    OK,
    OP_COLS,
    PAGER,
    PG_DISK,
    PG_FILES,
    PG_FILES_DONE,
    PG_FREE0,
    PG_FREE_MIN,
    PG_HEADERS,
    PG_JOBS_LEFT,
    PG_LARGEST_SYNC,
    PG_LAUNDERED,
    PG_MAP0,
    PG_MEM_HEAD,
    PG_MEM_TAIL,
    PG_MIN_FREE,
    PG_PEAK_DIRTY,
    PG_RETURNS,
    PG_SB,
    PG_SB_HEAD,
    PG_SB_TAIL,
    PG_SYNC_NEXT,
    PG_SYNCS,
    PG_TARGET,
    PG_TRIMMED,
    PI_POOL,
    PP_SYNC,
    S_COLS,
    S_COUNTER,
    S_PEAK_QUEUE,
    S_PEAK_THREADS,
    S_THREADS,
    SB_IN,
    SP_CLOSE_CPU,
    SP_PHASE,
    ST_DONE,
    ST_NEW,
    STEP_JOB,
    TF_LEFT,
    TH_CHILD,
    TH_STATE,
    TIMEOUT,
    TR_BUILD_SIZE,
    ZONE_PANIC,
    Engine,
    Machine,
    Paging,
    ServerModel,
)
from zonemodel._kernels.paging import _deadlock, _next_file, _stuck
from zonemodel._kernels.process import _pages_in_use
from zonemodel._kernels.rng import _uniform
from zonemodel._kernels.sched import (
    _build_engine,
    _cpu_time,
    _new_thread,
    _push,
    _seat_threads,
    _setrun,
    _spawn_thread,
    _start_clock,
)


@kernel
def _build_servers(srv: ServerModel, rm: np.ndarray) -> ServerModel:
    """A replicate's own pools (the storms' servers and ext2fs's pager pool) beside the shared policy."""
    sv = np.zeros((N_POOLS, S_COLS), dtype=np.int64)
    return ServerModel(sv, srv.pi, srv.pf, srv.svc, srv.msize, srv.rpcs, srv.lim, rm, srv.sp, srv.prio)


@kernel
def _start_new_pools(m: Machine, srv: ServerModel, start: np.ndarray) -> int:
    """Each pool *s* with ``start[s]`` starts with its first threads (the policy's ``PI_POOL``)."""
    sv = srv.sv
    for s in range(sv.shape[0]):
        if start[s] == 0:
            continue
        for _ in range(srv.pi[PI_POOL]):
            if _spawn_thread(m) != OK:
                return ZONE_PANIC
            sv[s, S_THREADS] += 1
            sv[s, S_COUNTER] += 1
        sv[s, S_PEAK_THREADS] = sv[s, S_THREADS]
    return OK


@kernel(entry=True)
def _new_paging(m: Machine, pc0: np.ndarray, pp0: np.ndarray, jobs: int, caps: np.ndarray) -> Paging:
    """A build's files, disk and memory as it starts on *m*; *caps* (``CAP_*``) sizes its arrays.

    Free pages are the machine's now; ``vm_page_free_target`` follows them
    (50 + 15 + (free - 50) / 80, vm/vm_pageout.c:96-98, 960-965), and
    ``vm_page_free_min`` too (50 + 10 + free / 100).
    """
    pc = pc0.copy()
    pc[PG_FREE0] = m.gp[G_RAM_PAGES] - _pages_in_use(m)
    pc[PG_MAP0] = m.ms[M_MAP_USED]
    pc[PG_TARGET] = 65 + (pc[PG_FREE0] - 50) // 80
    pc[PG_FREE_MIN] = 60 + pc[PG_FREE0] // 100
    pc[PG_MEM_HEAD] = -1
    pc[PG_MEM_TAIL] = -1
    pc[PG_SYNC_NEXT] = -1
    pc[PG_MIN_FREE] = pc[PG_FREE0]
    pc[PG_SB] = SB_IN
    pc[PG_SB_HEAD] = -1
    pc[PG_SB_TAIL] = -1
    pc[PG_DISK] = -1
    pc[PG_JOBS_LEFT] = jobs
    obj = np.zeros((pc[PG_HEADERS] + 2 * pc[PG_FILES], O_COLS), dtype=np.int64)
    for o in range(obj.shape[0]):
        obj[o, O_STAMP] = -1
    for o in range(pc[PG_HEADERS]):
        obj[o, O_SIZE] = 1
    return Paging(
        pc,
        pp0.copy(),
        obj,
        np.empty(caps[CAP_LRU], dtype=np.int64),
        np.empty(caps[CAP_THREADS], dtype=np.int64),
        np.zeros((jobs, caps[CAP_OPS], OP_COLS), dtype=np.int64),
        np.zeros((jobs, caps[CAP_OPS]), dtype=np.float64),
        np.zeros(caps[CAP_SYNCS], dtype=np.int64),
    )


@kernel(entry=True)
def _build(
    m: Machine, srv: ServerModel, state: np.ndarray, pg: Paging, jobs: int, queue_cap: int, start: np.ndarray,
    lat: np.ndarray, trace: np.ndarray, trace_dt: float, until: float,
) -> tuple[int, float, int, Engine]:  # fmt: skip
    """Run a build on *m*: the pools marked in *start* start, *jobs* jobs take the files one after another.

    *pg* comes from :func:`_new_paging` (its disk queue has a slot per
    possible thread); each pool's queue holds *queue_cap* messages at once.

    The first sync comes at a random point of its interval (or after one
    interval when runs start on a tick).  Returns (status, end, events, the
    event loop): TIMEOUT if work was left at *until*, DEADLOCK if it stopped
    with work left and nothing to move it.
    """
    thread_cap = pg.dq.shape[0]
    status = _start_new_pools(m, srv, start)
    eng = _build_engine(thread_cap + 16, queue_cap, thread_cap, lat, trace, pg)
    if status != OK:
        return status, 0.0, 0, eng
    eng.ef[EF_TRACE_DT] = trace_dt
    _start_clock(eng, srv, state)
    _seat_threads(eng, srv)
    sp = srv.sp
    for j in range(jobs):
        i = _new_thread(eng, srv, CLIENT, ST_NEW, STEP_JOB)
        eng.th[i, TH_CHILD] = j
        if _next_file(eng, state, i):
            eng.tf[i, TF_LEFT] = _cpu_time(state, sp, sp[SP_CLOSE_CPU])
            _setrun(eng, srv, i, 0.0, False)
        else:
            pg.pc[PG_JOBS_LEFT] -= 1
            eng.th[i, TH_STATE] = ST_DONE
    first = pg.pp[PP_SYNC] * (_uniform(state) if sp[SP_PHASE] > 0 else 1.0)
    _push(eng, first, EV_SYNC, 0, 0, 0.0)
    status, events = _serve(m, eng, srv, state, until, eng.pg)
    if status == OK:
        if eng.en[E_HEAP] > 0 or eng.en[E_RUNNABLE] > 0:
            status = TIMEOUT
        elif _stuck(eng, srv):
            status = _deadlock(eng)
    return status, eng.ef[EF_NOW], events, eng


@kernel(entry=True)
def _build_row(
    m: Machine, srv: ServerModel, eng: Engine, status: int, end: float, events: int, rows: np.ndarray, r: int
) -> None:
    """A build's numbers into ``rows[r]`` (BUILD_ROW_DTYPE), with the latencies' median and 99th percentile."""
    pc, sv = eng.pg.pc, srv.sv
    row = rows[r]
    row.status = status
    row.panic_zone = m.ms[M_PANIC_ZONE]
    row.events = events
    row.end_us = int(end * 1e6)
    row.files_done = pc[PG_FILES_DONE]
    row.peak_ext2fs_threads = sv[EXT2FS, S_PEAK_THREADS]
    row.peak_pager_threads = sv[PAGER, S_PEAK_THREADS]
    row.peak_pager_backlog = sv[PAGER, S_PEAK_QUEUE]
    row.peak_dirty = pc[PG_PEAK_DIRTY]
    row.largest_sync = pc[PG_LARGEST_SYNC]
    row.syncs = pc[PG_SYNCS]
    row.data_returns = pc[PG_RETURNS]
    row.trimmed = pc[PG_TRIMMED]
    row.laundered = pc[PG_LAUNDERED]
    row.min_free_pages = pc[PG_MIN_FREE]
    row.zone_map_pages = m.ms[M_MAP_USED]
    n = min(eng.en[E_NLAT], eng.lat.shape[0])
    if n == 0:
        row.p50_latency_ms = 0.0
        row.p99_latency_ms = 0.0
        return
    s = np.sort(eng.lat[:n])
    row.p50_latency_ms = 1e3 * s[min(n - 1, int(0.5 * n))]
    row.p99_latency_ms = 1e3 * s[min(n - 1, int(0.99 * n))]


def _build_many(
    m0: Machine, srv0: ServerModel, states: np.ndarray, pc0: np.ndarray, pp0: np.ndarray, jobs: int, caps: np.ndarray,
    lat_cap: int, until: float, rows: np.ndarray,
) -> None:  # fmt: skip
    """Independent builds, one per row of *states*, each on a copy of *m0*, into *rows* (BUILD_ROW_DTYPE)."""
    in_chunks(
        lambda lo, hi: _build_chunk(m0, srv0, states, pc0, pp0, jobs, caps, lat_cap, until, rows, lo, hi),
        states.shape[0],
    )


@kernel(entry=True)
def _build_chunk(
    m0: Machine, srv0: ServerModel, states: np.ndarray, pc0: np.ndarray, pp0: np.ndarray, jobs: int, caps: np.ndarray,
    lat_cap: int, until: float, rows: np.ndarray, lo: int, hi: int,
) -> None:  # fmt: skip
    """Replicates *lo* to *hi* (excluded) of :func:`_build_many`."""
    for r in range(lo, hi):
        m = _copy_machine(m0)
        srv = _build_servers(srv0, np.zeros(srv0.rm.shape[0], dtype=np.int64))
        pg = _new_paging(m, pc0, pp0, jobs, caps)
        lat = np.empty(lat_cap, dtype=np.float64)
        trace = np.empty((0, TR_BUILD_SIZE), dtype=np.float64)
        status, end, events, eng = _build(
            m, srv, states[r].copy(), pg, jobs, caps[CAP_QUEUE], np.ones(srv.sv.shape[0], dtype=np.int64), lat,
            trace, 1.0, until,
        )  # fmt: skip
        _build_row(m, srv, eng, status, end, events, rows, r)
