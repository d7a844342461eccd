"""names_in_tree: the ipc_entry_alloc_name rule replayed, checked on cases worked by hand."""

from __future__ import annotations

import pytest

from zonemodel.model.ipc_tables import NameLayout, names_in_tree, table_sizes

SIZES = table_sizes(16, 4096)


@pytest.mark.parametrize(
    ("names", "layout"),
    [
        # Table 4 (names 1-3); 4 and 5 go to the tree: (8 - 4) * 16 = 64 is not below 32 or 64;
        # at 6, 64 < 3 * 32 and the table grows to 8, taking 4 and 5 back.
        (5, NameLayout(4, 2, 2)),
        (6, NameLayout(8, 0, 2)),
        # From 32 to 64: (64 - 32) * 16 = 512 needs 16 names in the tree before the table grows.
        (47, NameLayout(32, 16, 16)),
        (48, NameLayout(64, 0, 16)),
        # A console child's 63 names fit a 64-entry table exactly.
        (63, NameLayout(64, 0, 16)),
        # From 64 to 128: 32 names wait in the tree; from 128 to 256, 64 names would.
        (95, NameLayout(64, 32, 32)),
        (96, NameLayout(128, 0, 32)),
        (191, NameLayout(128, 64, 64)),
        (192, NameLayout(256, 0, 64)),
    ],
)
def test_layouts_worked_by_hand(names: int, layout: NameLayout) -> None:
    assert names_in_tree(names, SIZES, 16, 32) == layout


def test_tree_entries_as_large_as_table_entries_never_grow_past_the_first_table() -> None:
    # With tree entries the size of table entries, growing needs small + 1 > next - size:
    # every name below the next size already in the tree, and then the name is past it.
    assert names_in_tree(7, SIZES, 16, 16) == NameLayout(4, 4, 4)
    assert names_in_tree(20, SIZES, 16, 16) == NameLayout(4, 17, 17)


def test_no_names_leave_the_first_table() -> None:
    assert names_in_tree(0, SIZES, 16, 32) == NameLayout(4, 0, 0)
    assert names_in_tree(3, SIZES, 16, 32) == NameLayout(4, 0, 0)
