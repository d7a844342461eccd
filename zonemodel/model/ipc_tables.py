"""IPC entry-table sizes: the sequence ``ipc_table_fill`` produces.

An IPC space keeps its names in a table of 16-byte entries.  When the table
is full it is replaced by the next size in a fixed sequence: powers of two
from 4 entries up to (but not including) a page, then growing by one page at
a time for 15 steps, then by two pages, four pages and eight pages
(``ipc/ipc_table.c`` of GNU Mach 1.3).  Tables smaller than a page come from
the kalloc zones; larger ones from kalloc_map.

A name the kernel is told to use (``mach_port_insert_right`` with a given
name, as Hurd's ``fork()`` does to give the child the parent's names) may
instead go into the space's splay tree, one 32-byte tree entry from the
exhaustible ipc tree entries zone each: :func:`names_in_tree` replays that
rule.

Examples
--------
>>> table_sizes(16, 4096)[:9].tolist()
[4, 8, 16, 32, 64, 128, 256, 512, 768]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["NameLayout", "names_in_tree", "table_sizes"]


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


class NameLayout(NamedTuple):
    """Where the names of a space end up after :func:`names_in_tree`."""

    table_entries: int
    """Size of the entry table, in entries (index 0 is never a name)."""
    tree_entries: int
    """Names left in the splay tree."""
    peak_tree_entries: int
    """Most names in the tree at any one time while inserting."""


def names_in_tree(names: int, sizes: np.ndarray, entry_size: int, tree_entry_size: int) -> NameLayout:
    """Insert names 1 to *names*, in that order, into a new space, as ``ipc_entry_alloc_name`` does.

    This is how Hurd's ``fork()`` fills a child: it walks the parent's names
    in table order (``mach_port_names``) and inserts each right into the child
    under the same name.  A new space has the first table size (*sizes* from
    :func:`table_sizes`).  ``ipc_entry_alloc_name`` (``ipc/ipc_entry.c``) puts
    a name that lies beyond the table into the splay tree, unless growing the
    table to the next size would cost less than the tree entries it replaces:
    it grows when ``(next - size) * entry_size < (small + 1) * tree_entry_size``,
    where *small* counts the tree's names below the next size.  Growing the
    table (``ipc_entry_grow_table``) moves those names into it.

    Examples
    --------
    >>> sizes = table_sizes(16, 4096)
    >>> names_in_tree(63, sizes, 16, 32)
    NameLayout(table_entries=64, tree_entries=0, peak_tree_entries=16)
    >>> names_in_tree(174, sizes, 16, 32)
    NameLayout(table_entries=128, tree_entries=47, peak_tree_entries=47)
    """
    step = 0
    table = int(sizes[0])
    tree: list[int] = []
    peak = 0
    for index in range(1, names + 1):
        while index >= table:
            following = int(sizes[step + 1]) if step + 1 < len(sizes) else table
            small = sum(1 for name in tree if name < following)
            if index < following and (following - table) * entry_size < (small + 1) * tree_entry_size:
                step += 1
                table = following
                tree = [name for name in tree if name >= table]
                continue
            tree.append(index)
            peak = max(peak, len(tree))
            break
    return NameLayout(table, len(tree), peak)
