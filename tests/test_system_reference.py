"""A running System against its plain-Python reference: random successions of experiments on small kernels."""

from __future__ import annotations

import numpy as np
import pytest

import zonemodel
from tests.reference.system import System as Reference
from zonemodel.errors import ParameterError
from zonemodel.model.policies import POLICIES, UPSTREAM_1997
from zonemodel.seeds import replicate_states

CASES = 120
SERVER_ORDER = ("proc", "auth", "exec", "term", "ext2fs", "null")


def _kernel(rng: np.random.Generator) -> zonemodel.Kernel:
    return zonemodel.gnumach(
        2005,
        zone_map=int(rng.integers(500, 1500)) * 4096,
        kalloc_map=int(rng.integers(64, 2048)) * 4096,
        system_tasks=int(rng.integers(5, 20)),
        null_names=int(rng.integers(0, 200)),
        ext2fs_names=int(rng.integers(0, 2000)),
        null_names_per_open=int(rng.integers(1, 4)),
        service_notify_null=float(rng.uniform(1e-5, 2e-4)),
        service_notify_ext2fs=float(rng.uniform(1e-5, 2e-4)),
        close_interval_fast=float(rng.uniform(5e-6, 5e-5)),
    )


def _nofile(rng: np.random.Generator) -> int:
    return int(rng.choice([1024, 65536, int(rng.integers(4, 400))]))


def _compare_state(system: zonemodel.System, ref: Reference) -> None:
    assert [(z.name, z.in_use, z.peak, z.size) for z in system.zones()] == ref.zones()
    assert system.kalloc_map_free == ref.m.kalloc_free
    servers = system.servers()
    assert [servers.server(name).threads for name in SERVER_ORDER[:-1]] == ref.threads[:-1]
    null = servers.server("null")
    held = ref.held + sum(w.held for w in ref.wedged.values())
    assert (null.instances, null.threads, null.held) == (ref.instances, ref.null_threads(), held)
    assert system.alive == (not ref.down)


@pytest.mark.parametrize("case", range(CASES))
def test_a_succession_of_experiments_matches_the_reference(case: int) -> None:
    """Open storms, close bursts and kills in random order: every result and the state after each agree exactly."""
    rng = np.random.default_rng(np.random.SeedSequence(1212).spawn(CASES)[case])
    kernel = _kernel(rng)
    if not zonemodel.boot(kernel).booted:
        pytest.skip("this random kernel does not boot")
    seed = int(rng.integers(2**32))
    policy = list(POLICIES.values())[int(rng.integers(len(POLICIES)))]
    system = zonemodel.System(kernel, seed=seed)
    ref = Reference(kernel, lambda k: replicate_states(seed, 1, start=k)[0], UPSTREAM_1997)
    for _ in range(int(rng.integers(2, 7))):
        step = str(rng.choice(["open", "burst", "burst", "kill null", "kill clients"]))
        if step == "open":
            processes, ports, nofile = int(rng.integers(1, 4)), int(rng.integers(1, 700)), _nofile(rng)
            got = system.open_ports(processes=processes, ports_each=ports, nofile=nofile, policy=policy)
            want = ref.open_ports(processes, ports, nofile, policy)
            assert (got.opened, got.failed, got.emfile, got.per_instance) == (
                want["opened"],
                want["failed"],
                want["emfile"],
                want["per_instance"],
            )
            assert got.survived == (want["limit"] == "")
        elif step == "burst":
            processes, ports, nofile = int(rng.integers(1, 4)), int(rng.integers(1, 500)), _nofile(rng)
            close = str(rng.choice(["fast", "slow", "kill"]))
            other = int(rng.choice([0, int(rng.integers(1, 30))]))
            limits = zonemodel.Limits(oom_killer=True) if rng.uniform() < 0.3 else None
            got = system.close_burst(
                processes=processes,
                ports_each=ports,
                close=close,
                policy=policy,
                limits=limits,
                other=other,
                nofile=nofile,
            )
            want = ref.close_burst(processes, ports, close, policy, limits, other, nofile)
            assert (got.limit, got.opened, got.emfile, got.other_opened) == (
                want["limit"],
                want["opened"],
                want["emfile"],
                want["other_opened"],
            )
            assert list(got.peak_threads.values()) == want["peak_threads"]
        else:
            what = step.split()[1]
            try:
                got_kill = system.kill(what)
            except ParameterError:
                continue  # nothing of that kind runs: the system is unchanged (see test_system.py)
            want = ref.kill(what)
            assert got_kill.notifications == want["notifications"]
            assert (got_kill.outcome == "survived") == (want["limit"] == "")
            assert list(got_kill.peak_threads.values()) == want["peak_threads"]
        _compare_state(system, ref)
        if not system.alive:
            break
