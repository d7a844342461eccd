"""The servers' event loop on SimPy's scheduler: the same queue as zonemodel._servers, a third implementation.

SimPy orders events by (time, priority, insertion order), which is the
(time, sequence) order of the numba heap when every event is scheduled in
the same order.  The handlers are those of :class:`tests.reference.Servers`;
only the scheduler differs, so results must be identical.  Used by the
agreement tests and by the benchmark (numba against SimPy on the same queue).
"""

from __future__ import annotations

from typing import Any

import simpy

from tests import reference


class SimPyServers(reference.Servers):
    """reference.Servers with SimPy as the event scheduler."""

    def __init__(self, machine: reference.Machine, policy: object, rng: reference.Xoshiro) -> None:
        super().__init__(machine, policy, rng)
        self.env = simpy.Environment()
        self.pending = 0

    def push(self, t: float, kind: int, server: int, mtype: int, arrival: float) -> None:
        # SimPy keeps now + delay, which can differ from t in the last bit; the exact t travels
        # with the event and the handler uses it, so only the (rare) order of near-equal times could differ.
        event = self.env.timeout(max(0.0, t - self.env.now), value=(t, kind, server, mtype, arrival))
        event.callbacks.append(self._fire)
        self.pending += 1

    def _fire(self, event: Any) -> None:
        self.pending -= 1
        t, kind, server, mtype, arrival = event.value
        # Reuse the reference's handler: put the event where step() expects it.
        self.events = [(t, 0, kind, server, mtype, arrival)]
        self.step()

    def run(self) -> None:
        self.env.run()


def close_burst(kernel: Any, processes: int, ports_each: int, close: str, policy: object, state: object) -> dict:
    """As reference.close_burst, with SimPy scheduling the closing phase."""
    k = kernel
    m = reference.Machine(k)
    m.boot_tasks(k.system_tasks, kernel_part=True)
    rng = reference.Xoshiro(state)
    srv = SimPyServers(m, policy, rng)
    null, ext2fs = reference.Table(), reference.Table()
    names = {"null": k.null_names, "ext2fs": k.ext2fs_names}
    for table, key in ((null, "null"), (ext2fs, "ext2fs")):
        table.address = m.kalloc(m.sizes[0] * k.entry_size)
        m.grow_table(table, names[key])
    srv.start_pools()
    clients, client_names = [], []
    for _ in range(processes):
        task = m.system_task()
        m.spawn(task, k.server_names_per_process)
        clients.append(task.table)
        client_names.append(task.names)
    opened = 0
    for _ in range(ports_each):
        for c in range(processes):
            m.alloc("ipc ports", 2)
            names["ext2fs"] += 1
            m.grow_table(ext2fs, names["ext2fs"])
            names["null"] += 2
            m.grow_table(null, names["null"])
            client_names[c] += 1
            m.grow_table(clients[c], client_names[c])
            opened += 1
    interval = k.close_interval_fast if close == "fast" else k.close_interval_slow
    t = 0.0
    for _ in range(opened):
        t += srv.exp(interval)
        srv.push(t, reference.ARRIVE, 5, reference.NOTIFY, t)
    srv.run()
    return {
        "opened": opened,
        "peak_threads": [p.peak_threads for p in srv.pools],
        "peak_backlog": [p.peak_queue for p in srv.pools],
        "zones": [(z.name, z.in_use, z.peak, z.cur_size) for z in m.zmap.zones],
        "latencies": srv.latencies,
    }
