"""Reference of ``zonemodel._kernels.remedies``: the fork bomb under resource limits, beside another user.

Each step the background moves and the bomber (user A) tries one fork.
Before the kernel allocates anything a fork may be refused by the process
limit or the kernel-memory quota; with the OOM killer on, a fork that finds
a kernel resource short first kills A's newest process.  Once A is refused
for the first time (the system is saturated), the other user (B) starts
one process per step, until it has ``other`` or is refused.

``acts`` counts, in this order: A refused by nproc, by the quota, OOM kills
of A's processes (whoever forked), A refused by the kernel; B refused by
nproc, by the quota, (a slot no remedy uses), B refused by the kernel.
"""

from __future__ import annotations

import zonemodel
from tests.reference.forkbomb import MOST_CHILDREN, bomb_child
from tests.reference.machine import KERNEL_DEATHS, Machine, Proc, ending
from tests.reference.rng import Xoshiro
from tests.reference.servers import Servers

NPROC_A, QUOTA_A, OOM_KILL, KERNEL_A, NPROC_B, QUOTA_B, UNUSED, KERNEL_B = range(8)


def limited_fork_bomb(
    kernel: zonemodel.Kernel, start: str, chain: bool, user: str, limits: object, other: int, state: object
) -> dict[str, object]:
    """Reference for zonemodel.fork_bomb(limits=..., other=...).

    ``ending`` is "limited" (no other user: A's first refusal ends the run),
    "other done", "other failed" (B refused), "child limit" (nothing refused
    A in time) or the resource whose exhaustion killed the kernel.
    ``zone`` is the zone a zone-map panic names.  ``hit_by`` says who was forking when the run ended at a refusal or a
    failure ("child", "background" or "other user"), and is "child" when
    nothing failed.
    """
    k = kernel
    lim = limits
    m = Machine(k)
    rng = Xoshiro(state)
    srv = Servers(m, None, rng, limits=lim)  # only its OOM test is used
    ports, names, session = bomb_child(k, start, user)
    entry, page = k.entry_size, k.page_size
    e = {z.name: z.elem_size for z in m.zmap.zones}

    def charge(proc_ports: int, proc_names: int, generation: int, threads: int) -> int:
        """What one process costs the kernel: its objects, its entry table and its page directory."""
        extra = k.chain_ports * (generation - 1)
        index = 0
        while m.sizes[index] <= proc_names + extra and index + 1 < len(m.sizes):
            index += 1
        n_ports = 1 + int(k.mach_ipc_compat) + threads + proc_ports + extra
        return (
            e["tasks"] + e["maps"] + e["pmap"] + page + e["ipc spaces"]
            + k.process_map_entries * e["non-kernel map entries"] + n_ports * e["ipc ports"]
            + threads * (e["threads"] + e["i386 pcb state"]) + m.sizes[index] * entry
            + k.process_shadow_objects * e["objects"] + k.process_pv_entries * e["pv_list"]
        )  # fmt: skip

    def oom_kill() -> None:
        nonlocal a_charge
        victim = a_procs.pop()
        m.exit(victim, k.server_names_per_process)
        a_charge -= charge(ports, names, victim.generation, k.process_threads)
        acts[OOM_KILL] += 1

    a_procs: list[Proc] = []
    a_charge = b_count = b_charge = 0
    acts = [0] * 8
    background: list[Proc] = []
    result, zone, who, saturated = "child limit", "", "child", False
    base_charge = charge(k.process_ports, k.process_names + k.process_ports, 1, k.process_threads)
    try:
        m.boot_tasks(k.system_tasks, kernel_part=True)
        m.boot_tasks(session, kernel_part=False)
        for _ in range(MOST_CHILDREN):
            who = "background"
            if rng.uniform() < k.background_rate:
                task = m.system_task()
                if m.fork(task, k.server_names_per_process):
                    background.append(task)
            for task in list(background):
                if rng.uniform() < k.background_exit:
                    m.exit(task, k.server_names_per_process)
                    background.remove(task)
            who = "child"
            generation = len(a_procs) + 1 if chain else 1
            cost = charge(ports, names, generation, k.process_threads)
            blocked = False
            if lim.nproc and len(a_procs) >= lim.nproc:  # type: ignore[attr-defined]
                acts[NPROC_A] += 1
                blocked = True
            elif lim.kmem_quota and a_charge + cost > lim.kmem_quota:  # type: ignore[attr-defined]
                acts[QUOTA_A] += 1
                blocked = True
            elif lim.oom_killer and a_procs and srv.short():  # type: ignore[attr-defined]
                oom_kill()
                blocked = True
            else:
                extra = k.chain_ports * (generation - 1)
                proc = Proc(ports=ports + extra, names=names + extra, generation=generation)
                if m.fork(proc, k.server_names_per_process):
                    a_procs.append(proc)
                    a_charge += cost
                else:
                    acts[KERNEL_A] += 1
                    blocked = True
            if not other:
                if blocked:
                    result = "limited"
                    break
                continue
            saturated = saturated or blocked
            if not saturated:
                continue
            if lim.nproc and b_count >= lim.nproc:  # type: ignore[attr-defined]
                acts[NPROC_B] += 1
                result = "other failed"
                break
            if lim.kmem_quota and b_charge + base_charge > lim.kmem_quota:  # type: ignore[attr-defined]
                acts[QUOTA_B] += 1
                result = "other failed"
                break
            if lim.oom_killer and a_procs and srv.short():  # type: ignore[attr-defined]
                oom_kill()
            who = "other user"
            if not m.fork(m.system_task(), k.server_names_per_process):
                acts[KERNEL_B] += 1
                result = "other failed"
                break
            b_count += 1
            b_charge += base_charge
            if b_count == other:
                result, who = "other done", "child"  # nothing failed
                break
        else:
            who = "child"  # nothing stopped the bomber in time
    except KERNEL_DEATHS as exc:
        result, zone = ending(exc)
    return {
        "processes": len(a_procs),
        "ending": result,
        "zone": zone,
        "hit_by": who,
        "other": b_count,
        "acts": acts,
        "zones": [(z.name, z.in_use, z.peak, z.cur_size) for z in m.zmap.zones],
    }
