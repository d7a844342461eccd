"""Result types: frozen dataclasses holding plain Python numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zonemodel.units import format_size

__all__ = ["ZoneUsage", "format_zone_table", "zone_usage"]


@dataclass(frozen=True)
class ZoneUsage:
    """How much of one zone was used.

    Examples
    --------
    >>> import zonemodel
    >>> zonemodel.replay(zonemodel.gnumach(2005), [("tasks", 10)]).zones[0]
    ZoneUsage('tasks', in_use=10, peak=10, size=1.29 KiB)
    """

    name: str
    """Zone name as GNU Mach prints it."""
    elem_size: int
    """Bytes per element."""
    in_use: int
    """Elements allocated and not freed at the end."""
    peak: int
    """Largest number of elements in use at once."""
    size: int
    """Bytes the zone has taken (its high-water mark: never returned)."""
    max_size: int
    """The zone's maximum at the end, in bytes (soft maxima grow by half when reached)."""

    def __repr__(self) -> str:
        return f"ZoneUsage({self.name!r}, in_use={self.in_use}, peak={self.peak}, size={format_size(self.size)})"


def zone_usage(names: tuple[str, ...], table: np.ndarray) -> tuple[ZoneUsage, ...]:
    """Convert a zone table into :class:`ZoneUsage` rows (plain ints)."""
    return tuple(
        ZoneUsage(
            name=names[i],
            elem_size=int(table["elem_size"][i]),
            in_use=int(table["in_use"][i]),
            peak=int(table["peak"][i]),
            size=int(table["cur_size"][i]),
            max_size=int(table["max_size"][i]),
        )
        for i in range(len(names))
    )


def format_zone_table(rows: tuple[ZoneUsage, ...], *, top: int | None = None) -> str:
    """A fixed-width text table of zone usage, largest zones first.

    Zones that were never used are left out.  *top* keeps only that many rows.
    """
    used = sorted((r for r in rows if r.size), key=lambda r: (-r.size, r.name))
    if top is not None:
        used = used[:top]
    lines = [f"{'zone':<24}{'elem':>6}{'in use':>9}{'peak':>9}{'size':>12}"]
    lines += [f"{r.name:<24}{r.elem_size:>6}{r.in_use:>9}{r.peak:>9}{format_size(r.size):>12}" for r in used]
    return "\n".join(lines)
