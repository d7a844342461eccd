"""Numba kernels of the zalloc-era allocator: ``zget_space``, ``zalloc``, ``zfree``.

Numba JIT-compiled; called by :func:`zonemodel.replay` and by the process
and server kernels.  The plain-Python reference with the same semantics is
in ``tests/reference/``.

State lives in two arrays owned by the caller (see :mod:`.layout`):

* ``zones``: the zone table (:data:`~.layout.ZONE_DTYPE`, ``Z_*`` rows);
* ``ms``: the zone-map state (``M_*`` slots).

Addresses: the zdata region is ``[0, zdata)``; zone-map page ``p`` starts at
``MAP_BASE + p * page``.  The two never touch, so the first zone-map page is
never contiguous with zdata and the end of zdata is wasted, as in GNU Mach.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import (
    COLLECTABLE,
    EXHAUSTIBLE,
    M_END,
    M_MAP_PAGES,
    M_MAP_USED,
    M_NEXT,
    M_PAGE,
    M_PANIC_ZONE,
    M_WASTED,
    MAP_BASE,
    OK,
    ZONE_EXHAUSTED,
    ZONE_PANIC,
)


@kernel(refcount=False)
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


@kernel(refcount=False)
def _zalloc(zones: np.ndarray, ms: np.ndarray, z: int) -> int:
    """Allocate one element of zone *z*; return OK, ZONE_EXHAUSTED or ZONE_PANIC."""
    zn = zones[z]
    if zn.free > 0:
        zn.free -= 1
    else:
        if zn.cur_size + zn.elem_size > zn.max_size:
            if zn.flags & EXHAUSTIBLE:
                return ZONE_EXHAUSTED
            zn.max_size += zn.max_size >> 1  # soft maximum: grow by half
        if zn.flags & COLLECTABLE:
            pages = zn.alloc_size // ms[M_PAGE]
            if ms[M_MAP_USED] + pages > ms[M_MAP_PAGES]:
                ms[M_PANIC_ZONE] = z
                return ZONE_PANIC
            ms[M_MAP_USED] += pages
            zn.cur_size += zn.alloc_size
            zn.free += zn.alloc_size // zn.elem_size - 1
        else:
            if _zget_space(ms, zn.elem_size) < 0:
                ms[M_PANIC_ZONE] = z
                return ZONE_PANIC
            zn.cur_size += zn.elem_size
    zn.in_use += 1
    if zn.in_use > zn.peak:
        zn.peak = zn.in_use
    return OK


@kernel(refcount=False)
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


@kernel(refcount=False)
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
            final = ZONE_EXHAUSTED
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
                return ZONE_PANIC
            zn.cur_size += e
            zn.in_use += 1
            done += 1
    if zn.in_use > zn.peak:
        zn.peak = zn.in_use
    return final


@kernel(inline=True)
def _zfree_n(zones: np.ndarray, z: int, n: int) -> None:
    """Return *n* elements to zone *z*'s free list (never to the zone map)."""
    zn = zones[z]
    zn.in_use -= n
    zn.free += n


@kernel(refcount=False, entry=True)
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
