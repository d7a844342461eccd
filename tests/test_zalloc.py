"""The zalloc-era allocator: numba kernel against the plain-Python reference, and its invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zonemodel
from tests import reference
from zonemodel._kernels.jit import kernel
from zonemodel._kernels.zalloc import _zalloc, _zalloc_n, _zfree_n
from zonemodel.errors import ConfigurationError, ParameterError
from zonemodel.model.zones import ZONE_NAMES


# The allocator's primitives have no Python wrapper (only other kernels call them): the test calls them through these.
@kernel(entry=True)
def zalloc(zones: np.ndarray, ms: np.ndarray, z: int) -> int:
    return _zalloc(zones, ms, z)


@kernel(entry=True)
def zalloc_n(zones: np.ndarray, ms: np.ndarray, z: int, n: int) -> int:
    return _zalloc_n(zones, ms, z, n)


@kernel(entry=True)
def zfree_n(zones: np.ndarray, z: int, n: int) -> None:
    _zfree_n(zones, z, n)


def _random_ops(rng: np.random.Generator, n: int) -> list[tuple[str, int]]:
    """A random allocation sequence that never frees more than it allocated."""
    balance = dict.fromkeys(ZONE_NAMES, 0)
    ops = []
    for _ in range(n):
        name = ZONE_NAMES[int(rng.integers(len(ZONE_NAMES)))]
        if balance[name] and rng.random() < 0.4:
            count = -int(rng.integers(1, balance[name] + 1))
        else:
            count = int(rng.integers(1, 400))
        balance[name] += count
        ops.append((name, count))
    return ops


def _as_dict(report: zonemodel.ZoneMapReport, kernel: zonemodel.Kernel) -> dict[str, object]:
    page = kernel.page_size
    table_pages = -(-(kernel.zone_map // page * 8) // page)
    return {
        "outcome": report.outcome,
        "failed_at": report.failed_at,
        "wasted": report.wasted,
        "used_pages": report.zone_map_used // page - table_pages,
        "zones": [(z.name, z.in_use, z.peak, z.size, z.max_size) for z in report.zones],
    }


@pytest.mark.parametrize("case", range(250))
def test_kernel_matches_reference_on_random_sequences(case: int) -> None:
    """Same operations, same kernel: the numba kernel and the reference agree exactly."""
    rng = np.random.default_rng(np.random.SeedSequence(20050717).spawn(250)[case])
    year = (2005, 2007, 2009)[case % 3]
    zone_map = int(rng.integers(8, 600)) * 4096
    kernel = zonemodel.gnumach(year, zone_map=zone_map, zdata=int(rng.integers(0, 64)) * 1024)
    ops = _random_ops(rng, int(rng.integers(1, 60)))
    assert _as_dict(zonemodel.replay(kernel, ops), kernel) == reference.replay(kernel, ops)


def test_panic_names_the_zone_that_needed_a_page() -> None:
    """The panic names whichever zone asked last, not the one that used the memory."""
    kernel = zonemodel.gnumach(2005, zone_map="256 KiB", zdata=0)
    # 63 usable pages = 258048 B; 3395 ports x 76 B leave 28 B, too few for a task.
    report = zonemodel.replay(kernel, [("ipc ports", 3395), ("tasks", 5)])
    assert report.message == "panic: zalloc: zone tasks exhausted"
    big = max(report.zones, key=lambda z: z.size)
    assert big.name == "ipc ports"


def test_exhaustible_zone_refuses_at_its_hard_maximum() -> None:
    """ipc spaces hold exactly 1088 elements in 2005 and 1092 in 2007 (round_page(1029 x size))."""
    for year, cap in ((2005, 1088), (2007, 1092)):
        report = zonemodel.replay(zonemodel.gnumach(year), [("ipc spaces", cap), ("ipc spaces", 1)])
        assert (report.outcome, report.failed_at) == ("exhausted", 1)
        assert report.zones[ZONE_NAMES.index("ipc spaces")].in_use == cap


def test_soft_maximum_grows_by_half() -> None:
    """An ordinary zone past its maximum raises it by half instead of failing."""
    kernel = zonemodel.gnumach(2005)
    spec = zonemodel.model.zones.zone_specs(kernel)[ZONE_NAMES.index("tasks")]
    n = spec.max_size // spec.elem_size + 1
    report = zonemodel.replay(kernel, [("tasks", n)])
    assert report.outcome == "ok"
    assert report.zones[0].max_size == spec.max_size + spec.max_size // 2


def test_freed_elements_are_reused_and_never_returned() -> None:
    """Freeing keeps the zone's size (high-water mark); reallocating takes no new memory."""
    kernel = zonemodel.gnumach(2005)
    a = zonemodel.replay(kernel, [("ipc ports", 5000), ("ipc ports", -5000)])
    b = zonemodel.replay(kernel, [("ipc ports", 5000), ("ipc ports", -5000), ("ipc ports", 5000)])
    assert a.zone_map_used == b.zone_map_used
    assert a.zones[ZONE_NAMES.index("ipc ports")].size == 5000 * 76


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.tuples(st.sampled_from(ZONE_NAMES), st.integers(0, 3000)), min_size=1, max_size=12),
    pages=st.integers(16, 512),
)
def test_bytes_are_conserved(counts: list[tuple[str, int]], pages: int) -> None:
    """Bytes carved into elements plus bytes wasted never exceed zdata plus the pages taken."""
    kernel = zonemodel.gnumach(2005, zone_map=pages * 4096)
    report = zonemodel.replay(kernel, counts)
    table_pages = -(-(pages * 8) // 4096)
    taken = report.zone_map_used - table_pages * 4096 + kernel.zdata
    carved = sum(z.size for z in report.zones)
    assert carved + report.wasted <= taken
    # What is left is the open chunk of zget_space: the rest of zdata, or less than a page.
    assert taken - carved - report.wasted <= max(kernel.zdata, 4096)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40000), small=st.integers(16, 200), extra=st.integers(1, 200))
def test_a_larger_zone_map_never_fails_earlier(n: int, small: int, extra: int) -> None:
    """Monotonicity: more zone map never makes the same sequence panic sooner."""
    ops = [("ipc ports", n), ("kalloc.4096", n // 50), ("non-kernel map entries", n)]
    a = zonemodel.replay(zonemodel.gnumach(2005, zone_map=small * 4096), ops)
    b = zonemodel.replay(zonemodel.gnumach(2005, zone_map=(small + extra) * 4096), ops)
    rank = {"panic": 0, "ok": 1}
    assert rank[b.outcome] >= rank[a.outcome]
    if a.outcome == b.outcome == "panic":
        assert b.failed_at >= a.failed_at


def test_bad_operations_are_refused_with_the_parameter_named() -> None:
    kernel = zonemodel.gnumach(2005)
    with pytest.raises(ParameterError, match=r'"ops\[0\]": unknown zone'):
        zonemodel.replay(kernel, [("vm pages", 1)])
    with pytest.raises(ParameterError, match=r'"ops\[1\]" frees more'):
        zonemodel.replay(kernel, [("tasks", 1), ("tasks", -2)])
    with pytest.raises(ParameterError, match=r'"ops\[0\]" must be a \(zone name, count\) pair'):
        zonemodel.replay(kernel, ["tasks"])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="slab allocator"):
        zonemodel.replay(zonemodel.gnumach(2013), [("tasks", 1)])


@settings(max_examples=200, deadline=None)
@given(
    batches=st.lists(st.tuples(st.integers(0, len(ZONE_NAMES) - 1), st.integers(-300, 3000)), min_size=1, max_size=15),
    pages=st.integers(2, 400),
    zdata=st.integers(0, 40),
)
def test_bulk_allocation_equals_one_at_a_time(batches: list[tuple[int, int]], pages: int, zdata: int) -> None:
    """_zalloc_n(z, n) leaves exactly the state of n calls to _zalloc(z), failures included."""
    from zonemodel._kernels import layout as L
    from zonemodel.experiments.common import zone_map_state, zone_table

    kernel = zonemodel.gnumach(2005, zone_map=pages * 4096, zdata=zdata * 1024)
    bulk_z, one_z = zone_table(kernel), zone_table(kernel)
    bulk_m = zone_map_state(kernel)
    one_m = bulk_m.copy()
    for z, n in batches:
        if n < 0:
            n = -min(-n, int(bulk_z["in_use"][z]))
            zfree_n(bulk_z, z, -n)
            for _ in range(-n):
                zfree_n(one_z, z, 1)
            continue
        got = zalloc_n(bulk_z, bulk_m, z, n)
        want = L.OK
        for _ in range(n):
            want = zalloc(one_z, one_m, z)
            if want != L.OK:
                break
        assert got == want
        assert bulk_z.tobytes() == one_z.tobytes()
        assert (bulk_m == one_m).all()
        if got != L.OK:
            break
