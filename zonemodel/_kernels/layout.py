"""The kernels' data layout: every slot, status and "who" code, and the bundles of arrays.

Kernels work on NumPy arrays.  Which element of an array means what is
written down here, and only here: the kernels, the experiments that build
their arrays and read their results, and nothing else, use these names.

Arrays travel in :class:`typing.NamedTuple` bundles, so that a kernel
signature reads in one line:

* :class:`Machine`: the booted kernel (zones, zone map, other resources,
  global parameters, IPC table sizes);
* :class:`Workload`: the processes an experiment creates (their parameter
  rows and the background's rates);
* :class:`ServerModel`: the servers' pools, policy, service times, remedies;
* :class:`Engine`: the event loop's heap and queues;
* :class:`Job`: the numbers of one storm (how many clients, ports, closes).

A NamedTuple of arrays costs nothing in numba: it is passed as a tuple of
pointers and its fields are resolved at compile time.

This module imports nothing but NumPy: the model layer never needs it, and
the kernels import nothing else from zonemodel.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np

# ---------------------------------------------------------------------------- status codes
# One namespace for every kernel: what a kernel returns, what a replicate row's
# ``status`` holds, and what the experiments describe in words.
OK: Final = 0
ZONE_PANIC: Final = 1  # the zone map had no page left: panic("zalloc: zone %s exhausted")
IPC_TASK_INIT: Final = 2  # the exhaustible ipc spaces zone refused: panic("ipc_task_init")
PMAP_CREATE: Final = 3  # no kernel_map for a page directory: panic("pmap_create")
KALLOC_MAP_FULL: Final = 4  # an entry table could not grow in kalloc_map: the RPC (and the fork) fails
NO_MEMORY: Final = 5  # no free physical page: the allocating thread waits for ever (a hang)
CHILD_LIMIT: Final = 6  # the experiment's own cap on children was reached
NO_BOOT: Final = 7  # the kernel does not boot (see zonemodel.boot)
KMEM_FULL: Final = 8  # slab era: kmem_map has no room; the allocation returns an error
KMEM_NOMEM: Final = 9  # slab era: no free page for a kernel object; the allocation returns an error
KMAP_FAIL: Final = 10  # slab era: no kernel_map for a page directory; task creation returns an error
OTHER_FAILED: Final = 11  # the other user's fork or open was refused or failed; the kernel is alive
LIMITED: Final = 12  # no other user: the bomber's fork was refused by a remedy
ZONE_EXHAUSTED: Final = 13  # an exhaustible zone refused (zalloc returned 0)
DEADLOCK: Final = 14  # a build: every thread waits on another and nothing is left to wake one
TIMEOUT: Final = 15  # a build did not finish within the time it was given
SB_DEADLOCK: Final = 16  # a build's DEADLOCK: pager threads wait for the superblock, whose read waits in the queue
OTHER_DONE: Final = OK  # the other user's workload completed

# Who made the allocation that ended a run.
WHO_CHILD: Final = 0  # a bomb child
WHO_BACKGROUND: Final = 1  # a background task (or the login session)
WHO_SERVER: Final = 2  # a server thread or message
WHO_OTHER: Final = 3  # the other user's process

# Phase of a storm in which it ended.
PHASE_BOOT: Final = 0  # starting the servers and the clients
PHASE_OPEN: Final = 1  # opening the ports
PHASE_CLOSE: Final = 2  # closing them and serving the notifications
PHASE_OTHER: Final = 3  # the other user's opens after the storm

# ---------------------------------------------------------------------------- zones
Z_TASKS: Final = 0
Z_THREADS: Final = 1
Z_PCB: Final = 2
Z_SPACES: Final = 3
Z_TREE: Final = 4
Z_PORTS: Final = 5
Z_PSETS: Final = 6
Z_MAPS: Final = 7
Z_MAP_ENTRIES: Final = 8
Z_OBJECTS: Final = 9
Z_PMAP: Final = 10
Z_PV: Final = 11
Z_KALLOC0: Final = 12  # kalloc.16; kalloc.N follows in order of size
KALLOC_MIN: Final = 16  # bytes of the smallest kalloc zone
N_KALLOC: Final = 10  # kalloc.16 .. kalloc.8192
Z_COPIES: Final = Z_KALLOC0 + N_KALLOC  # "map copies": the vm_map_copy of a pager message's pages
N_ZONES: Final = Z_COPIES + 1

# Zone flags (bits of ``flags``).
COLLECTABLE: Final = 0x2  # grows by ``alloc_size`` pages at a time (kalloc.4096 and kalloc.8192)
EXHAUSTIBLE: Final = 0x4  # an allocation beyond the maximum fails instead of raising it

ZONE_DTYPE: Final = np.dtype(
    [
        ("elem_size", np.int64),  # bytes per element
        ("max_size", np.int64),  # current maximum in bytes (soft maxima grow)
        ("cur_size", np.int64),  # bytes of elements carved so far (high-water mark)
        ("alloc_size", np.int64),  # bytes taken at a time by collectable zones
        ("flags", np.int64),  # EXHAUSTIBLE | COLLECTABLE
        ("in_use", np.int64),  # elements handed out and not freed
        ("free", np.int64),  # elements on the free list
        ("peak", np.int64),  # largest in_use seen
    ]
)
"""One row of the zone table, indexed by the ``Z_*`` slots."""

# ---------------------------------------------------------------------------- the zone map (int64 ``ms``)
M_PAGE: Final = 0  # page size
M_MAP_PAGES: Final = 1  # pages of the zone map that zones may use (after the GC page table)
M_MAP_USED: Final = 2  # pages taken so far (never returned)
M_NEXT: Final = 3  # zget_space: next free byte of the current chunk
M_END: Final = 4  # zget_space: end of the current chunk
M_WASTED: Final = 5  # bytes thrown away when a new chunk was not contiguous
M_PANIC_ZONE: Final = 6  # zone that needed memory when the map ran out, or -1
M_SIZE: Final = 7
MAP_BASE: Final = 1 << 40  # address of zone-map page 0 (zdata is [0, zdata))

# ---------------------------------------------------------------------------- global parameters (int64 ``gp``)
G_PAGE: Final = 0
G_COMPAT: Final = 1  # MACH_IPC_COMPAT: one more port per task
G_ENTRY: Final = 2  # bytes per IPC entry
G_RAM_PAGES: Final = 3
G_BASE_PAGES: Final = 4  # physical pages in use after boot besides zone pages
G_KALLOC_MAP: Final = 5  # bytes
G_MAX_CHILDREN: Final = 6
G_CHAIN: Final = 7  # 1: each child forks the next
G_SLAB: Final = 8  # 1: slab era, where allocation failures return errors
G_WAITS: Final = 9  # 1: slab allocations wait for a free page (2016 on) instead of failing
G_NULL_PER_OPEN: Final = 10  # names an open of /dev/null adds to null's space
G_ZONE_MAP: Final = 11  # bytes of zone map
G_THREAD_BYTES: Final = 12  # zone bytes of one server worker (thread, pcb, two ports)
G_PORT_BYTES: Final = 13  # bytes of one kernel port
G_NULL_NAMES: Final = 14  # names in null's space before any open
G_EXT2FS_NAMES: Final = 15  # names in ext2fs's space before the experiment
G_SIZE: Final = 16

# ---------------------------------------------------------------------------- global resources (int64 ``res``)
R_KMAP_FREE: Final = 0  # bytes of kernel_map left
R_KALLOC_FREE: Final = 1  # bytes of kalloc_map left
R_PROC_PAGES: Final = 2  # physical pages held by processes (page directories, resident pages)
R_SERVER_NAMES: Final = 3  # names in the servers' spaces (pooled)
R_SERVER_TIDX: Final = 4  # size index of the pooled servers' table
R_SERVER_ADDR: Final = 5  # its address in kalloc_map (pages), or -1
R_KM_SEGMENTS: Final = 6  # free segments of kalloc_map
R_SIZE: Final = 7
KM_CAP: Final = 4096  # free segments the kalloc_map allocator can track
KM_BASE: Final = R_SIZE  # res[KM_BASE + 2 i], res[KM_BASE + 2 i + 1]: start and length (pages) of segment i
RES_SIZE: Final = KM_BASE + 2 * KM_CAP

# ---------------------------------------------------------------------------- a process (int64 row ``q``)
Q_THREADS: Final = 0
Q_PORTS: Final = 1  # new kernel ports besides the task, thread and compat ports
Q_NAMES: Final = 2  # names in the process's own IPC space
Q_MAP_ENTRIES: Final = 3
Q_SHADOW: Final = 4
Q_PV: Final = 5
Q_RESIDENT: Final = 6  # resident physical pages besides the page directory
Q_SERVER_NAMES: Final = 7  # names the servers' spaces gain for this process
Q_CHAIN_PORTS: Final = 8  # extra ports (and names) per generation of a fork chain
Q_SIZE: Final = 9

# A process record (int64 row): what its exit needs back.
P_TIDX: Final = 0  # size index of its entry table
P_ADDR: Final = 1  # the table's kalloc_map address (pages), or -1
P_GENERATION: Final = 2
P_SIZE: Final = 3

# The background (float64 ``fp``).
F_BG_RATE: Final = 0  # chance per fork that a background task starts
F_BG_EXIT: Final = 1  # chance per fork that each running one exits
F_SIZE: Final = 2

# ---------------------------------------------------------------------------- limits (int64 ``lim``)
L_NPROC: Final = 0  # processes per user, 0: none
L_PORTS: Final = 1  # per-task names (client opens), 0: none
L_THREADS: Final = 2  # per-task threads (servers), 0: none
L_QUOTA: Final = 3  # bytes of kernel memory per user, 0: none
L_OOM: Final = 4  # 1: OOM killer on
L_MARGIN_PPM: Final = 5  # OOM margin, parts per million of each resource
L_SIZE: Final = 6

# What the remedies did in a fork bomb (int64 ``acts``): ACT_* + ACT_OTHER for the other user.
ACT_NPROC: Final = 0  # refused by the process limit
ACT_QUOTA: Final = 1  # refused by the kernel-memory quota
ACT_OOM: Final = 2  # the OOM killer killed one of the bomber's processes
ACT_KERNEL: Final = 3  # the kernel itself refused (an error, slab era or kalloc_map)
ACT_OTHER: Final = 4  # offset of the other user's counters
ACT_SIZE: Final = 8

# ---------------------------------------------------------------------------- servers
PROC: Final = 0
AUTH: Final = 1
EXEC: Final = 2
TERM: Final = 3
EXT2FS: Final = 4
NULL: Final = 5
N_SERVERS: Final = 6  # the storms' servers: rows of ``sv`` in a storm (no file page moves, no pager pool)
PAGER: Final = 6  # ext2fs's second pool, serving the kernel's pager messages (libdiskfs pager_bucket)
N_POOLS: Final = 7  # rows of ``sv`` in a build (issue 14): the storms' servers and ext2fs's pager pool

# Message kinds.
MSG_NOTIFY: Final = 0  # a no-senders notification
MSG_RPC: Final = 1  # an ordinary request
MSG_CALL: Final = 2  # a client's RPC, which it waits for (payload: the caller's thread)
MSG_DATA_REQUEST: Final = 3  # memory_object_data_request (payload: 2 * waiting thread + 1 if read from disk)
MSG_DATA_UNLOCK: Final = 4  # memory_object_data_unlock of a new page (payload: the waiting thread)
MSG_DATA_RETURN: Final = 5  # memory_object_data_return (payload: pages)
N_MSG_KINDS: Final = 6
SB_REQUEST: Final = -1  # payload of the data_request that reads the superblock back

# Event kinds (the heap holds only what the CPU does not decide: arrivals from outside, sleeps ending).
EV_ARRIVE: Final = 0  # a message from outside the simulated threads (a new child's requests)
EV_READY: Final = 2  # a sleeping thread (``server`` = its thread number) becomes runnable
EV_DISK: Final = 3  # the disk finishes a request (``server`` = the thread waiting for it)
EV_SYNC: Final = 4  # ext2fs's periodic sync (every DEFAULT_SYNC_INTERVAL)
EV_PAGEOUT: Final = 5  # the pageout daemon's next burst

# Per-server counters (int64 columns of ``sv``).
S_THREADS: Final = 0  # threads in the pool
S_COUNTER: Final = 1  # libports' count of threads not busy (nreqthreads)
S_RECEIVERS: Final = 2  # threads blocked in mach_msg, waiting for a message
S_BUSY: Final = 3
S_QHEAD: Final = 4
S_QTAIL: Final = 5
S_PEAK_THREADS: Final = 6
S_PEAK_QUEUE: Final = 7
S_SERVED: Final = 8
S_EPOCH: Final = 9  # bumped when the OOM killer kills the server; older events are void
S_RHEAD: Final = 10  # first waiting receiver (a thread number), or -1
S_RTAIL: Final = 11  # last waiting receiver, or -1
S_STALLED: Final = 12  # null only: a cleanup left cntl->lock held, so every later cleanup blocks
S_STUCK: Final = 13  # threads blocked for good on that lock
S_COLS: Final = 14

# Remedy state of a storm (int64 ``rm``).
RM_CHARGE_A: Final = 0  # kernel memory charged to the storm's user
RM_CHARGE_B: Final = 1  # ... and to the other user
RM_OPENED: Final = 2  # ports the storm opened (null protids)
RM_NULL_DONE: Final = 3  # notifications null has served in its current life
RM_REFUSED_PORTS: Final = 4  # opens refused by ports_per_task
RM_REFUSED_QUOTA: Final = 5  # opens and spawns refused by kmem_quota
RM_REFUSED_THREADS: Final = 6  # spawns refused by threads_per_task
RM_OOM_KILLS: Final = 7  # times the OOM killer killed null
RM_B_OPENED: Final = 8  # opens of the other user that succeeded
RM_EMFILE: Final = 9  # System (issue 12): opens glibc refused with EMFILE (the client's RLIMIT_NOFILE)
RM_SIZE: Final = 10

# Thread policy (int64 ``pi`` and float64 ``pf``).
K_UNBOUNDED: Final = 0  # upstream libports 1997-2008: spawn at once, no limit
K_THROTTLE: Final = 1  # Debian thread-throttle 2005-2009
K_DEPRESS: Final = 2  # upstream 2012: new threads first depress their priority
K_FIXED: Final = 3  # a fixed pool with a queue (libpager 2014)
K_HEADROOM: Final = 4  # ours: spawn while the zone map keeps a reserve, with a backoff
PI_KIND: Final = 0
PI_CAP: Final = 1  # throttle: no spawn above this many threads
PI_DELAY_FROM: Final = 2  # throttle: threads from this count on sleep first
PI_POOL: Final = 3  # fixed: threads per server; others: threads at start
PI_FREE_THREADS: Final = 4  # headroom: threads spawned without backoff
PI_SIZE: Final = 5
PF_DELAY: Final = 0  # throttle: the sleep in seconds
PF_RESERVE: Final = 1  # headroom: fraction of the zone map kept free
PF_BACKOFF: Final = 2  # headroom: seconds of delay per free_threads threads
PF_SIZE: Final = 3

# Event loop counters: int64 ``en`` and float64 ``ef``.
E_HEAP: Final = 0  # events in the heap
E_SEQ: Final = 1  # next sequence number
E_NLAT: Final = 2  # latencies recorded
E_RQ: Final = 3  # entries in the run queue
E_RQSEQ: Final = 4  # next run-queue sequence number (FIFO order within a priority)
E_CUR: Final = 5  # thread on the CPU, or -1
E_CURPRI: Final = 6  # its priority
E_QUANTUM: Final = 7  # clock ticks left of its quantum
E_TICKN: Final = 8  # number of the next clock tick (time = phase + n * tick)
E_SEC: Final = 9  # scheduler ticks (seconds) so far
E_LOAD: Final = 10  # runnable threads counted at the last scheduler tick (at least 1)
E_RUNNABLE: Final = 11  # threads running or in the run queue
E_NTH: Final = 12  # thread slots used
E_SECOFF: Final = 13  # clock ticks already past the first scheduler tick when the run starts
E_SIZE: Final = 14
EF_NOW: Final = 0
EF_CPU_END: Final = 1  # when the running thread's current piece of work ends
EF_STARTED: Final = 2  # when it last got the CPU
EF_PHASE: Final = 3  # time of clock tick 0
EF_GAP: Final = 4  # mean seconds a client sleeps between two closes (0: a tight loop)
EF_TRACE_DT: Final = 5  # a build's trace: seconds between two samples
EF_TRACE_NEXT: Final = 6  # time of the next sample
EF_SIZE: Final = 7

# ---------------------------------------------------------------------------- scheduler
# The 2005 uniprocessor scheduler (kern/sched_prim.c, kern/priority.c), as far as it decides
# whether a server's pool grows: one CPU, priority run queues, quanta, usage-based priorities.
CLIENT: Final = N_POOLS  # "server" number of the client threads (the closers, a build's jobs)
# Per-thread integers (int64 ``th`` columns).
TH_SERVER: Final = 0  # server number, or CLIENT
TH_STATE: Final = 1  # ST_*
TH_STEP: Final = 2  # STEP_*: what the thread does with the CPU next
TH_MSG: Final = 3  # message kind it holds, -1 for none; a client: closes left
TH_NEXT: Final = 4  # next thread in its server's list of waiting receivers, or -1
TH_CHILD: Final = 5  # the thread it is creating (STEP_SPAWN)
TH_STAMP: Final = 6  # scheduler tick at which its usage was last aged
TH_EPOCH: Final = 7  # its server's epoch when it was made (a killed server's threads are void)
TH_PAY: Final = 8  # payload of the message it holds (MSG_CALL: the caller; pager messages: see MSG_*)
TH_SUB: Final = 9  # a build: which half of a new page's fault an ext2fs thread waits for (0 request, 1 unlock)
TH_PC: Final = 10  # a build's job: its next operation (row of ``Paging.ops``)
TH_COLS: Final = 11
# Per-thread floats (float64 ``tf`` columns).
TF_USAGE: Final = 0  # CPU usage weighted by load, seconds (one priority level per SP_LEVEL)
TF_LEFT: Final = 1  # CPU seconds left of its current piece of work
TF_ARRIVAL: Final = 2  # arrival time of the message it holds
TF_DELAY: Final = 3  # a new thread's sleep before it first receives (the policy's delay)
TF_COLS: Final = 4
ST_RECV: Final = 0  # blocked in mach_msg, waiting for a message
ST_READY: Final = 1  # in the run queue
ST_RUN: Final = 2  # on the CPU
ST_SLEEP: Final = 3  # sleeping (a throttled new thread, a slow closer between closes)
ST_NEW: Final = 4  # being created by cthread_fork, not yet resumed
ST_DONE: Final = 5  # a client that has closed all its ports
ST_DEAD: Final = 6  # died with its server
ST_STUCK: Final = 7  # blocked for good on a lock a use-after-free left held
ST_WAIT: Final = 8  # a build: waiting for a reply, a page, the disk or the superblock
STEP_RECEIVE: Final = 0  # take a message (the one handed over, or the queue's first), or block
STEP_SERVE: Final = 1  # serve the message it holds
STEP_SPAWN: Final = 2  # create a thread (cthread_fork: stack, ports, thread_create, resume)
STEP_CLOSE: Final = 3  # a client's close(): mach_port_deallocate, which notifies null
STEP_YIELD: Final = 4  # the killer's thread_block(0) in task_terminate: the run queue's first runs, even if worse
STEP_KILL: Final = 5  # the killer tears a victim's IPC space down; its notifications go out in one burst
STEP_JOB: Final = 6  # a build's job: its next operation (an RPC, a close, compiling)
STEP_PAGE: Final = 7  # an ext2fs thread in io_read or io_write: the next page of the window, faulted in
STEP_IO: Final = 8  # a pager thread: its next disk request, or the end of the message
# Scheduler parameters (float64 ``sp``).
SP_TICK: Final = 0  # seconds per clock tick (1 / hz)
SP_QUANTUM: Final = 1  # clock ticks per quantum
SP_SECOND: Final = 2  # clock ticks per scheduler tick (usage decays, load is counted)
SP_LEVEL: Final = 3  # weighted CPU seconds per priority level
SP_DECAY: Final = 4  # factor on usage per scheduler tick
SP_SPAWN_CPU: Final = 5  # CPU seconds cthread_fork takes
SP_WALK_CPU: Final = 6  # CPU seconds per thread of the server for the first hurd_thread_self walk
SP_CLOSE_CPU: Final = 7  # mean CPU seconds of one close() in a client's loop
SP_PHASE: Final = 8  # 1: the run starts at a random point of the clock and scheduler ticks; 0: on a tick
SP_FIXED: Final = 9  # 1: every request and close takes exactly its mean CPU time; 0: exponential about it
SP_STALL: Final = 10  # chance, per other cleanup in progress, that a null cleanup leaves cntl->lock held
SP_KILL_CPU: Final = 11  # CPU seconds task_terminate spends per right of the victim
SP_YIELDS: Final = 12  # yields of task_terminate per victim (one per thread of the victim)
SP_SIZE: Final = 13
PRI_LOWEST: Final = 31  # NRQS - 1: the worst priority
RQ_DTYPE: Final = np.dtype([("pri", np.int64), ("seq", np.int64), ("th", np.int64)])
"""One run-queue entry: better (lower) priority first, then first come first served."""

HEAP_DTYPE: Final = np.dtype(
    [
        ("t", np.float64),  # when
        ("seq", np.int64),  # order among equal times: the order events were made in
        ("kind", np.int64),  # EV_*
        ("server", np.int64),
        ("mtype", np.int64),  # message kind + 2 * the server's epoch
        ("arrival", np.float64),  # when the message arrived (for latencies)
    ]
)
"""One event of the servers' binary heap."""

# Columns of a close burst's trace (float64 rows).
TR_TIME: Final = 0  # seconds since the first close
TR_NULL_THREADS: Final = 1
TR_ZONE_MAP_USED: Final = 2  # bytes
TR_SIZE: Final = 3
# A build's trace has three more columns, and a row every ``EF_TRACE_DT`` seconds.
TR_EXT2FS_THREADS: Final = 3
TR_PAGER_THREADS: Final = 4
TR_DIRTY: Final = 5  # dirty file pages (and metadata pages) not yet sent to ext2fs
TR_BUILD_SIZE: Final = 6

# Owners of IPC spaces in a storm (rows of ``tables``: names, size index, address).
O_NULL: Final = 0
O_EXT2FS: Final = 1
O_CLIENT0: Final = 2
T_NAMES: Final = 0
T_TIDX: Final = 1
T_ADDR: Final = 2
T_SIZE: Final = 3

# A storm's numbers: int64 ``ji`` and float64 ``jf`` of a :class:`Job`.
J_PROCESSES: Final = 0  # client processes
J_PORTS_EACH: Final = 1  # ports each client opens (close burst), or opens in all (open storm)
J_OTHER: Final = 2  # ports the other user opens after the storm
J_MAX_FORKS: Final = 3  # timed fork bomb: forks at most
J_NOFILE: Final = 4  # System (issue 12): each client's soft RLIMIT_NOFILE (3 descriptors taken by stdio); 0: none
J_KILL: Final = 5  # 1: the storm's clients are killed from a shell, one after the other, instead of closing
J_SIZE: Final = 6
JF_INTERVAL: Final = 0  # mean CPU seconds of a close, or seconds between forks of a timed bomb
JF_GAP: Final = 1  # a slow close: mean seconds each client sleeps between two closes (0: fast)
JF_SIZE: Final = 2

# ---------------------------------------------------------------------------- System (issue 12)
# What a running System keeps between experiments besides the Machine and the servers' ``sv``
# (int64 ``ys`` of a :class:`Live`).
Y_POOLS: Final = 0  # 1: the servers' thread pools have started
Y_SERVERS: Final = 1  # 1: null's and ext2fs's IPC spaces exist (the first lookup of /dev/null made them)
Y_NULL_UP: Final = 2  # 1: the current null instance serves lookups; 0: dead, ext2fs restarts it on the next one
Y_INSTANCES: Final = 3  # null instances started so far (the current one is Y_INSTANCES - 1)
Y_HELD: Final = 4  # protids of the current null instance that live clients hold
Y_DEAD_TABLE: Final = 5  # 1: the dead instance's entry table is still to be freed (tables[O_NULL])
Y_SIZE: Final = 6
# Earlier null instances (int64 rows of ``inst``, one per instance number): the wedged ones keep running.
I_NAMES: Final = 0  # names in its space (= T_NAMES)
I_TIDX: Final = 1  # size index of its entry table (= T_TIDX)
I_ADDR: Final = 2  # its kalloc_map address (= T_ADDR)
I_THREADS: Final = 3  # its threads (the current instance's are ``sv[NULL, S_THREADS]``)
I_HELD: Final = 4  # its protids that live clients hold
I_STATE: Final = 5  # I_*: what became of it
I_SIZE: Final = 6
I_NONE: Final = 0  # never started
I_SERVING: Final = 1  # the current instance
I_WEDGED: Final = 2  # its space could not grow: it runs, holds its names, and serves no new open
I_DEAD: Final = 3  # killed (its space destroyed)
MAX_INSTANCES: Final = 64  # null instances a System keeps count of


# ---------------------------------------------------------------------------- a build (issue 14)
# Counters and parameters of a build (int64 ``Paging.pc``), ``PG_*``.
PG_FREE0: Final = 0  # free physical pages when the build started
PG_MAP0: Final = 1  # zone-map pages taken when it started (zone pages taken since come out of RAM)
PG_FILE_PAGES: Final = 2  # resident file pages (clean and dirty)
PG_HELD: Final = 3  # pages that pager messages hold (a sync's copies, pages on their way out)
PG_ANON: Final = 4  # the jobs' own memory (cc1's heap), pages
PG_TARGET: Final = 5  # vm_page_free_target
PG_DAEMON: Final = 6  # 1: the pageout daemon is running
PG_PAUSES: Final = 7  # pauses of the daemon so far (its burst_wait decays every 11)
PG_SB: Final = 8  # the superblock page: SB_OUT, SB_IN, SB_READING
PG_SB_KEEP: Final = 9  # 1: ext2fs keeps the superblock in memory (ac2006613, 2008-03-10)
PG_SB_HEAD: Final = 10  # first thread waiting for the superblock, or -1 (linked by TH_NEXT)
PG_SB_TAIL: Final = 11
PG_DISK: Final = 12  # thread whose request the disk serves, or -1
PG_DQ_HEAD: Final = 13
PG_DQ_TAIL: Final = 14
PG_LRU_HEAD: Final = 15  # oldest entry of ``lru`` not yet looked at
PG_LRU_TAIL: Final = 16
PG_CACHED: Final = 17  # objects in the cache
PG_CACHE_MAX: Final = 18  # vm_object_cached_max
PG_DIRTY: Final = 19  # dirty file pages
PG_PEAK_DIRTY: Final = 20
PG_META: Final = 21  # dirty metadata pages (an inode, a directory block per file made or removed)
PG_NEXT_FILE: Final = 22  # next file a job takes
PG_FILES: Final = 23  # files of the build
PG_JOBS_LEFT: Final = 24  # jobs still running
PG_SYNCS: Final = 25
PG_RETURNS: Final = 26  # data_returns sent
PG_TRIMMED: Final = 27  # of which by the object cache
PG_LAUNDERED: Final = 28  # of which by the pageout daemon
PG_MIN_FREE: Final = 29
PG_HEADERS: Final = 30  # distinct headers (objects 0 .. PG_HEADERS - 1)
PG_WRITE_MAX: Final = 31  # DATA_WRITE_MAX: pages per data_return of a sync
PG_STAGE: Final = 32  # STAGE_*
PG_H_LO: Final = 33  # headers per compiled file, fewest
PG_H_HI: Final = 34
PG_S_LO: Final = 35  # pages of the .s file (compile) or of each installed file (install), fewest
PG_S_HI: Final = 36
PG_O_LO: Final = 37  # pages of the .o file, fewest
PG_O_HI: Final = 38
PG_JOB_PAGES: Final = 39  # cc1's own memory, pages
PG_FILES_DONE: Final = 40
PG_LARGEST_SYNC: Final = 41
PG_WINDOW: Final = 42  # pages io_read and io_write copy per window (pager-memcpy)
PG_BURST: Final = 43  # pages the pageout daemon sends per burst
PG_ROWS: Final = 44  # rows of the build's trace written
PG_FREE_MIN: Final = 45  # vm_page_free_min: below it a thread that needs a page waits (VM_PAGE_WAIT)
PG_MEM_HEAD: Final = 46  # first thread waiting for free pages, or -1 (linked by TH_NEXT)
PG_MEM_TAIL: Final = 47
PG_SYNC_NEXT: Final = 48  # the sync in progress: the object it goes on with (number of objects: the metadata), or -1
PG_SYNC_SENT: Final = 49  # data_returns the sync in progress has sent
PG_SYNC_WAIT: Final = 50  # 1: the sync waits for free pages
PG_SIZE: Final = 51
SB_OUT: Final = 0  # paged out
SB_IN: Final = 1  # resident
SB_READING: Final = 2  # a pager thread is reading it back
STAGE_COMPILE: Final = 0  # gcc -c per file: three execs, headers, a .s and a .o
STAGE_INSTALL: Final = 1  # install per file: a lookup, the file's pages written, a close
# Float parameters (float64 ``Paging.pp``).
PP_READ: Final = 0  # disk seconds per page read
PP_WRITE: Final = 1  # disk seconds per page written
PP_SYNC: Final = 2  # seconds between two syncs
PP_WAIT: Final = 3  # the pageout daemon's burst_wait now, seconds per page
PP_WAIT_MIN: Final = 4
PP_COMPILE: Final = 5  # mean CPU seconds cc1 computes per file
PP_SIZE: Final = 6
# Memory objects (int64 columns of ``Paging.obj``).
O_OPEN: Final = 0  # open references
O_STAMP: Final = 1  # index of its entry in ``lru`` while cached, else -1
O_RES: Final = 2  # resident pages (clean and dirty)
O_DIRTY: Final = 3
O_SIZE: Final = 4  # pages of the file (a header's are read, a written file's grow)
O_COLS: Final = 5
# A job's operations (int64 columns of ``Paging.ops``).
OP_KIND: Final = 0
OP_A: Final = 1  # the server (OP_OPEN, OP_CALL, OP_NOTE) or the object
OP_B: Final = 2  # how many (RPCs, notifications, pages)
OP_COLS: Final = 3
OP_OPEN: Final = 0  # b lookups of object a (or of a library, a = -1), each giving the job a port
OP_CALL: Final = 1  # b RPCs to server a
OP_NOTE: Final = 2  # b ports to server a dropped: b no-senders notifications
OP_CPU: Final = 3  # compute (``Paging.opf``)
OP_READ: Final = 4  # io_read of b pages of object a
OP_WRITE: Final = 5  # io_write of b new pages of object a
OP_CLOSE: Final = 6  # close object a: its port dropped, the object into the cache
OP_UNLINK: Final = 7  # unlink object a: an RPC, its pages thrown away
OP_MEM: Final = 8  # the job's own memory grows by b pages (shrinks if negative)
OP_END: Final = 9  # the file is done
OPS_CAP_FIXED: Final = 40  # operations of a compiled file besides its headers' three each
# Sizes of a build's arrays (int64 ``caps``), upper bounds computed by the experiment.
CAP_OPS: Final = 0  # operations of one file's program
CAP_LRU: Final = 1  # closes in all (entries of the object cache's list)
CAP_THREADS: Final = 2  # threads at most (the zone map, or RAM, bounds them)
CAP_SYNCS: Final = 3  # syncs whose size is recorded
CAP_QUEUE: Final = 4  # messages one pool's queue holds at once
CAP_SIZE: Final = 5

# ---------------------------------------------------------------------------- replicate rows
# What every experiment's kernel writes for one run: one record per replicate.
ROW_DTYPE: Final = np.dtype(
    [
        ("count", np.int64),  # children alive at the end (fork bombs) or ports opened (storms)
        ("status", np.int64),  # a status code
        ("who", np.int64),  # WHO_*: who made the allocation that failed
        ("phase", np.int64),  # PHASE_* (storms; PHASE_BOOT for fork bombs)
        ("background", np.int64),  # background tasks alive at the end
        ("other", np.int64),  # the other user's processes (fork bombs) or opens (storms)
        ("panic_zone", np.int64),  # zone named in a zone-map panic, or -1
        ("events", np.int64),  # events the servers processed
        ("end_us", np.int64),  # simulated end time, microseconds
        ("peak_null_threads", np.int64),
        ("remedy", np.int64),  # ACT_* slot of the remedy that stopped the run, or -1 (set by the experiment)
        ("p99_latency_ms", np.float64),  # set by the experiment from the latencies
        ("zone_map_pages", np.int64),  # M_MAP_USED at the end: zone-map pages the zones took
        ("peak_ext2fs_threads", np.int64),  # storms
        ("peak_null_backlog", np.int64),  # storms: most notifications waiting in null's queue
        ("peak_ext2fs_backlog", np.int64),  # storms: the same for ext2fs
        ("p50_latency_ms", np.float64),  # storms: set by the experiment from the latencies
        ("emfile", np.int64),  # System (issue 12), storms: opens glibc refused with EMFILE
    ]
)
"""One replicate of any experiment, as the ``*_many`` kernels write it."""

BUILD_ROW_DTYPE: Final = np.dtype(
    [
        ("status", np.int64),
        ("panic_zone", np.int64),
        ("events", np.int64),
        ("end_us", np.int64),  # simulated time of the end, microseconds
        ("files_done", np.int64),  # files the jobs finished
        ("peak_ext2fs_threads", np.int64),
        ("peak_pager_threads", np.int64),
        ("peak_pager_backlog", np.int64),  # most pager messages waiting in the pool's queue
        ("peak_dirty", np.int64),  # most dirty pages at once
        ("largest_sync", np.int64),  # data_returns of the biggest sync
        ("syncs", np.int64),
        ("data_returns", np.int64),  # data_returns sent in all (syncs, cache trimming, pageout)
        ("trimmed", np.int64),  # ... of which the object cache's trimming sent
        ("laundered", np.int64),  # ... of which the pageout daemon sent
        ("min_free_pages", np.int64),
        ("zone_map_pages", np.int64),
        ("p50_latency_ms", np.float64),  # set by the experiment from the latencies
        ("p99_latency_ms", np.float64),
    ]
)
"""One replicate of a build (:func:`zonemodel.compile_job`)."""


# ---------------------------------------------------------------------------- bundles
class Machine(NamedTuple):
    """The arrays of one booted kernel."""

    zones: np.ndarray
    """The zone table (:data:`ZONE_DTYPE`, ``Z_*`` rows)."""
    ms: np.ndarray
    """The zone map (``M_*``)."""
    res: np.ndarray
    """kernel_map, kalloc_map, RAM and the servers' pooled space (``R_*``, ``KM_*``)."""
    gp: np.ndarray
    """Global parameters (``G_*``); kernels only read it, but for ``G_CHAIN`` and ``G_MAX_CHILDREN``."""
    its: np.ndarray
    """IPC entry-table sizes, in entries (``ipc_table_fill``)."""


class Workload(NamedTuple):
    """The processes an experiment creates."""

    child_q: np.ndarray
    """Parameter row (``Q_*``) of a bomb child."""
    base_q: np.ndarray
    """Parameter row of an ordinary task (system, background, storm client, the other user's processes)."""
    fp: np.ndarray
    """The background's rates (``F_*``)."""


class ServerModel(NamedTuple):
    """The servers: their pools and everything that decides how they grow."""

    sv: np.ndarray
    """Per-server counters (``S_*`` columns, one row per server)."""
    pi: np.ndarray
    """Thread policy, integers (``PI_*``)."""
    pf: np.ndarray
    """Thread policy, floats (``PF_*``)."""
    svc: np.ndarray
    """Mean service time per server and message kind, seconds."""
    msize: np.ndarray
    """Kernel buffer bytes per message kind."""
    rpcs: np.ndarray
    """Requests each fork of a timed bomb sends each server."""
    lim: np.ndarray
    """Remedies (``L_*``)."""
    rm: np.ndarray
    """What the remedies did (``RM_*``)."""
    sp: np.ndarray
    """The scheduler's parameters (``SP_*``)."""
    prio: np.ndarray
    """Base priority of each server's threads, then of the clients' (row ``CLIENT``)."""


class Paging(NamedTuple):
    """A build (issue 14): the disk, the files and their pages, physical memory, the jobs' programs."""

    pc: np.ndarray
    """Integer counters and parameters (``PG_*``)."""
    pp: np.ndarray
    """Float parameters and clocks (``PP_*``)."""
    obj: np.ndarray
    """One row (``O_*`` columns) per memory object: the headers, then each file's .s and .o."""
    lru: np.ndarray
    """The object cache in order of use: the object of each entry (valid while ``obj[o, O_STAMP]`` is its index)."""
    dq: np.ndarray
    """The disk's queue, a ring of ``2 * thread + write``."""
    ops: np.ndarray
    """Each job's program for its current file: rows of (``OP_*`` kind, a, b)."""
    opf: np.ndarray
    """The CPU seconds of each ``OP_CPU`` row."""
    bursts: np.ndarray
    """data_returns each sync sent, in order (as many as fit)."""


class Engine(NamedTuple):
    """The event loop's state."""

    heap: np.ndarray
    """Binary heap of :data:`HEAP_DTYPE` events."""
    en: np.ndarray
    """Integer counters (``E_*``)."""
    ef: np.ndarray
    """Clock and CPU (``EF_*``)."""
    qa: np.ndarray
    """Arrival time of each queued message, per server."""
    qm: np.ndarray
    """Kind of each queued message, per server."""
    lat: np.ndarray
    """Latencies of served notifications, seconds (as many as fit)."""
    trace: np.ndarray
    """Samples (time, null threads, zone-map bytes) of a close burst, as many rows as it has."""
    th: np.ndarray
    """Per-thread integers (``TH_*`` columns), one row per thread slot."""
    tf: np.ndarray
    """Per-thread floats (``TF_*`` columns)."""
    rq: np.ndarray
    """The run queue: a binary heap of :data:`RQ_DTYPE` entries."""
    vic: np.ndarray
    """Notifications each victim's death sends null, in the order they are killed (a kill storm; else empty)."""
    qp: np.ndarray
    """Payload of each queued message, per server (see ``MSG_*``)."""
    pg: Paging
    """A build's disk, files, memory and jobs (empty outside a build)."""


class Live(NamedTuple):
    """System (issue 12): what a running system keeps of its servers between experiments."""

    tables: np.ndarray
    """IPC tables (``T_*`` columns) of the current null instance (row ``O_NULL``) and of ext2fs (``O_EXT2FS``)."""
    ys: np.ndarray
    """Counters (``Y_*``)."""
    inst: np.ndarray
    """One row (``I_*``) per null instance, by instance number."""


class Job(NamedTuple):
    """The numbers of one storm."""

    ji: np.ndarray
    """Integers (``J_*``)."""
    jf: np.ndarray
    """Floats (``JF_*``)."""
