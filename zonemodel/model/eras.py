"""Preset data: GNU Mach and the Hurd in 2005, and what each later era changed.

:data:`GNUMACH_2005` gives every field of a :class:`~zonemodel.Kernel` with
its provenance.  Each later era lists only what changed since the era before
it (2007 from 2005, 2009 from 2007, 2013 from 2009); :func:`era_table`
applies the changes in order.  Nothing here is code but that fold: the type,
its validation and :func:`~zonemodel.gnumach` live in
:mod:`zonemodel.model.kernel`.

Examples
--------
>>> era_table(2009)["zone_map"][0] == 64 * 2**20
True
>>> era_table(2009)["mach_ipc_compat"] == CHANGES_2007["mach_ipc_compat"]  # set in 2007, kept since
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeAlias

from zonemodel.errors import ParameterError, UnknownPresetError
from zonemodel.model.provenance import Document, Estimate, Fitted, Provenance, Source

__all__ = [
    "CHANGES_2007",
    "CHANGES_2009",
    "CHANGES_2013",
    "DEBIAN_ALLOC_PARAMS",
    "DISTROS",
    "ERAS",
    "GNUMACH_2005",
    "Entry",
    "Era",
    "era_table",
    "mach_param_maxima",
    "preset_table",
]

Entry: TypeAlias = tuple[Any, Provenance]
"""A field's value and where it comes from."""
Era: TypeAlias = Mapping[str, Entry]
"""Entries by field name: a full table (2005) or the changes of one era."""

_KiB: Final = 1 << 10
_MiB: Final = 1 << 20
_G: Final = 1 << 30

# --------------------------------------------------------------------------
# Provenance shorthands.  Commits are those of the GNU Mach git conversion
# of the CVS history (see docs/reference/parameters.md for the full list).
_GM13 = "GNU Mach 1.3 4fd7c820 (2002-05-27)"
_GM05 = "GNU Mach gnumach-1-branch 80fee107 (2005-07-12)"
_GM07 = "GNU Mach bc85b863 (2007-04-30)"
_GM09 = "GNU Mach fa6c711d (2009-10-14)"
_GM13S = "GNU Mach 1.4 (v1.4, 2013-09-27)"
_SIZEOF = "sizeof measured by compiling the historical headers with gcc -m32 (i386, NCPUS=1)"
_GLIBC = "glibc 2.3 (Debian GNU/Hurd 2005)"
_HURD05 = "GNU Hurd b2d343be"
_ZP = "zalloc panics, r2 (2007-04-12), antrik/Olaf Buddenhagen, Hurd wiki"
_DEB_ADDED = "Debian gnumach packaging 2677f79 (2005-05-11)"
_DEB_16 = "Debian gnumach packaging 9219473 (2005-05-14)"
_GM07_VM = "GNU Mach 352e8479 (2007-06-23)"
_HURD07 = "GNU Hurd 34c26318 (2007-05-08; these files did not change 2005-2008)"
_DISK_SIZES = "i386 sizes and kalloc zones as disk-load-2005.md §2 gives them"
_DEB_SHIPPED = (
    "shipped in every Debian gnumach from 1:20050501-2 (2005-05-14) to 2:1.3.99.dfsg.cvs20080708-1; "
    "the x64 change was removed in bfaa557 (2008-12-29)"
)


def _sizeof(header: str, commit: str = _GM05) -> Source:
    return Source(header, commit, note=_SIZEOF)


def mach_param_maxima(task_max: int, thread_max: int) -> dict[str, int]:
    """The maxima that ``kern/mach_param.h`` derives from ``TASK_MAX`` and ``THREAD_MAX``.

    The formulas are those of GNU Mach 1.3 to 2011 (``b42bd0d6`` to ``88382234``)::

        PORT_MAX  = (TASK_MAX * 3 + THREAD_MAX) + (THREAD_MAX * 2) + 40000    (:53)
        SET_MAX   = TASK_MAX + THREAD_MAX + 200                               (:58)
        SPACE_MAX = TASK_MAX + 5                                              (:63)

    >>> mach_param_maxima(1024, 1024)
    {'port_max': 46144, 'set_max': 2248, 'space_max': 1029}
    >>> mach_param_maxima(65536, 65536)  # Debian's 14_alloc_params.patch (x64)
    {'port_max': 433216, 'set_max': 131272, 'space_max': 65541}
    """
    return {
        "port_max": (task_max * 3 + thread_max) + thread_max * 2 + 40000,
        "set_max": task_max + thread_max + 200,
        "space_max": task_max + 5,
    }


_FORMULAS: Final = {
    "port_max": "kern/mach_param.h:53 formula PORT_MAX = (TASK_MAX * 3 + THREAD_MAX) + THREAD_MAX * 2 + 40000",
    "set_max": "kern/mach_param.h:58 formula SET_MAX = TASK_MAX + THREAD_MAX + 200",
    "space_max": "kern/mach_param.h:63 formula SPACE_MAX = TASK_MAX + 5",
}


def _derived_maxima(task_max: int, thread_max: int, commit: str, note: str = "") -> dict[str, Entry]:
    """Entries of the derived maxima, computed by :func:`mach_param_maxima`, with the formula as provenance."""
    values = mach_param_maxima(task_max, thread_max)
    why = f"computed from TASK_MAX {task_max} and THREAD_MAX {thread_max}" + (f"; {note}" if note else "")
    return {name: (value, Source(_FORMULAS[name], commit, note=why)) for name, value in values.items()}


GNUMACH_2005: Final[Era] = {
    "year": (2005, Document(_ZP, note="antrik measured in July 2005 (first version r1, 2005-07-17)")),
    "allocator": ("zalloc", Source("kern/zalloc.c", _GM05)),
    "page_size": (4096, Source("i386/i386/vm_param.h (I386_PGBYTES)", _GM05)),
    "ram": (
        256 * _MiB,
        Document(_ZP, note="'given enough RAM'; 256 and 384 MiB gave the same counts, so 256 MiB is enough"),
    ),
    "ram_limit": (0, Source("i386/i386at/model_dep.c: no cap on RAM in GNU Mach 1.3", _GM13)),
    "kernel_va": (1 << 30, Source("i386/i386/vm_param.h:30 (VM_MAX_KERNEL_ADDRESS)", _GM13)),
    "kernel_map_base": (40 * _MiB, Source("i386/intel/pmap.c:203,630 (morevm)", _GM13)),
    "kernel_map_ram_fraction": (0.0, Source("i386/intel/pmap.c:630 (fixed morevm)", _GM13)),
    "zone_map": (12 * _MiB, Source("kern/zalloc.c:102 (zone_map_size)", _GM13)),
    "zdata": (420 * _KiB, Source("kern/zalloc.c:117 (zdata_size)", _GM13)),
    "kalloc_map": (8 * _MiB, Source("kern/kalloc.c:50 (kalloc_map_size)", _GM13)),
    "ipc_kernel_map": (1 * _MiB, Source("ipc/ipc_init.c:56 (ipc_kernel_map_size)", _GM13)),
    "device_io_map": (2 * _MiB, Source("device/ds_routines.c:1476 (DEVICE_IO_MAP_SIZE)", _GM13)),
    "kentry_data": (12 * _KiB, Source("vm/vm_map.c (kentry_count = 256 entries of 48 B)", _GM13)),
    "boot_kernel_map_other": (
        512 * _KiB,
        Estimate(
            "kernel stacks of the boot-time kernel threads (4 KiB each), the interrupt stack and "
            "Linux driver glue allocations; order of magnitude only, not measured"
        ),
    ),
    "vm_page_struct": (48, _sizeof("vm/vm_page.h (struct vm_page)")),
    "vm_page_bucket": (4, _sizeof("vm/vm_resident.c (struct vm_page_bucket, uniprocessor)")),
    "pmap_bytes_per_page_x8": (
        105,
        Source(
            "i386/intel/pmap.c pmap_init",
            _GM13,
            note="12 B pv head + 1 attribute byte + 1 lock bit per page = 13.125 B",
        ),
    ),
    "task_max": (1024, Source("kern/mach_param.h:44 (TASK_MAX)", _GM13)),
    "thread_max": (1024, Source("kern/mach_param.h:41 (THREAD_MAX)", _GM13)),
    **_derived_maxima(1024, 1024, _GM13),
    "ite_max": (65536, Source("kern/mach_param.h:61 (ITE_MAX)", _GM13)),
    "ipc_spaces_exhaustible": (True, Source("ipc/ipc_init.c:80 (ZONE_EXHAUSTIBLE)", _GM13)),
    "ram_above_direct_map": (
        "no boot",
        Estimate(
            "GNU Mach 1.3 has no cap on RAM; RAM and kernel_map must fit under VM_MAX_KERNEL_ADDRESS "
            "(what the console shows otherwise is not modelled)"
        ),
    ),
    "kmem_waits_for_memory": (
        False,
        Source(
            "kern/slab.c: kmem_cache_alloc returns 0 on failure; waits only from commit 724326b4 (2016-02-22)", _GM13S
        ),
    ),
    "mach_ipc_compat": (True, Source("ipc/ipc_space.c:156-181 (MACH_IPC_COMPAT=1)", _GM13)),
    "task_size": (132, _sizeof("kern/task.h")),
    "thread_size": (336, _sizeof("kern/thread.h")),
    "pcb_size": (176, _sizeof("i386/i386/thread.h (struct pcb)")),
    "port_size": (76, _sizeof("ipc/ipc_port.h")),
    "space_size": (64, _sizeof("ipc/ipc_space.h")),
    "entry_size": (16, _sizeof("ipc/ipc_entry.h")),
    "tree_entry_size": (32, _sizeof("ipc/ipc_entry.h (struct ipc_tree_entry)")),
    "vm_map_size": (64, _sizeof("vm/vm_map.h")),
    "map_entry_size": (48, _sizeof("vm/vm_map.h (struct vm_map_entry)")),
    "vm_object_size": (76, _sizeof("vm/vm_object.h")),
    "pmap_size": (20, _sizeof("i386/intel/pmap.h")),
    "pv_entry_size": (12, _sizeof("i386/intel/pmap.c (struct pv_entry)")),
    # --- the Hurd ---------------------------------------------------------
    "kernel_boot_spaces": (
        3,
        Source("ipc/ipc_space.c:208 (ipc_space_kernel, ipc_space_reply) and kern/task.c (kernel task)", _GM13),
    ),
    "kernel_threads": (10, Estimate("idle, pageout, reaper, action and device threads of a uniprocessor kernel")),
    "system_tasks": (45, Fitted(("O7",), "zonemodel.studies.calibration.fit_system_tasks")),
    "boot_ports": (1300, Fitted(("O10", "O12"), "zonemodel.studies.calibration.fit_boot_ports")),
    "boot_resident": (
        40 * _MiB,
        Estimate("kernel image and buffers plus the resident data of ext2fs, pfinet, proc, exec and friends"),
    ),
    "process_threads": (2, Source("sysdeps/mach/hurd/fork.c (main and signal thread)", _GLIBC)),
    "process_ports": (5, Estimate("msgport, two MIG reply ports, the proc port and one more (glibc fork.c)")),
    "process_names": (
        20,
        Estimate("6 init ports + task and 2 thread ports + 6 fd ports + a few misc rights (model brief: 16-30)"),
    ),
    "process_map_entries": (
        40,
        Estimate("program and about 8 shared libraries (text, data, bss), two thread stacks, heap, misc"),
    ),
    "process_shadow_objects": (
        10,
        Estimate("about 5 written private regions, shadowed once in the child and once again in the parent"),
    ),
    "process_pv_entries": (120, Estimate("pages of shared text and data a small forked child touches (50-200)")),
    "process_resident": (76 * _KiB, Fitted(("O9",), "zonemodel.studies.calibration.fit_process_resident")),
    "server_names_per_process": (
        4,
        Estimate("proc holds the task port and the proc port, plus the msgport; term one ctty port"),
    ),
    "ports_console": (43, Fitted(("O12",), "zonemodel.studies.calibration.fit_ports")),
    "ports_ssh": (154, Fitted(("O7", "O12"), "zonemodel.studies.calibration.fit_ports")),
    "ports_screen": (147, Fitted(("O7",), "zonemodel.studies.calibration.fit_ports")),
    "session_tasks_ssh": (3, Estimate("sshd's privileged and user session processes and the login shell")),
    "session_tasks_screen": (6, Estimate("the ssh session's 3 tasks, the screen client and server, and its shell")),
    "root_extra_names": (2, Estimate("send rights to host_priv and the device master that root processes hold")),
    "chain_ports": (
        1,
        Document(
            _ZP, note="'child processes have more ports open by default'; one port per generation is our estimate"
        ),
    ),
    "background_rate": (0.01, Estimate("a quiet 2005 system: now and then a cron job or a daemon's helper")),
    "background_exit": (0.02, Estimate("background tasks live about 50 forks; on average 0.5 of them run")),
    "null_names": (
        16,
        Estimate("a freshly started trivfs translator: its control, task and thread ports, reply ports"),
    ),
    "null_names_per_open": (
        2,
        Source(
            "libtrivfs/fsys-getroot.c, libdiskfs/io-restrict-auth.c",
            _HURD05,
            note="a receive right for the new protid, a send right to ext2fs's protid (realnode); "
            "the dotdot port is deallocated",
        ),
    ),
    "ext2fs_names": (
        1000,
        Estimate("the root ext2fs after boot: node ports, protids of running programs, pager ports"),
    ),
    "notify_msg_size": (
        64,
        Source("ipc/ipc_notify.c (mach_no_senders_notification_t in a kmsg from kalloc.64)", _GM13),
    ),
    "rpc_msg_size": (128, Estimate("a small RPC request with its kmsg header")),
    "service_notify_null": (50e-6, Estimate("ports_no_senders, a reference drop and a deallocation on a 2005 PC")),
    "service_notify_ext2fs": (100e-6, Estimate("as for null, plus ext2fs's node and protid bookkeeping")),
    "service_rpc": (500e-6, Estimate("a proc or auth request with its bookkeeping, including its own RPCs")),
    "close_interval_fast": (
        20e-6,
        Estimate("the CPU of one close() in a tight loop: fd bookkeeping and mach_port_deallocate"),
    ),
    "close_interval_slow": (
        10e-3,
        Estimate("closes spread out: each client sleeps or does other work for about 10 ms between two"),
    ),
    "fork_rpcs_proc": (3, Estimate("glibc's fork and the child's start: proc_child, proc_setmsgport, proc_getpids")),
    "fork_rpcs_auth": (1, Estimate("one auth request as the child sets up its identity")),
    "hz": (100, Source("kern/mach_clock.c:68, i386/i386/mach_param.h:30 (hz = 100)", _GM05)),
    "quantum_ticks": (
        10,
        Source("kern/sched_prim.c:174 (min_quantum = hz / 10), kern/priority.c:124 (one CPU)", _GM05),
    ),
    "sched_tick_ticks": (100, Source("kern/sched_prim.c:1105-1112 (sched_tick once a second)", _GM05)),
    "priority_level_cpu": (
        0.262144,
        Source(
            "kern/sched_prim.c:1040-1044 (priority + (sched_usage >> 25)), i386/i386/sched_param.h:38 "
            "(PRI_SHIFT 18), kern/mach_factor.c:104-111 (load = 128 per runnable thread): "
            "2**25 / 128 microseconds of CPU per level at load 1",
            _GM05,
        ),
    ),
    "usage_decay": (0.625, Source("kern/sched_prim.c:1145-1181 (usage decays by 5/8 each second)", _GM05)),
    "priority_user": (12, Source("kern/sched.h:125 (BASEPRI_USER); kern/thread.c:354, :499-508", _GM05)),
    "priority_proc": (
        2,
        Source("proc/main.c:109-118 (proc raises its own priority)", "GNU Hurd f470a3bd (2005-09-25)"),
    ),
    "thread_start_cpu": (
        100e-6,
        Estimate(
            "cthread_fork: a wired port, a 64 KiB stack by vm_allocate, thread_create, get/set state, "
            "thread_resume, the reply port on the first RPC: 8-10 kernel entries, 50-200 us on a 2005 PC "
            "(storms-2005.md §D); the middle of the range"
        ),
    ),
    "thread_walk_cpu": (
        0.2e-6,
        Estimate(
            "the first hurd_thread_self walks every thread's signal state under a lock "
            "(glibc hurd/hurdsig.c:75-124): a few memory reads per thread, about 0.2 us on a 2005 PC"
        ),
    ),
    "cpu_times": (
        "exponential",
        Estimate(
            "no source measures how the CPU time of a request or a close varies; the exponential "
            "distribution about the mean (the usual queueing assumption) stands for cache misses, "
            "page faults and interrupts; 'fixed' switches this source of variance off"
        ),
    ),
    "kill_cpu_per_right": (
        3e-6,
        Estimate(
            "tearing down a victim of about 1000 rights takes 1-5 ms on a 2005 PC (storms-2005.md §C): "
            "ipc_space_destroy walks the entry table and cleans each right (ipc/ipc_space.c:232-317), "
            "a notification per send right; the middle of the range, per right"
        ),
    ),
    "null_stall_chance": (
        0.0,
        Estimate(
            "a what-if, off in the presets: libtrivfs/protid-clean.c:40-45 (Hurd f470a3bd) unlocks "
            "po->cntl->lock after free(po), fixed only in a274a4f2 (2013-11-01); if another cleanup reuses "
            "the freed memory the lock can be left held, more likely the more cleanups run at once "
            "(storms-2005.md §F); no source gives a rate"
        ),
    ),
    # --- disk and paging (disk-load-2005.md) ---------------------------------
    "vm_map_copy_size": (
        56,
        Source('vm/vm_map.h (struct vm_map_copy), vm/vm_map.c ("map copies", 16 KiB)', _GM07_VM, note=_DISK_SIZES),
    ),
    "pager_msg_size": (
        128,
        Source("include/mach/memory_object.defs:161-289 (simpleroutines)", _GM07_VM, note=_DISK_SIZES),
    ),
    "service_fs_rpc": (
        200e-6,
        Estimate(
            "a dir_lookup, io_stat or io_read/io_write call in ext2fs on a 2005 PC, without its page faults: "
            "more than a notification (100 us), less than a proc request with its own RPCs (500 us)"
        ),
    ),
    "service_pager": (
        100e-6,
        Estimate(
            "libpager's seqno bookkeeping and ext2fs's block lookup for one pager message, without the disk: "
            "as much as a notification in ext2fs"
        ),
    ),
    "disk_read_time": (
        12e-3,
        Estimate("an uncached random read of a 2005 IDE disk, 10-15 ms (disk-load-2005.md §4): the middle"),
    ),
    "disk_write_time": (
        5e-3,
        Estimate(
            "a 4 KiB write takes 0.5-2 ms into the drive's cache and 8-15 ms with a seek (disk-load-2005.md §4); "
            "the elevator sorts a long queue of writes, so most seeks are short: between the two"
        ),
    ),
    "sync_interval": (5.0, Source("libdiskfs/priv.h:64 (DEFAULT_SYNC_INTERVAL)", _HURD07)),
    "data_write_max": (32, Source("vm/memory_object.c:679 (DATA_WRITE_MAX)", _GM07_VM)),
    "object_cache_max": (200, Source("vm/vm_object.c:182 (vm_object_cached_max)", _GM07_VM)),
    "pageout_burst": (10, Source("vm/vm_pageout.c:55-65 (VM_PAGEOUT_BURST_MAX)", _GM07_VM)),
    "pageout_wait": (10e-3, Source("vm/vm_pageout.c:55-65, 651-681 (VM_PAGEOUT_BURST_WAIT)", _GM07_VM)),
    "pageout_wait_min": (
        1e-3,
        Source(
            "vm/vm_pageout.c:856-876: burst_wait decays by 3/4 every 11 pauses while the laundry count, "
            "which counts internal pages only, stays empty",
            _GM07_VM,
        ),
    ),
    "io_window_pages": (8, Source("libpager/pager-memcpy.c:45-46, 112-127", _HURD07)),
    "superblock_in_memory": (
        False,
        Source("ext2fs reads its superblock through the disk pager until ac2006613 (2008-03-10)", _HURD07),
    ),
    "clock_phase": (
        "random",
        Estimate(
            "nothing aligns a user's storm with the kernel's clock: it starts anywhere within a 10 ms clock "
            "tick and a 1 s scheduler tick, which decides when usage decays (storms-2005.md §B)"
        ),
    ),
}

"""GNU Mach 1.3 and the Hurd as antrik measured them in July 2005: every field."""

CHANGES_2007: Final[Era] = {
    "year": (2007, Document(_ZP, note="the page's r2 is dated 2007-04-12")),
    "kernel_map_ram_fraction": (
        1 / 15,
        Source("i386/intel/pmap.c (morevm = 40 MiB + phys/15), commit 30a90860 (2006-05-08)", _GM07),
    ),
    "ram_limit": (
        960 * _MiB,
        Source("i386/i386at/model_dep.c: RAM above 15/16 of the kernel's 1 GiB is cut, commit 30a90860", _GM07),
    ),
    "ram_above_direct_map": (
        "kernel_map shrinks",
        Source("i386/intel/pmap.c: morevm capped at the kernel's addresses, commit 30a90860 (2006-05-08)", _GM07),
    ),
    "mach_ipc_compat": (False, Source("IPC compat removed, commit 96c01087 (2006-12-03)", _GM07)),
    "space_size": (60, _sizeof("ipc/ipc_space.h", _GM07)),
    "thread_size": (332, _sizeof("kern/thread.h", _GM07)),
    "pcb_size": (192, _sizeof("i386/i386/thread.h (struct pcb)", _GM07)),
}
"""What changed from 2005 to 2007: kernel_map grows with RAM/15, RAM is cut to 960 MiB, IPC compat is gone."""

CHANGES_2009: Final[Era] = {
    "year": (2009, Source("zone map and kernel VM enlarged", _GM09)),
    "kernel_map_ram_fraction": (
        1.0,
        Source("i386/intel/pmap.c (40 MiB + phys), commit 592b5749 (2008-12-29)", _GM09),
    ),
    "zone_map": (64 * _MiB, Source("kern/zalloc.c (zone_map_size), commit fa6c711d", _GM09)),
    "object_cache_max": (4000, Source("vm/vm_object.c (vm_object_cached_max), commit fa6c711d", _GM09)),
    "superblock_in_memory": (
        True,
        Source("ext2fs keeps its superblock in memory, commit ac2006613 (2008-03-10)", "GNU Hurd ac2006613"),
    ),
    "ram_limit": (
        (_G // 6 * 5) // 4096 * 4096,
        Source("i386/i386at/model_dep.c: RAM above 5/6 of the kernel's 1 GiB is truncated, commit fa6c711d", _GM09),
    ),
    # Same value as 2007, newly sourced: the cut survived the rewrite of morevm.
    "ram_above_direct_map": (
        "kernel_map shrinks",
        Source(
            "i386/intel/pmap.c: 40 MiB + RAM, cut to the kernel's addresses as since 30a90860, commit 592b5749",
            _GM09,
        ),
    ),
}
"""What changed from 2007 to 2009: zone map 64 MiB, kernel_map 40 MiB + RAM, RAM cut to 5/6 GiB."""

CHANGES_2013: Final[Era] = {
    "year": (2013, Source("slab allocator, commit 7bc54a62 (2011-12-17)", _GM13S)),
    "allocator": ("slab", Source("kern/slab.c, commit 7bc54a62 'Import the slab allocator'", _GM13S)),
    "kernel_map_base": (
        192 * _MiB,
        Source("i386/i386/vm_param.h VM_KERNEL_MAP_SIZE, commit 3d4e83e3 (2011-08-28)", _GM13S),
    ),
    "kernel_map_ram_fraction": (
        0.0,
        Source("fixed VM_KERNEL_MAP_SIZE; RAM above 1 GiB - 192 MiB is not used, commit 3d4e83e3", _GM13S),
    ),
    # The 2009 cut to 5/6 GiB is gone ("ignored" below truncates RAM instead); the entry is 2005's.
    "ram_limit": GNUMACH_2005["ram_limit"],
    "ram_above_direct_map": (
        "ignored",
        Source("i386/i386at/model_dep.c: memory beyond the direct map is truncated, commit 3d4e83e3", _GM13S),
    ),
    "zone_map": (
        128 * _MiB,
        Source("kern/slab.c KMEM_MAP_SIZE: kmem_map, with kalloc_map merged in, commit 2d2da4aa (2012-07-07)", _GM13S),
    ),
    "kalloc_map": (
        128 * _MiB,
        Source(
            "kern/slab.c: big kalloc caches live in kmem_map too; modelled as a range of its own",
            _GM13S,
            note="kalloc_map was merged into kmem_map in 2d2da4aa; the model keeps IPC tables apart",
        ),
    ),
    "ipc_kernel_map": (
        8 * _MiB,
        Source("ipc/ipc_init.c ipc_kernel_map_size, commit 38154426 (2011-04-24)", _GM13S),
    ),
    "device_io_map": (
        16 * _MiB,
        Source("device/ds_routines.c DEVICE_IO_MAP_SIZE, commit 07dc2f7b (2011-04-22)", _GM13S),
    ),
    "ipc_spaces_exhaustible": (
        False,
        Source("ipc/ipc_init.c, commit c48d0e45 (2011-08-22) 'Make ipc_space_zone not exhaustible'", _GM13S),
    ),
}
"""What changed from 2009 to 2013 (GNU Mach 1.4): the slab allocator, a fixed 192 MiB kernel_map, bigger sub-maps."""

ERAS: Final[tuple[tuple[int, Era], ...]] = (
    (2005, GNUMACH_2005),
    (2007, CHANGES_2007),
    (2009, CHANGES_2009),
    (2013, CHANGES_2013),
)
"""Every preset year with its entries, oldest first: the full 2005 table, then each era's changes."""


def era_table(year: int) -> dict[str, Entry]:
    """The full table of preset *year*: 2005's entries with every era's changes up to *year* applied in order.

    Raises
    ------
    UnknownPresetError
        If *year* is not one of the years of :data:`ERAS`.
    """
    table: dict[str, Entry] = {}
    for era, changes in ERAS:
        table.update(changes)
        if era == year:
            return table
    raise UnknownPresetError(f'"year": no preset for {year!r}; presets exist for {", ".join(str(y) for y, _ in ERAS)}')


_PATCH = "debian/patches/14_alloc_params.patch"
DEBIAN_ALLOC_PARAMS: Final[Era] = {
    "zone_map": (
        16 * _MiB,
        Source(
            f"{_PATCH} (zone_map_size)",
            _DEB_16,
            note=f"added in 2677f79 (2005-05-11) with 18 MiB, 16 MiB three days later (no reason given); "
            f"{_DEB_SHIPPED}",
        ),
    ),
    "task_max": (
        64 * 1024,
        Source(f"{_PATCH} (TASK_MAX x 64)", _DEB_ADDED, note=f"ACT_MAX and ACTPOOL_MAX x 64 too; {_DEB_SHIPPED}"),
    ),
    "thread_max": (
        64 * 1024,
        Source(f"{_PATCH} (THREAD_MAX x 64)", _DEB_ADDED, note=f"ACT_MAX and ACTPOOL_MAX x 64 too; {_DEB_SHIPPED}"),
    ),
    **_derived_maxima(64 * 1024, 64 * 1024, f"{_GM13} with {_PATCH} of {_DEB_ADDED}"),
}
"""Debian's ``14_alloc_params.patch`` (Neal Walfield): a 16 MiB zone map and TASK_MAX, THREAD_MAX x 64.

Applied on top of the 2005 or the 2007 preset by ``gnumach(year, distro="debian")``.
``ACT_MAX`` and ``ACTPOOL_MAX`` have no field in the model.  The derived maxima
are computed by :func:`mach_param_maxima` from the patched TASK_MAX and THREAD_MAX.
"""

DISTROS: Final[Mapping[str, Mapping[int, Era]]] = {
    "upstream": {year: {} for year, _ in ERAS},
    "debian": {2005: DEBIAN_ALLOC_PARAMS, 2007: DEBIAN_ALLOC_PARAMS},
}
"""Each distribution's changes to the preset of a year: none upstream, Debian's patch on 2005 and 2007."""


def preset_table(year: int, distro: str = "upstream") -> dict[str, Entry]:
    """The full table of preset *year* as *distro* built it: :func:`era_table` with the distribution's changes.

    Raises
    ------
    ParameterError
        If *distro* is not one of :data:`DISTROS`.
    UnknownPresetError
        If *year* has no preset, or *distro* no kernel of that year.

    Examples
    --------
    >>> table = preset_table(2005, "debian")
    >>> table["task_max"][0], table["space_max"][0], table["zone_map"][0] == 16 * 2**20
    (65536, 65541, True)
    """
    if not isinstance(distro, str) or distro not in DISTROS:
        raise ParameterError(f'"distro" must be one of {", ".join(map(repr, DISTROS))}, got {distro!r}')
    table = era_table(year)
    changes = DISTROS[distro]
    if year not in changes:
        raise UnknownPresetError(
            f'"distro": {distro!r} has no preset for {year!r}; '
            f"{distro} presets exist for {', '.join(map(str, changes))}"
        )
    table.update(changes[year])
    return table
