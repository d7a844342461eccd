"""Reference of the boot budget: what ``vm_mem_bootstrap`` and the first tasks take from kernel_map.

Written from ``gnumach-facts.md`` section 3 (i386, GNU Mach 1.3 to 2011), not
from ``zonemodel.model.boot``.  In boot order:

1. ``pmap_steal_memory`` in ``vm_page_bootstrap`` maps what it steals in
   kernel_map: the ``vm_page`` array (one struct per physical page), the page
   hash buckets (one per page, rounded up to a power of two), kentry_data and,
   in the zalloc era, zdata;
2. ``pmap_init``'s tables, a few bytes per physical page;
3. the sub-maps, each by ``kmem_suballoc`` (which panics when one does not
   fit): zone_map (``zone_init``; kmem_map in the slab era), kalloc_map
   (``kalloc_init``, zalloc era only: the slab era's big kalloc caches live
   in kmem_map), ipc_kernel_map (``ipc_init``), device_io_map (``ds_init``);
4. boot kernel stacks and Linux driver glue (``stack_alloc`` panics);
5. one 4 KiB page directory per task of the booting system (``pmap_create``
   panics).

Before all that, 1997-2006 kernels do not boot when physical memory and
kernel_map together exceed the kernel's virtual addresses (the direct map of
RAM starts at 0 and kernel_map follows it).  Sizes of kernel_map and of the
RAM the kernel uses are the Kernel's own properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import zonemodel


@dataclass
class Budget:
    """kernel_map at boot: what was taken, in order, and whether all of it fitted."""

    kernel_map: int
    items: list[tuple[str, int]] = field(default_factory=list)
    booted: bool = True
    message: str = ""  # the console panic line, "" when it boots or when the console output is not modelled
    stolen: int = 0  # bytes of physical memory stolen at boot (steps 1 and 2)
    free_for_tasks: int = 0  # kernel_map left when the first task's page directory is allocated

    @property
    def free(self) -> int:
        """kernel_map left after boot (0 when it did not boot)."""
        return self.kernel_map - sum(size for _, size in self.items) if self.booted else 0

    def take(self, what: str, nbytes: int, panic: str) -> bool:
        """Take *nbytes* for *what*; on failure record the panic and return False."""
        if nbytes > self.kernel_map - sum(size for _, size in self.items):
            self.booted, self.message = False, panic
            return False
        self.items.append((what, nbytes))
        return True


def _round_page(nbytes: int, page: int) -> int:
    return -(-nbytes // page) * page


def boot_budget(kernel: zonemodel.Kernel) -> Budget:
    """Replay vm_mem_bootstrap's use of kernel_map for *kernel*."""
    k, page = kernel, kernel.page_size
    budget = Budget(k.kernel_map)
    if k.ram_above_direct_map == "no boot" and k.usable_ram + k.kernel_map > k.kernel_va:
        budget.booted = False
        return budget
    pages = k.usable_ram // page
    buckets = 1
    while buckets < pages:
        buckets *= 2
    stolen = [
        ("vm_page array", _round_page(pages * k.vm_page_struct, page)),
        ("page hash buckets", _round_page(buckets * k.vm_page_bucket, page)),
        ("kernel map entries (kentry_data)", _round_page(k.kentry_data, page)),
    ]
    if k.allocator == "zalloc":
        stolen.append(("zdata", _round_page(k.zdata, page)))
    # pv heads, attribute bytes and lock bits: pmap_bytes_per_page_x8 eighths of a byte per page
    stolen.append(("pmap_init tables", _round_page(-(-pages * k.pmap_bytes_per_page_x8 // 8), page)))
    budget.items = list(stolen)
    budget.stolen = sum(size for _, size in stolen)
    if budget.stolen > k.kernel_map:
        budget.booted = False  # what the console shows is not modelled
        return budget
    if k.allocator == "zalloc":
        submaps = [("zone_map", k.zone_map)]
        if k.kalloc_map:
            submaps.append(("kalloc_map", k.kalloc_map))
    else:
        submaps = [("kmem_map", k.zone_map)]
    submaps += [("ipc_kernel_map", k.ipc_kernel_map), ("device_io_map", k.device_io_map)]
    for name, size in submaps:
        if not budget.take(name, size, "panic: kmem_suballoc"):
            return budget
    if not budget.take("boot stacks and driver glue", k.boot_kernel_map_other, "panic: stack_alloc"):
        return budget
    budget.free_for_tasks = budget.kernel_map - sum(size for _, size in budget.items)
    directories = f"page directories of {k.system_tasks} system tasks"
    budget.take(directories, k.system_tasks * page, "panic: pmap_create")
    return budget
