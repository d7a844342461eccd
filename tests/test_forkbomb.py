"""The fork bomb: numba kernels against the plain-Python reference, invariants, and validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zonemodel
from tests import reference
from zonemodel.errors import ParameterError
from zonemodel.experiments import forkbomb
from zonemodel.seeds import replicate_states

MiB = 2**20
CASES = 220


def _random_kernel(rng: np.random.Generator, distro: str = "upstream") -> zonemodel.Kernel:
    """A small random zalloc-era system, so that the slow reference stays quick.

    Debian's kernels (2005 and 2007) get zone maps up to 17 MiB, past where upstream's ipc spaces cap would bind.
    """
    debian = distro == "debian"
    year = int(rng.choice([2005, 2007] if debian else [2005, 2007, 2009]))
    return zonemodel.gnumach(
        year,
        distro=distro,
        zone_map=int(rng.integers(64, 4352 if debian else 1200)) * 4096,
        ram=int(rng.integers(24, 400)) * MiB,
        kalloc_map=int(rng.integers(4, 2048)) * 4096,
        kernel_map_base=int(rng.integers(30, 60)) * MiB,
        system_tasks=int(rng.integers(1, 60)),
        boot_ports=int(rng.integers(0, 3000)),
        process_ports=int(rng.integers(0, 10)),
        process_names=int(rng.integers(0, 300)),
        process_map_entries=int(rng.integers(0, 40)),
        process_shadow_objects=int(rng.integers(0, 12)),
        process_pv_entries=int(rng.integers(0, 40)),
        process_resident=int(rng.integers(0, 64)) * 4096,
        server_names_per_process=int(rng.integers(0, 40)),
        ports_console=int(rng.integers(0, 60)),
        ports_ssh=int(rng.integers(0, 60)),
        ports_screen=int(rng.integers(0, 60)),
        chain_ports=int(rng.integers(0, 4)),
        background_rate=float(rng.uniform(0, 0.3)),
        background_exit=float(rng.uniform(0, 0.5)),
    )


@pytest.mark.parametrize("case", range(CASES))
def test_kernel_matches_reference(case: int) -> None:
    """Random configurations and seeds: count, ending, zone table and maps agree exactly."""
    rng = np.random.default_rng(np.random.SeedSequence(1040).spawn(CASES)[case])
    check_against_reference(_random_kernel(rng), rng)


def check_against_reference(kernel: zonemodel.Kernel, rng: np.random.Generator) -> None:
    """One slow bomb on *kernel*, with start, chain, user and seed drawn from *rng*: kernel and reference agree."""
    start = str(rng.choice(["console", "ssh", "screen"]))
    chain = bool(rng.integers(2))
    user = str(rng.choice(["user", "root"]))
    seed = int(rng.integers(2**32))
    if not zonemodel.boot(kernel).booted:
        pytest.skip("this random kernel does not boot")
    try:
        got = zonemodel.fork_bomb(kernel, start=start, chain=chain, user=user, seed=seed)
    except zonemodel.errors.BootError as error:
        # The kernel boots, but its own tasks do not fit: fork_bomb raises; the internal path that
        # reports the boot gate must still agree with the reference, which runs the same boot.
        assert "does not boot: its own tasks do not fit at boot" in str(error)
        spec = forkbomb.check_bomb(kernel, start=start, chain=chain, user=user)
        got = forkbomb.run_once(spec, replicate_states(seed, 1)[0].copy())[0]
        assert got.processes == 0
    assert isinstance(got, zonemodel.ForkBombResult)
    want = reference.fork_bomb(kernel, start, chain, user, replicate_states(seed, 1)[0])
    panic_zone = got.message.removeprefix("panic: zalloc: zone ").removesuffix(" exhausted")
    assert {
        "processes": got.processes,
        "limit": got.limit if got.limit else "child limit",
        "panic_zone": panic_zone if got.limit == "zone map" else "",
        "hit_by": got.hit_by,
        "background": got.background_tasks,
        "zones": [(z.name, z.in_use, z.peak, z.size) for z in got.zones],
        "kernel_map_free": got.kernel_map_free,
        "kalloc_map_free": got.kalloc_map_free,
    } == want


def test_runs_reproduce_single_runs_and_do_not_depend_on_threads() -> None:
    """Run i of runs=N equals runs=1 with child i of the seed; thread count does not matter."""
    import numba

    kernel = zonemodel.gnumach(2005, zone_map="4 MiB", background_rate=0.2, background_exit=0.1)
    many = zonemodel.fork_bomb(kernel, runs=8, seed=99)
    assert isinstance(many, zonemodel.ForkBombRuns)
    single = zonemodel.fork_bomb(kernel, seed=99)
    assert isinstance(single, zonemodel.ForkBombResult)
    assert many.values[0] == single.processes
    numba.set_num_threads(1)
    try:
        again = zonemodel.fork_bomb(kernel, runs=8, seed=99)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert again == many
    assert len(set(many.values)) > 1  # the noise is real


@settings(max_examples=25, deadline=None)
@given(pages=st.integers(200, 1500), extra=st.integers(1, 300), seed=st.integers(0, 2**32))
def test_more_zone_map_never_means_fewer_processes(pages: int, extra: int, seed: int) -> None:
    """While the zone map binds, a larger one never lowers the count (same seed)."""
    small = zonemodel.fork_bomb(zonemodel.gnumach(2005, zone_map=pages * 4096), seed=seed)
    large = zonemodel.fork_bomb(zonemodel.gnumach(2005, zone_map=(pages + extra) * 4096), seed=seed)
    assert isinstance(small, zonemodel.ForkBombResult) and isinstance(large, zonemodel.ForkBombResult)
    if small.limit == "zone map":
        assert large.processes >= small.processes


@settings(max_examples=25, deadline=None)
@given(pages=st.integers(200, 3000), seed=st.integers(0, 2**32))
def test_zone_bytes_fit_in_what_the_zone_map_gave(pages: int, seed: int) -> None:
    """Conservation: zone bytes never exceed zdata plus the pages the zone map handed out."""
    kernel = zonemodel.gnumach(2005, zone_map=pages * 4096)
    result = zonemodel.fork_bomb(kernel, seed=seed)
    assert isinstance(result, zonemodel.ForkBombResult)
    carved = sum(z.size for z in result.zones)
    assert carved <= result.zone_map_used + kernel.zdata
    if result.limit == "zone map":
        assert result.zone_map_size - result.zone_map_used < 4096 * 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"start": "telnet"}, ParameterError, r"\"start\" must be one of 'console', 'ssh', 'screen'"),
        ({"user": "admin"}, ParameterError, r"\"user\" must be one of 'user', 'root'"),
        ({"chain": 1}, ParameterError, r'"chain" must be True or False'),
        ({"runs": 0}, ParameterError, r'"runs" must be an integer between 1 and 1_000_000'),
        ({"seed": -1}, ParameterError, r'"seed" must be a non-negative int'),
        ({"interval": -1.0}, ParameterError, r'"interval" must be None or a number of seconds'),
        ({"interval": "fast"}, ParameterError, r'"interval" must be None or a number of seconds'),
        ({"policy": "linux"}, ParameterError, r'"policy" must be a ThreadPolicy or one of'),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        zonemodel.fork_bomb(zonemodel.gnumach(2005), **kwargs)  # type: ignore[arg-type]
