"""Servers: the event loop against its plain-Python reference, the page's storms (O3, O4, O14, O16-O18)."""

from __future__ import annotations

import numpy as np
import pytest

import zonemodel
from tests import reference
from zonemodel.errors import ParameterError
from zonemodel.model.policies import POLICIES, ThreadPolicy
from zonemodel.seeds import replicate_states

MiB = 2**20
CASES = 120


def _small_kernel(rng: np.random.Generator) -> zonemodel.Kernel:
    return zonemodel.gnumach(
        int(rng.choice([2005, 2007])),
        zone_map=int(rng.integers(300, 900)) * 4096,
        kalloc_map=int(rng.integers(16, 2048)) * 4096,
        system_tasks=int(rng.integers(5, 30)),
        boot_ports=int(rng.integers(0, 500)),
        null_names=int(rng.integers(0, 300)),
        ext2fs_names=int(rng.integers(0, 3000)),
        null_names_per_open=int(rng.integers(1, 5)),
        service_notify_null=float(rng.uniform(1e-5, 2e-4)),
        service_notify_ext2fs=float(rng.uniform(1e-5, 2e-4)),
        service_rpc=float(rng.uniform(1e-5, 1e-3)),
        close_interval_fast=float(rng.uniform(5e-6, 5e-5)),
        close_interval_slow=float(rng.uniform(1e-4, 1e-2)),
        **_scheduler(rng),
    )


def _scheduler(rng: np.random.Generator) -> dict[str, object]:
    """Random scheduler fields: clock, quantum, priority levels, decay, thread start costs, clock phase."""
    return {
        "hz": int(rng.choice([50, 100, 1000])),
        "quantum_ticks": int(rng.integers(1, 20)),
        "sched_tick_ticks": int(rng.integers(5, 200)),
        "priority_level_cpu": float(rng.uniform(0.002, 0.5)),
        "usage_decay": float(rng.uniform(0.0, 1.0)),
        "priority_user": int(rng.integers(8, 16)),
        "priority_proc": int(rng.integers(0, 12)),
        "thread_start_cpu": float(rng.uniform(0.0, 4e-4)),
        "thread_walk_cpu": float(rng.uniform(0.0, 2e-6)),
        "clock_phase": str(rng.choice(["random", "on a tick"])),
        "cpu_times": str(rng.choice(["exponential", "fixed"])),
        "null_stall_chance": float(rng.choice([0.0, 0.0, 1e-4, 1e-2])),
        "kill_cpu_per_right": float(rng.uniform(0.0, 1e-5)),
        "process_threads": int(rng.integers(1, 4)),
    }


def _policy(rng: np.random.Generator) -> ThreadPolicy:
    base = list(POLICIES.values())[int(rng.integers(len(POLICIES)))]
    return ThreadPolicy(
        base.key, base.name, base.kind, base.source,
        cap=int(rng.integers(1, 200)), delay_from=int(rng.integers(0, 50)), delay=float(rng.uniform(0, 0.05)),
        pool=int(rng.integers(1, 4)), free_threads=int(rng.integers(1, 20)), reserve=float(rng.uniform(0, 0.6)),
        backoff=float(rng.uniform(0, 0.01)),
    )  # fmt: skip


@pytest.mark.parametrize("case", range(CASES))
def test_close_burst_matches_reference(case: int) -> None:
    """Random small storms, kernels and policies: threads, backlog, zones and every latency agree exactly."""
    rng = np.random.default_rng(np.random.SeedSequence(32768).spawn(CASES)[case])
    kernel = _small_kernel(rng)
    pol = _policy(rng)
    processes, ports = int(rng.integers(1, 7)), int(rng.integers(1, 1500))
    close = str(rng.choice(["fast", "slow", "kill"]))
    seed = int(rng.integers(2**32))
    nofile = int(rng.choice([1024, 1 << 16]))
    got = zonemodel.close_burst(
        kernel, processes=processes, ports_each=ports, close=close, policy=pol, nofile=nofile, seed=seed
    )
    assert isinstance(got, zonemodel.CloseBurstResult)
    want = reference.close_burst(kernel, processes, ports, close, pol, replicate_states(seed, 1)[0], nofile=nofile)
    assert got.opened == want["opened"]
    assert got.limit == want["limit"]
    assert list(got.peak_threads.values()) == want["peak_threads"]
    assert list(got.peak_backlog.values()) == want["peak_backlog"]
    assert [(z.name, z.in_use, z.peak, z.size) for z in got.zones] == want["zones"]
    if not want["limit"]:
        lat = np.asarray(want["latencies"]) * 1e3
        assert got.latency_ms["max"] == round(float(lat.max()), 3)
        assert got.latency_ms["p99"] == round(float(np.percentile(lat, 99)), 3)


@pytest.mark.parametrize("case", range(40))
def test_timed_fork_bomb_matches_reference(case: int) -> None:
    """Fork bombs at a fork interval: count, ending, who hit it, threads and zones agree exactly."""
    rng = np.random.default_rng(np.random.SeedSequence(14).spawn(40)[case])
    kernel = zonemodel.gnumach(
        2005,
        zone_map=int(rng.integers(200, 800)) * 4096,
        system_tasks=int(rng.integers(5, 40)),
        service_rpc=float(rng.uniform(1e-5, 2e-3)),
        fork_rpcs_proc=int(rng.integers(0, 5)),
        fork_rpcs_auth=int(rng.integers(0, 3)),
        background_rate=float(rng.uniform(0, 0.2)),
        background_exit=float(rng.uniform(0, 0.4)),
        **_scheduler(rng),
    )
    pol = _policy(rng)
    interval = float(rng.uniform(1e-5, 2e-3))
    seed = int(rng.integers(2**32))
    got = zonemodel.fork_bomb(kernel, interval=interval, policy=pol, seed=seed)
    assert isinstance(got, zonemodel.ForkBombResult)
    want = reference.timed_fork_bomb(kernel, "console", False, "user", interval, pol, replicate_states(seed, 1)[0])
    assert got.processes == want["processes"]
    assert (got.limit or "child limit") == want["limit"]
    assert got.hit_by == want["hit_by"]
    assert list(got.server_threads.values()) == want["threads"]
    assert [(z.name, z.in_use, z.peak, z.size) for z in got.zones] == want["zones"]


@pytest.mark.parametrize("case", range(12))
def test_open_ports_matches_reference(case: int) -> None:
    rng = np.random.default_rng(np.random.SeedSequence(17).spawn(12)[case])
    kernel = zonemodel.gnumach(
        2005,
        kalloc_map=int(rng.integers(16, 400)) * 4096,
        zone_map=int(rng.integers(400, 1500)) * 4096,
        null_names=int(rng.integers(0, 100)),
        ext2fs_names=int(rng.integers(0, 2000)),
        null_names_per_open=int(rng.integers(1, 6)),
    )
    processes, ports = int(rng.integers(1, 4)), int(rng.integers(100, 8000))
    got = zonemodel.open_ports(kernel, processes=processes, ports_each=ports)
    want = reference.open_ports(kernel, processes, ports, POLICIES["upstream-1997"])
    assert (got.opened, got.failed, got.per_instance) == (want["opened"], want["failed"], want["per_instance"])
    assert got.survived == (want["ending"] == "")


def test_one_thread_drains_the_queue_when_nothing_preempts_it() -> None:
    """Priorities that never change and quanta longer than the storm: null's first thread serves everything.

    Its first message leaves libports' counter at zero, so it creates one
    thread, which counts as idle and never gets the CPU before the queue is
    empty: two threads, however long the queue.
    """
    kernel = zonemodel.gnumach(2005, priority_level_cpu=100.0, quantum_ticks=10_000)
    r = zonemodel.close_burst(kernel, processes=2, ports_each=2000, nofile=65536, seed=1)
    assert r.peak_backlog["null"] > 3000
    assert (r.peak_threads["null"], r.peak_threads["ext2fs"]) == (2, 2)


def test_new_threads_that_preempt_their_creators_grow_the_pool() -> None:
    """A thread whose priority worsens within a tick is preempted by each fresh thread, which takes a message."""
    still = zonemodel.close_burst(
        zonemodel.gnumach(2005, priority_level_cpu=100.0, quantum_ticks=10_000),
        processes=2,
        ports_each=2000,
        nofile=65536,
        seed=1,
    )
    fast = zonemodel.close_burst(
        zonemodel.gnumach(2005, priority_level_cpu=1e-3), processes=2, ports_each=2000, nofile=65536, seed=1
    )
    assert fast.peak_threads["null"] >= 2 * still.peak_threads["null"]
    assert fast.peak_backlog["null"] < still.peak_backlog["null"]


def test_o3_a_fast_close_panics_only_when_the_storm_nearly_fills_the_zone_map() -> None:
    """O3 on the 2005 preset: 20 000 ports never panic; 58 000 closed fast panic in some runs, closed slowly in none."""
    kernel = zonemodel.gnumach(2005)
    small = zonemodel.close_burst(kernel, processes=2, ports_each=10000, nofile=65536, close="fast", runs=100, seed=3)
    fast = zonemodel.close_burst(kernel, processes=58, ports_each=1000, close="fast", runs=100, seed=3)
    slow = zonemodel.close_burst(kernel, processes=58, ports_each=1000, close="slow", runs=100, seed=3)
    assert isinstance(small, zonemodel.CloseBurstRuns) and isinstance(fast, zonemodel.CloseBurstRuns)
    assert isinstance(slow, zonemodel.CloseBurstRuns)
    assert small.panicked == 0.0 and slow.panicked == 0.0
    assert 0.0 < fast.panicked < 1.0
    assert max(small.peak_null_threads) < 100


def test_o3_the_clock_phase_is_what_makes_the_outcome_a_probability() -> None:
    """Started on a tick, the same storm panics in every run; started anywhere, in some."""
    kernel = zonemodel.gnumach(2005)
    anywhere = zonemodel.close_burst(kernel, processes=58, ports_each=1000, runs=60, seed=3)
    on_tick = zonemodel.close_burst(
        kernel.replace(clock_phase="on a tick"), processes=58, ports_each=1000, runs=60, seed=3
    )
    assert isinstance(anywhere, zonemodel.CloseBurstRuns) and isinstance(on_tick, zonemodel.CloseBurstRuns)
    assert on_tick.panicked == 1.0
    assert anywhere.panicked < 0.8


def test_o4_the_debian_throttle_caps_threads_but_does_not_stop_the_storm() -> None:
    kernel = zonemodel.gnumach(2005)
    runs = zonemodel.close_burst(
        kernel, processes=58, ports_each=1000, close="fast", policy="debian-throttle", runs=100, seed=3
    )
    assert isinstance(runs, zonemodel.CloseBurstRuns)
    assert runs.panicked > 0.0
    assert max(runs.peak_null_threads) <= 251


def test_o14_faster_forking_no_longer_lowers_the_count() -> None:
    """On one CPU the requests of fast forks queue in proc and auth; their threads do not grow, the count stays."""
    kernel = zonemodel.gnumach(2005)
    slow = zonemodel.fork_bomb(kernel, runs=100, seed=14)
    fast = zonemodel.fork_bomb(kernel, interval=1e-4, runs=100, seed=14)
    assert isinstance(slow, zonemodel.ForkBombRuns) and isinstance(fast, zonemodel.ForkBombRuns)
    assert abs(fast.mean - slow.mean) < 2
    one = zonemodel.fork_bomb(kernel, interval=1e-4, seed=14)
    assert isinstance(one, zonemodel.ForkBombResult)
    assert one.server_threads["proc"] <= 3


def test_o16_an_open_storm_from_two_processes_fails_gracefully() -> None:
    result = zonemodel.open_ports(zonemodel.gnumach(2005), processes=2, ports_each=32768, nofile=65536)
    assert result.survived and result.failed > 0 and result.instances == 2


def test_o17_a_dead_null_instance_is_replaced() -> None:
    """The first instance dies when its entry table cannot grow; the next open is served by a new one."""
    result = zonemodel.open_ports(zonemodel.gnumach(2005), processes=2, ports_each=32768, nofile=65536)
    first, second = result.per_instance
    assert first > 32768 and second > 0
    assert result.opened + result.failed == 2 * 32768


def test_o18_five_children_killed_quickly_never_panic() -> None:
    """Five processes killed from a shell, each death a burst of notifications, over 1000 seeds."""
    kernel = zonemodel.gnumach(2005)
    runs = zonemodel.close_burst(kernel, processes=5, ports_each=kernel.ports_console, close="kill", runs=1000, seed=18)
    assert isinstance(runs, zonemodel.CloseBurstRuns)
    assert runs.panicked == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"processes": 0, "ports_each": 1}, r'"processes" must be an integer between 1 and 1000000'),
        ({"processes": 1, "ports_each": -5}, r'"ports_each" must be an integer between 1 and 1000000'),
        ({"processes": 1, "ports_each": 1, "close": "quick"}, r"\"close\" must be one of 'fast', 'slow'"),
        ({"processes": 1, "ports_each": 1, "policy": "none"}, r'"policy" must be a ThreadPolicy or one of'),
        ({"processes": 1, "ports_each": 1, "runs": 0}, r'"runs" must be an integer between 1 and 1_000_000'),
        ({"processes": 3000, "ports_each": 3000}, r"must be at most 4000000 ports"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        zonemodel.close_burst(zonemodel.gnumach(2005), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "magic"}, r'"kind" must be one of'),
        ({"pool": 0}, r'"pool" must be >= 1'),
        ({"cap": -1}, r'"cap" must be an integer between 0 and 1_000_000'),
        ({"reserve": 1.5}, r'"reserve" must be in \[0, 1\)'),
        ({"delay": -2.0}, r'"delay" must be between 0 and 3600 seconds'),
    ],
)
def test_bad_policies(kwargs: dict[str, object], message: str) -> None:
    values = {"key": "x", "name": "x", "kind": "unbounded", "source": "x", **kwargs}
    with pytest.raises(ParameterError, match=message):
        ThreadPolicy(**values)  # type: ignore[arg-type]


def test_open_ports_only_knows_dev_null() -> None:
    with pytest.raises(ParameterError, match=r'"path" must be "/dev/null"'):
        zonemodel.open_ports(zonemodel.gnumach(2005), processes=1, ports_each=1, path="/dev/zero")


@pytest.mark.parametrize("case", range(10))
def test_simpy_scheduler_gives_the_same_results(case: int) -> None:
    """The same queue on SimPy's scheduler: identical threads, backlog, zones and latencies (no panic cases)."""
    from tests import simpy_servers

    rng = np.random.default_rng(np.random.SeedSequence(1997).spawn(10)[case])
    kernel = zonemodel.gnumach(2005)
    pol = list(POLICIES.values())[case % len(POLICIES)]
    ports, close = int(rng.integers(1, 300)), str(rng.choice(["fast", "slow"]))
    seed = int(rng.integers(2**32))
    got = zonemodel.close_burst(kernel, processes=2, ports_each=ports, close=close, policy=pol, seed=seed)
    assert isinstance(got, zonemodel.CloseBurstResult) and got.outcome == "survived"
    want = simpy_servers.close_burst(kernel, 2, ports, close, pol, replicate_states(seed, 1)[0])
    assert list(got.peak_threads.values()) == want["peak_threads"]
    assert list(got.peak_backlog.values()) == want["peak_backlog"]
    assert [(z.name, z.in_use, z.peak, z.size) for z in got.zones] == want["zones"]
    lat = np.asarray(want["latencies"]) * 1e3
    assert got.latency_ms["max"] == round(float(lat.max()), 3)


def test_a_stalled_null_needs_a_thread_per_notification() -> None:
    """The trivfs use-after-free (a what-if): once a cleanup leaves cntl->lock held, every later cleanup blocks.

    Each blocked thread keeps libports' counter down, so every notification that
    follows makes a new thread: the storm that grows null to tens of threads
    grows it to thousands and panics.
    """
    kernel = zonemodel.gnumach(2005)
    sound = zonemodel.close_burst(kernel, processes=20, ports_each=1000, runs=20, seed=3)
    stalled = zonemodel.close_burst(
        kernel.replace(null_stall_chance=1e-3), processes=20, ports_each=1000, runs=20, seed=3
    )
    assert isinstance(sound, zonemodel.CloseBurstRuns) and isinstance(stalled, zonemodel.CloseBurstRuns)
    assert sound.panicked == 0.0 and max(sound.peak_null_threads) < 200
    assert stalled.panicked == 1.0 and min(stalled.peak_null_threads) > 5000


def test_a_kill_panics_later_than_a_close() -> None:
    """task_terminate's yields give null the CPU between two victims: the same storm killed panics less often."""
    kernel = zonemodel.gnumach(2005)
    closed = zonemodel.close_burst(kernel, processes=58, ports_each=1000, close="fast", runs=100, seed=3)
    killed = zonemodel.close_burst(kernel, processes=58, ports_each=1000, close="kill", runs=100, seed=3)
    assert isinstance(closed, zonemodel.CloseBurstRuns) and isinstance(killed, zonemodel.CloseBurstRuns)
    assert killed.panicked < closed.panicked / 4
    assert max(killed.peak_null_backlog) < max(closed.peak_null_backlog)
