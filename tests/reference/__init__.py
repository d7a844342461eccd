"""Plain-Python reference models, written independently of the numba kernels.

Each module here has the same semantics as one kernel family in
``zonemodel/_kernels/`` and is written the obvious way (objects, lists,
``heapq``), without sharing code with the kernels or the model: the zone
table (:mod:`.zalloc`) and the boot budget (:mod:`.bootstrap`) are written
from GNU Mach's sources, so that a change to ``zonemodel.model.zones`` or
``zonemodel.model.boot`` shows up as a disagreement.  Tests feed both the
same inputs and seeds and require exactly equal results.

==============  ==========================================================
module          reference of
==============  ==========================================================
``zalloc``      the zone table (zinit calls), the zone map, ``replay``
``rng``         xoshiro256**
``bootstrap``   what vm_mem_bootstrap takes from kernel_map
``machine``     processes, kalloc_map, RAM: a booted system
``forkbomb``    the fork bomb, slow or at a fork interval
``servers``     the libports servers' event loop
``storms``      the close burst
``builds``      a build: jobs, ext2fs's pager pool, the disk, the sync, the pageout daemon
``system``      a running System: open storms, close bursts, kills in succession
``remedies``    the fork bomb under limits, beside another user
==============  ==========================================================
"""

from tests.reference.bootstrap import Budget, boot_budget
from tests.reference.forkbomb import fork_bomb, timed_fork_bomb
from tests.reference.machine import (
    KallocMapFull,
    Machine,
    NoMemory,
    NotBooted,
    OutOfKernelMap,
    Proc,
    SpacesExhausted,
    Table,
    ZonePanic,
    table_sizes,
)
from tests.reference.remedies import limited_fork_bomb
from tests.reference.rng import Xoshiro
from tests.reference.servers import ARRIVE, NOTIFY, READY, RPC, SERVERS, Pool, Servers, Thread
from tests.reference.storms import Storm, close_burst, close_phase, open_null, storm_setup
from tests.reference.system import System, open_ports
from tests.reference.zalloc import (
    ZONE_COLLECTABLE,
    ZONE_EXHAUSTIBLE,
    Zone,
    ZoneInit,
    ZoneMap,
    ZoneMapFull,
    replay,
    zone_names,
    zone_table,
)

__all__ = [
    "ARRIVE",
    "NOTIFY",
    "READY",
    "RPC",
    "SERVERS",
    "ZONE_COLLECTABLE",
    "ZONE_EXHAUSTIBLE",
    "Budget",
    "KallocMapFull",
    "Machine",
    "NoMemory",
    "NotBooted",
    "OutOfKernelMap",
    "Pool",
    "Proc",
    "Servers",
    "SpacesExhausted",
    "Storm",
    "System",
    "Table",
    "Thread",
    "Xoshiro",
    "Zone",
    "ZoneInit",
    "ZoneMap",
    "ZoneMapFull",
    "ZonePanic",
    "boot_budget",
    "close_burst",
    "close_phase",
    "fork_bomb",
    "limited_fork_bomb",
    "open_null",
    "open_ports",
    "replay",
    "storm_setup",
    "table_sizes",
    "timed_fork_bomb",
    "zone_names",
    "zone_table",
]
