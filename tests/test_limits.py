"""Remedies (O21): the kernels under resource limits against the reference, and what each remedy buys."""

from __future__ import annotations

import numpy as np
import pytest

import zonemodel
from tests import reference
from zonemodel.errors import ParameterError
from zonemodel.model.limits import Limits
from zonemodel.model.policies import POLICIES
from zonemodel.seeds import replicate_states


def _random_limits(rng: np.random.Generator) -> Limits:
    return Limits(
        nproc=int(rng.integers(1, 400)) if rng.random() < 0.5 else None,
        ports_per_task=int(rng.integers(30, 600)) if rng.random() < 0.5 else None,
        threads_per_task=int(rng.integers(1, 100)) if rng.random() < 0.5 else None,
        kmem_quota=int(rng.integers(50_000, 3_000_000)) if rng.random() < 0.5 else None,
        oom_killer=bool(rng.random() < 0.5),
        oom_margin=float(rng.uniform(0.01, 0.2)),
    )


# The remedies' counters as the model names them, in the order of the reference's ``acts``.
ACTS = (
    "nproc on the bomber",
    "kmem_quota on the bomber",
    "oom_killer on the bomber",
    "kernel refused the bomber",
    "nproc on the other user",
    "kmem_quota on the other user",
    "oom_killer (unused slot)",
    "kernel refused the other user",
)

# What the kernel does when a resource runs out, by the resource the reference names.
DEATHS = {
    "zone map": "panic",
    "ipc spaces": "panic",
    "kernel_map": "panic",
    "kalloc_map": "fork failure",
    "physical memory": "hang",
}


def _fork_bomb_ending(want: dict[str, object]) -> tuple[str, str, str]:
    """The model's (outcome, limit, console line) for the reference's ending of a limited fork bomb."""
    ending, acts = str(want["ending"]), want["acts"]
    assert isinstance(acts, list)
    if ending in ("child limit", "other done"):
        return "survived", "", ""
    if ending in ("limited", "other failed"):
        # The run ends at that user's first refusal, so exactly one of its four counters is set (an OOM
        # kill counts as the bomber's refusal, whoever was forking, so slot 2 only ends a run without other).
        mine = range(4) if ending == "limited" else range(4, 8)
        acted = [i for i in mine if acts[i]]
        assert len(acted) == 1 and acts[acted[0]] == 1, acts
        return ("stopped by a limit" if ending == "limited" else "survived"), ACTS[acted[0]], "[...]"
    return DEATHS[ending], ending, _panic_line(ending, str(want["zone"]))


def _close_burst_ending(want: dict[str, object]) -> tuple[str, str]:
    """The model's (outcome, console line) for the reference's ending of a close burst.

    The reference reports endings of the closing phase and of the other user's (it cannot run a storm
    whose opens fail), where a full kalloc_map can only stop the restart of null: a "fork failure".
    Endings without a panic have a bracketed description, not a console line: see :func:`_console`.
    """
    limit = str(want["limit"])
    if not limit:
        return "survived", ""
    return DEATHS[limit], _panic_line(limit, str(want["zone"]))


def _panic_line(limit: str, zone: str) -> str:
    """The console line of the panic that running out of *limit* causes, or ``[...]`` for a silent ending."""
    panics = {
        "zone map": f"panic: zalloc: zone {zone} exhausted",
        "ipc spaces": "panic: ipc_task_init",
        "kernel_map": "panic: pmap_create",
    }
    return panics.get(limit, "[...]")


def _console(message: str) -> str:
    """What the console printed: a panic line, nothing, or ``[...]`` for a description of a silent ending."""
    return "[...]" if message.startswith("[") else message


@pytest.mark.parametrize("case", range(60))
def test_limited_fork_bomb_matches_reference(case: int) -> None:
    rng = np.random.default_rng(np.random.SeedSequence(21).spawn(60)[case])
    year = int(rng.choice([2005, 2013]))
    kernel = zonemodel.gnumach(
        year,
        zone_map=int(rng.integers(200, 1000)) * 4096 if year == 2005 else 128 * 2**20,
        ram=int(rng.integers(64, 300)) * 2**20,
        background_rate=float(rng.uniform(0, 0.2)),
        kmem_waits_for_memory=bool(rng.integers(2)),
    )
    if not zonemodel.boot(kernel).booted:
        pytest.skip("this random kernel does not boot")
    limits = _random_limits(rng)
    other = int(rng.integers(0, 40))
    seed = int(rng.integers(2**32))
    got = zonemodel.fork_bomb(kernel, limits=limits, other=other, seed=seed)
    assert isinstance(got, zonemodel.ForkBombResult)
    want = reference.limited_fork_bomb(kernel, "console", False, "user", limits, other, replicate_states(seed, 1)[0])
    outcome, limit, message = _fork_bomb_ending(want)
    assert {
        "processes": got.processes,
        "outcome": got.outcome,
        "limit": got.limit,
        "message": _console(got.message),
        "hit_by": got.hit_by,
        "other": got.other_processes,
        "other_completed": got.other_completed,
        "remedies": got.remedies,
        "zones": [(z.name, z.in_use, z.peak, z.size) for z in got.zones],
    } == {
        "processes": want["processes"],
        "outcome": outcome,
        "limit": limit,
        "message": message,
        "hit_by": want["hit_by"],
        "other": want["other"],
        "other_completed": (want["ending"] == "other done") if other else None,
        "remedies": {name: n for name, n in zip(ACTS, want["acts"], strict=True) if n},  # type: ignore[call-overload]
        "zones": want["zones"],
    }


@pytest.mark.parametrize("case", range(40))
def test_limited_close_burst_matches_reference(case: int) -> None:
    rng = np.random.default_rng(np.random.SeedSequence(22).spawn(40)[case])
    year = int(rng.choice([2005, 2013]))
    kernel = zonemodel.gnumach(year, zone_map=int(rng.integers(300, 900)) * 4096, ram="256 MiB")
    if not zonemodel.boot(kernel).booted:
        pytest.skip("this random kernel does not boot")
    pol = list(POLICIES.values())[int(rng.integers(len(POLICIES)))]
    limits = _random_limits(rng)
    processes, ports = int(rng.integers(1, 3)), int(rng.integers(1, 3000))
    other = int(rng.integers(0, 50))
    seed = int(rng.integers(2**32))
    nofile = int(rng.choice([1024, 65536, int(rng.integers(4, 3000))]))
    got = zonemodel.close_burst(
        kernel,
        processes=processes,
        ports_each=ports,
        close="fast",
        policy=pol,
        limits=limits,
        other=other,
        nofile=nofile,
        seed=seed,
    )
    assert isinstance(got, zonemodel.CloseBurstResult)
    state = replicate_states(seed, 1)[0]
    want = reference.close_burst(kernel, processes, ports, "fast", pol, state, limits, other, nofile=nofile)
    assert got.emfile == want["emfile"]
    refused_ports, refused_quota, refused_threads, kills = want["remedies"]  # type: ignore[misc]
    remedies = {
        "ports_per_task refused opens": refused_ports,
        "kmem_quota refused opens or threads": refused_quota,
        "threads_per_task refused threads": refused_threads,
        "oom_killer killed null": kills,
    }
    outcome, message = _close_burst_ending(want)
    assert {
        "outcome": got.outcome,
        "limit": got.limit,
        "message": _console(got.message),
        "opened": got.opened,
        "peak_threads": list(got.peak_threads.values()),
        "peak_backlog": list(got.peak_backlog.values()),
        "zones": [(z.name, z.in_use, z.peak, z.size) for z in got.zones],
        "remedies": got.remedies,
        "other_opened": got.other_opened,
        "other_completed": got.other_completed,
    } == {
        "outcome": outcome,
        "limit": want["limit"],
        "message": message,
        "opened": want["opened"],
        "peak_threads": want["peak_threads"],
        "peak_backlog": want["peak_backlog"],
        "zones": want["zones"],
        "remedies": {name: n for name, n in remedies.items() if n},
        "other_opened": want["other_opened"],
        "other_completed": (want["other_opened"] == other and not want["limit"]) if other else None,
    }
    if not want["limit"] and want["latencies"]:
        lat = np.asarray(want["latencies"]) * 1e3
        assert got.latency_ms["max"] == round(float(lat.max()), 3)
        assert got.latency_ms["p50"] == round(float(np.percentile(lat, 50)), 3)
        assert got.latency_ms["p99"] == round(float(np.percentile(lat, 99)), 3)


def test_o21_process_limit_gives_the_bomber_exactly_n_and_spares_the_other_user() -> None:
    runs = zonemodel.fork_bomb(zonemodel.gnumach(2005), limits=Limits(nproc=500), other=50, runs=200, seed=21)
    assert isinstance(runs, zonemodel.ForkBombRuns)
    assert set(runs.values) == {500}
    assert dict(runs.outcomes) == {"survived": 200}
    assert runs.other_completed == 1.0


def test_o21_without_limits_the_other_user_fails() -> None:
    runs = zonemodel.fork_bomb(zonemodel.gnumach(2005), other=50, runs=50, seed=21)
    assert isinstance(runs, zonemodel.ForkBombRuns)
    assert runs.other_completed == 0.0 and dict(runs.outcomes) == {"panic": 50}


@pytest.mark.parametrize("limits", [Limits(ports_per_task=1024), Limits(kmem_quota="2 MiB")])
def test_o21_close_storm_is_contained_by_the_port_limit_or_the_quota(limits: Limits) -> None:
    runs = zonemodel.close_burst(
        zonemodel.gnumach(2005),
        processes=2,
        ports_each=10000,
        nofile=65536,
        limits=limits,
        other=100,
        runs=200,
        seed=22,
    )
    assert isinstance(runs, zonemodel.CloseBurstRuns)
    assert runs.panicked == 0.0 and runs.other_completed == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nproc": 0}, r'"nproc" must be None or an integer between 1 and 1_000_000_000'),
        ({"ports_per_task": -3}, r'"ports_per_task" must be None or an integer between 1 and 1_000_000_000'),
        ({"kmem_quota": "2 MB"}, r'"kmem_quota": unknown unit'),
        ({"oom_killer": "yes"}, r'"oom_killer" must be True or False'),
        ({"oom_margin": 0.9}, r'"oom_margin" must be a fraction in \(0, 0.5\]'),
    ],
)
def test_bad_limits(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        Limits(**kwargs)  # type: ignore[arg-type]


def test_limits_need_slow_forking() -> None:
    with pytest.raises(ParameterError, match=r'"limits" and "other" need interval=None'):
        zonemodel.fork_bomb(zonemodel.gnumach(2005), limits=Limits(nproc=3), interval=0.001)
