"""Debian's gnumach of 2005 to 2009 (``14_alloc_params.patch``): the preset, its derived maxima, the reference.

Its zone table is a golden table of ``tests/test_reference_tables.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import zonemodel
from tests.test_forkbomb import _random_kernel, check_against_reference
from zonemodel.errors import ParameterError, UnknownPresetError
from zonemodel.model.eras import mach_param_maxima
from zonemodel.model.provenance import Source

MiB = 2**20
CASES = 120

# Figures of ../shared/notes/debian-gnumach-2005.md section 1 and gnumach-facts.md section 2.
NOTES = {
    "upstream": {"task_max": 1024, "thread_max": 1024, "space_max": 1029, "port_max": 46144, "set_max": 2248},
    "debian": {"task_max": 65536, "thread_max": 65536, "space_max": 65541, "port_max": 433216, "set_max": 131272},
}
PATCH = "debian/patches/14_alloc_params.patch"


@pytest.mark.parametrize("year", [2005, 2007])
@pytest.mark.parametrize("distro", ["upstream", "debian"])
def test_derived_maxima_are_the_notes_figures(year: int, distro: str) -> None:
    """SPACE_MAX, PORT_MAX and SET_MAX follow kern/mach_param.h's formulas from TASK_MAX and THREAD_MAX."""
    kernel = zonemodel.gnumach(year, distro=distro)
    assert {name: getattr(kernel, name) for name in NOTES[distro]} == NOTES[distro]
    assert mach_param_maxima(kernel.task_max, kernel.thread_max) == {
        name: NOTES[distro][name] for name in ("port_max", "set_max", "space_max")
    }
    for name in ("port_max", "set_max", "space_max"):
        prov = kernel.provenance(name)
        assert isinstance(prov, Source) and prov.file.startswith("kern/mach_param.h:"), name
        assert " formula " in prov.file and f"TASK_MAX {kernel.task_max}" in prov.note, name


@pytest.mark.parametrize("year", [2005, 2007])
def test_debian_changes_only_the_patched_fields_each_sourced_to_the_packaging(year: int) -> None:
    upstream, debian = zonemodel.gnumach(year), zonemodel.gnumach(year, distro="debian")
    changed = {n for n in zonemodel.model.kernel.FIELD_NAMES if getattr(upstream, n) != getattr(debian, n)}
    assert changed == {"zone_map", "task_max", "thread_max", "space_max", "port_max", "set_max"}
    assert debian.zone_map == 16 * MiB and debian.overrides() == ()
    for name in ("zone_map", "task_max", "thread_max"):
        prov = debian.provenance(name)
        assert isinstance(prov, Source) and prov.file.startswith(PATCH), name
        assert "1:20050501-2" in prov.note and "bfaa557" in prov.note, name
    assert "9219473" in debian.provenance("zone_map").reference
    assert "2677f79" in debian.provenance("zone_map").note and "18 MiB" in debian.provenance("zone_map").note
    assert "2677f79" in debian.provenance("task_max").reference
    # The 2007 Debian kernel keeps 2007's changes (IPC compat removed).
    assert debian.mach_ipc_compat is (year == 2005)


def test_the_three_day_18_mib_value_is_an_override() -> None:
    kernel = zonemodel.gnumach(2005, distro="debian", zone_map="18 MiB")
    assert kernel.zone_map == 18 * MiB and kernel.overrides() == ("zone_map",)
    assert kernel.space_max == 65541
    assert isinstance(zonemodel.boot(kernel).booted, bool)


@pytest.mark.parametrize(
    ("year", "distro", "error", "message"),
    [
        (2005, "ubuntu", ParameterError, r"\"distro\" must be one of 'upstream', 'debian', got 'ubuntu'"),
        (2005, None, ParameterError, r'"distro" must be one of'),
        (2009, "debian", UnknownPresetError, r"\"distro\": 'debian' has no preset for 2009; .* 2005, 2007"),
        (2013, "debian", UnknownPresetError, r'"distro": .* 2013'),
    ],
)
def test_bad_distros(year: int, distro: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        zonemodel.gnumach(year, distro=distro)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", range(CASES))
def test_kernel_matches_reference_on_debian_kernels(case: int) -> None:
    """Random Debian kernels (2005 and 2007, zone maps to 17 MiB) and seeds: kernel and reference agree exactly."""
    rng = np.random.default_rng(np.random.SeedSequence(14).spawn(CASES)[case])
    check_against_reference(_random_kernel(rng, "debian"), rng)


@pytest.mark.parametrize("case", range(20))
def test_kernel_matches_reference_past_the_upstream_cap(case: int) -> None:
    """Debian's preset with its fitted values and 12 to 18 MiB zone maps: bombs well past 1088 spaces still agree."""
    rng = np.random.default_rng(np.random.SeedSequence(65541).spawn(20)[case])
    kernel = zonemodel.gnumach(
        int(rng.choice([2005, 2007])),
        distro="debian",
        zone_map=int(rng.integers(3072, 4608)) * 4096,
        ram=int(rng.integers(192, 400)) * MiB,
        background_rate=float(rng.uniform(0, 0.1)),
    )
    check_against_reference(kernel, rng)
