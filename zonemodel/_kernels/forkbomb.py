"""Numba kernels of the fork bomb: boot the system's tasks, then fork until something gives.

Numba JIT-compiled; called by :func:`zonemodel.fork_bomb` and
:class:`zonemodel.System`.  ``tests/reference.py`` has the same loop in
plain Python.

Each step of the bomb first lets the background move (with probability
``fp[F_BG_RATE]`` a short-lived background task starts; each running one
exits with probability ``fp[F_BG_EXIT]``, in order of creation), then forks
one child.  Random numbers come from the replicate's own xoshiro256** state.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import prange

from zonemodel._kernels import process as P
from zonemodel._kernels import zalloc as _zalloc
from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import Z_PCB, Z_PORTS, Z_SPACES, Z_THREADS
from zonemodel._kernels.rng import _uniform

F_BG_RATE: Final = 0
F_BG_EXIT: Final = 1

WHO_CHILD: Final = 0
WHO_BACKGROUND: Final = 1


@kernel
def _boot_tasks(
    zones: np.ndarray,
    ms: np.ndarray,
    res: np.ndarray,
    gp: np.ndarray,
    its: np.ndarray,
    base_q: np.ndarray,
    kernel_spaces: int,
    kernel_threads: int,
    tasks: int,
    boot_ports: int,
) -> int:
    """The kernel's own spaces and threads, the system's tasks and the servers' ports."""
    if _zalloc._zalloc_n(zones, ms, Z_SPACES, kernel_spaces) != P.OK:
        return P.ZONE_PANIC
    for _ in range(kernel_threads):
        if _zalloc._zalloc(zones, ms, Z_THREADS) != P.OK:
            return P.ZONE_PANIC
        if _zalloc._zalloc(zones, ms, Z_PCB) != P.OK:
            return P.ZONE_PANIC
    rec = np.empty(2, dtype=np.int64)
    for _ in range(tasks):
        status = P._spawn(zones, ms, res, gp, its, base_q, 1, rec)
        if status != P.OK:
            return status
    if _zalloc._zalloc_n(zones, ms, Z_PORTS, boot_ports) != P.OK:
        return P.ZONE_PANIC
    return P.OK


@kernel
def _background_exits(
    zones: np.ndarray,
    res: np.ndarray,
    gp: np.ndarray,
    its: np.ndarray,
    base_q: np.ndarray,
    fp: np.ndarray,
    state: np.ndarray,
    bg: np.ndarray,
    nbg: int,
) -> int:
    """Each running background task exits with probability ``fp[F_BG_EXIT]``, in order; return how many run."""
    i = 0
    while i < nbg:
        if _uniform(state) < fp[F_BG_EXIT]:
            P._exit(zones, res, gp, its, base_q, 1, bg[i, 0], bg[i, 1])
            for j in range(i, nbg - 1):
                bg[j, 0] = bg[j + 1, 0]
                bg[j, 1] = bg[j + 1, 1]
            nbg -= 1
        else:
            i += 1
    return nbg


@kernel
def _bomb(
    zones: np.ndarray,
    ms: np.ndarray,
    res: np.ndarray,
    gp: np.ndarray,
    its: np.ndarray,
    child_q: np.ndarray,
    base_q: np.ndarray,
    fp: np.ndarray,
    state: np.ndarray,
    child_tidx: np.ndarray,
    bg_tidx: np.ndarray,
) -> tuple[int, int, int, int]:
    """Fork children until a limit; return (children, status, who hit it, background tasks alive).

    ``child_tidx`` and ``bg_tidx`` (shape (n, 2)) receive each process's entry-table size index and
    kalloc_map address; ``child_tidx`` may have no rows when nobody needs them.
    """
    rec = np.empty(2, dtype=np.int64)
    count = 0
    nbg = 0
    for _ in range(gp[P.G_MAX_CHILDREN]):
        if _uniform(state) < fp[F_BG_RATE]:
            status = P._spawn(zones, ms, res, gp, its, base_q, 1, rec)
            if status != P.OK:
                return count, status, WHO_BACKGROUND, nbg
            bg_tidx[nbg, 0] = rec[0]
            bg_tidx[nbg, 1] = rec[1]
            nbg += 1
        nbg = _background_exits(zones, res, gp, its, base_q, fp, state, bg_tidx, nbg)
        generation = count + 1 if gp[P.G_CHAIN] else 1
        status = P._spawn(zones, ms, res, gp, its, child_q, generation, rec)
        if child_tidx.shape[0] > count:
            child_tidx[count, 0] = rec[0]
            child_tidx[count, 1] = rec[1]
        if status != P.OK:
            return count, status, WHO_CHILD, nbg
        count += 1
    return count, P.CHILD_LIMIT, WHO_CHILD, nbg


@kernel(parallel=True)
def _bomb_many(
    zones0: np.ndarray,
    ms0: np.ndarray,
    res0: np.ndarray,
    gp: np.ndarray,
    its: np.ndarray,
    child_q: np.ndarray,
    base_q: np.ndarray,
    fp: np.ndarray,
    states: np.ndarray,
    out: np.ndarray,
) -> None:
    """Independent bombs from the same booted state, one per row of *states*.

    ``out[r]`` receives (children, status, who, background alive, panic zone).
    Each replicate owns its copies of the state and its row of *out*, so the
    result does not depend on how prange schedules the work.
    """
    for r in prange(states.shape[0]):
        zones = zones0.copy()
        ms = ms0.copy()
        res = res0.copy()
        state = states[r].copy()
        child_tidx = np.empty((0, 2), dtype=np.int64)  # no records needed: nothing is killed afterwards
        bg_tidx = np.empty((gp[P.G_MAX_CHILDREN] + 1, 2), dtype=np.int64)
        count, status, who, nbg = _bomb(zones, ms, res, gp, its, child_q, base_q, fp, state, child_tidx, bg_tidx)
        out[r, 0] = count
        out[r, 1] = status
        out[r, 2] = who
        out[r, 3] = nbg
        out[r, 4] = ms[_zalloc.M_PANIC_ZONE]
