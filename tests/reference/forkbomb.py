"""Reference of ``zonemodel._kernels.forkbomb`` (and the timed bomb of ``_kernels.engine``).

Boot the system, start the login session, then fork until the kernel gives
out, one child per step, while background tasks come and go.
"""

from __future__ import annotations

import zonemodel
from tests.reference.machine import KERNEL_DEATHS, Machine, Proc, ZonePanic, ending
from tests.reference.rng import Xoshiro
from tests.reference.servers import ARRIVE, RPC, Servers

MOST_CHILDREN = 200_000


def bomb_child(kernel: zonemodel.Kernel, start: str, user: str) -> tuple[int, int, int]:
    """(new ports of a child, names in its space, tasks of the login session) for *start* and *user*."""
    k = kernel
    ports = {"console": k.ports_console, "ssh": k.ports_ssh, "screen": k.ports_screen}[start]
    names = k.process_names + ports + (k.root_extra_names if user == "root" else 0)
    session = {"console": 0, "ssh": k.session_tasks_ssh, "screen": k.session_tasks_screen}[start]
    return ports, names, session


def fork_bomb(
    kernel: zonemodel.Kernel, start: str, chain: bool, user: str, state: object, stop_at: int | None = None
) -> dict[str, object]:
    """Reference for one run of zonemodel.fork_bomb: same count, ending, and final zone table.

    With *stop_at* (``System.fork_bomb(stop_at=...)`` on a new system), the
    bomb stops after that many children and, if the system is still up, its
    user kills them (first forked, first killed); the zone table is the one after that.
    """
    k = kernel
    m = Machine(k)
    rng = Xoshiro(state)
    count, who, limit, panic_zone = 0, "child", "child limit", ""
    background: list[Proc] = []
    children: list[Proc] = []
    ports, names, session = bomb_child(k, start, user)
    try:
        m.boot_tasks(k.system_tasks, kernel_part=True)
        who = "background"
        m.boot_tasks(session, kernel_part=False)
        for _ in range(MOST_CHILDREN if stop_at is None else stop_at):
            who = "background"
            m.background_step(rng, background)
            who = "child"
            generation = count + 1 if chain else 1
            extra = k.chain_ports * (generation - 1)
            child = Proc(ports=ports + extra, names=names + extra, generation=generation)
            m.spawn(child, k.server_names_per_process)
            children.append(child)
            count += 1
        if stop_at is not None:
            for child in children:
                m.exit(child, k.server_names_per_process)
    except ZonePanic as exc:
        limit, panic_zone = ("kmem_map", "") if k.allocator == "slab" else ("zone map", exc.zone)
    except KERNEL_DEATHS as exc:
        limit = ending(exc)[0]
    return {
        "processes": count,
        "limit": limit,
        "panic_zone": panic_zone,
        "hit_by": who,
        "background": len(background),
        "zones": [(z.name, z.in_use, z.peak, z.cur_size) for z in m.zmap.zones],
        "kernel_map_free": m.kmap_free,
        "kalloc_map_free": m.kalloc_free,
    }


def timed_fork_bomb(
    kernel: zonemodel.Kernel, start: str, chain: bool, user: str, interval: float, policy: object, state: object
) -> dict[str, object]:
    """Reference for zonemodel.fork_bomb(interval=...): a fork every *interval*, its requests to proc and auth."""
    k = kernel
    m = Machine(k)
    rng = Xoshiro(state)
    srv = Servers(m, policy, rng, record_latency=False)
    ports, names, session = bomb_child(k, start, user)
    rpcs = [k.fork_rpcs_proc, k.fork_rpcs_auth, 0, 0, 0, 0]
    most = k.space_max + 16 if k.ipc_spaces_exhaustible else 50_000
    count, who, limit, zone = 0, "child", "child limit", ""
    background: list[Proc] = []
    try:
        m.boot_tasks(k.system_tasks, kernel_part=True)
        who = "background"
        m.boot_tasks(session, kernel_part=False)
        who = "server"
        srv.start_pools()
        srv.start()
        for i in range(most):
            t = i * interval
            who = "background"
            m.background_step(rng, background)
            who = "server"
            srv.run(until=t)
            who = "child"
            generation = count + 1 if chain else 1
            extra = k.chain_ports * (generation - 1)
            m.spawn(Proc(ports=ports + extra, names=names + extra, generation=generation), k.server_names_per_process)
            count += 1
            for s, n in enumerate(rpcs):
                for _ in range(n):
                    srv.push(t, ARRIVE, s, RPC, t)
    except KERNEL_DEATHS as exc:
        limit, zone = ending(exc)
    return {
        "processes": count,
        "limit": limit,
        "zone": zone,
        "hit_by": who,
        "threads": [p.peak_threads for p in srv.pools],
        "zones": [(z.name, z.in_use, z.peak, z.cur_size) for z in m.zmap.zones],
    }
