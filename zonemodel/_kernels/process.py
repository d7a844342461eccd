"""Numba kernels for tasks: what creating and destroying one Hurd process costs the kernel.

Numba JIT-compiled; called by the fork-bomb, remedy and storm kernels.
``tests/reference/machine.py`` has the same model written with Python objects.

A process is described by a row of ``int64`` parameters (``Q_*``) and
consumes, in this order: a task, a vm_map and a pmap, a page directory from
kernel_map, its map entries, an IPC space (exhaustible in the zalloc era)
with its first entry table, the task port (and the compat notify port), its
threads with their pcbs and thread ports, an entry table big enough for its
names (growing through the ``ipc_table_fill`` sequence), its new ports,
names in the servers' spaces, shadow objects and pv entries, and resident
physical pages.  Everything lives in a :class:`~.layout.Machine`.
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import (
    G_BASE_PAGES,
    G_COMPAT,
    G_ENTRY,
    G_KALLOC_MAP,
    G_PAGE,
    G_RAM_PAGES,
    G_SLAB,
    G_WAITS,
    IPC_TASK_INIT,
    KALLOC_MAP_FULL,
    KALLOC_MIN,
    KM_BASE,
    KM_CAP,
    KMAP_FAIL,
    KMEM_FULL,
    KMEM_NOMEM,
    M_MAP_USED,
    NO_MEMORY,
    OK,
    P_ADDR,
    P_TIDX,
    PMAP_CREATE,
    Q_CHAIN_PORTS,
    Q_MAP_ENTRIES,
    Q_NAMES,
    Q_PORTS,
    Q_PV,
    Q_RESIDENT,
    Q_SERVER_NAMES,
    Q_SHADOW,
    Q_THREADS,
    R_KALLOC_FREE,
    R_KM_SEGMENTS,
    R_KMAP_FREE,
    R_PROC_PAGES,
    R_SERVER_ADDR,
    R_SERVER_NAMES,
    R_SERVER_TIDX,
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
    ZONE_EXHAUSTED,
    ZONE_PANIC,
    Machine,
)
from zonemodel._kernels.zalloc import _zalloc, _zalloc_n, _zfree_n


@kernel(refcount=False)
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


@kernel(refcount=False)
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
    size = KALLOC_MIN
    while size < nbytes:
        size <<= 1
        z += 1
    return z


@kernel(refcount=False, entry=True)
def _pages_in_use(m: Machine) -> int:
    """Physical pages in use: boot, zone-map pages, kalloc_map pages and the processes' own pages."""
    gp = m.gp
    kalloc_pages = (gp[G_KALLOC_MAP] - m.res[R_KALLOC_FREE]) // gp[G_PAGE]
    return gp[G_BASE_PAGES] + m.ms[M_MAP_USED] + kalloc_pages + m.res[R_PROC_PAGES]


@kernel(inline=True)
def _kalloc(m: Machine, nbytes: int) -> tuple[int, int]:
    """Kalloc for IPC tables and messages: (status, address).

    Below a page: a kalloc zone (address -1).  From a page up: a first-fit
    range of kalloc_map (address in pages), which fails with
    KALLOC_MAP_FULL when no free range is long enough.
    """
    page = m.gp[G_PAGE]
    if nbytes < page:
        return _zalloc(m.zones, m.ms, _kalloc_zone(nbytes)), -1  # kalloc zones are never exhaustible
    pages = -(-nbytes // page)
    start = _km_alloc(m.res, pages)
    if start < 0:
        return KALLOC_MAP_FULL, -1
    m.res[R_KALLOC_FREE] -= pages * page
    return OK, start


@kernel(inline=True)
def _kfree(m: Machine, nbytes: int, addr: int) -> None:
    """Give back what :func:`_kalloc` returned (*addr* is ignored below a page)."""
    page = m.gp[G_PAGE]
    if nbytes < page:
        _zfree_n(m.zones, _kalloc_zone(nbytes), 1)
    else:
        pages = -(-nbytes // page)
        if _km_free(m.res, addr, pages):
            m.res[R_KALLOC_FREE] += pages * page
        # else the range stays lost: more holes than the allocator tracks (KM_CAP)


@kernel(refcount=False)
def _grow_table(m: Machine, tidx: int, addr: int, names: int) -> tuple[int, int, int]:
    """Grow a table (size index *tidx*, at *addr*) until it holds *names*; return (status, tidx, addr).

    As ``kmem_realloc`` does, the new table is allocated while the old one is
    still mapped, and the old one is freed afterwards.  Index 0 is never a name.
    """
    its = m.its
    entry = m.gp[G_ENTRY]
    while its[tidx] <= names and tidx + 1 < its.shape[0]:
        status, new = _kalloc(m, its[tidx + 1] * entry)
        if status != OK:
            return status, tidx, addr
        _kfree(m, its[tidx] * entry, addr)
        tidx += 1
        addr = new
    return OK, tidx, addr


@kernel(refcount=False)
def _spawn(m: Machine, q: np.ndarray, generation: int, rec: np.ndarray) -> int:
    """Create one process described by *q*: :func:`_spawn_objects`, with the slab era's errors.

    In the zalloc era an exhausted zone map panics.  In the slab era the same
    shortage makes ``kmem_cache_alloc`` return 0 and the caller an error, and a
    missing free page does too unless allocations wait for memory (2016 on).
    """
    status = _spawn_objects(m, q, generation, rec)
    if m.gp[G_SLAB] and status != OK:
        if status == ZONE_PANIC:
            return KMEM_FULL
        if status == PMAP_CREATE:
            return KMAP_FAIL
        if status == NO_MEMORY and not m.gp[G_WAITS]:
            return KMEM_NOMEM
    return status


@kernel(refcount=False)
def _spawn_objects(m: Machine, q: np.ndarray, generation: int, rec: np.ndarray) -> int:
    """Create one process described by *q*; store its table's size index and address in *rec* (``P_*``)."""
    zones, ms, res, gp, its = m.zones, m.ms, m.res, m.gp, m.its
    rec[P_TIDX] = -1
    rec[P_ADDR] = -1
    if _pages_in_use(m) + 1 + q[Q_RESIDENT] > gp[G_RAM_PAGES]:
        return NO_MEMORY
    for z in (Z_TASKS, Z_MAPS, Z_PMAP):
        if _zalloc(zones, ms, z) != OK:
            return ZONE_PANIC
    if res[R_KMAP_FREE] < gp[G_PAGE]:
        return PMAP_CREATE
    res[R_KMAP_FREE] -= gp[G_PAGE]
    res[R_PROC_PAGES] += 1
    if _zalloc_n(zones, ms, Z_MAP_ENTRIES, q[Q_MAP_ENTRIES]) != OK:
        return ZONE_PANIC
    status = _zalloc(zones, ms, Z_SPACES)
    if status == ZONE_EXHAUSTED:
        return IPC_TASK_INIT
    if status != OK:
        return ZONE_PANIC
    status, addr = _kalloc(m, its[0] * gp[G_ENTRY])
    if status != OK:
        return status
    rec[P_TIDX] = 0
    if _zalloc_n(zones, ms, Z_PORTS, 1 + gp[G_COMPAT]) != OK:
        return ZONE_PANIC
    for _ in range(q[Q_THREADS]):
        for z in (Z_THREADS, Z_PCB, Z_PORTS):
            if _zalloc(zones, ms, z) != OK:
                return ZONE_PANIC
    extra = q[Q_CHAIN_PORTS] * (generation - 1)
    status, tidx, addr = _grow_table(m, 0, addr, q[Q_NAMES] + extra)
    rec[P_TIDX] = tidx
    rec[P_ADDR] = addr
    if status != OK:
        return status
    if _zalloc_n(zones, ms, Z_PORTS, q[Q_PORTS] + extra) != OK:
        return ZONE_PANIC
    res[R_SERVER_NAMES] += q[Q_SERVER_NAMES]
    status, stidx, saddr = _grow_table(m, res[R_SERVER_TIDX], res[R_SERVER_ADDR], res[R_SERVER_NAMES])
    res[R_SERVER_TIDX] = stidx
    res[R_SERVER_ADDR] = saddr
    if status != OK:
        return status
    if _zalloc_n(zones, ms, Z_OBJECTS, q[Q_SHADOW]) != OK:
        return ZONE_PANIC
    if _zalloc_n(zones, ms, Z_PV, q[Q_PV]) != OK:
        return ZONE_PANIC
    res[R_PROC_PAGES] += q[Q_RESIDENT]
    return OK


@kernel(refcount=False)
def _exit(m: Machine, q: np.ndarray, generation: int, tidx: int, addr: int) -> None:
    """Destroy a process created by a successful :func:`_spawn`: everything goes back to free lists."""
    zones, res, gp = m.zones, m.res, m.gp
    extra = q[Q_CHAIN_PORTS] * (generation - 1)
    for z in (Z_TASKS, Z_MAPS, Z_PMAP):
        _zfree_n(zones, z, 1)
    res[R_KMAP_FREE] += gp[G_PAGE]
    _zfree_n(zones, Z_MAP_ENTRIES, q[Q_MAP_ENTRIES])
    _zfree_n(zones, Z_SPACES, 1)
    _kfree(m, m.its[tidx] * gp[G_ENTRY], addr)
    _zfree_n(zones, Z_PORTS, 1 + gp[G_COMPAT] + q[Q_PORTS] + extra)
    for z in (Z_THREADS, Z_PCB, Z_PORTS):
        _zfree_n(zones, z, q[Q_THREADS])
    res[R_SERVER_NAMES] -= q[Q_SERVER_NAMES]  # the servers' table keeps its size
    _zfree_n(zones, Z_OBJECTS, q[Q_SHADOW])
    _zfree_n(zones, Z_PV, q[Q_PV])
    res[R_PROC_PAGES] -= 1 + q[Q_RESIDENT]
