"""Booting: kernel_map arithmetic (observation O13)."""

from __future__ import annotations

import pytest

import zonemodel
from zonemodel.errors import ParameterError

MiB = 2**20


def test_default_2005_kernel_boots_and_accounts_for_all_of_kernel_map() -> None:
    report = zonemodel.boot(zonemodel.gnumach(2005))
    assert report.booted and report.message == ""
    assert sum(size for _, size in report.items) + report.kernel_map_free == report.kernel_map == 40 * MiB


def test_largest_bootable_zone_map_is_a_boundary() -> None:
    """The size found boots and one page more does not."""
    kernel = zonemodel.gnumach(2005)
    best = zonemodel.max_bootable_zone_map(kernel)
    assert zonemodel.boot(kernel.replace(zone_map=best)).booted
    over = zonemodel.boot(kernel.replace(zone_map=best + 4096))
    assert not over.booted
    # Just past the limit the sub-maps still fit but the system tasks' page directories do not.
    assert over.message == "panic: pmap_create"
    assert zonemodel.boot(kernel.replace(zone_map=best + 2 * MiB)).message == "panic: kmem_suballoc"


def test_more_ram_leaves_less_room_for_the_zone_map() -> None:
    """Stolen boot memory grows with RAM, so the limit falls as RAM rises (2005: fixed kernel_map)."""
    limits = [
        zonemodel.max_bootable_zone_map(zonemodel.gnumach(2005, ram=f"{r} MiB")) for r in (64, 128, 256, 384, 512)
    ]
    assert limits == sorted(limits, reverse=True)
    assert limits[0] > limits[-1]


def test_kernel_map_growing_with_ram_lifts_the_limit() -> None:
    assert zonemodel.max_bootable_zone_map(zonemodel.gnumach(2009)) > 200 * MiB


def test_physical_memory_beyond_kernel_va_does_not_boot() -> None:
    report = zonemodel.boot(zonemodel.gnumach(2005, ram="1 GiB"))
    assert not report.booted and "virtual addresses" in report.reason


def test_boot_refuses_non_kernels() -> None:
    with pytest.raises(ParameterError, match=r'"kernel" must be a zonemodel.Kernel'):
        zonemodel.boot("gnumach 2005")  # type: ignore[arg-type]


@pytest.mark.parametrize(("year", "limit"), [(2007, 960 * MiB), (2009, (2**30 // 6 * 5) // 4096 * 4096)])
def test_from_2006_ram_is_cut_and_kernel_map_shrinks_to_fit(year: int, limit: int) -> None:
    """model_dep.c cuts RAM to 15/16 (2006) or 5/6 (2009) of the kernel's 1 GiB; kernel_map takes what is left."""
    for ram in ("1 GiB", "4 GiB"):
        kernel = zonemodel.gnumach(year, ram=ram)
        assert kernel.usable_ram == limit
        assert kernel.kernel_map == kernel.kernel_va - limit
        assert zonemodel.boot(kernel).booted
    # Below the cut, kernel_map is 40 MiB plus its share of RAM, as long as both fit.
    small = zonemodel.gnumach(year, ram="256 MiB")
    assert small.usable_ram == 256 * MiB
    assert small.kernel_map == 40 * MiB + int(256 * MiB * small.kernel_map_ram_fraction) // 4096 * 4096


@pytest.mark.parametrize("year", [2007, 2009])
def test_fork_bomb_on_a_cut_kernel_matches_the_reference(year: int) -> None:
    from tests import reference
    from zonemodel.seeds import replicate_states

    kernel = zonemodel.gnumach(year, ram="2 GiB")
    got = zonemodel.fork_bomb(kernel, seed=4)
    want = reference.fork_bomb(kernel, "console", False, "user", replicate_states(4, 1)[0])
    assert isinstance(got, zonemodel.ForkBombResult)
    assert (got.processes, got.kernel_map_free, got.kalloc_map_free) == (
        want["processes"],
        want["kernel_map_free"],
        want["kalloc_map_free"],
    )
