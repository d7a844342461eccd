"""Golden tables: the zone table and the boot budget of the 2005 and 2007 presets (and Debian's 2005 zone table).

The numbers are worked out by hand from GNU Mach's sources (the zinit calls,
kern/mach_param.h, vm_mem_bootstrap; see ``gnumach-facts.md`` sections 1 to 3)
and the structure sizes measured for each era.  Each table is checked
against the plain-Python reference (``tests/reference``) and against the model
(``zonemodel.model.zones.zone_specs``, ``zonemodel.boot``), so a change to
either one fails here as well as in the agreement tests.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import zonemodel
from tests import reference
from zonemodel.model.zones import zone_specs

KiB, MiB, PAGE = 2**10, 2**20, 4096

# name, element size (sizeof rounded to 4 B), maximum in pages (round_page of zinit's max),
# maximum in elements, flags (E: ZONE_EXHAUSTIBLE, C: ZONE_COLLECTABLE)
ZONES_2005 = [
    ("tasks", 132, 33, 1024, ""),  # TASK_MAX 1024 x sizeof(struct task)
    ("threads", 336, 84, 1024, ""),  # THREAD_MAX 1024 x sizeof(struct thread)
    ("i386 pcb state", 176, 44, 1024, ""),  # THREAD_MAX x sizeof(struct pcb)
    ("ipc spaces", 64, 17, 1088, "E"),  # SPACE_MAX 1029 x 64 = 65856 -> 69632 B
    ("ipc tree entries", 32, 512, 65536, "E"),  # ITE_MAX 65536
    ("ipc ports", 76, 857, 46187, ""),  # PORT_MAX 46144 x 76 = 3506944 -> 3510272 B
    ("ipc port sets", 20, 11, 2252, "E"),  # SET_MAX 2248 x 20 = 44960 -> 45056 B
    ("maps", 64, 10, 640, ""),  # 40 KiB
    ("non-kernel map entries", 48, 256, 21845, ""),  # 1 MiB
    ("objects", 76, 128, 6898, ""),  # 512 KiB
    ("pmap", 20, 2, 409, ""),  # 400 x 20 = 8000 -> 8192 B
    ("pv_list", 12, 30, 10240, ""),  # 10000 x 12 = 120000 -> 122880 B
    ("kalloc.16", 16, 4, 1024, ""),  # k_zone_max[] of kern/kalloc.c
    ("kalloc.32", 32, 32, 4096, ""),
    ("kalloc.64", 64, 64, 4096, ""),
    ("kalloc.128", 128, 128, 4096, ""),
    ("kalloc.256", 256, 256, 4096, ""),
    ("kalloc.512", 512, 128, 1024, ""),
    ("kalloc.1024", 1024, 256, 1024, ""),
    ("kalloc.2048", 2048, 512, 1024, ""),
    ("kalloc.4096", 4096, 1024, 1024, "C"),
    ("kalloc.8192", 8192, 8192, 4096, "C"),
    ("map copies", 56, 4, 292, ""),  # vm/vm_map.c: 16 KiB of struct vm_map_copy
]

# 2007: IPC compat gone, struct thread 332 B, struct pcb 192 B, struct ipc_space 60 B.
ZONES_2007 = [
    *ZONES_2005[:1],
    ("threads", 332, 83, 1024, ""),  # 1024 x 332 = 339968 B, exactly 83 pages
    ("i386 pcb state", 192, 48, 1024, ""),
    ("ipc spaces", 60, 16, 1092, "E"),  # 1029 x 60 = 61740 -> 65536 B
    *ZONES_2005[4:],
]

# Debian 2005 (debian/patches/14_alloc_params.patch): TASK_MAX and THREAD_MAX 65536, so by kern/mach_param.h's
# formulas SPACE_MAX 65541, PORT_MAX 433216, SET_MAX 131272.
ZONES_DEBIAN_2005 = [
    ("tasks", 132, 2112, 65536, ""),  # 65536 x 132 = 8650752 B, exactly 2112 pages
    ("threads", 336, 5376, 65536, ""),  # 65536 x 336 = 22020096 B
    ("i386 pcb state", 176, 2816, 65536, ""),  # 65536 x 176 = 11534336 B
    ("ipc spaces", 64, 1025, 65600, "E"),  # SPACE_MAX 65541 x 64 = 4194624 -> 4198400 B
    ZONES_2005[4],
    ("ipc ports", 76, 8039, 433259, ""),  # PORT_MAX 433216 x 76 = 32924416 -> 32927744 B
    ("ipc port sets", 20, 641, 131276, "E"),  # SET_MAX 131272 x 20 = 2625440 -> 2625536 B
    *ZONES_2005[7:],
]

ZONES = {(2005, "upstream"): ZONES_2005, (2007, "upstream"): ZONES_2007, (2005, "debian"): ZONES_DEBIAN_2005}

# Bytes a collectable zone takes from the zone map at a time (zinit's alloc: the element size).
COLLECTABLE_ALLOC = {"kalloc.4096": 4096, "kalloc.8192": 8192}

# What boot takes from kernel_map at 256 MiB of RAM (65536 pages), in order; both presets take the same.
BOOT_ITEMS_256_MIB = [
    ("vm_page array", 3 * MiB),  # 65536 x 48 B
    ("page hash buckets", 256 * KiB),  # 65536 buckets (a power of two) x 4 B
    ("kernel map entries (kentry_data)", 12 * KiB),  # kentry_count 256 x 48 B
    ("zdata", 420 * KiB),
    ("pmap_init tables", 840 * KiB),  # 65536 x 13.125 B = 860160 B
    ("zone_map", 12 * MiB),
    ("kalloc_map", 8 * MiB),
    ("ipc_kernel_map", 1 * MiB),
    ("device_io_map", 2 * MiB),
    ("boot stacks and driver glue", 512 * KiB),
    ("page directories of 45 system tasks", 45 * PAGE),
]
KERNEL_MAP = {
    2005: 40 * MiB,  # morevm, fixed
    2007: 40 * MiB + 17895424,  # morevm + phys/15, rounded down to a page (268435456 / 15 = 17895697.07)
}
KERNEL_MAP_FREE = {2005: 12406784, 2007: 30302208}  # kernel_map minus the 29536256 B above


def _flags(exhaustible: bool, collectable: bool) -> str:
    return "E" * exhaustible + "C" * collectable


def _reference_zones(kernel: zonemodel.Kernel) -> list[tuple[str, int, int, int, str]]:
    rows = []
    for z in reference.zone_table(kernel):
        assert z.max_size is not None and z.max_size % PAGE == 0
        flags = _flags(bool(z.flags & reference.ZONE_EXHAUSTIBLE), bool(z.flags & reference.ZONE_COLLECTABLE))
        rows.append((z.name, z.elem_size, z.max_size // PAGE, z.max_size // z.elem_size, flags))
    return rows


def _model_zones(kernel: zonemodel.Kernel) -> list[tuple[str, int, int, int, str]]:
    rows = []
    for s in zone_specs(kernel):
        assert s.max_size % PAGE == 0
        rows.append(
            (s.name, s.elem_size, s.max_size // PAGE, s.max_size // s.elem_size, _flags(s.exhaustible, s.collectable))
        )
    return rows


@pytest.mark.parametrize(("year", "distro"), ZONES)
def test_reference_zone_table_is_the_golden_table(year: int, distro: str) -> None:
    kernel = zonemodel.gnumach(year, distro=distro)
    assert _reference_zones(kernel) == ZONES[year, distro]
    alloc = {z.name: z.alloc_size for z in reference.zone_table(kernel) if z.flags & reference.ZONE_COLLECTABLE}
    assert alloc == COLLECTABLE_ALLOC


@pytest.mark.parametrize(("year", "distro"), ZONES)
def test_model_zone_table_is_the_golden_table(year: int, distro: str) -> None:
    kernel = zonemodel.gnumach(year, distro=distro)
    assert _model_zones(kernel) == ZONES[year, distro]
    assert {s.name: s.alloc_size for s in zone_specs(kernel) if s.collectable} == COLLECTABLE_ALLOC


@pytest.mark.parametrize("year", [2005, 2007])
def test_reference_boot_budget_is_the_golden_table(year: int) -> None:
    kernel = zonemodel.gnumach(year, ram="256 MiB")
    budget = reference.boot_budget(kernel)
    assert (budget.booted, budget.message) == (True, "")
    assert budget.kernel_map == KERNEL_MAP[year]
    assert budget.items == BOOT_ITEMS_256_MIB
    assert budget.free == KERNEL_MAP_FREE[year]
    assert budget.stolen == sum(size for _, size in BOOT_ITEMS_256_MIB[:5])


@pytest.mark.parametrize("year", [2005, 2007])
def test_model_boot_budget_is_the_golden_table(year: int) -> None:
    kernel = zonemodel.gnumach(year, ram="256 MiB")
    report = zonemodel.boot(kernel)
    assert (report.booted, report.message) == (True, "")
    assert kernel.kernel_map == report.kernel_map == KERNEL_MAP[year]
    assert list(report.items) == BOOT_ITEMS_256_MIB
    assert report.kernel_map_free == KERNEL_MAP_FREE[year]


# Kernels that do not boot, and why: (year, overrides, console message).
NO_BOOT = [
    (2005, {"ram": "1 GiB"}, ""),  # 1 GiB of RAM plus 40 MiB of kernel_map exceed the kernel's 1 GiB of addresses
    (2005, {"kernel_map_base": "4 MiB"}, ""),  # the 4710400 B stolen at boot do not fit in kernel_map
    (2005, {"zone_map": "32 MiB"}, "panic: kmem_suballoc"),  # no room left for kalloc_map
    (2005, {"zone_map": 12 * MiB + KERNEL_MAP_FREE[2005] + PAGE}, "panic: pmap_create"),  # one page too many
    (2005, {"boot_kernel_map_other": "16 MiB"}, "panic: stack_alloc"),
    (2007, {"zone_map": "48 MiB"}, "panic: kmem_suballoc"),  # 57 MiB of kernel_map at 256 MiB of RAM
]


@pytest.mark.parametrize(("year", "overrides", "message"), NO_BOOT)
def test_kernels_that_do_not_boot(year: int, overrides: dict[str, object], message: str) -> None:
    kernel = zonemodel.gnumach(year, **overrides)  # type: ignore[arg-type]
    budget, report = reference.boot_budget(kernel), zonemodel.boot(kernel)
    assert (budget.booted, budget.message) == (report.booted, report.message) == (False, message)
    assert budget.items == list(report.items)
    assert budget.free == report.kernel_map_free == 0
    with pytest.raises(reference.NotBooted):
        reference.Machine(kernel)


def test_the_largest_zone_map_that_boots() -> None:
    """One page below the pmap_create case: the zone map takes all of kernel_map's free space."""
    kernel = zonemodel.gnumach(2005, zone_map=12 * MiB + KERNEL_MAP_FREE[2005])
    budget = reference.boot_budget(kernel)
    assert budget.booted and budget.free == 0
    assert zonemodel.max_bootable_zone_map(zonemodel.gnumach(2005)) == 12 * MiB + KERNEL_MAP_FREE[2005]


@pytest.mark.parametrize("case", range(60))
def test_reference_tables_agree_with_the_model_on_random_kernels(case: int) -> None:
    """Beyond the presets: every era, random RAM and map sizes, the same zones and the same boot budget."""
    rng = np.random.default_rng(np.random.SeedSequence(1997).spawn(60)[case])
    year = int(rng.choice(zonemodel.YEARS))
    kernel = zonemodel.gnumach(
        year,
        ram=int(2 ** rng.uniform(4, 12)) * MiB,
        zone_map=int(rng.integers(1, 10_000)) * PAGE,
        kalloc_map=int(rng.integers(0, 3000)) * PAGE,
        kernel_map_base=int(rng.integers(4, 64)) * MiB,
        system_tasks=int(rng.integers(1, 3000)),
        boot_kernel_map_other=int(rng.integers(0, 8192)) * KiB,
    )
    ref = [(z.name, z.elem_size, z.max_size, z.flags) for z in reference.zone_table(kernel)]
    model = [
        (
            s.name,
            s.elem_size,
            None if kernel.allocator == "slab" else s.max_size,
            reference.ZONE_EXHAUSTIBLE * s.exhaustible | reference.ZONE_COLLECTABLE * s.collectable,
        )
        for s in zone_specs(kernel)
    ]
    assert ref == model
    budget, report = reference.boot_budget(kernel), zonemodel.boot(kernel)
    assert (budget.booted, budget.message, budget.items, budget.free) == (
        report.booted,
        report.message,
        list(report.items),
        report.kernel_map_free,
    )


def test_the_reference_uses_nothing_of_the_model_but_its_inputs() -> None:
    """tests/reference may read a Kernel and build Limits; it imports no model table, kernel or experiment."""
    allowed = {"Kernel", "Limits"}
    for path in sorted((Path(__file__).parent / "reference").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("zonemodel"), f"{path.name}: from {node.module} import ..."
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("zonemodel")]
                assert names in ([], ["zonemodel"]), f"{path.name}: import {', '.join(names)}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "zonemodel":
                assert node.attr in allowed, f"{path.name}:{node.lineno}: zonemodel.{node.attr}"
