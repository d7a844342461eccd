"""Kernel presets: overrides, validation and provenance."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

import zonemodel
from zonemodel.errors import ParameterError, UnknownPresetError
from zonemodel.model.kernel import _FIELD_NAMES

KINDS = {"source", "document", "estimate", "fitted", "override"}


@pytest.mark.parametrize("year", zonemodel.YEARS)
def test_every_parameter_has_provenance(year: int) -> None:
    """No field without a provenance, a known kind and a non-empty reference."""
    kernel = zonemodel.gnumach(year)
    rows = zonemodel.provenance_table(kernel)
    assert [r["parameter"] for r in rows] == list(_FIELD_NAMES)
    for row in rows:
        assert row["kind"] in KINDS - {"override"}, row
        assert row["reference"].strip(), row
        if row["kind"] == "source":
            assert "@" in row["reference"], row  # file @ commit


def test_fitted_parameters_name_observations_and_function() -> None:
    for year in zonemodel.YEARS:
        kernel = zonemodel.gnumach(year)
        for name in _FIELD_NAMES:
            prov = kernel.provenance(name)
            if prov.kind == "fitted":
                assert prov.observations and all(o.startswith("O") for o in prov.observations)
                assert prov.function.startswith("zonemodel.studies.calibration.")


def test_overrides_change_value_and_provenance_only() -> None:
    base = zonemodel.gnumach(2005)
    k = zonemodel.gnumach(2005, zone_map="8 MiB", ram=128 * 2**20)
    assert (k.zone_map, k.ram) == (8 * 2**20, 128 * 2**20)
    assert k.overrides() == ("ram", "zone_map")
    assert k.provenance("ram").kind == "override"
    assert k.replace(zone_map="12 MiB").zone_map == base.zone_map
    same = {f: getattr(k, f) for f in _FIELD_NAMES if f not in ("zone_map", "ram")}
    assert same == {f: getattr(base, f) for f in same}


def test_kernels_are_frozen_and_hashable() -> None:
    k = zonemodel.gnumach(2005)
    with pytest.raises(dataclasses.FrozenInstanceError):
        k.zone_map = 1  # type: ignore[misc]
    assert k == zonemodel.gnumach(2005)
    assert len({k, zonemodel.gnumach(2005)}) == 1


@pytest.mark.parametrize("year", [2005, 2013])
def test_kernels_pickle_with_their_provenance(year: int) -> None:
    kernel = zonemodel.gnumach(year, ram="512 MiB")
    again = pickle.loads(pickle.dumps(kernel))
    assert again == kernel
    assert again.overrides() == ("ram",)
    assert all(again.provenance(n) == kernel.provenance(n) for n in _FIELD_NAMES)
    with pytest.raises(TypeError):
        again._provenance["ram"] = None  # type: ignore[index]  # still read-only


def test_repr_is_readable() -> None:
    assert repr(zonemodel.gnumach(2005, zone_map="8 MiB")) == (
        "Kernel(gnumach 2005, zalloc, zone_map=8 MiB, kernel_map=40 MiB, ram=256 MiB, overrides=(zone_map))"
    )


@pytest.mark.parametrize(
    ("year", "overrides", "error", "message"),
    [
        (2006, {}, UnknownPresetError, r'"year": no preset for 2006; presets exist for 2005, 2007, 2009, 2013'),
        ("2005", {}, UnknownPresetError, r"no preset for '2005'"),
        (2005, {"zone_mapp": "8 MiB"}, UnknownPresetError, r"unknown Kernel field 'zone_mapp'; fields that can be set"),
        (2005, {"zone_map": "8 MB"}, ParameterError, r'"zone_map": unknown unit'),
        (2005, {"zone_map": -4096}, ParameterError, r'"zone_map" must be >= 0'),
        (2005, {"zone_map": "5000"}, ParameterError, r'"zone_map" must be a whole number of 4096-byte pages'),
        (2005, {"ram": "1 MiB"}, ParameterError, r'"ram" must be between 16 MiB and 64 GiB'),
        (2005, {"allocator": "buddy"}, ParameterError, r"\"allocator\" must be one of 'zalloc', 'slab'"),
        (2005, {"mach_ipc_compat": 1}, ParameterError, r'"mach_ipc_compat" must be True or False'),
        (2005, {"task_max": 10.5}, ParameterError, r'"task_max" must be an integer'),
        (2005, {"kernel_map_ram_fraction": "half"}, ParameterError, r'"kernel_map_ram_fraction" must be a number'),
    ],
)
def test_bad_presets_and_overrides(year: object, overrides: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        zonemodel.gnumach(year, **overrides)  # type: ignore[arg-type]


def test_unknown_field_in_provenance_lookup() -> None:
    with pytest.raises(UnknownPresetError, match=r'"name": \'zonemap\' is not a Kernel field'):
        zonemodel.gnumach(2005).provenance("zonemap")


def test_era_differences_follow_the_sources() -> None:
    k05, k07, k09, k13 = (zonemodel.gnumach(y) for y in zonemodel.YEARS)
    assert (k05.mach_ipc_compat, k07.mach_ipc_compat) == (True, False)
    assert (k05.space_size, k07.space_size) == (64, 60)
    assert (k05.zone_map, k09.zone_map) == (12 * 2**20, 64 * 2**20)
    assert k09.kernel_map == 40 * 2**20 + k09.ram
    assert k13.allocator == "slab" and not k13.ipc_spaces_exhaustible
