"""A System keeps state between experiments, as a real machine does."""

from __future__ import annotations

import pytest

import zonemodel
from zonemodel.errors import ParameterError
from zonemodel.model.zones import ZONE_NAMES


def test_zone_high_water_marks_persist_and_free_lists_are_reused() -> None:
    """After a killed bomb the zone map stays as full, and the next bomb reuses the free elements."""
    kernel = zonemodel.gnumach(2005, zone_map="4 MiB", background_rate=0.0)
    system = zonemodel.System(kernel, seed=3)
    first = system.fork_bomb(stop_at=200)
    used = system.zone_map_used
    assert (first.outcome, first.processes) == ("child limit", 200)
    again = system.fork_bomb(stop_at=200)
    assert system.zone_map_used == used  # the 200 children of the second bomb took nothing new
    assert again.zone("tasks").peak == first.zone("tasks").peak
    last = system.fork_bomb()
    fresh = zonemodel.fork_bomb(kernel, seed=3)
    assert isinstance(fresh, zonemodel.ForkBombResult)
    assert last.processes == fresh.processes
    assert not system.alive
    with pytest.raises(zonemodel.SystemDown, match="panic: zalloc: zone"):
        system.fork_bomb()


@pytest.mark.parametrize("chain", [False, True])
def test_a_killed_bomb_gives_back_every_element(chain: bool) -> None:
    """The children of a bomb stopped by its user exit: every zone is back to its use before the bomb.

    A chain's children hold more ports the deeper they are, so a wrong generation would leave ports behind.
    """
    kernel = zonemodel.gnumach(2005, zone_map="8 MiB", background_rate=0.0)
    system = zonemodel.System(kernel, seed=5)
    before = {z.name: z.in_use for z in system.zones()}
    result = system.fork_bomb(stop_at=150, chain=chain)
    assert (result.outcome, result.processes) == ("child limit", 150)
    during = {z.name: z.in_use for z in result.zones}
    after = {z.name: z.in_use for z in system.zones()}
    assert during["tasks"] >= before["tasks"] + 150  # the children were there
    assert after == before, {name: (before[name], after[name]) for name in before if before[name] != after[name]}


@pytest.mark.parametrize(
    ("year", "zone_map", "background", "chain", "start", "stop_at", "seed"),
    [
        (2005, "8 MiB", 0.2, False, "console", 300, 1),
        (2005, "8 MiB", 0.2, True, "ssh", 120, 2),
        (2007, "4 MiB", 0.1, True, "console", 200, 3),
        (2009, "6 MiB", 0.3, False, "screen", 250, 4),
    ],
)
def test_a_killed_bomb_agrees_with_the_reference(
    year: int, zone_map: str, background: float, chain: bool, start: str, stop_at: int, seed: int
) -> None:
    """A bomb stopped after *stop_at* children, which its user kills: the zone table matches the reference's."""
    from tests import reference
    from zonemodel.seeds import replicate_states

    kernel = zonemodel.gnumach(year, zone_map=zone_map, background_rate=background)
    system = zonemodel.System(kernel, seed=seed)
    result = system.fork_bomb(stop_at=stop_at, chain=chain, start=start)
    want = reference.fork_bomb(kernel, start, chain, "user", replicate_states(seed, 1)[0], stop_at=stop_at)
    assert (result.processes, result.outcome, want["processes"], want["limit"]) == (
        stop_at,
        "child limit",
        stop_at,
        "child limit",
    )
    assert [(z.name, z.in_use, z.peak, z.size) for z in system.zones()] == want["zones"]


def test_same_seed_same_history() -> None:
    kernel = zonemodel.gnumach(2005, zone_map="4 MiB")
    runs = []
    for _ in range(2):
        system = zonemodel.System(kernel, seed=11)
        runs.append([system.fork_bomb(stop_at=100).processes, system.fork_bomb().processes])
    assert runs[0] == runs[1]


def test_a_kernel_that_does_not_boot_raises_boot_error() -> None:
    """System() of a kernel that does not boot raises BootError at once, as every experiment does."""
    with pytest.raises(zonemodel.errors.BootError, match=r'"kernel": .* does not boot: panic: kmem_suballoc'):
        zonemodel.System(zonemodel.gnumach(2005, zone_map="32 MiB"))


def test_stop_at_is_checked() -> None:
    system = zonemodel.System(zonemodel.gnumach(2005))
    with pytest.raises(ParameterError, match=r'"stop_at" must be an integer between 0 and'):
        system.fork_bomb(stop_at=-1)


# ---------------------------------------------------------------------------- one code path

SMALL = zonemodel.gnumach(2005)
"""A kernel on which a storm of 58 x 1000 fast closes panics in some runs and not in others (where the clock falls)."""
STORM = {"processes": 58, "ports_each": 1000}


@pytest.mark.parametrize("seed", range(200))
def test_close_burst_is_a_one_experiment_system(seed: int) -> None:
    """zm.close_burst(k, ..., seed=s) equals zm.System(k, seed=s).close_burst(...), field by field."""
    got = zonemodel.close_burst(SMALL, **STORM, seed=seed)
    system = zonemodel.System(SMALL, seed=seed)
    want = system.close_burst(**STORM)
    assert got.equals(want)
    assert got.seed is not None and want.seed is not None
    assert got.seed.entropy == want.seed.entropy


def test_the_seeds_include_panics_and_survivals() -> None:
    """The 200-seed equality above covers both endings (else it would test less than it says)."""
    outcomes = {zonemodel.close_burst(SMALL, **STORM, seed=seed).outcome for seed in range(200)}
    assert outcomes == {"panic", "survived"}


def test_runs_equal_one_experiment_systems_seeded_as_the_runs() -> None:
    """Row i of runs=N is the first experiment of a fresh System whose stream is replicate i of the seed."""
    runs = zonemodel.close_burst(SMALL, **STORM, runs=40, seed=9)
    assert isinstance(runs, zonemodel.CloseBurstRuns)
    for i in range(40):
        one = zonemodel.System._replicate(SMALL, 9, i).close_burst(**STORM)
        assert (runs.run_outcomes[i], runs.opened[i], runs.peak_null_threads[i]) == (
            one.outcome,
            one.opened,
            one.peak_threads["null"],
        )
        assert runs.peak_ext2fs_threads[i] == one.peak_threads["ext2fs"]
        assert runs.zone_map_used[i] == one.zone_map_used
        assert runs.emfile[i] == one.emfile


def test_open_ports_and_fork_bomb_are_one_experiment_systems() -> None:
    k = zonemodel.gnumach(2005, zone_map="4 MiB")
    assert zonemodel.open_ports(k, processes=3, ports_each=900).equals(
        zonemodel.System(k).open_ports(processes=3, ports_each=900)
    )
    for interval in (None, 0.0005):
        got = zonemodel.fork_bomb(k, interval=interval, seed=4)
        assert isinstance(got, zonemodel.ForkBombResult)
        assert got.equals(zonemodel.System(k, seed=4).fork_bomb(interval=interval))
    limits = zonemodel.Limits(nproc=300)
    got = zonemodel.fork_bomb(k, limits=limits, other=20, seed=4)
    assert isinstance(got, zonemodel.ForkBombResult) and got.remedies
    assert got.equals(zonemodel.System(k, seed=4).fork_bomb(limits=limits, other=20))


def test_runs_report_emfile_per_run() -> None:
    runs = zonemodel.close_burst(zonemodel.gnumach(2005), processes=3, ports_each=1100, runs=3, seed=1)
    assert isinstance(runs, zonemodel.CloseBurstRuns)
    assert runs.emfile == (3 * 79,) * 3 and runs.opened == (3 * 1021,) * 3


# ---------------------------------------------------------------------------- interval and policy


def test_system_fork_bomb_honours_interval() -> None:
    """A timed bomb on a System runs against its servers (proc and auth grow), unlike a slow one."""
    k = zonemodel.gnumach(2005, zone_map="4 MiB")
    timed = zonemodel.System(k, seed=2).fork_bomb(interval=0.0002)
    slow = zonemodel.System(k, seed=2).fork_bomb()
    assert timed.server_threads["proc"] > 1 and slow.server_threads == {}
    assert timed.processes != slow.processes


def test_a_timed_bomb_leaves_its_server_threads_on_the_system() -> None:
    """The servers' threads of a surviving timed bomb stay; a later storm starts from them."""
    system = zonemodel.System(zonemodel.gnumach(2005), seed=5)
    bomb = system.fork_bomb(interval=0.0002, stop_at=200)
    assert bomb.outcome == "child limit" and bomb.processes == 200
    threads = system.servers().server("proc").threads
    assert threads == bomb.server_threads["proc"] > 1
    system.close_burst(processes=1, ports_each=10)
    assert system.servers().server("proc").threads == threads
    assert "bomb children alive=200" in repr(system)


def test_policy_without_interval_is_refused_on_a_system() -> None:
    system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
    with pytest.raises(ParameterError, match=r'"policy" \(\'debian-throttle\'\) .* pass interval='):
        system.fork_bomb(policy="debian-throttle")
    assert system.history == []


def test_a_system_keeps_the_policy_its_servers_started_with() -> None:
    system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
    system.close_burst(processes=1, ports_each=100, policy="debian-throttle")
    with pytest.raises(ParameterError, match=r'"policy": the servers of this System run \'debian-throttle\''):
        system.close_burst(processes=1, ports_each=100)
    assert system.close_burst(processes=1, ports_each=100, policy="debian-throttle").outcome == "survived"


# ---------------------------------------------------------------------------- what persists


def test_open_ports_clients_keep_their_ports_until_killed() -> None:
    """Names in null and ext2fs stay while the clients live; killing them is a storm of notifications on null."""
    k = zonemodel.gnumach(2005)
    system = zonemodel.System(k, seed=3)
    system.open_ports(processes=4, ports_each=1000)
    null = system.servers().server("null")
    assert (null.held, null.names) == (4000, k.null_names + 2 * 4000)
    assert system.servers().server("ext2fs").names == k.ext2fs_names + 4000
    ports = system.zones()[ZONE_NAMES.index("ipc ports")].in_use
    threads = sum(s.threads for s in system.servers().rows)
    killed = system.kill("clients")
    assert (killed.notifications, killed.outcome) == (4000, "survived")
    assert killed.peak_threads["null"] > 1  # the burst made null spawn
    after = system.servers()
    assert (after.server("null").held, after.server("null").names) == (0, k.null_names)
    assert after.server("null").threads == killed.peak_threads["null"]  # threads never exit
    spawned = sum(s.threads for s in after.rows) - threads
    per_client = 1 + int(k.mach_ipc_compat) + k.process_ports + k.process_threads
    # 4000 protids of null and 4000 of ext2fs destroyed, the clients' own ports freed, 2 per new thread
    assert system.zones()[ZONE_NAMES.index("ipc ports")].in_use == ports - 8000 - 4 * per_client + 2 * spawned


def test_server_threads_persist_between_storms() -> None:
    """The second storm finds the first one's threads idle: it spawns fewer, and null's count never drops."""
    system = zonemodel.System(zonemodel.gnumach(2005), seed=7)
    first = system.close_burst(processes=2, ports_each=800)
    second = system.close_burst(processes=2, ports_each=800)
    fresh = zonemodel.close_burst(zonemodel.gnumach(2005), processes=2, ports_each=800, seed=7)
    assert first.equals(fresh)
    assert second.peak_threads["null"] >= first.peak_threads["null"]
    assert second.zone_map_used >= first.zone_map_used


def test_killing_null_notifies_ext2fs_and_the_next_lookup_restarts_it() -> None:
    k = zonemodel.gnumach(2005)
    system = zonemodel.System(k, seed=4)
    system.open_ports(processes=2, ports_each=500)
    killed = system.kill("null")
    assert killed.notifications == 1000 and killed.peak_threads["ext2fs"] > 1
    null = system.servers().server("null")
    assert (null.instances, null.running, null.threads, null.names) == (1, 0, 0, None)
    system.open_ports(processes=1, ports_each=10)
    null = system.servers().server("null")
    assert (null.instances, null.running, null.threads, null.held) == (2, 1, 1, 10)
    assert system.kill("clients").notifications == 10  # the first clients' protids died with the first null


def test_a_wedged_null_runs_on_beside_the_new_one() -> None:
    """O17's mechanism on a live system: the first instance's table cannot grow, ext2fs starts a second."""
    system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
    r = system.open_ports(processes=2, ports_each=32768, nofile=32771)
    assert r.instances == 2 and r.failed == 1 and r.emfile == 0
    null = system.servers().server("null")
    assert (null.instances, null.running, null.held) == (2, 2, r.opened)
    assert system.kill("null").notifications == r.opened
    assert system.servers().server("null").running == 0


# ---------------------------------------------------------------------------- nofile


def test_nofile_gives_emfile_past_1021_opens_per_client() -> None:
    k = zonemodel.gnumach(2005)
    r = zonemodel.close_burst(k, processes=2, ports_each=1500, seed=1)
    assert (r.opened, r.emfile) == (2 * 1021, 2 * 479)
    raised = zonemodel.close_burst(k, processes=2, ports_each=1500, nofile=1503, seed=1)
    assert (raised.opened, raised.emfile) == (3000, 0)
    assert zonemodel.open_ports(k, processes=1, ports_each=1022, nofile=1024).emfile == 1


@pytest.mark.parametrize("bad", [3, 0, -1, 2**20 + 1, 1.5, True, "1024", None])
def test_nofile_is_checked(bad: object) -> None:
    k = zonemodel.gnumach(2005)
    with pytest.raises(ParameterError, match=r'"nofile" must be an integer between 4 and 1048576'):
        zonemodel.close_burst(k, processes=1, ports_each=1, nofile=bad)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r'"nofile" must be an integer between 4 and 1048576'):
        zonemodel.System(k).open_ports(processes=1, ports_each=1, nofile=bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- bad input


def _state(system: zonemodel.System) -> tuple[object, ...]:
    return (repr(system), system.servers(), system.zones(), system.kalloc_map_free, len(system.history))


@pytest.mark.parametrize(
    ("server", "match"),
    [
        (
            "ext2fs",
            r'"server": ext2fs is the root file system: .* must be one of \'null\', \'clients\', got \'ext2fs\'',
        ),
        ("proc", r'"server" must be one of \'null\', \'clients\', got \'proc\''),
        ("nulll", r'"server" must be one of \'null\', \'clients\', got \'nulll\''),
        (5, r'"server" must be one of \'null\', \'clients\', got 5'),
    ],
)
def test_killing_what_cannot_be_killed_raises_and_changes_nothing(server: object, match: str) -> None:
    system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
    system.open_ports(processes=2, ports_each=100)
    before = _state(system)
    with pytest.raises(ParameterError, match=match):
        system.kill(server)  # type: ignore[arg-type]
    assert _state(system) == before


def test_killing_what_is_not_running_raises_and_changes_nothing() -> None:
    system = zonemodel.System(zonemodel.gnumach(2005), seed=1)
    before = _state(system)
    with pytest.raises(ParameterError, match=r'"server": no null instance runs'):
        system.kill("null")
    with pytest.raises(ParameterError, match=r'"server": no client of an earlier experiment is alive'):
        system.kill("clients")
    assert _state(system) == before


def test_every_experiment_on_a_system_that_is_down_raises_system_down() -> None:
    system = zonemodel.System(zonemodel.gnumach(2005, zone_map="4 MiB"), seed=1)
    system.open_ports(processes=1, ports_each=10)
    assert system.fork_bomb().outcome == "panic"
    before = _state(system)
    for run in (
        lambda: system.fork_bomb(),
        lambda: system.close_burst(processes=1, ports_each=1),
        lambda: system.open_ports(processes=1, ports_each=1),
        lambda: system.kill("null"),
        lambda: system.kill("clients"),
    ):
        with pytest.raises(zonemodel.SystemDown, match=r"this system is down \(panic: zalloc: zone .* exhausted\)"):
            run()
    assert _state(system) == before


def test_a_stalled_null_keeps_its_blocked_threads_and_leaked_ports_until_it_is_killed() -> None:
    """The stall what-if persists between storms: blocked threads are not idle, their ports leak; a kill ends it."""
    kernel = zonemodel.gnumach(2005, null_stall_chance=1e-3)
    for seed in range(20):
        system = zonemodel.System(kernel, seed=seed)
        system.close_burst(processes=2, ports_each=1000)
        null = system.servers().server("null")
        if system.alive and null.leaked:
            break
    else:
        pytest.fail("no seed of 20 left a stalled null that survived its storm")
    assert null.idle_threads == null.threads - null.leaked
    system.kill("null")
    assert system.servers().server("null").leaked == 0
    system.close_burst(processes=1, ports_each=10)  # ext2fs starts a sound null on this lookup
    again = system.servers().server("null")
    assert (again.instances, again.leaked) == (2, 0)
