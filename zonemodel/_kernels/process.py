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

from zonemodel._kernels import zalloc as _zalloc
from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import (
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
from zonemodel._kernels.zalloc import _zalloc as zalloc
from zonemodel._kernels.zalloc import _zalloc_n as zalloc_n
from zonemodel._kernels.zalloc import _zfree as zfree
from zonemodel._kernels.zalloc import _zfree_n as zfree_n

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
G_SLAB: Final = 8  # 1: slab era, where allocation failures return errors
G_WAITS: Final = 9  # 1: slab allocations wait for a free page (2016 on) instead of failing
G_NULL_PER_OPEN: Final = 10  # names an open of /dev/null adds to null's space
G_SIZE: Final = 11

# Global resources (int64, mutated).
R_KMAP_FREE: Final = 0  # bytes of kernel_map left
R_KALLOC_FREE: Final = 1  # bytes of kalloc_map left
R_PROC_PAGES: Final = 2  # physical pages held by processes (page directories, resident pages)
R_SERVER_NAMES: Final = 3  # names in the servers' spaces (pooled)
R_SERVER_TIDX: Final = 4  # size index of the pooled servers' table
R_SERVER_ADDR: Final = 5  # its address in kalloc_map (pages), or -1
R_KM_SEGMENTS: Final = 6  # free segments of kalloc_map
R_SIZE: Final = 7
KM_CAP: Final = 4096  # free segments the kalloc_map allocator can track
KM_BASE: Final = R_SIZE  # res[KM_BASE + 2 i], res[KM_BASE + 2 i + 1]: start and length (pages) of segment i
RES_SIZE: Final = KM_BASE + 2 * KM_CAP

# Status codes.
OK: Final = 0
ZONE_PANIC: Final = 1  # panic: zalloc: zone <name> exhausted
IPC_TASK_INIT: Final = 2  # panic: ipc_task_init (ipc spaces zone refused)
PMAP_CREATE: Final = 3  # panic: pmap_create (no kernel_map for a page directory)
KALLOC_MAP_FULL: Final = 4  # an entry table could not grow: the RPC (and the fork) fails
NO_MEMORY: Final = 5  # no free physical page: the forking thread waits for ever
CHILD_LIMIT: Final = 6  # the experiment's own cap on children was reached
NO_BOOT: Final = 7  # the kernel does not boot (see zonemodel.boot)
KMEM_FULL: Final = 8  # slab era: kmem_map has no room; the allocation returns an error
KMEM_NOMEM: Final = 9  # slab era: no free page for a kernel object; the allocation returns an error
KMAP_FAIL: Final = 10  # slab era: no kernel_map for a page directory; task creation returns an error


def init_kalloc_map(res: np.ndarray, size: int, page: int) -> None:
    """kalloc_map as one free range of *size* bytes (first-fit allocation by pages)."""
    res[R_KALLOC_FREE] = size
    res[R_KM_SEGMENTS] = 1
    res[KM_BASE] = 0
    res[KM_BASE + 1] = size // page
    res[R_SERVER_ADDR] = -1


@kernel
def _km_alloc(res: np.ndarray, pages: int) -> int:
    """First fit: the lowest free range of kalloc_map with *pages* pages, or -1."""
    n = res[R_KM_SEGMENTS]
    for i in range(n):
        start = res[KM_BASE + 2 * i]
        length = res[KM_BASE + 2 * i + 1]
        if length >= pages:
            if length == pages:
                for j in range(i, n - 1):
                    res[KM_BASE + 2 * j] = res[KM_BASE + 2 * j + 2]
                    res[KM_BASE + 2 * j + 1] = res[KM_BASE + 2 * j + 3]
                res[R_KM_SEGMENTS] = n - 1
            else:
                res[KM_BASE + 2 * i] = start + pages
                res[KM_BASE + 2 * i + 1] = length - pages
            return start
    return -1


@kernel
def _km_free(res: np.ndarray, start: int, pages: int) -> bool:
    """Give a range back, merging it with free neighbours; False if the segment table is full."""
    n = res[R_KM_SEGMENTS]
    i = 0
    while i < n and res[KM_BASE + 2 * i] < start:
        i += 1
    merge_left = i > 0 and res[KM_BASE + 2 * (i - 1)] + res[KM_BASE + 2 * (i - 1) + 1] == start
    merge_right = i < n and start + pages == res[KM_BASE + 2 * i]
    if merge_left and merge_right:
        res[KM_BASE + 2 * (i - 1) + 1] += pages + res[KM_BASE + 2 * i + 1]
        for j in range(i, n - 1):
            res[KM_BASE + 2 * j] = res[KM_BASE + 2 * j + 2]
            res[KM_BASE + 2 * j + 1] = res[KM_BASE + 2 * j + 3]
        res[R_KM_SEGMENTS] = n - 1
    elif merge_left:
        res[KM_BASE + 2 * (i - 1) + 1] += pages
    elif merge_right:
        res[KM_BASE + 2 * i] = start
        res[KM_BASE + 2 * i + 1] += pages
    else:
        if n >= KM_CAP:
            return False
        for j in range(n, i, -1):
            res[KM_BASE + 2 * j] = res[KM_BASE + 2 * j - 2]
            res[KM_BASE + 2 * j + 1] = res[KM_BASE + 2 * j - 1]
        res[KM_BASE + 2 * i] = start
        res[KM_BASE + 2 * i + 1] = pages
        res[R_KM_SEGMENTS] = n + 1
    return True


@kernel(inline=True)
def _kalloc_zone(nbytes: int) -> int:
    """Index of the kalloc zone for a block of *nbytes* below a page (kalloc.16, kalloc.32, ...)."""
    z = Z_KALLOC0
    size = 16
    while size < nbytes:
        size <<= 1
        z += 1
    return z


@kernel
def _pages_in_use(ms: np.ndarray, res: np.ndarray, gp: np.ndarray) -> int:
    """Physical pages in use: boot, zone-map pages, kalloc_map pages and the processes' own pages."""
    kalloc_pages = (gp[G_KALLOC_MAP] - res[R_KALLOC_FREE]) // gp[G_PAGE]
    return gp[G_BASE_PAGES] + ms[_zalloc.M_MAP_USED] + kalloc_pages + res[R_PROC_PAGES]


@kernel(inline=True)
def _kalloc(zones: np.ndarray, ms: np.ndarray, res: np.ndarray, gp: np.ndarray, nbytes: int) -> tuple[int, int]:
    """Kalloc for IPC tables and messages: (status, address).

    Below a page: a kalloc zone (address -1).  From a page up: a first-fit
    range of kalloc_map (address in pages), which fails with
    KALLOC_MAP_FULL when no free range is long enough.
    """
    if nbytes < gp[G_PAGE]:
        status = zalloc(zones, ms, _kalloc_zone(nbytes))
        return (ZONE_PANIC if status == _zalloc.PANIC else OK), -1
    pages = -(-nbytes // gp[G_PAGE])
    start = _km_alloc(res, pages)
    if start < 0:
        return KALLOC_MAP_FULL, -1
    res[R_KALLOC_FREE] -= pages * gp[G_PAGE]
    return OK, start


@kernel(inline=True)
def _kfree(zones: np.ndarray, res: np.ndarray, gp: np.ndarray, nbytes: int, addr: int) -> None:
    """Give back what :func:`_kalloc` returned (*addr* is ignored below a page)."""
    if nbytes < gp[G_PAGE]:
        zfree(zones, _kalloc_zone(nbytes))
    else:
        pages = -(-nbytes // gp[G_PAGE])
        if _km_free(res, addr, pages):
            res[R_KALLOC_FREE] += pages * gp[G_PAGE]
        # else the range stays lost: more holes than the allocator tracks (KM_CAP)


@kernel
def _grow_table(
    zones: np.ndarray,
    ms: np.ndarray,
    res: np.ndarray,
    gp: np.ndarray,
    its: np.ndarray,
    tidx: int,
    addr: int,
    names: int,
) -> tuple[int, int, int]:
    """Grow a table (size index *tidx*, at *addr*) until it holds *names*; return (status, tidx, addr).

    As ``kmem_realloc`` does, the new table is allocated while the old one is
    still mapped, and the old one is freed afterwards.  Index 0 is never a name.
    """
    entry = gp[G_ENTRY]
    while its[tidx] <= names and tidx + 1 < its.shape[0]:
        status, new = _kalloc(zones, ms, res, gp, its[tidx + 1] * entry)
        if status != OK:
            return status, tidx, addr
        _kfree(zones, res, gp, its[tidx] * entry, addr)
        tidx += 1
        addr = new
    return OK, tidx, addr


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
    """Create one process described by *q*: :func:`_spawn_objects`, with the slab era's errors.

    In the zalloc era an exhausted zone map panics.  In the slab era the same
    shortage makes ``kmem_cache_alloc`` return 0 and the caller an error, and a
    missing free page does too unless allocations wait for memory (2016 on).
    """
    status = _spawn_objects(zones, ms, res, gp, its, q, generation, rec)
    if gp[G_SLAB] and status != OK:
        if status == ZONE_PANIC:
            return KMEM_FULL
        if status == PMAP_CREATE:
            return KMAP_FAIL
        if status == NO_MEMORY and not gp[G_WAITS]:
            return KMEM_NOMEM
    return status


@kernel
def _spawn_objects(
    zones: np.ndarray,
    ms: np.ndarray,
    res: np.ndarray,
    gp: np.ndarray,
    its: np.ndarray,
    q: np.ndarray,
    generation: int,
    rec: np.ndarray,
) -> int:
    """Create one process described by *q*; store its table's size index and address in ``rec``."""
    rec[0] = -1
    rec[1] = -1
    if _pages_in_use(ms, res, gp) + 1 + q[Q_RESIDENT] > gp[G_RAM_PAGES]:
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
    status, addr = _kalloc(zones, ms, res, gp, its[0] * gp[G_ENTRY])
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
    status, tidx, addr = _grow_table(zones, ms, res, gp, its, 0, addr, q[Q_NAMES] + extra)
    rec[0] = tidx
    rec[1] = addr
    if status != OK:
        return status
    if zalloc_n(zones, ms, Z_PORTS, q[Q_PORTS] + extra) != OK:
        return ZONE_PANIC
    res[R_SERVER_NAMES] += q[Q_SERVER_NAMES]
    status, stidx, saddr = _grow_table(
        zones, ms, res, gp, its, res[R_SERVER_TIDX], res[R_SERVER_ADDR], res[R_SERVER_NAMES]
    )
    res[R_SERVER_TIDX] = stidx
    res[R_SERVER_ADDR] = saddr
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
    zones: np.ndarray,
    res: np.ndarray,
    gp: np.ndarray,
    its: np.ndarray,
    q: np.ndarray,
    generation: int,
    tidx: int,
    addr: int,
) -> None:
    """Destroy a process created by a successful :func:`_spawn`: everything goes back to free lists."""
    extra = q[Q_CHAIN_PORTS] * (generation - 1)
    zfree(zones, Z_TASKS)
    zfree(zones, Z_MAPS)
    zfree(zones, Z_PMAP)
    res[R_KMAP_FREE] += gp[G_PAGE]
    zfree_n(zones, Z_MAP_ENTRIES, q[Q_MAP_ENTRIES])
    zfree(zones, Z_SPACES)
    _kfree(zones, res, gp, its[tidx] * gp[G_ENTRY], addr)
    zfree_n(zones, Z_PORTS, 1 + gp[G_COMPAT] + q[Q_PORTS] + extra)
    for _ in range(q[Q_THREADS]):
        zfree(zones, Z_THREADS)
        zfree(zones, Z_PCB)
        zfree(zones, Z_PORTS)
    res[R_SERVER_NAMES] -= q[Q_SERVER_NAMES]  # the servers' table keeps its size
    zfree_n(zones, Z_OBJECTS, q[Q_SHADOW])
    zfree_n(zones, Z_PV, q[Q_PV])
    res[R_PROC_PAGES] -= 1 + q[Q_RESIDENT]
