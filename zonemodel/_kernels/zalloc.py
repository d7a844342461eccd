"""Numba kernels of the zalloc-era allocator: ``zget_space``, ``zalloc``, ``zfree``.

Numba JIT-compiled; called by :func:`zonemodel.replay` and by the process
and server kernels.  The plain-Python reference with the same semantics is
``tests/reference.py``.

State lives in two arrays owned by the caller:

* ``zones``: the zone table (:data:`zonemodel._kernels.layout.ZONE_DTYPE`);
* ``ms``: the zone-map state, an ``int64`` array indexed by the ``M_*``
  constants below.

Addresses: the zdata region is ``[0, zdata)``; zone-map page ``p`` starts at
``MAP_BASE + p * page``.  The two never touch, so the first zone-map page is
never contiguous with zdata and the end of zdata is wasted, as in GNU Mach.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import COLLECTABLE, EXHAUSTIBLE

# Zone-map state indices.
M_PAGE: Final = 0  # page size
M_MAP_PAGES: Final = 1  # pages of the zone map that zones may use (after the GC page table)
M_MAP_USED: Final = 2  # pages taken so far (never returned)
M_NEXT: Final = 3  # zget_space: next free byte of the current chunk
M_END: Final = 4  # zget_space: end of the current chunk
M_WASTED: Final = 5  # bytes thrown away when a new chunk was not contiguous
M_PANIC_ZONE: Final = 6  # zone that needed memory when the map ran out, or -1
M_SIZE: Final = 8

MAP_BASE: Final = 1 << 40

# Status codes returned by _zalloc.
OK: Final = 0
EXHAUSTED: Final = 1  # an exhaustible zone refused (zalloc returned 0)
PANIC: Final = 2  # the zone map had no page left: panic("zalloc: zone %s exhausted")


def new_map_state(zone_map: int, zdata: int, page: int) -> np.ndarray:
    """Zone-map state right after ``zone_init``: the GC page table takes the first pages."""
    pages = zone_map // page
    table_pages = -(-(pages * 8) // page)  # 8 B of zone_page_table_entry per page
    ms = np.zeros(M_SIZE, dtype=np.int64)
    ms[M_PAGE] = page
    ms[M_MAP_PAGES] = pages - table_pages
    ms[M_NEXT] = 0
    ms[M_END] = zdata
    ms[M_PANIC_ZONE] = -1
    return ms


@kernel
def _zget_space(ms: np.ndarray, size: int) -> int:
    """Carve *size* bytes from the shared bump allocator; return the address or -1."""
    page = ms[M_PAGE]
    while ms[M_NEXT] + size > ms[M_END]:
        add = -(-size // page) * page
        if ms[M_MAP_USED] + add // page > ms[M_MAP_PAGES]:
            return -1
        new = MAP_BASE + ms[M_MAP_USED] * page
        ms[M_MAP_USED] += add // page
        if new != ms[M_END]:
            ms[M_WASTED] += ms[M_END] - ms[M_NEXT]
            ms[M_NEXT] = new
        ms[M_END] = new + add
    addr = ms[M_NEXT]
    ms[M_NEXT] += size
    return addr


@kernel
def _zalloc(zones: np.ndarray, ms: np.ndarray, z: int) -> int:
    """Allocate one element of zone *z*; return OK, EXHAUSTED or PANIC."""
    zn = zones[z]
    if zn.free > 0:
        zn.free -= 1
    else:
        if zn.cur_size + zn.elem_size > zn.max_size:
            if zn.flags & EXHAUSTIBLE:
                return EXHAUSTED
            zn.max_size += zn.max_size >> 1  # soft maximum: grow by half
        if zn.flags & COLLECTABLE:
            pages = zn.alloc_size // ms[M_PAGE]
            if ms[M_MAP_USED] + pages > ms[M_MAP_PAGES]:
                ms[M_PANIC_ZONE] = z
                return PANIC
            ms[M_MAP_USED] += pages
            zn.cur_size += zn.alloc_size
            zn.free += zn.alloc_size // zn.elem_size - 1
        else:
            if _zget_space(ms, zn.elem_size) < 0:
                ms[M_PANIC_ZONE] = z
                return PANIC
            zn.cur_size += zn.elem_size
    zn.in_use += 1
    if zn.in_use > zn.peak:
        zn.peak = zn.in_use
    return OK


@kernel
def _grow_soft_max(zn: Any, cur: int, k: int) -> None:  # zn: one record of the zone table
    """Raise a soft maximum as *k* sequential allocations from size *cur* would."""
    e = zn.elem_size
    while k > 0:
        first = (zn.max_size - cur) // e  # index of the first element that would pass the maximum
        if first < 0:
            first = 0
        if first >= k or zn.max_size >> 1 == 0:
            return
        zn.max_size += zn.max_size >> 1
        cur += (first + 1) * e
        k -= first + 1


@kernel
def _zalloc_n(zones: np.ndarray, ms: np.ndarray, z: int, n: int) -> int:
    """*n* allocations from zone *z*: the same result as *n* calls of :func:`_zalloc`, faster.

    Stops at the first failure, with every earlier element allocated, exactly
    like the sequential loop.
    """
    zn = zones[z]
    take = min(n, zn.free)
    zn.free -= take
    zn.in_use += take
    if zn.in_use > zn.peak:
        zn.peak = zn.in_use
    n -= take
    if n == 0:
        return OK
    if zn.flags & COLLECTABLE:
        for _ in range(n):
            status = _zalloc(zones, ms, z)
            if status != OK:
                return status
        return OK
    e = zn.elem_size
    final = OK
    if zn.flags & EXHAUSTIBLE:
        room = (zn.max_size - zn.cur_size) // e
        if room < 0:
            room = 0
        if n > room:
            n = room
            final = EXHAUSTED
    done = 0
    while done < n:
        fit = (ms[M_END] - ms[M_NEXT]) // e
        if fit > 0:
            k = min(fit, n - done)
            if not zn.flags & EXHAUSTIBLE:
                _grow_soft_max(zn, zn.cur_size, k)
            ms[M_NEXT] += k * e
            zn.cur_size += k * e
            zn.in_use += k
            done += k
        else:
            if not zn.flags & EXHAUSTIBLE and zn.cur_size + e > zn.max_size:
                zn.max_size += zn.max_size >> 1
            if _zget_space(ms, e) < 0:
                ms[M_PANIC_ZONE] = z
                if zn.in_use > zn.peak:
                    zn.peak = zn.in_use
                return PANIC
            zn.cur_size += e
            zn.in_use += 1
            done += 1
    if zn.in_use > zn.peak:
        zn.peak = zn.in_use
    return final


@kernel(inline=True)
def _zfree_n(zones: np.ndarray, z: int, n: int) -> None:
    """Return *n* elements to zone *z*'s free list."""
    zn = zones[z]
    zn.in_use -= n
    zn.free += n


@kernel(inline=True)
def _zfree(zones: np.ndarray, z: int) -> None:
    """Return one element to zone *z*'s free list (never to the zone map)."""
    zn = zones[z]
    zn.in_use -= 1
    zn.free += 1


@kernel
def _replay(zones: np.ndarray, ms: np.ndarray, op_zone: np.ndarray, op_count: np.ndarray) -> tuple[int, int]:
    """Apply ``op_count[i]`` allocations (or frees, if negative) to zone ``op_zone[i]``.

    Stops at the first allocation that does not return OK and returns
    ``(index of that operation, status)``, or ``(-1, OK)``.
    """
    for i in range(op_zone.shape[0]):
        z = op_zone[i]
        n = op_count[i]
        if n >= 0:
            status = _zalloc_n(zones, ms, z, n)
            if status != OK:
                return i, status
        else:
            _zfree_n(zones, z, -n)
    return -1, OK
