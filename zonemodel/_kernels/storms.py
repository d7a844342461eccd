"""Numba kernels of the storms: clients open ports to /dev/null, then close them, or keep opening.

Numba JIT-compiled; called by :func:`zonemodel.close_burst`,
:func:`zonemodel.open_ports` and by the fork bomb when forks come at a given
interval.  ``tests/reference/storms.py`` has the same runs in plain Python.
The servers' event loop itself is in :mod:`.engine`.
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels.engine import _next_victim, _serve
from zonemodel._kernels.forkbomb import _background_step, _copy_machine, _record
from zonemodel._kernels.jit import in_chunks, kernel
from zonemodel._kernels.layout import (
    CHILD_LIMIT,
    CLIENT,
    EF_GAP,
    EF_NOW,
    EV_ARRIVE,
    EXT2FS,
    G_CHAIN,
    G_ENTRY,
    G_EXT2FS_NAMES,
    G_NULL_NAMES,
    G_NULL_PER_OPEN,
    G_PORT_BYTES,
    I_ADDR,
    I_DEAD,
    I_HELD,
    I_NAMES,
    I_SERVING,
    I_SIZE,
    I_STATE,
    I_THREADS,
    I_TIDX,
    I_WEDGED,
    J_KILL,
    J_MAX_FORKS,
    J_NOFILE,
    J_OTHER,
    J_PORTS_EACH,
    J_PROCESSES,
    JF_GAP,
    JF_INTERVAL,
    KALLOC_MAP_FULL,
    L_PORTS,
    L_QUOTA,
    M_MAP_USED,
    M_PANIC_ZONE,
    MAX_INSTANCES,
    MSG_NOTIFY,
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
    PI_POOL,
    Q_NAMES,
    RM_B_OPENED,
    RM_CHARGE_A,
    RM_CHARGE_B,
    RM_EMFILE,
    RM_OOM_KILLS,
    RM_OPENED,
    RM_REFUSED_PORTS,
    RM_REFUSED_QUOTA,
    RM_SIZE,
    S_COLS,
    S_COUNTER,
    S_EPOCH,
    S_PEAK_QUEUE,
    S_PEAK_THREADS,
    S_RECEIVERS,
    S_SERVED,
    S_STALLED,
    S_STUCK,
    S_THREADS,
    SP_CLOSE_CPU,
    ST_NEW,
    STEP_CLOSE,
    STEP_YIELD,
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
    Y_DEAD_TABLE,
    Y_HELD,
    Y_INSTANCES,
    Y_NULL_UP,
    Y_POOLS,
    Y_SERVERS,
    Y_SIZE,
    Z_PORTS,
    ZONE_PANIC,
    Engine,
    Job,
    Live,
    Machine,
    ServerModel,
    Workload,
)
from zonemodel._kernels.process import _grow_table, _kalloc, _kfree, _spawn
from zonemodel._kernels.remedies import _fatal
from zonemodel._kernels.sched import (
    _cpu_time,
    _new_engine,
    _new_thread,
    _push,
    _quiet_engine,
    _seat_threads,
    _setrun,
    _spawn_thread,
    _start_clock,
    _start_pools,
)
from zonemodel._kernels.zalloc import _zalloc_n, _zfree_n


@kernel
def _replicate_servers(srv: ServerModel, rm: np.ndarray) -> ServerModel:
    """A replicate's own pools and remedy counters beside the shared policy and service times."""
    sv = np.zeros((N_SERVERS, S_COLS), dtype=np.int64)
    return ServerModel(sv, srv.pi, srv.pf, srv.svc, srv.msize, srv.rpcs, srv.lim, rm, srv.sp, srv.prio)


@kernel(entry=True)
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


@kernel(inline=True)
def _copy_servers(dst: np.ndarray, src: np.ndarray) -> None:
    """Copy null's and ext2fs's IPC tables (rows ``O_NULL`` and ``O_EXT2FS``) of *src* into *dst*.

    A loop rather than a slice assignment, which compiles numba's shape checks and their error path.
    """
    for k in range(T_SIZE):
        dst[O_NULL, k] = src[O_NULL, k]
        dst[O_EXT2FS, k] = src[O_EXT2FS, k]


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


@kernel(entry=True)
def _new_servers(m: Machine, tables: np.ndarray) -> int:
    """The IPC tables of null and ext2fs as the storm finds them."""
    status = _new_table(m, tables, O_NULL, m.gp[G_NULL_NAMES])
    if status == OK:
        status = _new_table(m, tables, O_EXT2FS, m.gp[G_EXT2FS_NAMES])
    return status


@kernel(entry=True)
def _new_clients(m: Machine, base_q: np.ndarray, tables: np.ndarray, first: int) -> int:
    """One ordinary process for each client row of *tables* from *first* on (0 names: a process that did not start)."""
    rec = np.empty(P_SIZE, dtype=np.int64)
    for c in range(first, tables.shape[0]):
        status = _spawn(m, base_q, 1, rec)
        tables[c, T_NAMES] = base_q[Q_NAMES] if status == OK else 0
        tables[c, T_TIDX] = rec[P_TIDX]
        tables[c, T_ADDR] = rec[P_ADDR]
        if status != OK:
            return status
    return OK


@kernel
def _burst_engine(
    srv: ServerModel, state: np.ndarray, closes_of: np.ndarray, gap: float, kill: bool, lat: np.ndarray,
    trace: np.ndarray,
) -> Engine:  # fmt: skip
    """The event loop of a close burst, ready to run: client *c* will close its ``closes_of[c]`` ports to null.

    Every client is a thread of its own, runnable at once, in order; each
    close takes CPU (and, for a slow close, the client sleeps about *gap*
    seconds between two).  With *kill*, a shell kills the clients instead,
    one after the other: for each victim ``task_terminate`` yields once per
    thread of it, then tears its space down (CPU per right) and sends null
    all its notifications in one burst, with no preemption until the burst
    is out.

    It does not run the loop: :func:`_burst_run` does, so that few kernels
    carry the loop's code (numba links a copy of it into each caller).
    """
    closes = 0
    seated = 0
    for c in range(closes_of.shape[0]):
        closes += closes_of[c]
    for s in range(N_SERVERS):
        seated += srv.sv[s, S_THREADS]
    threads = seated + closes_of.shape[0] + 3 * closes + 16
    eng = _new_engine(threads + closes + 16, 2 * closes + 1, threads, lat, trace, closes_of)
    eng.ef[EF_GAP] = gap
    _start_clock(eng, srv, state)
    _seat_threads(eng, srv)
    if kill:  # one shell kills the clients one after the other; each death is a burst of notifications
        j = _new_thread(eng, srv, CLIENT, ST_NEW, STEP_YIELD)
        eng.th[j, TH_MSG] = closes_of.shape[0]
        eng.th[j, TH_EPOCH] = srv.sv[NULL, S_EPOCH]
        _next_victim(eng, srv, j)
        _setrun(eng, srv, j, 0.0, False)
    for c in range(0 if kill else closes_of.shape[0]):  # killed, a client closes nothing itself
        if closes_of[c] == 0:
            continue
        j = _new_thread(eng, srv, CLIENT, ST_NEW, STEP_CLOSE)
        eng.th[j, TH_MSG] = closes_of[c]
        eng.th[j, TH_EPOCH] = srv.sv[NULL, S_EPOCH]
        eng.tf[j, TF_LEFT] = _cpu_time(state, srv.sp, srv.sp[SP_CLOSE_CPU])
        _setrun(eng, srv, j, 0.0, False)
    return eng


@kernel
def _new_live() -> Live:
    """A freshly booted system's servers: no IPC space for null or ext2fs yet, no pool started."""
    return Live(
        np.zeros((O_CLIENT0, T_SIZE), dtype=np.int64),
        np.zeros(Y_SIZE, dtype=np.int64),
        np.zeros((MAX_INSTANCES, I_SIZE), dtype=np.int64),
    )


@kernel
def _restart_null(m: Machine, srv: ServerModel, live: Live) -> int:
    """ext2fs starts a new null instance on a lookup (libfshelp/fetch-root.c:179-192): a fresh space, first threads.

    The dead instance's entry table, if one is left, is freed first (its space
    was destroyed when it died).  The new instance starts with the policy's
    first threads (one for libports) and serves no one yet.
    """
    ys, tables, sv = live.ys, live.tables, srv.sv
    if ys[Y_DEAD_TABLE]:
        _kfree(m, m.its[tables[O_NULL, T_TIDX]] * m.gp[G_ENTRY], tables[O_NULL, T_ADDR])
        ys[Y_DEAD_TABLE] = 0
    status = _new_table(m, tables, O_NULL, m.gp[G_NULL_NAMES])
    if status != OK:
        return status
    for _ in range(srv.pi[PI_POOL]):
        if _spawn_thread(m) != OK:
            return ZONE_PANIC
        sv[NULL, S_THREADS] += 1
        sv[NULL, S_COUNTER] += 1
        sv[NULL, S_RECEIVERS] += 1
    sv[NULL, S_PEAK_THREADS] = max(sv[NULL, S_PEAK_THREADS], sv[NULL, S_THREADS])
    i = ys[Y_INSTANCES]
    if i < MAX_INSTANCES:
        live.inst[i, I_STATE] = I_SERVING
    ys[Y_INSTANCES] = i + 1
    ys[Y_NULL_UP] = 1
    ys[Y_HELD] = 0
    return OK


@kernel
def _lookup(m: Machine, srv: ServerModel, live: Live) -> int:
    """A lookup of /dev/null: on the first one the servers' spaces and pools start; a dead null is restarted.

    Then null's and ext2fs's tables hold the names of the protids still alive
    (null: ``G_NULL_PER_OPEN`` per protid of its own; ext2fs: one per protid of
    any null instance still running).  Returns a status.
    """
    ys, tables, inst = live.ys, live.tables, live.inst
    status = OK
    if ys[Y_SERVERS] == 0:
        status = _new_servers(m, tables)
        if status == OK and ys[Y_POOLS] == 0:
            status = _start_pools(m, srv)
            ys[Y_POOLS] = 1
        ys[Y_SERVERS] = 1
        ys[Y_NULL_UP] = 1
        ys[Y_INSTANCES] = 1
        inst[0, I_STATE] = I_SERVING
    elif ys[Y_NULL_UP] == 0:
        status = _restart_null(m, srv, live)
    held = ys[Y_HELD]
    for i in range(min(ys[Y_INSTANCES], MAX_INSTANCES)):
        if inst[i, I_STATE] == I_WEDGED:
            held += inst[i, I_HELD]
    tables[O_NULL, T_NAMES] = m.gp[G_NULL_NAMES] + m.gp[G_NULL_PER_OPEN] * ys[Y_HELD]
    tables[O_EXT2FS, T_NAMES] = m.gp[G_EXT2FS_NAMES] + held
    return status


@kernel
def _null_died(live: Live) -> None:
    """The current null instance was killed: its protids are dead names, its table is freed on the restart."""
    ys = live.ys
    cur = ys[Y_INSTANCES] - 1
    if 0 <= cur < MAX_INSTANCES:
        live.inst[cur, I_STATE] = I_DEAD
        live.inst[cur, I_HELD] = 0
    ys[Y_NULL_UP] = 0
    ys[Y_HELD] = 0
    ys[Y_DEAD_TABLE] = 1


@kernel
def _held_engine(m: Machine, srv: ServerModel, state: np.ndarray, held: int) -> Engine:
    """Null died with *held* protids of earlier clients: each is destroyed, and an event loop to tell ext2fs.

    The OOM killer's kill in a storm (:func:`.engine._kill_null`) notifies
    ext2fs of the storm's own protids; those that clients of earlier
    experiments held are released right after the storm's events, in an
    event loop of their own, which the caller runs.
    """
    eng = _quiet_engine(srv, state, held)
    _zfree_n(m.zones, Z_PORTS, held)
    for _ in range(held):
        _push(eng, 0.0, EV_ARRIVE, EXT2FS, MSG_NOTIFY, 0.0)
    return eng


@kernel
def _may_open(m: Machine, w: Workload, srv: ServerModel, tables: np.ndarray, c: int, nofile: int) -> bool:
    """Whether client row *c* may try one more open: glibc's RLIMIT_NOFILE first, then the remedies (counted)."""
    rm, lim = srv.rm, srv.lim
    if nofile > 0 and tables[c, T_NAMES] - w.base_q[Q_NAMES] + 3 >= nofile:
        rm[RM_EMFILE] += 1  # hurd/alloc-fd.c: EMFILE, before any RPC
        return False
    if lim[L_PORTS] > 0 and tables[c, T_NAMES] + 1 > lim[L_PORTS]:
        rm[RM_REFUSED_PORTS] += 1
        return False
    return True


@kernel
def _other_opens(m: Machine, w: Workload, srv: ServerModel, live: Live, mine: np.ndarray, other: int) -> int:
    """After the storm, the other user starts a process and opens *other* ports, one after the other.

    Every storm port is closed and served by then: null's and ext2fs's names
    are those of the protids still alive (their tables keep their size).  If
    the OOM killer killed null, ext2fs starts a new one on this lookup.
    *mine* (``O_CLIENT0 + 1`` rows) receives the process's table.  Returns a
    status; a refusal only stops the opens.
    """
    lim, rm = srv.lim, srv.rm
    status = _lookup(m, srv, live)
    if status != OK:
        return status
    _copy_servers(mine, live.tables)
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
            live.ys[Y_HELD] += 1
    _copy_servers(live.tables, mine)
    return status if _fatal(status) else OK


@kernel(entry=True)
def _burst_run(
    m: Machine, w: Workload, srv: ServerModel, live: Live, state: np.ndarray, job: Job, lat: np.ndarray,
    trace: np.ndarray, rows: np.ndarray, r: int, tables: np.ndarray, mine: np.ndarray,
) -> None:  # fmt: skip
    """One close burst on a running system: start the clients, open every port, then close them all.

    The lookup starts the servers on a fresh system and restarts a dead null
    (:func:`_lookup`).  A client whose descriptors reach ``job.ji[J_NOFILE]``
    (three taken by stdin, stdout and stderr) gets EMFILE from glibc and no
    RPC is made.  Under ``ports_per_task`` a client's open fails once it holds
    that many names; under ``kmem_quota`` an open that would take the storm's
    user past its quota fails (each open charges its two kernel ports).  After
    the storm, if the kernel is alive, the other user opens ``job.ji[J_OTHER]``
    ports (:func:`_other_opens`, its process in *mine*).  *tables* (``O_CLIENT0
    + processes`` rows) receives the clients' tables.  ``rows[r]`` receives the
    status, the phase it ended in, the ports opened, the events and the
    simulated end time.
    """
    row = rows[r]
    lim, rm = srv.lim, srv.rm
    processes = job.ji[J_PROCESSES]
    nofile = job.ji[J_NOFILE]
    status = _lookup(m, srv, live)
    _copy_servers(tables, live.tables)
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
            if not _may_open(m, w, srv, tables, O_CLIENT0 + c, nofile):
                continue
            if lim[L_QUOTA] > 0 and rm[RM_CHARGE_A] + 2 * port_bytes > lim[L_QUOTA]:
                rm[RM_REFUSED_QUOTA] += 1
                continue
            status = _open_one(m, tables, O_CLIENT0 + c)
            if status != OK:  # the storm stops here; its clients keep what they opened
                row.status, row.phase, row.count, row.emfile = status, PHASE_OPEN, opened, rm[RM_EMFILE]
                live.ys[Y_HELD] += opened
                _copy_servers(live.tables, tables)
                return
            if lim[L_QUOTA] > 0:
                rm[RM_CHARGE_A] += 2 * port_bytes
            opened += 1
            closes_of[c] += 1
    row.emfile = rm[RM_EMFILE]
    rm[RM_OPENED] = opened  # the storm's protids, which an OOM kill of null destroys
    _copy_servers(live.tables, tables)
    eng = _burst_engine(srv, state, closes_of, job.jf[JF_GAP], job.ji[J_KILL] > 0, lat, trace)
    status, events = _serve(m, eng, srv, state, np.inf, None)
    end = eng.ef[EF_NOW]
    if rm[RM_OOM_KILLS] > 0:
        held = live.ys[Y_HELD]
        _null_died(live)
        if status == OK and held > 0:
            status, _ = _serve(m, _held_engine(m, srv, state, held), srv, state, np.inf, None)
    row.status, row.phase, row.count, row.events = status, PHASE_CLOSE, opened, events
    row.end_us = int(end * 1e6)
    if status == OK and job.ji[J_OTHER] > 0:
        status = _other_opens(m, w, srv, live, mine, job.ji[J_OTHER])
        if status != OK:
            row.status, row.phase = status, PHASE_OTHER


def _burst_many(
    m0: Machine, w: Workload, srv0: ServerModel, states: np.ndarray, job: Job, rows: np.ndarray, lats: np.ndarray,
    rms: np.ndarray,
) -> None:  # fmt: skip
    """Independent close bursts, one per row of *states* (each replicate owns its copies and its rows)."""
    in_chunks(lambda lo, hi: _burst_chunk(m0, w, srv0, states, job, rows, lats, rms, lo, hi), states.shape[0])


@kernel(entry=True)
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
        tables = np.zeros((O_CLIENT0 + job.ji[J_PROCESSES], T_SIZE), dtype=np.int64)
        mine = np.zeros((O_CLIENT0 + 1, T_SIZE), dtype=np.int64)
        _burst_run(m, w, srv, _new_live(), states[r].copy(), job, lat, trace, rows, r, tables, mine)
        row = rows[r]
        row.panic_zone = m.ms[M_PANIC_ZONE]
        row.zone_map_pages = m.ms[M_MAP_USED]
        row.peak_null_threads = srv.sv[NULL, S_PEAK_THREADS]
        row.peak_ext2fs_threads = srv.sv[EXT2FS, S_PEAK_THREADS]
        row.peak_null_backlog = srv.sv[NULL, S_PEAK_QUEUE]
        row.peak_ext2fs_backlog = srv.sv[EXT2FS, S_PEAK_QUEUE]
        row.other = srv.rm[RM_B_OPENED]
        n = min(lats.shape[1], srv.sv[NULL, S_SERVED] + srv.sv[EXT2FS, S_SERVED])
        for k in range(n):  # a loop: a slice assignment compiles numba's shape checks
            lats[r, k] = lat[k]


@kernel
def _wedge_null(srv: ServerModel, live: Live) -> None:
    """Null's own entry table could not grow: the instance is wedged (it runs on, keeping its names and threads)."""
    ys, sv = live.ys, srv.sv
    cur = ys[Y_INSTANCES] - 1
    row = live.inst[cur]
    row[I_NAMES] = live.tables[O_NULL, T_NAMES]
    row[I_TIDX] = live.tables[O_NULL, T_TIDX]
    row[I_ADDR] = live.tables[O_NULL, T_ADDR]
    row[I_THREADS] = sv[NULL, S_THREADS]
    row[I_HELD] = ys[Y_HELD]
    row[I_STATE] = I_WEDGED
    sv[NULL, S_THREADS] = 0
    sv[NULL, S_COUNTER] = 0
    sv[NULL, S_RECEIVERS] = 0
    sv[NULL, S_STALLED] = 0  # the next instance starts sound
    sv[NULL, S_STUCK] = 0
    ys[Y_NULL_UP] = 0
    ys[Y_HELD] = 0


@kernel(entry=True)
def _open_storm(
    m: Machine, w: Workload, srv: ServerModel, live: Live, job: Job, tables: np.ndarray, held: np.ndarray,
    per_instance: np.ndarray,
) -> tuple[int, int, int, int]:  # fmt: skip
    """Clients open ``job.ji[J_PORTS_EACH]`` ports to /dev/null in all, round robin, and keep them (a leak).

    A client whose descriptors reach ``job.ji[J_NOFILE]`` gets EMFILE from
    glibc (``srv.rm[RM_EMFILE]`` counts them).  When null's own entry table
    cannot grow, that instance is wedged (:func:`_wedge_null`): every later
    open through it fails, and ext2fs starts a new instance on the next lookup
    (a fresh space; the old one keeps its names).  Opens that fail for other
    reasons (a client's table) count as open() errors.  *tables* receives the
    clients' tables, ``held[i]`` the protids of instance *i* they hold, and
    ``per_instance[i]`` the opens served by the *i*-th instance this storm
    used.  Returns (status, opens, failed opens, instances used).
    """
    processes = job.ji[J_PROCESSES]
    nofile = job.ji[J_NOFILE]
    ys = live.ys
    status = _lookup(m, srv, live)
    if status == OK:
        status = _new_clients(m, w.base_q, tables, O_CLIENT0)
    if status != OK:
        return status, 0, 0, 0
    first = ys[Y_INSTANCES] - 1
    opened = failed = 0
    for i in range(job.ji[J_PORTS_EACH]):
        c = O_CLIENT0 + i % processes
        if not _may_open(m, w, srv, tables, c, nofile):
            continue
        if ys[Y_NULL_UP] == 0:
            status = _lookup(m, srv, live)
            if status != OK:
                return status, opened, failed, ys[Y_INSTANCES] - first
        _copy_servers(tables, live.tables)
        status = _open_one(m, tables, c)
        _copy_servers(live.tables, tables)
        cur = ys[Y_INSTANCES] - 1
        if status == OK:
            opened += 1
            ys[Y_HELD] += 1
            if cur < MAX_INSTANCES:  # the System refuses to start more instances than it keeps count of
                held[cur] += 1
            per_instance[min(cur - first, MAX_INSTANCES - 1)] += 1
            continue
        if status != KALLOC_MAP_FULL:
            return status, opened, failed, cur - first + 1
        failed += 1
        full = tables[O_NULL, T_NAMES] + m.gp[G_NULL_PER_OPEN] > m.its[tables[O_NULL, T_TIDX]] - 1
        if full and cur + 1 < MAX_INSTANCES:
            _wedge_null(srv, live)  # null's table is what could not grow; ext2fs starts another on the next open
    return OK, opened, failed, ys[Y_INSTANCES] - first


@kernel(entry=True)
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
        np.empty(0, dtype=np.int64),
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
        status, _ = _serve(m, eng, srv, state, t, None)
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


@kernel(entry=True)
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
