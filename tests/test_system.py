"""A System keeps state between experiments, as a real machine does."""

from __future__ import annotations

import pytest

import zonemodel
from zonemodel.errors import ParameterError


def test_zone_high_water_marks_persist_and_free_lists_are_reused() -> None:
    """After a killed bomb the zone map stays as full, and the next bomb reuses the free elements."""
    kernel = zonemodel.gnumach(2005, zone_map="4 MiB", background_rate=0.0)
    system = zonemodel.System(kernel, seed=3)
    first = system.fork_bomb(stop_at=200)
    used = system.zone_map_used
    assert (first.outcome, first.processes) == ("child limit", 200)
    again = system.fork_bomb(stop_at=200)
    assert system.zone_map_used == used  # the 200 children of the second bomb took nothing new
    assert again.zone("tasks").peak == first.zone("tasks").peak
    last = system.fork_bomb()
    fresh = zonemodel.fork_bomb(kernel, seed=3)
    assert isinstance(fresh, zonemodel.ForkBombResult)
    assert last.processes == fresh.processes
    assert not system.alive
    with pytest.raises(zonemodel.SystemDown, match="panic: zalloc: zone"):
        system.fork_bomb()


def test_same_seed_same_history() -> None:
    kernel = zonemodel.gnumach(2005, zone_map="4 MiB")
    runs = []
    for _ in range(2):
        system = zonemodel.System(kernel, seed=11)
        runs.append([system.fork_bomb(stop_at=100).processes, system.fork_bomb().processes])
    assert runs[0] == runs[1]


def test_a_kernel_that_does_not_boot_raises_boot_error() -> None:
    """System() of a kernel that does not boot raises BootError at once, as every experiment does."""
    with pytest.raises(zonemodel.errors.BootError, match=r'"kernel": .* does not boot: panic: kmem_suballoc'):
        zonemodel.System(zonemodel.gnumach(2005, zone_map="32 MiB"))


def test_stop_at_is_checked() -> None:
    system = zonemodel.System(zonemodel.gnumach(2005))
    with pytest.raises(ParameterError, match=r'"stop_at" must be an integer between 0 and'):
        system.fork_bomb(stop_at=-1)
