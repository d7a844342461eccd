"""Numba kernels of the fork bomb under resource limits, with a second user beside the bomber.

Numba JIT-compiled; called by :func:`zonemodel.fork_bomb` when ``limits``
or ``other`` is given.  ``tests/reference.py`` has the same loop in Python.

Each step: the background moves (as in the plain bomb) and the bomber (user A)
tries one fork.  Once the bomb has saturated the system (A's first fork that
is refused, fails or triggers the OOM killer), the other user (B) logs in and
starts one process per step beside the still-forking bomber, until B has
``other``.  Before the kernel allocates anything, a fork
is refused by the per-user process limit or by the per-user kernel-memory
quota (what a process costs the kernel, see :func:`_charge`).  With the OOM
killer on, a fork that finds a kernel resource within the margin of running
out first kills the bomber's newest process.  Statuses that kill the kernel
(a panic, a hang) end the run at once; an error (slab era) only fails that
fork.  ``acts[4 * user + k]`` counts, for A (user 0) and B (user 1), the
refusals by the process limit (k=0) and the quota (k=1), the OOM kills
(k=2, on A's processes, whoever forked) and the kernel's own refusals (k=3).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import prange

from zonemodel._kernels import process as P
from zonemodel._kernels import zalloc as _zalloc
from zonemodel._kernels.forkbomb import _background_exits
from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import (
    EXHAUSTIBLE,
    L_MARGIN_PPM,
    L_NPROC,
    L_OOM,
    L_QUOTA,
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
)
from zonemodel._kernels.rng import _uniform

OTHER_DONE: Final = 0  # the other user's workload completed (P.OK)
OTHER_FAILED: Final = 11  # the other user's fork was refused or failed; the kernel is alive
LIMITED: Final = 12  # no other user: the bomber's fork was refused by a remedy


@kernel
def _fatal(status: int) -> bool:
    """Statuses after which the kernel is dead (a panic or a hang)."""
    return status == P.ZONE_PANIC or status == P.IPC_TASK_INIT or status == P.PMAP_CREATE or status == P.NO_MEMORY


@kernel
def _charge(zones: np.ndarray, its: np.ndarray, gp: np.ndarray, q: np.ndarray, generation: int) -> int:
    """Kernel memory one process costs: its objects, its entry table and its page directory."""
    e = zones["elem_size"]
    extra = q[P.Q_CHAIN_PORTS] * (generation - 1)
    names = q[P.Q_NAMES] + extra
    tidx = 0
    while its[tidx] <= names and tidx + 1 < its.shape[0]:
        tidx += 1
    ports = 1 + gp[P.G_COMPAT] + q[P.Q_THREADS] + q[P.Q_PORTS] + extra
    return (
        e[Z_TASKS] + e[Z_MAPS] + e[Z_PMAP] + gp[P.G_PAGE] + e[Z_SPACES]
        + q[P.Q_MAP_ENTRIES] * e[Z_MAP_ENTRIES] + ports * e[Z_PORTS]
        + q[P.Q_THREADS] * (e[Z_THREADS] + e[Z_PCB]) + its[tidx] * gp[P.G_ENTRY]
        + q[P.Q_SHADOW] * e[Z_OBJECTS] + q[P.Q_PV] * e[Z_PV]
    )  # fmt: skip


@kernel
def _short(zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, lim: np.ndarray) -> bool:
    """Whether a kernel resource is within the OOM margin of running out.

    Zone memory counts the zone map's free pages, the open chunk and every
    free-list element; ipc spaces count what the exhaustible zone may still
    hand out; kernel_map and RAM count free pages.
    """
    margin = lim[L_MARGIN_PPM]
    page = gp[P.G_PAGE]
    total = ms[_zalloc.M_MAP_PAGES] * page
    free = (ms[_zalloc.M_MAP_PAGES] - ms[_zalloc.M_MAP_USED]) * page + ms[_zalloc.M_END] - ms[_zalloc.M_NEXT]
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
    if res[P.R_KMAP_FREE] < 16 * page:
        return True
    return (gp[P.G_RAM_PAGES] - P._pages_in_use(ms, res, gp)) * 1_000_000 < margin * gp[P.G_RAM_PAGES]


@kernel
def _bomb_limited(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, its: np.ndarray,
    child_q: np.ndarray, base_q: np.ndarray, fp: np.ndarray, state: np.ndarray, lim: np.ndarray,
    other: int, acts: np.ndarray,
) -> tuple[int, int, int, int, int]:  # fmt: skip
    """Fork under limits beside another user; return (A's processes, status, who, background, B's processes)."""
    most = gp[P.G_MAX_CHILDREN]
    rec = np.empty(2, dtype=np.int64)
    a_rec = np.empty((most + 1, 3), dtype=np.int64)  # table index, address, generation
    bg = np.empty((most + 1, 2), dtype=np.int64)
    a_count = 0
    a_charge = 0
    b_count = 0
    b_charge = 0
    nbg = 0
    saturated = False
    for _ in range(most):
        if _uniform(state) < fp[0]:
            status = P._spawn(zones, ms, res, gp, its, base_q, 1, rec)
            if status != P.OK and _fatal(status):
                return a_count, status, 1, nbg, b_count
            if status == P.OK:
                bg[nbg, 0] = rec[0]
                bg[nbg, 1] = rec[1]
                nbg += 1
        nbg = _background_exits(zones, res, gp, its, base_q, fp, state, bg, nbg)
        # The bomber forks.
        generation = a_count + 1 if gp[P.G_CHAIN] else 1
        cost = _charge(zones, its, gp, child_q, generation)
        blocked = False
        if lim[L_NPROC] > 0 and a_count >= lim[L_NPROC]:
            acts[0] += 1
            blocked = True
        elif lim[L_QUOTA] > 0 and a_charge + cost > lim[L_QUOTA]:
            acts[1] += 1
            blocked = True
        elif lim[L_OOM] and a_count > 0 and _short(zones, ms, res, gp, lim):
            a_count -= 1
            P._exit(zones, res, gp, its, child_q, a_rec[a_count, 2], a_rec[a_count, 0], a_rec[a_count, 1])
            a_charge -= _charge(zones, its, gp, child_q, a_rec[a_count, 2])
            acts[2] += 1
            blocked = True
        else:
            status = P._spawn(zones, ms, res, gp, its, child_q, generation, rec)
            if status != P.OK:
                if _fatal(status):
                    return a_count, status, 0, nbg, b_count
                acts[3] += 1
                blocked = True
            else:
                a_rec[a_count, 0] = rec[0]
                a_rec[a_count, 1] = rec[1]
                a_rec[a_count, 2] = generation
                a_count += 1
                a_charge += cost
        if other == 0:
            if blocked:
                return a_count, LIMITED, 0, nbg, b_count
            continue
        saturated = saturated or blocked
        if not saturated:
            continue
        # The other user starts one of its processes.
        cost = _charge(zones, its, gp, base_q, 1)
        if lim[L_NPROC] > 0 and b_count >= lim[L_NPROC]:
            acts[4] += 1
            return a_count, OTHER_FAILED, 0, nbg, b_count
        if lim[L_QUOTA] > 0 and b_charge + cost > lim[L_QUOTA]:
            acts[5] += 1
            return a_count, OTHER_FAILED, 0, nbg, b_count
        if lim[L_OOM] and a_count > 0 and _short(zones, ms, res, gp, lim):
            a_count -= 1
            P._exit(zones, res, gp, its, child_q, a_rec[a_count, 2], a_rec[a_count, 0], a_rec[a_count, 1])
            a_charge -= _charge(zones, its, gp, child_q, a_rec[a_count, 2])
            acts[2] += 1
        status = P._spawn(zones, ms, res, gp, its, base_q, 1, rec)
        if status != P.OK:
            if _fatal(status):
                return a_count, status, 2, nbg, b_count
            acts[7] += 1
            return a_count, OTHER_FAILED, 2, nbg, b_count
        b_count += 1
        b_charge += cost
        if b_count == other:
            return a_count, OTHER_DONE, 0, nbg, b_count
    return a_count, P.CHILD_LIMIT, 0, nbg, b_count


@kernel(parallel=True)
def _bomb_limited_many(
    zones0: np.ndarray, ms0: np.ndarray, res0: np.ndarray, gp: np.ndarray, its: np.ndarray,
    child_q: np.ndarray, base_q: np.ndarray, fp: np.ndarray, states: np.ndarray, lim: np.ndarray,
    other: int, out: np.ndarray, acts: np.ndarray,
) -> None:  # fmt: skip
    """Independent limited bombs; ``out[r]`` = (A, status, who, background, panic zone, B)."""
    for r in prange(states.shape[0]):
        zones = zones0.copy()
        ms = ms0.copy()
        res = res0.copy()
        a, status, who, nbg, b = _bomb_limited(
            zones, ms, res, gp, its, child_q, base_q, fp, states[r].copy(), lim, other, acts[r]
        )
        out[r, 0] = a
        out[r, 1] = status
        out[r, 2] = who
        out[r, 3] = nbg
        out[r, 4] = ms[_zalloc.M_PANIC_ZONE]
        out[r, 5] = b
