"""Numba kernels of the storms: clients open ports to /dev/null, then close them, or keep opening.

Numba JIT-compiled; called by :func:`zonemodel.close_burst`,
:func:`zonemodel.open_ports` and by the fork bomb when forks come at a given
interval.  ``tests/reference/storms.py`` has the same runs in plain Python.
The servers' event loop itself is in :mod:`.engine`.
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels.engine import (
    _cpu_time,
    _new_engine,
    _new_thread,
    _push,
    _seat_threads,
    _serve,
    _setrun,
    _spawn_thread,
    _start_clock,
    _start_pools,
)
from zonemodel._kernels.forkbomb import _background_step, _copy_machine, _record
from zonemodel._kernels.jit import in_chunks, kernel
from zonemodel._kernels.layout import (
    CHILD_LIMIT,
    CLIENT,
    EF_NOW,
    EV_ARRIVE,
    EXT2FS,
    G_CHAIN,
    G_ENTRY,
    G_EXT2FS_NAMES,
    G_NULL_NAMES,
    G_NULL_PER_OPEN,
    G_PORT_BYTES,
    J_MAX_FORKS,
    J_OTHER,
    J_PORTS_EACH,
    J_PROCESSES,
    JF_INTERVAL,
    KALLOC_MAP_FULL,
    L_PORTS,
    L_QUOTA,
    M_MAP_USED,
    M_PANIC_ZONE,
    MSG_RPC,
    N_SERVERS,
    NULL,
    O_CLIENT0,
    O_EXT2FS,
    O_NULL,
    OK,
    P_ADDR,
    P_SIZE,
    P_TIDX,
    PHASE_BOOT,
    PHASE_CLOSE,
    PHASE_OPEN,
    PHASE_OTHER,
    Q_NAMES,
    RM_B_OPENED,
    RM_CHARGE_A,
    RM_CHARGE_B,
    RM_OPENED,
    RM_REFUSED_PORTS,
    RM_REFUSED_QUOTA,
    RM_SIZE,
    S_COLS,
    S_EPOCH,
    S_PEAK_QUEUE,
    S_PEAK_THREADS,
    S_SERVED,
    S_THREADS,
    SP_CLOSE_CPU,
    ST_NEW,
    STEP_CLOSE,
    T_ADDR,
    T_NAMES,
    T_SIZE,
    T_TIDX,
    TF_LEFT,
    TH_EPOCH,
    TH_MSG,
    TR_SIZE,
    WHO_BACKGROUND,
    WHO_CHILD,
    WHO_SERVER,
    Z_PORTS,
    ZONE_PANIC,
    Job,
    Machine,
    ServerModel,
    Workload,
)
from zonemodel._kernels.process import _grow_table, _kalloc, _spawn
from zonemodel._kernels.remedies import _fatal
from zonemodel._kernels.zalloc import _zalloc_n


@kernel
def _replicate_servers(srv: ServerModel, rm: np.ndarray) -> ServerModel:
    """A replicate's own pools and remedy counters beside the shared policy and service times."""
    sv = np.zeros((N_SERVERS, S_COLS), dtype=np.int64)
    return ServerModel(sv, srv.pi, srv.pf, srv.svc, srv.msize, srv.rpcs, srv.lim, rm, srv.sp, srv.prio)


@kernel
def _open_one(m: Machine, tables: np.ndarray, client: int) -> int:
    """One ``open("/dev/null")``: two kernel ports, +2 names in null, +1 in ext2fs, +1 in the client.

    ext2fs makes a protid port for null (io_restrict_auth) and null keeps a
    send right to it; null makes its own protid port and gives the client a
    send right.  (The names null gains are ``gp[G_NULL_PER_OPEN]``, 2 in every
    preset, for what-ifs.)  An entry table that cannot grow makes the open fail
    (KALLOC_MAP_FULL), which the client sees as an error, not a panic.
    """
    if _zalloc_n(m.zones, m.ms, Z_PORTS, 2) != OK:
        return ZONE_PANIC
    for owner, names in ((O_EXT2FS, 1), (O_NULL, m.gp[G_NULL_PER_OPEN]), (client, 1)):
        tables[owner, T_NAMES] += names
        status, tidx, addr = _grow_table(m, tables[owner, T_TIDX], tables[owner, T_ADDR], tables[owner, T_NAMES])
        tables[owner, T_TIDX] = tidx
        tables[owner, T_ADDR] = addr
        if status != OK:
            tables[owner, T_NAMES] -= names
            return status
    return OK


@kernel
def _new_table(m: Machine, tables: np.ndarray, owner: int, names: int) -> int:
    """Give *owner* a fresh IPC space table holding *names* names."""
    status, addr = _kalloc(m, m.its[0] * m.gp[G_ENTRY])
    if status != OK:
        return status
    tables[owner, T_NAMES] = names
    status, tidx, addr = _grow_table(m, 0, addr, names)
    tables[owner, T_TIDX] = tidx
    tables[owner, T_ADDR] = addr
    return status


@kernel
def _new_servers(m: Machine, tables: np.ndarray) -> int:
    """The IPC tables of null and ext2fs as the storm finds them."""
    status = _new_table(m, tables, O_NULL, m.gp[G_NULL_NAMES])
    if status == OK:
        status = _new_table(m, tables, O_EXT2FS, m.gp[G_EXT2FS_NAMES])
    return status


@kernel
def _new_clients(m: Machine, base_q: np.ndarray, tables: np.ndarray, first: int) -> int:
    """One ordinary process for each client row of *tables* from *first* on."""
    rec = np.empty(P_SIZE, dtype=np.int64)
    for c in range(first, tables.shape[0]):
        status = _spawn(m, base_q, 1, rec)
        tables[c, T_NAMES] = base_q[Q_NAMES]
        tables[c, T_TIDX] = rec[P_TIDX]
        tables[c, T_ADDR] = rec[P_ADDR]
        if status != OK:
            return status
    return OK


@kernel
def _close_burst(
    m: Machine, srv: ServerModel, state: np.ndarray, closes_of: np.ndarray, lat: np.ndarray, trace: np.ndarray
) -> tuple[int, float, int]:
    """Client *c* closes its ``closes_of[c]`` ports to null, a thread of its own, and the servers serve.

    Every client is runnable at once, in order; each close takes CPU (and,
    for a slow close, the client sleeps between two, ``SP_CLOSE_GAP``).
    Returns (status, time of the end, events processed).
    """
    closes = 0
    seated = 0
    for c in range(closes_of.shape[0]):
        closes += closes_of[c]
    for s in range(N_SERVERS):
        seated += srv.sv[s, S_THREADS]
    threads = seated + closes_of.shape[0] + 3 * closes + 16
    eng = _new_engine(threads + closes + 16, 2 * closes + 1, threads, lat, trace)
    _start_clock(eng, srv, state)
    _seat_threads(eng, srv)
    for c in range(closes_of.shape[0]):
        if closes_of[c] == 0:
            continue
        j = _new_thread(eng, srv, CLIENT, ST_NEW, STEP_CLOSE)
        eng.th[j, TH_MSG] = closes_of[c]
        eng.th[j, TH_EPOCH] = srv.sv[NULL, S_EPOCH]
        eng.tf[j, TF_LEFT] = _cpu_time(state, srv.sp, srv.sp[SP_CLOSE_CPU])
        _setrun(eng, srv, j, 0.0, False)
    status, events = _serve(m, eng, srv, state, np.inf)
    return status, eng.ef[EF_NOW], events


@kernel
def _other_opens(m: Machine, w: Workload, srv: ServerModel, tables: np.ndarray, other: int) -> int:
    """After the storm, the other user starts a process and opens *other* ports, one after the other.

    Every storm port is closed and served by then: null's and ext2fs's names
    are free again (their tables keep their size).  If the OOM killer killed
    null, ext2fs starts a new one on this lookup.  Returns a status; a refusal
    only stops the opens.
    """
    lim, rm = srv.lim, srv.rm
    mine = np.zeros((O_CLIENT0 + 1, T_SIZE), dtype=np.int64)
    mine[O_NULL, :] = tables[O_NULL, :]
    mine[O_EXT2FS, :] = tables[O_EXT2FS, :]
    mine[O_NULL, T_NAMES] = m.gp[G_NULL_NAMES]
    mine[O_EXT2FS, T_NAMES] = m.gp[G_EXT2FS_NAMES]
    if srv.sv[NULL, S_THREADS] == 0:
        status = _new_table(m, mine, O_NULL, m.gp[G_NULL_NAMES])
        if status == OK:
            status = _spawn_thread(m)
        if status != OK:
            return status
    status = _new_clients(m, w.base_q, mine, O_CLIENT0)
    port_bytes = m.gp[G_PORT_BYTES]
    for _ in range(other):
        if status != OK:
            break
        if lim[L_PORTS] > 0 and mine[O_CLIENT0, T_NAMES] + 1 > lim[L_PORTS]:
            break
        if lim[L_QUOTA] > 0 and rm[RM_CHARGE_B] + 2 * port_bytes > lim[L_QUOTA]:
            break
        status = _open_one(m, mine, O_CLIENT0)
        if status == OK:
            rm[RM_CHARGE_B] += 2 * port_bytes
            rm[RM_B_OPENED] += 1
    return status if _fatal(status) else OK


@kernel
def _burst_run(
    m: Machine, w: Workload, srv: ServerModel, state: np.ndarray, job: Job, lat: np.ndarray, trace: np.ndarray,
    rows: np.ndarray, r: int,
) -> None:  # fmt: skip
    """One close burst on a booted machine: start the clients, open every port, then close them all.

    Under ``ports_per_task`` a client's open fails once it holds that many
    names; under ``kmem_quota`` an open that would take the storm's user past
    its quota fails (each open charges its two kernel ports).  After the storm,
    if the kernel is alive, the other user opens ``job.ji[J_OTHER]`` ports
    (:func:`_other_opens`).  ``rows[r]`` receives the status, the phase it
    ended in, the ports opened, the events and the simulated end time.
    """
    row = rows[r]
    lim, rm = srv.lim, srv.rm
    processes = job.ji[J_PROCESSES]
    tables = np.zeros((O_CLIENT0 + processes, T_SIZE), dtype=np.int64)
    status = _new_servers(m, tables)
    if status == OK:
        status = _start_pools(m, srv)
    if status == OK:
        status = _new_clients(m, w.base_q, tables, O_CLIENT0)
    if status != OK:
        row.status, row.phase = status, PHASE_BOOT
        return
    port_bytes = m.gp[G_PORT_BYTES]
    opened = 0
    closes_of = np.zeros(processes, dtype=np.int64)
    for _ in range(job.ji[J_PORTS_EACH]):
        for c in range(processes):
            if lim[L_PORTS] > 0 and tables[O_CLIENT0 + c, T_NAMES] + 1 > lim[L_PORTS]:
                rm[RM_REFUSED_PORTS] += 1
                continue
            if lim[L_QUOTA] > 0 and rm[RM_CHARGE_A] + 2 * port_bytes > lim[L_QUOTA]:
                rm[RM_REFUSED_QUOTA] += 1
                continue
            status = _open_one(m, tables, O_CLIENT0 + c)
            if status != OK:
                row.status, row.phase, row.count = status, PHASE_OPEN, opened
                return
            if lim[L_QUOTA] > 0:
                rm[RM_CHARGE_A] += 2 * port_bytes
            opened += 1
            closes_of[c] += 1
    rm[RM_OPENED] = opened
    status, end, events = _close_burst(m, srv, state, closes_of, lat, trace)
    row.status, row.phase, row.count, row.events = status, PHASE_CLOSE, opened, events
    row.end_us = int(end * 1e6)
    if status == OK and job.ji[J_OTHER] > 0:
        status = _other_opens(m, w, srv, tables, job.ji[J_OTHER])
        if status != OK:
            row.status, row.phase = status, PHASE_OTHER


def _burst_many(
    m0: Machine, w: Workload, srv0: ServerModel, states: np.ndarray, job: Job, rows: np.ndarray, lats: np.ndarray,
    rms: np.ndarray,
) -> None:  # fmt: skip
    """Independent close bursts, one per row of *states* (each replicate owns its copies and its rows)."""
    in_chunks(lambda lo, hi: _burst_chunk(m0, w, srv0, states, job, rows, lats, rms, lo, hi), states.shape[0])


@kernel
def _burst_chunk(
    m0: Machine, w: Workload, srv0: ServerModel, states: np.ndarray, job: Job, rows: np.ndarray, lats: np.ndarray,
    rms: np.ndarray, lo: int, hi: int,
) -> None:  # fmt: skip
    """Replicates *lo* to *hi* (excluded) of :func:`_burst_many`."""
    for r in range(lo, hi):
        m = _copy_machine(m0)
        srv = _replicate_servers(srv0, rms[r])
        lat = np.empty(lats.shape[1], dtype=np.float64)
        trace = np.empty((0, TR_SIZE), dtype=np.float64)
        _burst_run(m, w, srv, states[r].copy(), job, lat, trace, rows, r)
        row = rows[r]
        row.panic_zone = m.ms[M_PANIC_ZONE]
        row.zone_map_pages = m.ms[M_MAP_USED]
        row.peak_null_threads = srv.sv[NULL, S_PEAK_THREADS]
        row.peak_ext2fs_threads = srv.sv[EXT2FS, S_PEAK_THREADS]
        row.peak_null_backlog = srv.sv[NULL, S_PEAK_QUEUE]
        row.peak_ext2fs_backlog = srv.sv[EXT2FS, S_PEAK_QUEUE]
        row.other = srv.rm[RM_B_OPENED]
        n = min(lats.shape[1], srv.sv[NULL, S_SERVED] + srv.sv[EXT2FS, S_SERVED])
        lats[r, :n] = lat[:n]


@kernel
def _open_storm(m: Machine, w: Workload, job: Job, per_instance: np.ndarray) -> tuple[int, int, int, int]:
    """Clients open ``job.ji[J_PORTS_EACH]`` ports to /dev/null in all, round robin, and keep them (a leak).

    When null's own entry table cannot grow, that null instance is finished:
    every later open through it fails, and ext2fs starts a new instance on
    the next lookup (a fresh space; the old one keeps its names).  Opens
    that fail for other reasons (a client's table) count as open() errors.
    ``per_instance[i]`` receives the opens served by instance *i*.  Returns
    (status, opens, failed opens, instances).
    """
    processes = job.ji[J_PROCESSES]
    tables = np.zeros((O_CLIENT0 + processes, T_SIZE), dtype=np.int64)
    status = _new_servers(m, tables)
    if status == OK:
        status = _new_clients(m, w.base_q, tables, O_CLIENT0)
    if status != OK:
        return status, 0, 0, 0
    opened = failed = 0
    instance = 0
    for i in range(job.ji[J_PORTS_EACH]):
        status = _open_one(m, tables, O_CLIENT0 + i % processes)
        if status == OK:
            opened += 1
            per_instance[instance] += 1
            continue
        if status != KALLOC_MAP_FULL:
            return status, opened, failed, instance + 1
        failed += 1
        full = tables[O_NULL, T_NAMES] + m.gp[G_NULL_PER_OPEN] > m.its[tables[O_NULL, T_TIDX]] - 1
        if full and instance + 1 < per_instance.shape[0]:
            # null's table is what could not grow: this instance is dead; ext2fs starts another.
            instance += 1
            status = _new_table(m, tables, O_NULL, m.gp[G_NULL_NAMES])
            if status != OK:
                return status, opened, failed, instance + 1
    return OK, opened, failed, instance + 1


@kernel
def _bomb_timed(m: Machine, w: Workload, srv: ServerModel, state: np.ndarray, job: Job) -> tuple[int, int, int, int]:
    """A fork bomb with one fork every ``job.jf[JF_INTERVAL]`` seconds, the servers running alongside.

    Fork *i* happens at ``i * interval``; before it, the servers process every
    event due by then.  Each fork then sends ``srv.rpcs[s]`` requests to server
    *s* (the new child's start-up calls).  Background tasks move as in the
    slow bomb.  Returns (children, status, who, background alive).
    """
    most = job.ji[J_MAX_FORKS]
    interval = job.jf[JF_INTERVAL]
    total = 0
    for s in range(N_SERVERS):
        total += srv.rpcs[s]
    rec = np.empty(P_SIZE, dtype=np.int64)
    bg = np.empty((most + 1, P_SIZE), dtype=np.int64)
    status = _start_pools(m, srv)
    if status != OK:
        return 0, status, WHO_SERVER, 0
    seated = 0
    for s in range(N_SERVERS):
        seated += srv.sv[s, S_THREADS]
    threads = seated + (most + 1) * total + 16
    eng = _new_engine(
        threads + total + 16,
        (most + 1) * total + 1,
        threads,
        np.empty(0, dtype=np.float64),
        np.empty((0, TR_SIZE), dtype=np.float64),
    )
    _start_clock(eng, srv, state)
    _seat_threads(eng, srv)
    count = 0
    nbg = 0
    for i in range(most):
        t = i * interval
        status, nbg = _background_step(m, w, state, bg, nbg)
        if status != OK:
            return count, status, WHO_BACKGROUND, nbg
        status, _ = _serve(m, eng, srv, state, t)
        if status != OK:
            return count, status, WHO_SERVER, nbg
        generation = count + 1 if m.gp[G_CHAIN] else 1
        status = _spawn(m, w.child_q, generation, rec)
        if status != OK:
            return count, status, WHO_CHILD, nbg
        count += 1
        for s in range(N_SERVERS):
            for _ in range(srv.rpcs[s]):
                _push(eng, t, EV_ARRIVE, s, MSG_RPC, t)
    return count, CHILD_LIMIT, WHO_CHILD, nbg


def _bomb_timed_many(
    m0: Machine, w: Workload, srv0: ServerModel, states: np.ndarray, job: Job, rows: np.ndarray
) -> None:
    """Independent timed bombs, one per row of *states*, into *rows* (ROW_DTYPE)."""
    in_chunks(lambda lo, hi: _bomb_timed_chunk(m0, w, srv0, states, job, rows, lo, hi), states.shape[0])


@kernel
def _bomb_timed_chunk(
    m0: Machine, w: Workload, srv0: ServerModel, states: np.ndarray, job: Job, rows: np.ndarray, lo: int, hi: int
) -> None:
    """Replicates *lo* to *hi* (excluded) of :func:`_bomb_timed_many`."""
    for r in range(lo, hi):
        m = _copy_machine(m0)
        srv = _replicate_servers(srv0, np.zeros(RM_SIZE, dtype=np.int64))
        count, status, who, nbg = _bomb_timed(m, w, srv, states[r].copy(), job)
        _record(rows, r, m, count, status, who, nbg)
        rows[r].peak_null_threads = srv.sv[NULL, S_PEAK_THREADS]
