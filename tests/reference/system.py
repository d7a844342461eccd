"""Reference of a running System (``zonemodel._kernels.system`` and the storms on it): experiments in succession.

One booted :class:`~tests.reference.machine.Machine` runs open storms, close
bursts and kills one after another and keeps, between them, what a real
system keeps: the servers' threads, null's and ext2fs's entry tables, the
null instances (serving, wedged, dead), and the clients an experiment left
alive with the protids they hold.  Written from the model's description, with
Python objects; it shares no code with the kernels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import zonemodel
from tests.reference.machine import (
    KERNEL_DEATHS,
    KallocMapFull,
    Machine,
    Proc,
    Table,
    ending,
)
from tests.reference.rng import Xoshiro
from tests.reference.servers import ARRIVE, EXT2FS, NOTIFY, NULL, SERVERS, Servers
from tests.reference.storms import new_server_tables, open_null, start_clients

MAX_INSTANCES = 64


@dataclass
class Wedged:
    """A null instance whose space could not grow: it runs on with its table, threads and protids."""

    table: Table
    threads: int
    held: int


@dataclass
class Group:
    """Client processes an experiment left alive, and the protids of each null instance they hold."""

    procs: list[Proc]
    held: dict[int, int] = field(default_factory=dict)


class System:
    """A plain-Python running system (the semantics of :class:`zonemodel.System` for storms and kills).

    ``stream(k)`` is the xoshiro state of experiment *k* (the caller derives it from the seed, as the
    System does); *default* is the thread policy of experiments that name none (kills).
    """

    def __init__(self, kernel: zonemodel.Kernel, stream: Callable[[int], object], default: object) -> None:
        k = self.k = kernel
        self.m = Machine(k)
        self.m.boot_tasks(k.system_tasks, kernel_part=True)
        self.stream = stream
        self.default = default
        self.experiments = 0
        self.threads = [0] * len(SERVERS)
        self.stalled, self.stuck = False, 0  # null's cntl->lock left held, and the threads blocked on it
        self.pools_started = self.servers_started = self.null_up = self.dead_table = False
        self.instances = self.held = 0
        self.null, self.ext2fs = Table(), Table()
        self.wedged: dict[int, Wedged] = {}
        self.groups: list[Group] = []
        self.policy: object = None
        self.down = ""

    # -- plumbing -------------------------------------------------------------
    def _servers(self, policy: object, limits: object = None) -> Servers:
        state = self.stream(self.experiments)
        self.experiments += 1
        srv = Servers(self.m, policy, Xoshiro(state), limits=limits if limits is not None else zonemodel.Limits())
        for pool, n in zip(srv.pools, self.threads, strict=True):
            pool.threads = pool.counter = pool.peak_threads = n
        srv.pools[NULL].stalled, srv.pools[NULL].stuck = self.stalled, self.stuck
        return srv

    def _continue(self, srv: Servers) -> Servers:
        """A new event loop on the same servers, random stream and remedies (not started: see Servers.start)."""
        fresh = Servers(self.m, srv.policy, srv.rng, limits=srv.limits)
        fresh.pools = srv.pools
        fresh.charge_a, fresh.refused_quota, fresh.refused_threads = (
            srv.charge_a,
            srv.refused_quota,
            srv.refused_threads,
        )
        fresh.oom_kills = srv.oom_kills
        return fresh

    def _keep(self, srv: Servers) -> None:
        self.threads = [p.threads for p in srv.pools]
        self.stalled, self.stuck = srv.pools[NULL].stalled, srv.pools[NULL].stuck

    def _restart(self, srv: Servers) -> None:
        """ext2fs starts a new null: the dead one's table freed first, a fresh table, the policy's first threads."""
        m, k = self.m, self.k
        if self.dead_table:
            m.kfree(m.sizes[self.null.index] * k.entry_size, self.null.address)
            self.dead_table = False
        self.null = Table(0, m.kalloc(m.sizes[0] * k.entry_size))
        m.grow_table(self.null, k.null_names)
        pool = srv.pools[NULL]
        for _ in range(srv.policy.pool):  # type: ignore[attr-defined]
            srv.spawn_thread()
            pool.threads += 1
        pool.peak_threads = max(pool.peak_threads, pool.threads)
        self.instances += 1
        self.null_up = True
        self.held = 0

    def _lookup(self, srv: Servers) -> dict[str, int]:
        """A lookup of /dev/null; returns the names null's and ext2fs's spaces hold now."""
        k = self.k
        if not self.servers_started:
            self.servers_started = self.null_up = True
            self.instances = 1
            new_server_tables(self.m, self.null, self.ext2fs, {"null": k.null_names, "ext2fs": k.ext2fs_names})
            if not self.pools_started:
                self.pools_started = True
                srv.start_pools()
        elif not self.null_up:
            self._restart(srv)
        return self._names()

    def _names(self) -> dict[str, int]:
        k = self.k
        return {
            "null": k.null_names + k.null_names_per_open * self.held,
            "ext2fs": k.ext2fs_names + self.held + sum(w.held for w in self.wedged.values()),
        }

    def _null_died(self) -> None:
        self.null_up = False
        self.held = 0
        self.dead_table = True
        for g in self.groups:
            g.held.pop(self.instances - 1, None)

    def _procs(self, tables: list[Table], names: list[int]) -> list[Proc]:
        k = self.k
        return [Proc(k.process_ports, n, 1, t) for t, n in zip(tables, names, strict=True)]

    def _end(self, limit: str) -> None:
        if limit in ("zone map", "ipc spaces", "kernel_map", "physical memory"):
            self.down = limit

    # -- experiments ----------------------------------------------------------
    def close_burst(
        self,
        processes: int,
        ports_each: int,
        close: str,
        policy: object,
        limits: object = None,
        other: int = 0,
        nofile: int = 1024,
    ) -> dict[str, object]:
        m, k = self.m, self.k
        lim = limits if limits is not None else zonemodel.Limits()
        srv = self._servers(policy, lim)
        opened = emfile = other_opened = 0
        limit = ""
        tables: list[Table] = []
        closes_of = [0] * processes
        try:
            names = self._lookup(srv)
            tables, client_names = start_clients(m, processes)
            base = list(client_names)
            port_bytes = k.port_size
            for _ in range(ports_each):
                for c in range(processes):
                    if client_names[c] - base[c] + 3 >= nofile:
                        emfile += 1
                        continue
                    if lim.ports_per_task and client_names[c] + 1 > lim.ports_per_task:  # type: ignore[attr-defined]
                        continue
                    if lim.kmem_quota and srv.charge_a + 2 * port_bytes > lim.kmem_quota:  # type: ignore[attr-defined]
                        srv.refused_quota += 1
                        continue
                    open_null(m, names, self.ext2fs, self.null, tables[c], client_names, c)
                    if lim.kmem_quota:  # type: ignore[attr-defined]
                        srv.charge_a += 2 * port_bytes
                    opened += 1
                    closes_of[c] += 1
        except KallocMapFull:
            limit = "kalloc_map"
            self.held += opened  # the storm stops; its clients stay, holding what they opened
            self.groups.append(Group(self._procs(tables, client_names), {self.instances - 1: opened}))
        except KERNEL_DEATHS as exc:
            limit = ending(exc)[0]
        if not limit:
            try:
                srv.opened = opened
                srv.start(close_gap=k.close_interval_slow if close == "slow" else 0.0)
                if close == "kill":
                    srv.add_killer(closes_of)
                else:
                    for closes in closes_of:
                        if closes:
                            srv.add_client(closes)
                srv.run()
                if srv.oom_kills:
                    held = self.held
                    self._null_died()
                    if held:  # the earlier clients' protids die with null: ext2fs hears of each, after the storm
                        srv = self._continue(srv)
                        srv.start()
                        m.free("ipc ports", held)
                        for _ in range(held):
                            srv.push(0.0, ARRIVE, EXT2FS, NOTIFY, 0.0)
                        srv.run()
                if other:
                    names = self._lookup(srv)
                    task = m.system_task()
                    if m.fork(task, k.server_names_per_process):
                        assert task.table is not None
                        mine, my_names = task.table, [task.names]
                        charge_b, port_bytes = 0, k.port_size
                        for _ in range(other):
                            if lim.ports_per_task and my_names[0] + 1 > lim.ports_per_task:  # type: ignore[attr-defined]
                                break
                            if lim.kmem_quota and charge_b + 2 * port_bytes > lim.kmem_quota:  # type: ignore[attr-defined]
                                break
                            try:
                                open_null(m, names, self.ext2fs, self.null, mine, my_names, 0)
                            except KallocMapFull:
                                break
                            charge_b += 2 * port_bytes
                            other_opened += 1
                            self.held += 1
                        self.groups.append(
                            Group([Proc(k.process_ports, my_names[0], 1, mine)], {self.instances - 1: other_opened})
                        )
            except KERNEL_DEATHS as exc:
                limit = ending(exc)[0]
            if limit in ("", "kalloc_map"):  # every port closed: the clients exit
                for table, n in zip(tables, client_names, strict=True):
                    m.exit(Proc(k.process_ports, n, 1, table), k.server_names_per_process)
        self._keep(srv)
        self._end(limit)
        if self.pools_started and self.policy is None:
            self.policy = policy
        return {
            "limit": limit,
            "opened": opened,
            "emfile": emfile,
            "peak_threads": [p.peak_threads for p in srv.pools],
            "other_opened": other_opened,
        }

    def open_ports(self, processes: int, ports_each: int, nofile: int, policy: object) -> dict[str, object]:
        m, k = self.m, self.k
        srv = self._servers(policy)
        opened = failed = emfile = 0
        per: list[int] = []
        limit = ""
        group = Group([])
        try:
            names = self._lookup(srv)
            first = self.instances - 1
            tables, client_names = start_clients(m, processes)
            base = list(client_names)
            for i in range(processes * ports_each):
                c = i % processes
                if client_names[c] - base[c] + 3 >= nofile:
                    emfile += 1
                    continue
                if not self.null_up:
                    self._restart(srv)
                    names = self._names()
                cur = self.instances - 1
                while len(per) <= cur - first:
                    per.append(0)
                try:
                    open_null(m, names, self.ext2fs, self.null, tables[c], client_names, c)
                except KallocMapFull:
                    failed += 1
                    if names["null"] + k.null_names_per_open > m.sizes[self.null.index] - 1 and cur + 1 < MAX_INSTANCES:
                        self.wedged[cur] = Wedged(self.null, srv.pools[NULL].threads, self.held)
                        pool = srv.pools[NULL]
                        pool.threads = pool.counter = pool.stuck = 0
                        pool.stalled = False
                        self.null, self.null_up, self.held = Table(), False, 0
                    continue
                opened += 1
                self.held += 1
                group.held[cur] = group.held.get(cur, 0) + 1
                per[cur - first] += 1
            group.procs = self._procs(tables, client_names)
            self.groups.append(group)
        except KERNEL_DEATHS as exc:
            limit = ending(exc)[0]
        self._keep(srv)
        self._end(limit)
        if self.pools_started and self.policy is None:
            self.policy = policy
        return {"opened": opened, "failed": failed, "emfile": emfile, "per_instance": tuple(per), "limit": limit}

    def kill(self, what: str) -> dict[str, object]:
        m, k = self.m, self.k
        srv = self._servers(self.policy or self.default)
        sent = 0
        limit = ""
        try:
            if what == "null":
                burst = self.held + sum(w.held for w in self.wedged.values())
                srv.start()
                if self.null_up:
                    srv.opened, srv.null_done = self.held, 0
                    srv.kill_null(0.0)
                    m.kfree(m.sizes[self.null.index] * k.entry_size, self.null.address)
                elif self.dead_table:
                    m.kfree(m.sizes[self.null.index] * k.entry_size, self.null.address)
                for w in self.wedged.values():
                    m.free("threads", w.threads)
                    m.free("i386 pcb state", w.threads)
                    m.free("ipc ports", 2 * w.threads + w.held)
                    for _ in range(w.held):
                        srv.push(0.0, ARRIVE, EXT2FS, NOTIFY, 0.0)
                    m.kfree(m.sizes[w.table.index] * k.entry_size, w.table.address)
                self.wedged = {}
                self.null_up = self.dead_table = False
                self.held = 0
                for g in self.groups:
                    g.held = {}
                sent = burst
                srv.run()
            else:
                for g in self.groups:
                    for proc in g.procs:
                        m.exit(proc, k.server_names_per_process)
                    cur = self.instances - 1
                    to_null = g.held.get(cur, 0) if self.null_up else 0
                    to_ext2fs = 0
                    for i, w in self.wedged.items():
                        n = g.held.get(i, 0)
                        if n:
                            m.free("ipc ports", n)
                            w.held -= n
                            to_ext2fs += n
                    self.held -= to_null
                    srv.start()
                    for _ in range(to_null):
                        srv.push(0.0, ARRIVE, NULL, NOTIFY, 0.0)
                    for _ in range(to_ext2fs):
                        srv.push(0.0, ARRIVE, EXT2FS, NOTIFY, 0.0)
                    srv.run()
                    sent += to_null
                self.groups = []
        except KERNEL_DEATHS as exc:
            limit = ending(exc)[0]
        self._keep(srv)
        self._end(limit)
        return {"limit": limit, "notifications": sent, "peak_threads": [p.peak_threads for p in srv.pools]}

    # -- state ------------------------------------------------------------------
    def null_threads(self) -> int:
        return self.threads[NULL] + sum(w.threads for w in self.wedged.values())

    def zones(self) -> list[tuple[str, int, int, int]]:
        return [(z.name, z.in_use, z.peak, z.cur_size) for z in self.m.zmap.zones]


def open_ports(
    kernel: zonemodel.Kernel, processes: int, ports: int, policy: object, nofile: int = 1024
) -> dict[str, object]:
    """Reference for zonemodel.open_ports: one open storm on a fresh system (a new null when null's table is full)."""
    got = System(kernel, lambda _: [1, 0, 0, 0], policy).open_ports(processes, ports, nofile, policy)
    return {**got, "ending": got["limit"]}
