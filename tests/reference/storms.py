"""Reference of the close burst of ``zonemodel._kernels.storms`` (the open storm is in :mod:`.system`).

Clients open ports to /dev/null (each open: two kernel ports, a name in
ext2fs, names in null and one in the client, every entry table grown as
needed), then close them; each close is a no-senders notification to null,
whose answer is one to ext2fs.
"""

from __future__ import annotations

from dataclasses import dataclass

import zonemodel
from tests.reference.machine import (
    KERNEL_DEATHS,
    KallocMapFull,
    Machine,
    Table,
    ending,
)
from tests.reference.rng import Xoshiro
from tests.reference.servers import Servers


@dataclass
class Storm:
    """A system after the open phase of a close burst, ready for the closes."""

    machine: Machine
    servers: Servers
    null: Table
    ext2fs: Table
    opened: int
    refused_ports: int
    closes_of: list[int]
    emfile: int = 0


def open_null(
    m: Machine,
    names: dict[str, int],
    ext2fs: Table,
    null: Table,
    client: Table,
    client_names: list[int],
    c: int,
) -> None:
    """One open("/dev/null") from client *c*.

    Two kernel ports; +1 name in ext2fs, +null_names_per_open in null, +1 in
    the client, each table grown as needed.  A table that cannot grow raises
    KallocMapFull with its count of names unchanged.
    """
    m.alloc("ipc ports", 2)
    for key, table, add in (("ext2fs", ext2fs, 1), ("null", null, m.k.null_names_per_open)):
        names[key] += add
        try:
            m.grow_table(table, names[key])
        except KallocMapFull:
            names[key] -= add
            raise
    client_names[c] += 1
    try:
        m.grow_table(client, client_names[c])
    except KallocMapFull:
        client_names[c] -= 1
        raise


def new_server_tables(m: Machine, null: Table, ext2fs: Table, names: dict[str, int]) -> None:
    """The IPC tables of null and ext2fs, each grown to its names."""
    for table, key in ((null, "null"), (ext2fs, "ext2fs")):
        table.address = m.kalloc(m.sizes[0] * m.k.entry_size)
        m.grow_table(table, names[key])


def start_clients(m: Machine, processes: int) -> tuple[list[Table], list[int]]:
    """One ordinary process per client: their entry tables and their names."""
    clients: list[Table] = []
    client_names: list[int] = []
    for _ in range(processes):
        task = m.system_task()
        m.spawn(task, m.k.server_names_per_process)
        assert task.table is not None
        clients.append(task.table)
        client_names.append(task.names)
    return clients, client_names


def storm_setup(
    kernel: zonemodel.Kernel,
    processes: int,
    ports_each: int,
    policy: object,
    state: object,
    limits: object = None,
    servers_class: type = Servers,
    nofile: int = 0,
    holder: list[Storm] | None = None,
) -> Storm:
    """Boot, start the clients and open every port (the deterministic part of a close burst).

    *holder*, if given, receives the storm as soon as it exists, so that a
    caller sees how far it got when the kernel dies in the open phase.
    """
    k = kernel
    lim = limits if limits is not None else zonemodel.Limits()
    m = Machine(k)
    m.boot_tasks(k.system_tasks, kernel_part=True)
    srv = servers_class(m, policy, Xoshiro(state), limits=lim)
    null, ext2fs = Table(), Table()
    names = {"null": k.null_names, "ext2fs": k.ext2fs_names}
    storm = Storm(m, srv, null, ext2fs, 0, 0, [0] * processes)
    if holder is not None:
        holder.append(storm)
    new_server_tables(m, null, ext2fs, names)
    srv.start_pools()
    clients, client_names = start_clients(m, processes)
    base = list(client_names)
    port_bytes = k.port_size
    for _ in range(ports_each):
        for c in range(processes):
            if nofile and client_names[c] - base[c] + 3 >= nofile:  # glibc: EMFILE, no RPC
                storm.emfile += 1
                continue
            if lim.ports_per_task and client_names[c] + 1 > lim.ports_per_task:  # type: ignore[attr-defined]
                storm.refused_ports += 1
                continue
            if lim.kmem_quota and srv.charge_a + 2 * port_bytes > lim.kmem_quota:  # type: ignore[attr-defined]
                srv.refused_quota += 1
                continue
            open_null(m, names, ext2fs, null, clients[c], client_names, c)
            if lim.kmem_quota:  # type: ignore[attr-defined]
                srv.charge_a += 2 * port_bytes
            storm.opened += 1
            storm.closes_of[c] += 1
    srv.opened = storm.opened
    return storm


def close_phase(storm: Storm, close: str) -> None:
    """Each client closes its ports, a thread of its own (sleeping between closes if slow); run to the end."""
    k, srv = storm.machine.k, storm.servers
    srv.start(close_gap=k.close_interval_slow if close == "slow" else 0.0)
    if close == "kill":
        srv.add_killer(storm.closes_of)
    else:
        for closes in storm.closes_of:
            if closes:
                srv.add_client(closes)
    srv.run()


def close_burst(
    kernel: zonemodel.Kernel,
    processes: int,
    ports_each: int,
    close: str,
    policy: object,
    state: object,
    limits: object = None,
    other: int = 0,
    servers_class: type | None = None,
    nofile: int = 1024,
) -> dict[str, object]:
    """Reference for one run of zonemodel.close_burst (with remedies and the other user)."""
    k = kernel
    lim = limits if limits is not None else zonemodel.Limits()
    limit, zone, other_opened = "", "", 0
    holder: list[Storm] = []
    try:
        storm = storm_setup(kernel, processes, ports_each, policy, state, lim, servers_class or Servers, nofile, holder)
        close_phase(storm, close)
        m, srv, null, ext2fs = storm.machine, storm.servers, storm.null, storm.ext2fs
        if other:
            if srv.oom_kills:  # killed: its space is gone, and ext2fs starts a new null on this lookup
                m.kfree(m.sizes[null.index] * k.entry_size, null.address)
                null = Table(0, m.kalloc(m.sizes[0] * k.entry_size))
                m.grow_table(null, k.null_names)
                for _ in range(policy.pool):  # type: ignore[attr-defined]
                    srv.spawn_thread()
            task = m.system_task()
            if m.fork(task, k.server_names_per_process):  # a refused fork leaves the other user with nothing
                assert task.table is not None
                mine, my_names = task.table, [task.names]
                names = {"null": k.null_names, "ext2fs": k.ext2fs_names}
                charge_b, port_bytes = 0, k.port_size
                for _ in range(other):
                    if lim.ports_per_task and my_names[0] + 1 > lim.ports_per_task:  # type: ignore[attr-defined]
                        break
                    if lim.kmem_quota and charge_b + 2 * port_bytes > lim.kmem_quota:  # type: ignore[attr-defined]
                        break
                    try:
                        open_null(m, names, ext2fs, null, mine, my_names, 0)
                    except KallocMapFull:  # the open returns an error: the other user stops there
                        break
                    charge_b += 2 * port_bytes
                    other_opened += 1
    except KERNEL_DEATHS as exc:
        limit, zone = ending(exc)
    assert holder, "the reference failed before the storm could start"
    storm = holder[0]
    m, srv = storm.machine, storm.servers
    return {
        "limit": limit,
        "zone": zone,
        "opened": storm.opened,
        "peak_threads": [p.peak_threads for p in srv.pools],
        "peak_backlog": [p.peak_queue for p in srv.pools],
        "zones": [(z.name, z.in_use, z.peak, z.cur_size) for z in m.zmap.zones],
        "latencies": srv.latencies,
        "remedies": (storm.refused_ports, srv.refused_quota, srv.refused_threads, srv.oom_kills),
        "other_opened": other_opened,
        "emfile": storm.emfile,
    }
