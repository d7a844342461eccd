"""Numba kernels for tasks: what creating and destroying one Hurd process costs the kernel.

Numba JIT-compiled; called by the fork-bomb kernels.  ``tests/reference.py``
has the same model written with Python objects.

A process is described by a row of ``int64`` parameters (the ``Q_*``
indices) and consumes, in this order: a task, a vm_map and a pmap, a page
directory from kernel_map, its map entries, an IPC space (exhaustible in the
zalloc era) with its first entry table, the task port (and the compat notify
port), its threads with their pcbs and thread ports, an entry table big
enough for its names (growing through the ``ipc_table_fill`` sequence), its
new ports, names in the servers' spaces, shadow objects and pv entries, and
resident physical pages.  Global resources are the ``R_*`` slots of ``res``
and the global parameters the ``G_*`` slots of ``gp``.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from zonemodel import _zalloc
from zonemodel._jit import kernel
from zonemodel._zalloc import _zalloc as zalloc
from zonemodel._zalloc import _zalloc_n as zalloc_n
from zonemodel._zalloc import _zfree as zfree
from zonemodel._zalloc import _zfree_n as zfree_n
from zonemodel.zones import (
    Z_KALLOC0,
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

# Per-process parameters (a row of int64).
Q_THREADS: Final = 0
Q_PORTS: Final = 1  # new kernel ports besides the task, thread and compat ports
Q_NAMES: Final = 2  # names in the process's own IPC space
Q_MAP_ENTRIES: Final = 3
Q_SHADOW: Final = 4
Q_PV: Final = 5
Q_RESIDENT: Final = 6  # resident physical pages besides the page directory
Q_SERVER_NAMES: Final = 7  # names the servers' spaces gain for this process
Q_CHAIN_PORTS: Final = 8  # extra ports (and names) per generation of a fork chain
Q_SIZE: Final = 9

# Global parameters (int64).
G_PAGE: Final = 0
G_COMPAT: Final = 1  # MACH_IPC_COMPAT: one more port per task
G_ENTRY: Final = 2  # bytes per IPC entry
G_RAM_PAGES: Final = 3
G_BASE_PAGES: Final = 4  # physical pages in use after boot besides zone pages
G_KALLOC_MAP: Final = 5  # bytes
G_MAX_CHILDREN: Final = 6
G_CHAIN: Final = 7
G_SIZE: Final = 8

# Global resources (int64, mutated).
R_KMAP_FREE: Final = 0  # bytes of kernel_map left
R_KALLOC_FREE: Final = 1  # bytes of kalloc_map left
R_PROC_PAGES: Final = 2  # physical pages held by processes (page directories, resident pages)
R_SERVER_NAMES: Final = 3  # names in the servers' spaces (pooled)
R_SERVER_TIDX: Final = 4  # size index of the pooled servers' table
R_SIZE: Final = 5

# Status codes.
OK: Final = 0
ZONE_PANIC: Final = 1  # panic: zalloc: zone <name> exhausted
IPC_TASK_INIT: Final = 2  # panic: ipc_task_init (ipc spaces zone refused)
PMAP_CREATE: Final = 3  # panic: pmap_create (no kernel_map for a page directory)
KALLOC_MAP_FULL: Final = 4  # an entry table could not grow: the RPC (and the fork) fails
NO_MEMORY: Final = 5  # no free physical page: the forking thread waits for ever
CHILD_LIMIT: Final = 6  # the experiment's own cap on children was reached
NO_BOOT: Final = 7  # the kernel does not boot (see zonemodel.boot)


@kernel
def _kalloc(zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, nbytes: int) -> int:
    """Kalloc for IPC tables: a kalloc zone below a page, kalloc_map from a page up."""
    if nbytes < gp[G_PAGE]:
        z = Z_KALLOC0
        size = 16
        while size < nbytes:
            size <<= 1
            z += 1
        status = zalloc(zones, ms, z)
        return ZONE_PANIC if status == _zalloc.PANIC else OK
    rounded = -(-nbytes // gp[G_PAGE]) * gp[G_PAGE]
    if rounded > res[R_KALLOC_FREE]:
        return KALLOC_MAP_FULL
    res[R_KALLOC_FREE] -= rounded
    return OK


@kernel
def _kfree(zones: np.ndarray, res: np.ndarray, gp: np.ndarray, nbytes: int) -> None:
    if nbytes < gp[G_PAGE]:
        z = Z_KALLOC0
        size = 16
        while size < nbytes:
            size <<= 1
            z += 1
        zfree(zones, z)
    else:
        res[R_KALLOC_FREE] += -(-nbytes // gp[G_PAGE]) * gp[G_PAGE]


@kernel
def _grow_table(
    zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, its: np.ndarray, tidx: int, names: int
) -> tuple[int, int]:
    """Grow a table at size index *tidx* until it holds *names* (index 0 is never a name)."""
    entry = gp[G_ENTRY]
    while its[tidx] <= names and tidx + 1 < its.shape[0]:
        status = _kalloc(zones, ms, res, gp, its[tidx + 1] * entry)
        if status != OK:
            return status, tidx
        _kfree(zones, res, gp, its[tidx] * entry)
        tidx += 1
    return OK, tidx


@kernel
def _spawn(
    zones: np.ndarray,
    ms: np.ndarray,
    res: np.ndarray,
    gp: np.ndarray,
    its: np.ndarray,
    q: np.ndarray,
    generation: int,
    rec: np.ndarray,
) -> int:
    """Create one process described by *q*; store its table index in ``rec[0]``."""
    rec[0] = -1
    resident = 1 + q[Q_RESIDENT]
    zone_pages = ms[_zalloc.M_MAP_USED]
    kalloc_pages = (gp[G_KALLOC_MAP] - res[R_KALLOC_FREE]) // gp[G_PAGE]
    if gp[G_BASE_PAGES] + zone_pages + kalloc_pages + res[R_PROC_PAGES] + resident > gp[G_RAM_PAGES]:
        return NO_MEMORY
    if zalloc(zones, ms, Z_TASKS) != OK:
        return ZONE_PANIC
    if zalloc(zones, ms, Z_MAPS) != OK:
        return ZONE_PANIC
    if zalloc(zones, ms, Z_PMAP) != OK:
        return ZONE_PANIC
    if res[R_KMAP_FREE] < gp[G_PAGE]:
        return PMAP_CREATE
    res[R_KMAP_FREE] -= gp[G_PAGE]
    res[R_PROC_PAGES] += 1
    if zalloc_n(zones, ms, Z_MAP_ENTRIES, q[Q_MAP_ENTRIES]) != OK:
        return ZONE_PANIC
    status = zalloc(zones, ms, Z_SPACES)
    if status == _zalloc.EXHAUSTED:
        return IPC_TASK_INIT
    if status != OK:
        return ZONE_PANIC
    status = _kalloc(zones, ms, res, gp, its[0] * gp[G_ENTRY])
    if status != OK:
        return status
    rec[0] = 0
    if zalloc_n(zones, ms, Z_PORTS, 1 + gp[G_COMPAT]) != OK:
        return ZONE_PANIC
    for _ in range(q[Q_THREADS]):
        if zalloc(zones, ms, Z_THREADS) != OK:
            return ZONE_PANIC
        if zalloc(zones, ms, Z_PCB) != OK:
            return ZONE_PANIC
        if zalloc(zones, ms, Z_PORTS) != OK:
            return ZONE_PANIC
    extra = q[Q_CHAIN_PORTS] * (generation - 1)
    status, tidx = _grow_table(zones, ms, res, gp, its, 0, q[Q_NAMES] + extra)
    rec[0] = tidx
    if status != OK:
        return status
    if zalloc_n(zones, ms, Z_PORTS, q[Q_PORTS] + extra) != OK:
        return ZONE_PANIC
    res[R_SERVER_NAMES] += q[Q_SERVER_NAMES]
    status, stidx = _grow_table(zones, ms, res, gp, its, res[R_SERVER_TIDX], res[R_SERVER_NAMES])
    res[R_SERVER_TIDX] = stidx
    if status != OK:
        return status
    if zalloc_n(zones, ms, Z_OBJECTS, q[Q_SHADOW]) != OK:
        return ZONE_PANIC
    if zalloc_n(zones, ms, Z_PV, q[Q_PV]) != OK:
        return ZONE_PANIC
    res[R_PROC_PAGES] += q[Q_RESIDENT]
    return OK


@kernel
def _exit(
    zones: np.ndarray, res: np.ndarray, gp: np.ndarray, its: np.ndarray, q: np.ndarray, generation: int, tidx: int
) -> None:
    """Destroy a process created by a successful :func:`_spawn`: everything goes back to free lists."""
    extra = q[Q_CHAIN_PORTS] * (generation - 1)
    zfree(zones, Z_TASKS)
    zfree(zones, Z_MAPS)
    zfree(zones, Z_PMAP)
    res[R_KMAP_FREE] += gp[G_PAGE]
    zfree_n(zones, Z_MAP_ENTRIES, q[Q_MAP_ENTRIES])
    zfree(zones, Z_SPACES)
    _kfree(zones, res, gp, its[tidx] * gp[G_ENTRY])
    zfree_n(zones, Z_PORTS, 1 + gp[G_COMPAT] + q[Q_PORTS] + extra)
    for _ in range(q[Q_THREADS]):
        zfree(zones, Z_THREADS)
        zfree(zones, Z_PCB)
        zfree(zones, Z_PORTS)
    res[R_SERVER_NAMES] -= q[Q_SERVER_NAMES]  # the servers' table keeps its size
    zfree_n(zones, Z_OBJECTS, q[Q_SHADOW])
    zfree_n(zones, Z_PV, q[Q_PV])
    res[R_PROC_PAGES] -= 1 + q[Q_RESIDENT]
