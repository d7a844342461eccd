"""Later eras: the 2009 zone map (O20) and the slab allocator of GNU Mach 1.4 (O19)."""

from __future__ import annotations

import numpy as np
import pytest

import zonemodel
from tests import reference
from zonemodel.seeds import replicate_states


def test_o19_slab_fork_bomb_ends_in_fork_failures_never_a_panic() -> None:
    for ram in ("256 MiB", "1 GiB", "4 GiB"):
        runs = zonemodel.fork_bomb(zonemodel.gnumach(2013, ram=ram), runs=50, seed=19)
        assert isinstance(runs, zonemodel.ForkBombRuns)
        assert dict(runs.outcomes) == {"fork failure": 50}
        assert not any(message.startswith("panic") for message, _ in runs.messages)


def test_o19_doubling_ram_roughly_doubles_the_count_while_ram_binds() -> None:
    counts = {}
    for ram in ("256 MiB", "512 MiB"):
        runs = zonemodel.fork_bomb(zonemodel.gnumach(2013, ram=ram), runs=20, seed=19)
        assert isinstance(runs, zonemodel.ForkBombRuns)
        assert runs.limits[0][0] == "physical memory"
        counts[ram] = runs.median
    assert 1.7 <= counts["512 MiB"] / counts["256 MiB"] <= 2.3


def test_slab_allocations_that_wait_hang_instead() -> None:
    """From 2016, single-page slab allocations wait for memory: the bomb hangs instead of failing."""
    result = zonemodel.fork_bomb(zonemodel.gnumach(2013, kmem_waits_for_memory=True), seed=1)
    assert isinstance(result, zonemodel.ForkBombResult)
    assert result.outcome == "hang"


def test_o20_the_2009_zone_map_survives_what_killed_2005() -> None:
    """The storm that panics 2005 survives on 2009; fork bombs from ssh go well past the 2005 ceiling."""
    storm05 = zonemodel.close_burst(
        zonemodel.gnumach(2005), processes=2, ports_each=10000, nofile=65536, runs=50, seed=20
    )
    storm09 = zonemodel.close_burst(
        zonemodel.gnumach(2009), processes=2, ports_each=10000, nofile=65536, runs=50, seed=20
    )
    assert isinstance(storm05, zonemodel.CloseBurstRuns) and isinstance(storm09, zonemodel.CloseBurstRuns)
    assert (storm05.panicked, storm09.panicked) == (1.0, 0.0)
    ssh05 = zonemodel.fork_bomb(zonemodel.gnumach(2005), start="ssh", runs=50, seed=20)
    ssh09 = zonemodel.fork_bomb(zonemodel.gnumach(2009), start="ssh", runs=50, seed=20)
    assert isinstance(ssh05, zonemodel.ForkBombRuns) and isinstance(ssh09, zonemodel.ForkBombRuns)
    assert ssh09.median > 1.4 * ssh05.median
    assert ssh09.limits[0][0] == "ipc spaces"  # the cap stays until 2011


@pytest.mark.parametrize("case", range(30))
def test_slab_kernels_match_the_reference(case: int) -> None:
    """The slab era's error paths agree with the reference (which reports the resource that ran out)."""
    rng = np.random.default_rng(np.random.SeedSequence(2013).spawn(30)[case])
    kernel = zonemodel.gnumach(
        2013,
        ram=int(rng.integers(64, 400)) * 2**20,
        zone_map=int(rng.integers(100, 3000)) * 4096,
        process_pv_entries=int(rng.integers(0, 40)),
        process_resident=int(rng.integers(0, 40)) * 4096,
        kmem_waits_for_memory=bool(rng.integers(2)),
        background_rate=float(rng.uniform(0, 0.2)),
    )
    if not zonemodel.boot(kernel).booted:
        pytest.skip("this random kernel does not boot")
    seed = int(rng.integers(2**32))
    got = zonemodel.fork_bomb(kernel, seed=seed)
    assert isinstance(got, zonemodel.ForkBombResult)
    want = reference.fork_bomb(kernel, "console", False, "user", replicate_states(seed, 1)[0])
    assert (got.processes, got.limit or "child limit") == (want["processes"], want["limit"])
    assert [(z.name, z.in_use, z.peak, z.size) for z in got.zones] == want["zones"]
    waits = kernel.kmem_waits_for_memory
    expected = "hang" if got.limit == "physical memory" and waits else "fork failure"
    if got.limit in ("physical memory", "kmem_map", "kernel_map"):
        assert got.outcome == expected
