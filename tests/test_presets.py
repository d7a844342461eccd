"""Kernel presets: overrides, validation and provenance."""

from __future__ import annotations

import dataclasses
import itertools
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import zonemodel
from zonemodel.errors import ParameterError, UnknownPresetError
from zonemodel.model import eras
from zonemodel.model import kernel as kernel_module
from zonemodel.model.kernel import FIELD_NAMES, SIZE_FIELDS, Kernel
from zonemodel.model.provenance import Override, Source

KINDS = {"source", "document", "estimate", "fitted", "override"}


@pytest.mark.parametrize("year", zonemodel.YEARS)
def test_every_parameter_has_provenance(year: int) -> None:
    """No field without a provenance, a known kind and a non-empty reference."""
    kernel = zonemodel.gnumach(year)
    rows = zonemodel.provenance_table(kernel)
    assert [r["parameter"] for r in rows] == list(FIELD_NAMES)
    for row in rows:
        assert row["kind"] in KINDS - {"override"}, row
        assert row["reference"].strip(), row
        if row["kind"] == "source":
            assert "@" in row["reference"], row  # file @ commit


def test_fitted_parameters_name_observations_and_function() -> None:
    for year in zonemodel.YEARS:
        kernel = zonemodel.gnumach(year)
        for name in FIELD_NAMES:
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
    same = {f: getattr(k, f) for f in FIELD_NAMES if f not in ("zone_map", "ram")}
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
    assert all(again.provenance(n) == kernel.provenance(n) for n in FIELD_NAMES)
    with pytest.raises(TypeError):
        again._recorded["ram"] = None  # type: ignore[index]  # still read-only


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


# --------------------------------------------------------------------------- the era tables


def test_era_tables_are_complete_and_name_only_fields() -> None:
    """2005 sets every field; a later era only changes fields that exist."""
    assert set(eras.GNUMACH_2005) == set(FIELD_NAMES)
    for year, changes in eras.ERAS[1:]:
        assert set(changes) <= set(FIELD_NAMES), year
        assert set(eras.era_table(year)) == set(FIELD_NAMES), year
    assert zonemodel.YEARS == tuple(year for year, _ in eras.ERAS) == (2005, 2007, 2009, 2013)


def test_no_era_restates_the_era_before_it() -> None:
    """Each delta entry changes the value or the provenance of the era before (no copied 2007 entries in 2009/2013)."""
    for (before, _), (year, changes) in itertools.pairwise(eras.ERAS):
        previous = eras.era_table(before)
        restated = [name for name, entry in changes.items() if previous[name] == entry]
        assert not restated, f"{year} restates {before}: {restated}"


@pytest.mark.parametrize("year", zonemodel.YEARS)
def test_presets_are_their_era_tables(year: int) -> None:
    """gnumach(year) holds exactly the value and provenance of every entry of its era table."""
    kernel = zonemodel.gnumach(year)
    for name, (value, prov) in eras.era_table(year).items():
        assert (getattr(kernel, name), kernel.provenance(name)) == (value, prov), name
        assert type(getattr(kernel, name)) is type(value), name
    assert kernel.overrides() == ()


def test_later_eras_inherit_what_2007_changed() -> None:
    """The four 2007 changes that 2009 and 2013 used to restate reach them through the chain of deltas."""
    gm07 = "GNU Mach bc85b863 (2007-04-30)"
    for year in (2007, 2009, 2013):
        kernel = zonemodel.gnumach(year)
        assert (kernel.mach_ipc_compat, kernel.space_size, kernel.thread_size, kernel.pcb_size) == (False, 60, 332, 192)
        assert kernel.provenance("mach_ipc_compat") == Source("IPC compat removed, commit 96c01087 (2006-12-03)", gm07)
        for name in ("space_size", "thread_size", "pcb_size"):
            prov = kernel.provenance(name)
            assert isinstance(prov, Source) and prov.commit == gm07, (year, name)


def test_2013_does_not_inherit_the_2009_ram_cut() -> None:
    """2013's ram_limit is 2005's entry again (no cut), not 2009's 5/6 GiB."""
    k05, k09, k13 = (zonemodel.gnumach(y) for y in (2005, 2009, 2013))
    assert k09.ram_limit == (2**30 // 6 * 5) // 4096 * 4096
    assert (k13.ram_limit, k13.provenance("ram_limit")) == (0, k05.provenance("ram_limit"))


# --------------------------------------------------------------------------- every way of building a Kernel


def _fields(kernel: Kernel) -> dict[str, Any]:
    return {name: getattr(kernel, name) for name in FIELD_NAMES}


class _TamperedPickle:
    """Pickles as *kernel* with some field values changed, as an edited pickle file would load."""

    def __init__(self, kernel: Kernel, **changes: object) -> None:
        self.kernel, self.changes = kernel, changes

    def __reduce__(self) -> tuple[Callable[..., Kernel], tuple[dict[str, Any], dict[str, Any]]]:
        load, (values, provenance) = self.kernel.__reduce__()
        return load, ({**values, **self.changes}, provenance)


def _constructor(kernel: Kernel, **changes: Any) -> Kernel:
    return Kernel(**{**_fields(kernel), **changes})


def _replace_method(kernel: Kernel, **changes: Any) -> Kernel:
    return kernel.replace(**changes)


def _dataclasses_replace(kernel: Kernel, **changes: Any) -> Kernel:
    return dataclasses.replace(kernel, **changes)


def _unpickle(kernel: Kernel, **changes: Any) -> Kernel:
    loaded = pickle.loads(pickle.dumps(_TamperedPickle(kernel, **changes)))
    assert isinstance(loaded, Kernel)
    return loaded


PATHS = {
    "constructor": _constructor,
    "Kernel.replace": _replace_method,
    "dataclasses.replace": _dataclasses_replace,
    "unpickle": _unpickle,
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"zone_map": -4096}, r'"zone_map" must be >= 0 bytes, got -4096'),
        ({"zone_map": 5000}, r'"zone_map" must be a whole number of 4096-byte pages, got 5000'),
        ({"zone_map": np.int64(5000)}, r'"zone_map" must be a whole number of 4096-byte pages, got 5000'),
        ({"kalloc_map": "100 B"}, r'"kalloc_map" must be a whole number of 4096-byte pages, got 100'),
        ({"zone_map": "8 MB"}, r'"zone_map": unknown unit \'MB\''),
        ({"zone_map": True}, r'"zone_map" must be a size in bytes or a string like "8 MiB", not a bool'),
        ({"zone_map": 1.5}, r'"zone_map" must be an int \(bytes\) or a string like "8 MiB", got float'),
        ({"ram": "1 MiB"}, r'"ram" must be between 16 MiB and 64 GiB, got \'1 MiB\''),
        ({"page_size": 8192}, r'"page_size" must be between 4 KiB and 4 KiB, got 8192'),
        ({"task_max": -1}, r'"task_max" must be between 1 and 16777216, got -1'),
        ({"task_max": np.int32(-1)}, r'"task_max" must be between 1 and 16777216, got np.int32\(-1\)'),
        ({"task_max": True}, r'"task_max" must be an integer, got True'),
        ({"task_max": np.True_}, r'"task_max" must be an integer, got np.True_'),
        ({"task_max": 10.5}, r'"task_max" must be an integer, got 10.5'),
        ({"kernel_map_ram_fraction": 5.0}, r'"kernel_map_ram_fraction" must be between 0.0 and 4.0, got 5.0'),
        ({"kernel_map_ram_fraction": True}, r'"kernel_map_ram_fraction" must be a number, got True'),
        ({"allocator": "buddy"}, r"\"allocator\" must be one of 'zalloc', 'slab', got 'buddy'"),
        ({"mach_ipc_compat": 1}, r'"mach_ipc_compat" must be True or False, got 1'),
    ],
)
def test_no_way_of_building_a_kernel_accepts_a_bad_value(path: str, changes: dict[str, Any], message: str) -> None:
    """The constructor, replace, dataclasses.replace and unpickling all refuse the value, naming field and range."""
    with pytest.raises(ParameterError, match=message):
        PATHS[path](zonemodel.gnumach(2005), **changes)


@pytest.mark.parametrize("path", ["constructor", "dataclasses.replace", "unpickle"])
def test_the_year_is_checked_too(path: str) -> None:
    """Only Kernel.replace refuses to change the year; the other paths check its range."""
    with pytest.raises(ParameterError, match=r'"year" must be between 2005 and 2013, got 1999'):
        PATHS[path](zonemodel.gnumach(2005), year=1999)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("name", "given", "stored"),
    [
        ("zone_map", "8 MiB", 8 * 2**20),
        ("zone_map", np.int64(8 * 2**20), 8 * 2**20),
        ("ram", np.uint32(2**29), 2**29),
        ("process_resident", "1.5 KiB", 1536),
        ("task_max", np.int32(2000), 2000),
        ("kernel_map_ram_fraction", np.float32(0.5), 0.5),
        ("kernel_map_ram_fraction", 1, 1.0),
        ("background_rate", np.float64(0.25), 0.25),
    ],
)
def test_strings_and_numpy_scalars_are_stored_as_python_numbers(path: str, name: str, given: Any, stored: Any) -> None:
    """Sizes as strings become int bytes; numpy scalars become int or float, on every path."""
    kernel = PATHS[path](zonemodel.gnumach(2005), **{name: given})
    assert getattr(kernel, name) == stored
    assert type(getattr(kernel, name)) is type(stored)
    assert zonemodel.boot(kernel).booted or name == "ram"


def test_a_kernel_built_without_provenance_is_all_override() -> None:
    """Kernel(**fields) works like a preset but every field reads as set by the user."""
    preset = zonemodel.gnumach(2009)
    kernel = Kernel(**_fields(preset))
    assert kernel == preset
    assert kernel.provenance("ram") == Override()
    assert kernel.overrides() == FIELD_NAMES
    assert {row["kind"] for row in zonemodel.provenance_table(kernel)} == {"override"}


def test_dataclasses_replace_marks_changed_fields_as_override() -> None:
    """A field that dataclasses.replace changes loses its provenance; the others keep theirs."""
    preset = zonemodel.gnumach(2005)
    kernel = dataclasses.replace(preset, zone_map="8 MiB", ports_console=50)
    assert kernel.overrides() == ("zone_map", "ports_console")
    assert kernel.provenance("zone_map") == Override()
    assert all(kernel.provenance(n) == preset.provenance(n) for n in FIELD_NAMES if n not in kernel.overrides())
    # An unchanged value keeps its provenance; a value changed and changed back stays the user's.
    assert dataclasses.replace(preset, zone_map="12 MiB").overrides() == ()
    assert dataclasses.replace(kernel, zone_map=preset.zone_map).overrides() == ("zone_map", "ports_console")


def test_replace_marks_every_given_field_as_override() -> None:
    """Kernel.replace (and gnumach overrides) mark the fields given, even when the value is the preset's."""
    preset = zonemodel.gnumach(2005)
    assert preset.replace(zone_map="12 MiB").overrides() == ("zone_map",)
    assert zonemodel.gnumach(2005, zone_map=preset.zone_map).overrides() == ("zone_map",)


def test_pickling_keeps_provenance_after_dataclasses_replace() -> None:
    """A round trip through pickle keeps every value and provenance, including Override from dataclasses.replace."""
    kernel = dataclasses.replace(zonemodel.gnumach(2013), ram=np.int64(2**30))
    again = pickle.loads(pickle.dumps(kernel))
    assert again == kernel and type(again.ram) is int
    assert [again.provenance(n) for n in FIELD_NAMES] == [kernel.provenance(n) for n in FIELD_NAMES]
    assert again.overrides() == ("ram",)


def test_field_names_and_size_fields_are_public() -> None:
    """FIELD_NAMES lists every field in order; SIZE_FIELDS the ones given in bytes (formatted as sizes)."""
    assert {"FIELD_NAMES", "SIZE_FIELDS"} <= set(kernel_module.__all__)
    declared = tuple(f.name for f in dataclasses.fields(Kernel) if not f.name.startswith("_"))
    assert declared == FIELD_NAMES
    assert FIELD_NAMES[0] == "year" and len(set(FIELD_NAMES)) == len(FIELD_NAMES)
    assert set(FIELD_NAMES) > SIZE_FIELDS
    assert {"page_size", "ram", "zone_map", "pcb_size", "boot_resident", "rpc_msg_size"} <= SIZE_FIELDS
    assert not {"year", "task_max", "kernel_map_ram_fraction", "mach_ipc_compat"} & SIZE_FIELDS
    rows = {row["parameter"]: row["value"] for row in zonemodel.provenance_table(zonemodel.gnumach(2005))}
    assert all(rows[name].endswith("B") for name in SIZE_FIELDS)
