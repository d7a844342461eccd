"""Numba kernels of the fork bomb: boot the system's tasks, then fork until something gives.

Numba JIT-compiled; called by :func:`zonemodel.fork_bomb` and
:class:`zonemodel.System`.  ``tests/reference/forkbomb.py`` has the same
loop in plain Python.

Each step of the bomb first lets the background move (:func:`_background_step`:
with probability ``fp[F_BG_RATE]`` a short-lived background task starts; each
running one exits with probability ``fp[F_BG_EXIT]``, in order of creation),
then forks one child.  Random numbers come from the replicate's own
xoshiro256** state.
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels.jit import in_chunks, kernel
from zonemodel._kernels.layout import (
    CHILD_LIMIT,
    F_BG_EXIT,
    F_BG_RATE,
    G_CHAIN,
    G_ENTRY,
    G_MAX_CHILDREN,
    M_MAP_USED,
    M_PANIC_ZONE,
    OK,
    P_ADDR,
    P_SIZE,
    P_TIDX,
    R_SERVER_ADDR,
    WHO_BACKGROUND,
    WHO_CHILD,
    Z_PCB,
    Z_PORTS,
    Z_SPACES,
    Z_THREADS,
    ZONE_PANIC,
    Machine,
    Workload,
)
from zonemodel._kernels.process import _exit, _kalloc, _spawn
from zonemodel._kernels.rng import _uniform
from zonemodel._kernels.zalloc import _zalloc, _zalloc_n


@kernel
def _copy_machine(m: Machine) -> Machine:
    """A replicate's own copy of a booted machine (the read-only parameters are shared)."""
    return Machine(m.zones.copy(), m.ms.copy(), m.res.copy(), m.gp, m.its)


@kernel(entry=True)
def _boot_tasks(
    m: Machine, base_q: np.ndarray, kernel_spaces: int, kernel_threads: int, tasks: int, ports: int, rec: np.ndarray
) -> int:
    """The kernel's own spaces and threads, *tasks* system tasks, then the servers' *ports*.

    ``rec`` (``P_*``) is scratch, given by the caller: a kernel that makes no
    array does not compile numba's ``np.empty``.
    """
    if _zalloc_n(m.zones, m.ms, Z_SPACES, kernel_spaces) != OK:
        return ZONE_PANIC
    for _ in range(kernel_threads):
        for z in (Z_THREADS, Z_PCB):
            if _zalloc(m.zones, m.ms, z) != OK:
                return ZONE_PANIC
    for _ in range(tasks):
        status = _spawn(m, base_q, 1, rec)
        if status != OK:
            return status
    if _zalloc_n(m.zones, m.ms, Z_PORTS, ports) != OK:
        return ZONE_PANIC
    return OK


@kernel(entry=True)
def _boot(
    m: Machine, base_q: np.ndarray, kernel_spaces: int, kernel_threads: int, tasks: int, ports: int, rec: np.ndarray
) -> int:
    """Boot the system: the servers' pooled IPC table, then :func:`_boot_tasks` (``rec`` is its scratch)."""
    status, addr = _kalloc(m, m.its[0] * m.gp[G_ENTRY])
    m.res[R_SERVER_ADDR] = addr
    if status != OK:
        return status
    return _boot_tasks(m, base_q, kernel_spaces, kernel_threads, tasks, ports, rec)


@kernel(refcount=False)
def _background_exits(m: Machine, w: Workload, state: np.ndarray, bg: np.ndarray, nbg: int) -> int:
    """Each running background task exits with probability ``fp[F_BG_EXIT]``, in order; return how many run."""
    i = 0
    while i < nbg:
        if _uniform(state) < w.fp[F_BG_EXIT]:
            _exit(m, w.base_q, 1, bg[i, P_TIDX], bg[i, P_ADDR])
            for j in range(i, nbg - 1):
                for c in range(P_SIZE):
                    bg[j, c] = bg[j + 1, c]
            nbg -= 1
        else:
            i += 1
    return nbg


@kernel(refcount=False)
def _background_step(m: Machine, w: Workload, state: np.ndarray, bg: np.ndarray, nbg: int) -> tuple[int, int]:
    """One step of the background: maybe start a task (recorded in ``bg``), then let tasks exit.

    Returns (status of the start, tasks running).  When the start fails, no
    task exits: the caller decides whether the run goes on (it then calls
    :func:`_background_exits` itself).
    """
    if _uniform(state) < w.fp[F_BG_RATE]:
        status = _spawn(m, w.base_q, 1, bg[nbg])
        if status != OK:
            return status, nbg
        nbg += 1
    return OK, _background_exits(m, w, state, bg, nbg)


@kernel(refcount=False, entry=True)
def _bomb(
    m: Machine, w: Workload, state: np.ndarray, children: np.ndarray, bg: np.ndarray, rec: np.ndarray
) -> tuple[int, int, int, int]:
    """Fork children until a limit; return (children, status, who hit it, background tasks alive).

    ``children`` and ``bg`` (rows of ``P_*``) receive each process's entry-table
    size index and kalloc_map address; ``children`` may have no rows when
    nobody needs them; ``rec`` (``P_*``) is scratch.  Compiled without
    reference counting, like every kernel it calls: the caller owns the arrays.
    """
    count = 0
    nbg = 0
    for _ in range(m.gp[G_MAX_CHILDREN]):
        status, nbg = _background_step(m, w, state, bg, nbg)
        if status != OK:
            return count, status, WHO_BACKGROUND, nbg
        generation = count + 1 if m.gp[G_CHAIN] else 1
        status = _spawn(m, w.child_q, generation, rec)
        if children.shape[0] > count:
            for c in range(P_SIZE):
                children[count, c] = rec[c]
        if status != OK:
            return count, status, WHO_CHILD, nbg
        count += 1
    return count, CHILD_LIMIT, WHO_CHILD, nbg


@kernel(inline=True)
def _record(rows: np.ndarray, r: int, m: Machine, count: int, status: int, who: int, background: int) -> None:
    """Row *r* of a fork bomb's replicate rows: how it ended, and the zone a panic named."""
    row = rows[r]
    row.count = count
    row.status = status
    row.who = who
    row.background = background
    row.panic_zone = m.ms[M_PANIC_ZONE]
    row.zone_map_pages = m.ms[M_MAP_USED]


def _bomb_many(m0: Machine, w: Workload, states: np.ndarray, rows: np.ndarray) -> None:
    """Independent bombs from the same booted machine, one per row of *states*, into *rows* (ROW_DTYPE).

    Each replicate owns its copy of the machine and its row, so the result
    does not depend on how :func:`~zonemodel._kernels.jit.in_chunks` shares
    the replicates among threads.
    """
    in_chunks(lambda lo, hi: _bomb_chunk(m0, w, states, rows, lo, hi), states.shape[0])


@kernel(entry=True)
def _bomb_chunk(m0: Machine, w: Workload, states: np.ndarray, rows: np.ndarray, lo: int, hi: int) -> None:
    """Replicates *lo* to *hi* (excluded) of :func:`_bomb_many`."""
    for r in range(lo, hi):
        m = _copy_machine(m0)
        children = np.empty((0, P_SIZE), dtype=np.int64)  # no records needed: nothing is killed afterwards
        bg = np.empty((m.gp[G_MAX_CHILDREN] + 1, P_SIZE), dtype=np.int64)
        rec = np.empty(P_SIZE, dtype=np.int64)
        count, status, who, nbg = _bomb(m, w, states[r].copy(), children, bg, rec)
        _record(rows, r, m, count, status, who, nbg)
