"""Replaying allocations against a zone map: the allocator on its own.

:func:`replay` feeds a list of ``(zone, count)`` operations to the
zalloc-era allocator of a kernel preset and reports what each zone took and
whether the kernel would have panicked.  It is the smallest experiment in
zonemodel and the easiest way to see the shared bump allocator at work::

    >>> import zonemodel
    >>> r = zonemodel.replay(zonemodel.gnumach(2005, zone_map="1 MiB"), [("ipc ports", 20000)])
    >>> r.message
    'panic: zalloc: zone ipc ports exhausted'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from zonemodel._kernels import layout as L
from zonemodel._kernels.zalloc import _replay
from zonemodel.errors import ParameterError
from zonemodel.experiments.common import check_zalloc, compile_notice, zone_map_state, zone_table
from zonemodel.experiments.results import ZoneUsage, format_zone_table, zone_usage
from zonemodel.model.kernel import Kernel
from zonemodel.model.records import Record
from zonemodel.model.zones import ZONE_NAMES
from zonemodel.units import format_size

__all__ = ["MAX_REPLAY_COUNT", "ZoneMapReport", "replay"]

MAX_REPLAY_COUNT: Final = 1 << 40
"""Largest count of one replayed operation, either sign (the allocator counts bytes in int64)."""


@dataclass(frozen=True)
class ZoneMapReport(Record):
    """What a replayed allocation sequence did to the zone map.

    Examples
    --------
    >>> import zonemodel
    >>> zonemodel.replay(zonemodel.gnumach(2005), [("tasks", 10)]).outcome
    'ok'
    """

    outcome: str
    """``"ok"``, ``"exhausted"`` (an exhaustible zone refused) or ``"panic"`` (no page left)."""
    message: str
    """The console line of the panic, or ``""``."""
    failed_at: int
    """Index of the operation that failed, or -1."""
    zone: str
    """The zone named by the failure, or ``""``."""
    zone_map_size: int
    """Size of the zone map in bytes."""
    zone_map_used: int
    """Bytes of the zone map taken by zones (whole pages, including the GC page table)."""
    wasted: int
    """Bytes the bump allocator threw away when a new chunk was not contiguous."""
    zones: tuple[ZoneUsage, ...]
    """Per-zone usage."""
    kernel: Kernel | None = field(default=None, compare=False, repr=False)
    """The kernel that made the report (not compared by ``==`` or :meth:`~zonemodel.model.records.Record.equals`)."""

    def table(self, top: int | None = None) -> str:
        """Per-zone usage as a text table, largest first."""
        return format_zone_table(self.zones, top=top)

    def __repr__(self) -> str:
        return (
            f"ZoneMapReport({self.outcome!r}, zone_map_used={format_size(self.zone_map_used)} "
            f"of {format_size(self.zone_map_size)}, message={self.message!r})"
        )


def replay(kernel: Kernel, ops: Iterable[tuple[str, int]]) -> ZoneMapReport:
    """Apply allocations and frees to a fresh zone map of *kernel*.

    Parameters
    ----------
    kernel
        A zalloc-era kernel (presets 2005, 2007, 2009).
    ops
        ``(zone name, count)`` pairs applied in order: a positive count
        allocates that many elements, a negative one frees them.  Zone names
        are those of :data:`zonemodel.model.zones.ZONE_NAMES`.

    Returns
    -------
    ZoneMapReport
        Stops at the first allocation that fails.

    Examples
    --------
    >>> import zonemodel
    >>> r = zonemodel.replay(zonemodel.gnumach(2005), [("ipc spaces", 1100)])
    >>> r.outcome, r.zone, r.failed_at
    ('exhausted', 'ipc spaces', 0)
    """
    check_zalloc(kernel)
    zone_idx: list[int] = []
    counts: list[int] = []
    balance = dict.fromkeys(ZONE_NAMES, 0)
    given: object = ops
    if isinstance(given, (str, bytes)):
        raise ParameterError(f'"ops" must be an iterable of (zone name, count) pairs, not a string: {ops!r}')
    try:
        sequence = iter(ops)
    except TypeError:
        raise ParameterError(f'"ops" must be an iterable of (zone name, count) pairs, got {ops!r}') from None
    for i, op in enumerate(sequence):
        try:
            name, count = op
        except (TypeError, ValueError):
            raise ParameterError(f'"ops[{i}]" must be a (zone name, count) pair, got {op!r}') from None
        if not isinstance(name, str) or name not in balance:
            raise ParameterError(f'"ops[{i}]": unknown zone {name!r}; zones: {", ".join(ZONE_NAMES)}')
        if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer)):
            raise ParameterError(f'"ops[{i}]": count must be an integer, got {count!r}')
        if not -MAX_REPLAY_COUNT <= count <= MAX_REPLAY_COUNT:
            raise ParameterError(
                f'"ops[{i}]": count must be between -{MAX_REPLAY_COUNT:_} and {MAX_REPLAY_COUNT:_}, got {count!r}'
            )
        balance[name] += int(count)
        if balance[name] < 0:
            raise ParameterError(f'"ops[{i}]" frees more {name!r} elements than were allocated before it')
        zone_idx.append(ZONE_NAMES.index(name))
        counts.append(int(count))
    zones = zone_table(kernel)
    ms = zone_map_state(kernel)
    compile_notice(_replay)
    failed, status = _replay(zones, ms, np.asarray(zone_idx, dtype=np.int64), np.asarray(counts, dtype=np.int64))
    failed, status = int(failed), int(status)
    zone = ZONE_NAMES[zone_idx[failed]] if failed >= 0 else ""
    if status == L.ZONE_PANIC:
        outcome, message = "panic", f"panic: zalloc: zone {zone} exhausted"
    elif status == L.ZONE_EXHAUSTED:
        outcome, message = "exhausted", ""
    else:
        outcome, message = "ok", ""
    page = kernel.page_size
    total_pages = kernel.zone_map // page
    return ZoneMapReport(
        outcome=outcome,
        message=message,
        failed_at=failed,
        zone=zone,
        zone_map_size=kernel.zone_map,
        zone_map_used=int(ms[L.M_MAP_USED] + total_pages - ms[L.M_MAP_PAGES]) * page,
        wasted=int(ms[L.M_WASTED]),
        zones=zone_usage(ZONE_NAMES, zones),
        kernel=kernel,
    )
