"""IPC entry-table sizes: the sequence ``ipc_table_fill`` produces.

An IPC space keeps its names in a table of 16-byte entries.  When the table
is full it is replaced by the next size in a fixed sequence: powers of two
from 4 entries up to (but not including) a page, then growing by one page at
a time for 15 steps, then by two pages, four pages and eight pages
(``ipc/ipc_table.c`` of GNU Mach 1.3).  Tables smaller than a page come from
the kalloc zones; larger ones from kalloc_map.

Examples
--------
>>> table_sizes(16, 4096)[:9].tolist()
[4, 8, 16, 32, 64, 128, 256, 512, 768]
"""

from __future__ import annotations

import numpy as np

__all__ = ["table_sizes"]


def table_sizes(entry_size: int, page_size: int, count: int = 512) -> np.ndarray:
    """The first *count* table sizes, in entries, for entries of *entry_size* bytes."""
    sizes: list[int] = []
    minsize = 4 * entry_size
    size = 1
    while len(sizes) < count and size < page_size:
        if size >= minsize:
            sizes.append(size // entry_size)
        size <<= 1
    increment = page_size
    while len(sizes) < count:
        for _ in range(15):
            if len(sizes) >= count:
                break
            if size >= minsize:
                sizes.append(size // entry_size)
            size += increment
        if increment < page_size << 3:
            increment <<= 1
    return np.asarray(sizes, dtype=np.int64)
