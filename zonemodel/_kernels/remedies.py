"""Numba kernels of the fork bomb under resource limits, with a second user beside the bomber.

Numba JIT-compiled; called by :func:`zonemodel.fork_bomb` when ``limits``
or ``other`` is given.  ``tests/reference/remedies.py`` has the same loop.

Each step: the background moves (as in the plain bomb) and the bomber (user A)
tries one fork.  Once the bomb has saturated the system (A's first fork that
is refused, fails or triggers the OOM killer), the other user (B) logs in and
starts one process per step beside the still-forking bomber, until B has
``other``.  Before the kernel allocates anything, a fork is refused by the
per-user process limit or by the per-user kernel-memory quota (what a
process costs the kernel, see :func:`_charge`).  With the OOM killer on, a
fork that finds a kernel resource within the margin of running out first
kills the bomber's newest process.  Statuses that kill the kernel (a panic,
a hang) end the run at once; an error (slab era) only fails that fork.
``acts[ACT_* + ACT_OTHER * user]`` counts, for A (user 0) and B (user 1),
the refusals by the process limit and the quota, the OOM kills (on A's
processes, whoever forked) and the kernel's own refusals.
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels.forkbomb import _background_exits, _background_step, _copy_machine, _record
from zonemodel._kernels.jit import in_chunks, kernel
from zonemodel._kernels.layout import (
    ACT_KERNEL,
    ACT_NPROC,
    ACT_OOM,
    ACT_OTHER,
    ACT_QUOTA,
    CHILD_LIMIT,
    EXHAUSTIBLE,
    G_CHAIN,
    G_COMPAT,
    G_ENTRY,
    G_MAX_CHILDREN,
    G_PAGE,
    G_RAM_PAGES,
    IPC_TASK_INIT,
    L_MARGIN_PPM,
    L_NPROC,
    L_OOM,
    L_QUOTA,
    LIMITED,
    M_END,
    M_MAP_PAGES,
    M_MAP_USED,
    M_NEXT,
    NO_MEMORY,
    OK,
    OTHER_DONE,
    OTHER_FAILED,
    P_ADDR,
    P_GENERATION,
    P_SIZE,
    P_TIDX,
    PMAP_CREATE,
    Q_CHAIN_PORTS,
    Q_MAP_ENTRIES,
    Q_NAMES,
    Q_PORTS,
    Q_PV,
    Q_SHADOW,
    Q_THREADS,
    R_KMAP_FREE,
    WHO_BACKGROUND,
    WHO_CHILD,
    WHO_OTHER,
    Z_MAP_ENTRIES,
    Z_MAPS,
    Z_OBJECTS,
    Z_PCB,
    Z_PMAP,
    Z_PORTS,
    Z_PV,
    Z_SPACES,
    Z_TASKS,
    Z_THREADS,
    ZONE_PANIC,
    Machine,
    Workload,
)
from zonemodel._kernels.process import _exit, _pages_in_use, _spawn


@kernel(refcount=False)
def _fatal(status: int) -> bool:
    """Statuses after which the kernel is dead (a panic or a hang)."""
    return status in (ZONE_PANIC, IPC_TASK_INIT, PMAP_CREATE, NO_MEMORY)


@kernel(refcount=False)
def _charge(m: Machine, q: np.ndarray, generation: int) -> int:
    """Kernel memory one process costs: its objects, its entry table and its page directory."""
    e = m.zones["elem_size"]
    gp, its = m.gp, m.its
    extra = q[Q_CHAIN_PORTS] * (generation - 1)
    names = q[Q_NAMES] + extra
    tidx = 0
    while its[tidx] <= names and tidx + 1 < its.shape[0]:
        tidx += 1
    ports = 1 + gp[G_COMPAT] + q[Q_THREADS] + q[Q_PORTS] + extra
    return (
        e[Z_TASKS] + e[Z_MAPS] + e[Z_PMAP] + gp[G_PAGE] + e[Z_SPACES]
        + q[Q_MAP_ENTRIES] * e[Z_MAP_ENTRIES] + ports * e[Z_PORTS]
        + q[Q_THREADS] * (e[Z_THREADS] + e[Z_PCB]) + its[tidx] * gp[G_ENTRY]
        + q[Q_SHADOW] * e[Z_OBJECTS] + q[Q_PV] * e[Z_PV]
    )  # fmt: skip


@kernel(refcount=False)
def _short(m: Machine, lim: np.ndarray) -> bool:
    """Whether a kernel resource is within the OOM margin of running out.

    Zone memory counts the zone map's free pages, the open chunk and every
    free-list element; ipc spaces count what the exhaustible zone may still
    hand out; kernel_map and RAM count free pages.
    """
    zones, ms, gp = m.zones, m.ms, m.gp
    margin = lim[L_MARGIN_PPM]
    page = gp[G_PAGE]
    total = ms[M_MAP_PAGES] * page
    free = (ms[M_MAP_PAGES] - ms[M_MAP_USED]) * page + ms[M_END] - ms[M_NEXT]
    for z in range(zones.shape[0]):
        free += zones[z].free * zones[z].elem_size
    if free * 1_000_000 < margin * total:
        return True
    sp = zones[Z_SPACES]
    if sp.flags & EXHAUSTIBLE:
        cap = sp.max_size // sp.elem_size
        left = (sp.max_size - sp.cur_size) // sp.elem_size + sp.free
        if left * 1_000_000 < margin * cap or left < 2:
            return True
    if m.res[R_KMAP_FREE] < 16 * page:
        return True
    return (gp[G_RAM_PAGES] - _pages_in_use(m)) * 1_000_000 < margin * gp[G_RAM_PAGES]


@kernel(refcount=False)
def _kill_newest(m: Machine, q: np.ndarray, procs: np.ndarray, count: int) -> int:
    """The OOM killer kills the newest of *count* processes recorded in *procs*; return its charge."""
    p = procs[count - 1]
    _exit(m, q, p[P_GENERATION], p[P_TIDX], p[P_ADDR])
    return _charge(m, q, p[P_GENERATION])


@kernel(entry=True)
def _bomb_limited(
    m: Machine, w: Workload, state: np.ndarray, lim: np.ndarray, other: int, acts: np.ndarray
) -> tuple[int, int, int, int, int]:
    """Fork under limits beside another user; return (A's processes, status, who, background, B's processes)."""
    most = m.gp[G_MAX_CHILDREN]
    rec = np.empty(P_SIZE, dtype=np.int64)
    a_rec = np.empty((most + 1, P_SIZE), dtype=np.int64)
    bg = np.empty((most + 1, P_SIZE), dtype=np.int64)
    a_count = 0
    a_charge = 0
    b_count = 0
    b_charge = 0
    nbg = 0
    saturated = False
    for _ in range(most):
        status, nbg = _background_step(m, w, state, bg, nbg)
        if status != OK:
            if _fatal(status):
                return a_count, status, WHO_BACKGROUND, nbg, b_count
            nbg = _background_exits(m, w, state, bg, nbg)  # an error only fails that start
        # The bomber forks.
        generation = a_count + 1 if m.gp[G_CHAIN] else 1
        cost = _charge(m, w.child_q, generation)
        blocked = False
        if lim[L_NPROC] > 0 and a_count >= lim[L_NPROC]:
            acts[ACT_NPROC] += 1
            blocked = True
        elif lim[L_QUOTA] > 0 and a_charge + cost > lim[L_QUOTA]:
            acts[ACT_QUOTA] += 1
            blocked = True
        elif lim[L_OOM] and a_count > 0 and _short(m, lim):
            a_charge -= _kill_newest(m, w.child_q, a_rec, a_count)
            a_count -= 1
            acts[ACT_OOM] += 1
            blocked = True
        else:
            status = _spawn(m, w.child_q, generation, rec)
            if status != OK:
                if _fatal(status):
                    return a_count, status, WHO_CHILD, nbg, b_count
                acts[ACT_KERNEL] += 1
                blocked = True
            else:
                a_rec[a_count, P_TIDX] = rec[P_TIDX]
                a_rec[a_count, P_ADDR] = rec[P_ADDR]
                a_rec[a_count, P_GENERATION] = generation
                a_count += 1
                a_charge += cost
        if other == 0:
            if blocked:
                return a_count, LIMITED, WHO_CHILD, nbg, b_count
            continue
        saturated = saturated or blocked
        if not saturated:
            continue
        # The other user starts one of its processes.
        cost = _charge(m, w.base_q, 1)
        if lim[L_NPROC] > 0 and b_count >= lim[L_NPROC]:
            acts[ACT_OTHER + ACT_NPROC] += 1
            return a_count, OTHER_FAILED, WHO_CHILD, nbg, b_count
        if lim[L_QUOTA] > 0 and b_charge + cost > lim[L_QUOTA]:
            acts[ACT_OTHER + ACT_QUOTA] += 1
            return a_count, OTHER_FAILED, WHO_CHILD, nbg, b_count
        if lim[L_OOM] and a_count > 0 and _short(m, lim):
            a_charge -= _kill_newest(m, w.child_q, a_rec, a_count)
            a_count -= 1
            acts[ACT_OOM] += 1
        status = _spawn(m, w.base_q, 1, rec)
        if status != OK:
            if _fatal(status):
                return a_count, status, WHO_OTHER, nbg, b_count
            acts[ACT_OTHER + ACT_KERNEL] += 1
            return a_count, OTHER_FAILED, WHO_OTHER, nbg, b_count
        b_count += 1
        b_charge += cost
        if b_count == other:
            return a_count, OTHER_DONE, WHO_CHILD, nbg, b_count
    return a_count, CHILD_LIMIT, WHO_CHILD, nbg, b_count


def _bomb_limited_many(
    m0: Machine, w: Workload, states: np.ndarray, lim: np.ndarray, other: int, rows: np.ndarray, acts: np.ndarray
) -> None:
    """Independent limited bombs into *rows* (ROW_DTYPE); ``acts[r]`` as in :func:`_bomb_limited`."""
    in_chunks(lambda lo, hi: _bomb_limited_chunk(m0, w, states, lim, other, rows, acts, lo, hi), states.shape[0])


@kernel(entry=True)
def _bomb_limited_chunk(
    m0: Machine, w: Workload, states: np.ndarray, lim: np.ndarray, other: int, rows: np.ndarray, acts: np.ndarray,
    lo: int, hi: int,
) -> None:  # fmt: skip
    """Replicates *lo* to *hi* (excluded) of :func:`_bomb_limited_many`."""
    for r in range(lo, hi):
        m = _copy_machine(m0)
        a, status, who, nbg, b = _bomb_limited(m, w, states[r].copy(), lim, other, acts[r])
        _record(rows, r, m, a, status, who, nbg)
        rows[r].other = b
