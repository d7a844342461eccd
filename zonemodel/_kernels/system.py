"""Numba kernels of a running System between experiments: killing null or an experiment's clients.

Numba JIT-compiled; called by :class:`zonemodel.System`.
``tests/reference/system.py`` has the same steps in plain Python.

Killing a task destroys its IPC space at once (the kernel is not
preemptive, so every notification the death implies is queued before a
server runs); the servers then serve them in the one event loop
(:func:`.engine._serve`).  Killing null is the OOM killer's kill
(:func:`.engine._kill_null`), run outside a storm.
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels.engine import _kill_null, _serve
from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import (
    EV_ARRIVE,
    EXT2FS,
    G_ENTRY,
    I_ADDR,
    I_DEAD,
    I_HELD,
    I_STATE,
    I_THREADS,
    I_TIDX,
    I_WEDGED,
    MAX_INSTANCES,
    MSG_NOTIFY,
    NULL,
    O_CLIENT0,
    O_NULL,
    P_ADDR,
    P_TIDX,
    RM_NULL_DONE,
    RM_OPENED,
    S_EPOCH,
    T_ADDR,
    T_NAMES,
    T_TIDX,
    Y_DEAD_TABLE,
    Y_HELD,
    Y_INSTANCES,
    Y_NULL_UP,
    Z_PCB,
    Z_PORTS,
    Z_THREADS,
    Live,
    Machine,
    ServerModel,
    Workload,
)
from zonemodel._kernels.process import _exit, _kfree
from zonemodel._kernels.sched import _push, _quiet_engine
from zonemodel._kernels.zalloc import _zfree_n


@kernel(entry=True)
def _exit_clients(m: Machine, w: Workload, tables: np.ndarray) -> None:
    """The client processes of *tables* (rows from ``O_CLIENT0`` on) exit: their memory goes back to free lists.

    Rows with no names are processes that never started.
    """
    for c in range(O_CLIENT0, tables.shape[0]):
        if tables[c, T_NAMES] > 0:
            _exit(m, w.base_q, 1, tables[c, T_TIDX], tables[c, T_ADDR])


@kernel(refcount=False, entry=True)
def _exit_children(m: Machine, q: np.ndarray, children: np.ndarray, chain: bool) -> None:
    """A slow bomb's children (rows of ``P_*``, in the order they were forked) exit, killed by their user.

    Each child of a chain is one generation older than the one before it
    (the first is generation 1); the children of one parent are all generation 1.
    """
    for i in range(children.shape[0]):
        _exit(m, q, i + 1 if chain else 1, children[i, P_TIDX], children[i, P_ADDR])


@kernel(entry=True)
def _kill_clients(
    m: Machine, w: Workload, srv: ServerModel, live: Live, state: np.ndarray, tables: np.ndarray, held: np.ndarray
) -> tuple[int, int]:
    """Kill the clients of *tables*, which hold ``held[i]`` protids of null instance *i*; serve what follows.

    Each client exits; each protid of the current null instance becomes a
    no-senders notification to null, all queued at time 0, served in the
    event loop (each answer sends ext2fs one).  A wedged instance is not in
    the event loop: it destroys its dead protids at once and ext2fs gets the
    notifications (a simplification: its own threads' work is not modelled).
    Protids of a dead instance are dead names already.  Returns (status,
    notifications sent to null).
    """
    ys, inst = live.ys, live.inst
    _exit_clients(m, w, tables)
    cur = ys[Y_INSTANCES] - 1
    to_null = held[cur] if ys[Y_NULL_UP] and 0 <= cur < MAX_INSTANCES else 0
    to_ext2fs = 0
    for i in range(min(ys[Y_INSTANCES], MAX_INSTANCES)):
        if inst[i, I_STATE] == I_WEDGED and held[i] > 0:
            _zfree_n(m.zones, Z_PORTS, held[i])
            inst[i, I_HELD] -= held[i]
            to_ext2fs += held[i]
    ys[Y_HELD] -= to_null
    eng = _quiet_engine(srv, state, to_null + to_ext2fs)
    for _ in range(to_null):  # the kernel is not preemptive: the whole death is queued before a server runs
        _push(eng, 0.0, EV_ARRIVE, NULL, MSG_NOTIFY + 2 * srv.sv[NULL, S_EPOCH], 0.0)
    for _ in range(to_ext2fs):
        _push(eng, 0.0, EV_ARRIVE, EXT2FS, MSG_NOTIFY, 0.0)
    status, _ = _serve(m, eng, srv, state, np.inf, None)
    return status, to_null


@kernel(entry=True)
def _kill_null_instances(m: Machine, srv: ServerModel, live: Live, state: np.ndarray) -> tuple[int, int]:
    """Kill every running null instance: the OOM killer's kill for the current one, the same for wedged ones.

    Each instance's threads and ports go, its space and entry table are
    destroyed, and every live protid's send right to an ext2fs protid is
    released: ext2fs gets one no-senders notification each, in one burst,
    served in the event loop.  Returns (status, notifications sent to ext2fs).
    """
    ys, inst, tables, rm = live.ys, live.inst, live.tables, srv.rm
    entry = m.gp[G_ENTRY]
    burst = ys[Y_HELD]
    for i in range(min(ys[Y_INSTANCES], MAX_INSTANCES)):
        if inst[i, I_STATE] == I_WEDGED:
            burst += inst[i, I_HELD]
    eng = _quiet_engine(srv, state, burst)
    if ys[Y_NULL_UP]:
        rm[RM_OPENED] = ys[Y_HELD]
        rm[RM_NULL_DONE] = 0
        _kill_null(m, eng, srv, 0.0)
        _kfree(m, m.its[tables[O_NULL, T_TIDX]] * entry, tables[O_NULL, T_ADDR])
        inst[ys[Y_INSTANCES] - 1, I_STATE] = I_DEAD
    elif ys[Y_DEAD_TABLE]:
        _kfree(m, m.its[tables[O_NULL, T_TIDX]] * entry, tables[O_NULL, T_ADDR])
    for i in range(min(ys[Y_INSTANCES], MAX_INSTANCES)):
        row = inst[i]
        if row[I_STATE] != I_WEDGED:
            continue
        n = row[I_THREADS]
        _zfree_n(m.zones, Z_THREADS, n)
        _zfree_n(m.zones, Z_PCB, n)
        _zfree_n(m.zones, Z_PORTS, 2 * n + row[I_HELD])
        for _ in range(row[I_HELD]):
            _push(eng, 0.0, EV_ARRIVE, EXT2FS, MSG_NOTIFY, 0.0)
        _kfree(m, m.its[row[I_TIDX]] * entry, row[I_ADDR])
        row[I_THREADS] = 0
        row[I_HELD] = 0
        row[I_STATE] = I_DEAD
    ys[Y_NULL_UP] = 0
    ys[Y_HELD] = 0
    ys[Y_DEAD_TABLE] = 0
    status, _ = _serve(m, eng, srv, state, np.inf, None)
    return status, burst
