"""zonemodel.studies.sweep: the same table whatever the executor, batch size or worker count; checks; results."""

from __future__ import annotations

import inspect
import itertools
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from numba.core.dispatcher import Dispatcher

import zonemodel as zm
from zonemodel.errors import ParameterError, UnitError, UnknownPresetError
from zonemodel.studies.registry import STATISTICS, STORM_STATISTICS, storm_statistics

GRID = {"year": [2005, 2007], "zone_map": ["4 MiB", "8 MiB"], "start": ["console", "ssh"]}
RUNS = 24
SEED = 7
STAT_NAMES = tuple(name for name, _ in STATISTICS)


@pytest.fixture(scope="module")
def serial() -> zm.SweepResult:
    return zm.sweep(zm.fork_bomb, GRID, runs=RUNS, seed=SEED)


def same(a: zm.SweepResult, b: zm.SweepResult) -> bool:
    """Exactly the same table: dtype and every value."""
    return a.table.dtype == b.table.dtype and a.table.tolist() == b.table.tolist()


# ---------------------------------------------------------------------------- the table


def test_table_columns_and_dtype(serial: zm.SweepResult) -> None:
    table = serial.table
    assert serial.parameters == ("year", "zone_map", "start")
    assert table.dtype.names == ("year", "zone_map", "start", *STAT_NAMES)
    kinds = {name: table.dtype[name].kind for name in table.dtype.names}
    assert kinds == {
        "year": "i",
        "zone_map": "i",
        "start": "U",
        "runs": "i",
        "min": "i",
        "median": "f",
        "mean": "f",
        "max": "i",
        "std": "f",
        "spread": "i",
        "outcome": "U",
        "outcome_share": "f",
        "limit": "U",
        "limit_share": "f",
        "message": "U",
    }
    assert len(serial) == len(table) == 8
    # cartesian product in grid order, the last parameter varying fastest; sizes stored in bytes
    expected = [(y, zm.parse_size(z), s) for y, z, s in itertools.product(*GRID.values())]
    assert [tuple(row)[:3] for row in table.tolist()] == expected
    assert (table["runs"] == RUNS).all()
    assert (table["spread"] == table["max"] - table["min"]).all()
    assert ((table["outcome_share"] > 0) & (table["outcome_share"] <= 1)).all()


def test_each_row_is_fork_bomb_with_child_i_of_the_seed(serial: zm.SweepResult) -> None:
    children = np.random.SeedSequence(SEED).spawn(len(serial))
    for i, (year, zone_map, start) in enumerate(itertools.product(*GRID.values())):
        kernel = zm.gnumach(year, zone_map=zone_map)
        want = zm.fork_bomb(kernel, start=start, runs=RUNS, seed=children[i])
        assert isinstance(want, zm.ForkBombRuns)
        got = serial.distributions[i]
        assert got == want
        assert serial.kernels[i] == kernel
        row = serial.table[i]
        assert (row["min"], row["median"], row["mean"], row["max"]) == (want.min, want.median, want.mean, want.max)
        assert row["std"] == want.std
        assert (row["outcome"], row["limit"], row["message"]) == (
            want.outcomes[0][0],
            want.limits[0][0],
            want.messages[0][0],
        )
        assert row["limit_share"] == want.limits[0][1] / RUNS


@pytest.mark.parametrize("batch_size", [1, 5, RUNS - 1, RUNS, 10_000])
def test_batch_size_does_not_change_the_table(serial: zm.SweepResult, batch_size: int) -> None:
    assert same(zm.sweep(zm.fork_bomb, GRID, runs=RUNS, seed=SEED, batch_size=batch_size), serial)


def test_seed_sequence_and_seed_none(serial: zm.SweepResult) -> None:
    spent = np.random.SeedSequence(SEED)
    spent.spawn(3)  # a sequence that already spawned children gives the same sweep
    assert same(zm.sweep(zm.fork_bomb, GRID, runs=RUNS, seed=spent), serial)
    fresh = zm.sweep(zm.fork_bomb, {"year": [2005], "zone_map": ["4 MiB"]}, runs=5, seed=None)
    again = zm.sweep(zm.fork_bomb, {"year": [2005], "zone_map": ["4 MiB"]}, runs=5, seed=fresh.seed)
    assert same(fresh, again)
    assert serial.seed.entropy == SEED


def test_a_kernel_that_does_not_boot_gets_a_row() -> None:
    result = zm.sweep(zm.fork_bomb, {"year": [2005], "zone_map": ["32 MiB"]}, runs=3, seed=1)
    row = result.table[0]
    assert (row["outcome"], row["limit"], row["max"], row["outcome_share"]) == ("no boot", "kernel_map", 0, 1.0)


def test_a_storm_kernel_that_does_not_boot_gets_a_row() -> None:
    """As for fork bombs, a close burst's parameter set whose kernel does not boot gets a "no boot" row."""
    grid = {"year": [2005], "zone_map": ["4 MiB", "32 MiB"], "processes": [1], "ports_each": [5]}
    table = zm.sweep(zm.close_burst, grid, runs=2, seed=1).table
    assert table["outcome"].tolist() == ["survived", "no boot"]
    assert table["message"][1] == "panic: kmem_suballoc"


# ---------------------------------------------------------------------------- grids


def test_grid_as_list_of_dicts_equals_the_mapping(serial: zm.SweepResult) -> None:
    sets = [dict(zip(GRID, combo, strict=True)) for combo in itertools.product(*GRID.values())]
    assert same(zm.sweep(zm.fork_bomb, sets, runs=RUNS, seed=SEED), serial)


def test_list_of_dicts_fills_missing_parameters_with_the_values_in_force() -> None:
    sets = [
        {"year": 2005, "zone_map": "4 MiB"},
        {"year": 2007, "start": "ssh", "chain": True},
        {"kernel": zm.gnumach(2005, zone_map="8 MiB"), "user": "root"},
    ]
    result = zm.sweep(zm.fork_bomb, sets, runs=3, seed=1)
    assert result.parameters == ("year", "zone_map", "start", "chain", "kernel", "user")
    table = result.table
    assert table["year"].tolist() == [2005, 2007, 2005]
    assert table["zone_map"].tolist() == [4 << 20, 12 << 20, 8 << 20]
    assert table["start"].tolist() == ["console", "ssh", "console"]
    assert table["chain"].tolist() == [False, True, False]
    assert table.dtype["chain"].kind == "b"
    assert table["user"].tolist() == ["user", "user", "root"]
    assert table["kernel"].tolist() == [repr(k) for k in result.kernels]


def test_kernel_key_with_field_overrides() -> None:
    base = zm.gnumach(2005)
    result = zm.sweep(zm.fork_bomb, {"kernel": [base], "zone_map": ["4 MiB", "8 MiB"]}, runs=2, seed=3)
    assert result.kernels == (base.replace(zone_map="4 MiB"), base.replace(zone_map="8 MiB"))
    assert result.kernels[0].overrides() == ("zone_map",)


def test_grid_values_may_be_numpy_arrays() -> None:
    sizes = np.array([4 << 20, 8 << 20])
    by_array = zm.sweep(zm.fork_bomb, {"year": np.array([2005]), "zone_map": sizes}, runs=2, seed=3)
    by_list = zm.sweep(zm.fork_bomb, {"year": [2005], "zone_map": ["4 MiB", "8 MiB"]}, runs=2, seed=3)
    assert same(by_array, by_list)


def test_interval_column_is_float_with_nan_for_none() -> None:
    if "interval" not in inspect.signature(zm.fork_bomb).parameters:
        pytest.skip("fork_bomb has no interval yet")
    kernel = zm.gnumach(2005, zone_map="4 MiB")
    result = zm.sweep(zm.fork_bomb, {"kernel": [kernel], "interval": [None, 0.01]}, runs=3, seed=5)
    assert result.table.dtype["interval"].kind == "f"
    assert np.isnan(result.table["interval"][0])
    assert result.table["interval"][1] == 0.01
    children = np.random.SeedSequence(5).spawn(2)
    assert result.distributions[1] == zm.fork_bomb(kernel, interval=0.01, runs=3, seed=children[1])


# ---------------------------------------------------------------------------- the registry


def _toy(kernel: zm.Kernel, *, level: int, scale: int = 2, runs: int = 1, seed: object = None) -> object:
    """A stand-in experiment with a required keyword."""
    raise NotImplementedError


def _toy_run(kernel: zm.Kernel, *, level: int, scale: int, seed: object, first: int, count: int) -> np.ndarray:
    from zonemodel._kernels import layout
    from zonemodel.experiments.common import new_rows

    rows = new_rows(count)
    rows["count"] = level * scale + np.arange(first, first + count)
    rows["status"] = layout.CHILD_LIMIT
    return rows


def _toy_summarise(rows: np.ndarray, kernel: zm.Kernel, keywords: object) -> object:
    from zonemodel.experiments.forkbomb import summarise

    return summarise(rows)


def test_one_registry_entry_adds_an_experiment(monkeypatch: pytest.MonkeyPatch) -> None:
    from zonemodel.studies.registry import _EXPERIMENTS, _entry

    experiment, entry = _entry(_toy, _toy_run, _toy_summarise, lambda kernel, **keywords: None)
    assert dict(entry.keywords) == {"level": inspect.Parameter.empty, "scale": 2}
    monkeypatch.setitem(_EXPERIMENTS, experiment, entry)
    result = zm.sweep(_toy, {"year": [2005], "level": [10, 20]}, runs=4, seed=0, batch_size=3)
    assert result.experiment == "_toy"
    assert result.table["min"].tolist() == [20, 40]
    assert result.table["max"].tolist() == [23, 43]
    assert result.table["outcome"].tolist() == ["child limit"] * 2
    with pytest.raises(ParameterError, match="_toy needs 'level', which this set does not give"):
        zm.sweep(_toy, {"year": [2005]}, runs=1, seed=0)


# ---------------------------------------------------------------------------- checks


def test_unknown_parameter_names_the_key_and_the_allowed_ones() -> None:
    with pytest.raises(ParameterError) as info:
        zm.sweep(zm.fork_bomb, {"year": [2005], "zone_mp": ["8 MiB"]}, runs=2, seed=1)
    message = str(info.value)
    assert "'zone_mp'" in message
    assert "did you mean 'zone_map'" in message
    for allowed in ('"kernel"', '"year"', "start, chain, user", "kalloc_map", "background_rate"):
        assert allowed in message


@pytest.mark.parametrize(
    ("grid", "error", "match"),
    [
        ("year=2005", ParameterError, '"grid" must be a mapping'),
        ({}, ParameterError, "grid is empty"),
        ([], ParameterError, "grid is an empty list"),
        ({"year": 2005}, ParameterError, r"grid\['year'\] must be a list of values, got 2005; write \[2005\]"),
        ({"year": "2005"}, ParameterError, r"grid\['year'\] must be a list"),
        ({"year": []}, ParameterError, r"grid\['year'\] is an empty list"),
        ([{"year": 2005}, 3], ParameterError, r"grid\[1\] must be a dict"),
        ({"runs": [10]}, ParameterError, '"runs" is an argument of sweep'),
        ({"seed": [1]}, ParameterError, '"seed" is an argument of sweep'),
        ({1: [2005]}, ParameterError, "parameter names must be strings"),
        ({"zone_map": ["8 MiB"]}, ParameterError, 'needs "kernel" .* or "year"'),
        ({"year": [2005], "kernel": [None]}, ParameterError, '"kernel" .* or "year", not both'),
        ({"kernel": ["2005"]}, ParameterError, '"kernel" must be a zonemodel.Kernel'),
        ({"year": [2005, 2006]}, UnknownPresetError, r"parameter set 1 \{'year': 2006\}: \"year\": no preset"),
        ({"year": [2005], "zone_map": ["8 MB"]}, UnitError, "parameter set 0 .*unknown unit 'MB'"),
        ({"year": [2005], "zone_map": [-1]}, ParameterError, "zone_map"),
        ({"year": [2005], "start": ["telnet"]}, ParameterError, '"start" must be one of'),
        ({"year": [2005], "chain": ["yes"]}, ParameterError, '"chain" must be True or False'),
        ({"year": [2005], "user": ["admin"]}, ParameterError, '"user" must be one of'),
        ({"year": [2005], "policy": ["fastest"]}, ParameterError, '"policy" must be a ThreadPolicy or one of'),
    ],
)
def test_bad_grids_are_refused_before_any_work(grid: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        zm.sweep(zm.fork_bomb, grid, runs=2, seed=1, executor=_NoWork())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"runs": 0}, '"runs" must be an integer >= 1, got 0'),
        ({"runs": 2.5}, '"runs" must be an integer >= 1'),
        ({"runs": True}, '"runs" must be an integer >= 1'),
        ({"batch_size": 0}, '"batch_size" must be an integer >= 1'),
        ({"batch_size": "10"}, '"batch_size" must be an integer >= 1'),
        ({"seed": -1}, '"seed" must be a non-negative int'),
        ({"seed": "1"}, '"seed" must be a non-negative int'),
        ({"progress": "yes"}, '"progress" must be True, False or None'),
        ({"executor": 2}, '"executor" must be None or a concurrent.futures.Executor'),
        ({"executor": map}, '"executor" must be None or a concurrent.futures.Executor'),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    arguments: dict[str, Any] = {"runs": 2, "seed": 1, **kwargs}
    with pytest.raises(ParameterError, match=match):
        zm.sweep(zm.fork_bomb, {"year": [2005]}, **arguments)


@pytest.mark.parametrize("experiment", [zm.boot, "fork_bomb", None, [zm.fork_bomb]])
def test_unknown_experiment(experiment: Any) -> None:
    with pytest.raises(ParameterError, match=r'"experiment" must be one of zonemodel\.fork_bomb'):
        zm.sweep(experiment, {"year": [2005]}, runs=2, seed=1)


def test_fork_started_process_pool_is_refused() -> None:
    with (
        ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool,
        pytest.raises(ParameterError, match=r"fork\(\).*get_context\(\"spawn\"\)"),
    ):
        zm.sweep(zm.fork_bomb, {"year": [2005]}, runs=2, seed=1, executor=pool)


# ---------------------------------------------------------------------------- executors


class _NoWork(Executor):
    """An executor that must never be asked to run anything."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise AssertionError("a task was submitted although the arguments were bad")


class _Pickling(Executor):
    """Runs each task in this thread after a pickle round trip, recording what was shipped."""

    def __init__(self) -> None:
        self.shipped: list[tuple[Any, ...]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        assert kwargs == {}  # dask's executor would read keywords as its own options
        self.shipped.append((fn, *args))
        fn, args = pickle.loads(pickle.dumps((fn, args)))
        future: Future[Any] = Future()
        future.set_result(fn(*args))
        return future


def test_tasks_are_plain_picklable_python() -> None:
    executor = _Pickling()
    result = zm.sweep(zm.fork_bomb, {"year": [2005], "zone_map": ["4 MiB", "8 MiB"]}, runs=7, seed=2, executor=executor)
    serial = zm.sweep(zm.fork_bomb, {"year": [2005], "zone_map": ["4 MiB", "8 MiB"]}, runs=7, seed=2)
    assert same(result, serial)
    assert executor.shipped
    for task in executor.shipped:
        fn = task[0]
        assert not isinstance(fn, Dispatcher)
        assert fn.__module__ == "zonemodel.studies.sweep"
        assert not any(isinstance(arg, Dispatcher) for arg in task)
        # functions travel by reference (module + name), not by value
        assert len(pickle.dumps(fn)) < 100


@pytest.mark.parametrize("batch_size", [None, 3])
def test_thread_pool_gives_the_same_table(serial: zm.SweepResult, batch_size: int | None) -> None:
    with ThreadPoolExecutor(2) as pool:
        result = zm.sweep(zm.fork_bomb, GRID, runs=RUNS, seed=SEED, executor=pool, batch_size=batch_size)
    assert same(result, serial)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_process_pool_gives_the_same_table(serial: zm.SweepResult, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as pool:
        result = zm.sweep(zm.fork_bomb, GRID, runs=RUNS, seed=SEED, executor=pool, batch_size=7)
    assert same(result, serial)


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (zonemodel[dask])")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_dask_gives_the_same_table(serial: zm.SweepResult, dask_client: Any) -> None:
    for kwargs in ({}, {"pure": False}):
        result = zm.sweep(zm.fork_bomb, GRID, runs=RUNS, seed=SEED, executor=dask_client.get_executor(**kwargs))
        assert same(result, serial)
    result = zm.sweep(zm.fork_bomb, GRID, runs=RUNS, seed=SEED, executor=dask_client.get_executor(), batch_size=5)
    assert same(result, serial)


def test_dask_client_itself_is_refused_with_a_hint(dask_client: Any) -> None:
    with pytest.raises(ParameterError, match=r"pass client.get_executor\(\)"):
        zm.sweep(zm.fork_bomb, {"year": [2005]}, runs=2, seed=1, executor=dask_client)


class _Watched(Executor):
    """Delegates to another executor and counts the tasks that have finished."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.finished = 0
        self.submitted = 0
        self.first = threading.Event()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = self.inner.submit(fn, *args, **kwargs)
        self.submitted += 1
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self.finished += 1
        self.first.set()


@pytest.mark.slow
def test_dask_sweep_survives_a_killed_worker() -> None:
    """Kill one of two dask worker processes mid-sweep: the sweep still completes, with the same table."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (zonemodel[dask])")
    grid = {"year": [2005, 2007, 2009], "start": ["console", "ssh", "screen"]}
    runs, batch = 800, 100  # 72 tasks of about 50 ms each: a few seconds on two workers
    serial = zm.sweep(zm.fork_bomb, grid, runs=runs, seed=11)

    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
        ThreadPoolExecutor(2) as helpers,
    ):
        before = client.run(os.getpid)  # worker address -> pid
        assert len(before) == 2
        victim_address, victim = sorted(before.items())[0]
        watched = _Watched(client.get_executor())
        killed: dict[str, int] = {}

        def kill_one_worker() -> None:
            if not watched.first.wait(timeout=60):
                return
            killed["finished"] = watched.finished
            os.kill(victim, signal.SIGKILL)  # a process this test's cluster started
            killed["pid"] = victim

        killer = helpers.submit(kill_one_worker)
        running = helpers.submit(zm.sweep, zm.fork_bomb, grid, runs=runs, seed=11, executor=watched, batch_size=batch)
        result = running.result(timeout=150)
        killer.result(timeout=10)

        assert killed.get("pid") == victim, "the worker was not killed"
        tasks = len(grid["year"]) * len(grid["start"]) * runs // batch
        assert watched.submitted == tasks
        assert killed["finished"] < tasks, "the sweep ended before the worker was killed"
        assert same(result, serial)
        # the nanny restarts the killed worker in a new process
        client.wait_for_workers(2, timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            after = client.run(os.getpid)
            if victim not in after.values() and len(after) == 2:
                break
            time.sleep(0.2)
        assert victim not in client.run(os.getpid).values()
        assert victim_address  # (the restarted worker may come back under a new address)


# ---------------------------------------------------------------------------- results


def test_to_pandas(serial: zm.SweepResult) -> None:
    pandas = pytest.importorskip("pandas", reason="pandas is not installed (zonemodel[pandas])")
    frame = serial.to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert tuple(frame.columns) == serial.table.dtype.names
    assert frame["median"].tolist() == serial.table["median"].tolist()
    assert frame["start"].tolist() == serial.table["start"].tolist()


def test_to_pandas_without_pandas(serial: zm.SweepResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"needs pandas.*pip install 'zonemodel\[pandas\]'"):
        serial.to_pandas()


def test_repr(serial: zm.SweepResult) -> None:
    lines = repr(serial).splitlines()
    assert lines[0] == f"SweepResult(fork_bomb, 8 parameter sets x {RUNS} runs, seed={SEED})"
    assert lines[1].split() == ["year", "zone_map", "start", *(n for n in STAT_NAMES if n != "message")]
    assert lines[2].split()[:3] == ["2005", "4", "MiB"]
    assert "100%" in lines[2]
    assert len(lines) == 2 + len(serial)


def test_repr_of_a_long_table_is_cut() -> None:
    result = zm.sweep(zm.fork_bomb, {"year": [2005], "kalloc_map": [f"{n} MiB" for n in range(1, 31)]}, runs=1, seed=1)
    lines = repr(result).splitlines()
    assert len(lines) == 2 + 21
    assert lines[12].split() == ["..."] * len(lines[1].split())
    assert lines[-1].split()[:3] == ["2005", "30", "MiB"]


# ---------------------------------------------------------------------------- progress


SMALL = {"year": [2005], "zone_map": ["4 MiB", "8 MiB"]}


def test_progress_bar_when_forced(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm", reason="tqdm is not installed (zonemodel[progress])")
    zm.sweep(zm.fork_bomb, SMALL, runs=5, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "fork_bomb" in err
    assert "10/10" in err


@pytest.mark.parametrize("progress", [None, False])
def test_no_progress_bar_off_a_terminal_or_when_off(capsys: pytest.CaptureFixture[str], progress: bool | None) -> None:
    zm.sweep(zm.fork_bomb, SMALL, runs=5, seed=1, progress=progress)
    assert capsys.readouterr().err == ""


def test_progress_on_a_terminal_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from zonemodel.experiments.progress import wanted

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    assert wanted(None) is True
    assert wanted(False) is False
    monkeypatch.setattr(sys, "stderr", None)
    assert wanted(None) is False


def test_no_tqdm_means_no_bar_and_no_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, serial: zm.SweepResult
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    result = zm.sweep(zm.fork_bomb, GRID, runs=RUNS, seed=SEED, progress=True)
    assert capsys.readouterr().err == ""
    assert same(result, serial)


# ---------------------------------------------------------------------------- close bursts

STORM_GRID = {
    "year": [2005],
    "processes": [2],
    "ports_each": [1500],
    "nofile": [65536],
    "policy": ["upstream-1997", "debian-throttle"],
    "other": [0, 40],
    "limits": [None, zm.Limits(ports_per_task=1000)],
}
STORM_RUNS = 10


@pytest.fixture(scope="module")
def storms() -> zm.SweepResult:
    return zm.sweep(zm.close_burst, STORM_GRID, runs=STORM_RUNS, seed=SEED)


def same_storms(a: zm.SweepResult, b: zm.SweepResult) -> bool:
    """The same table, NaN (no other user) included."""
    return a.table.dtype == b.table.dtype and repr(a.table.tolist()) == repr(b.table.tolist())


def test_storm_table_columns(storms: zm.SweepResult) -> None:
    names = tuple(STORM_GRID) + tuple(name for name, _ in STORM_STATISTICS)
    assert storms.table.dtype.names == names
    assert len(storms) == 8
    assert storms.table["runs"].tolist() == [STORM_RUNS] * 8
    # other_completed_share is NaN exactly where there is no other user.
    assert np.isnan(storms.table["other_completed_share"]).tolist() == [o == 0 for o in storms.table["other"]]


def test_each_storm_row_is_close_burst_with_child_i_of_the_seed(storms: zm.SweepResult) -> None:
    children = np.random.SeedSequence(SEED).spawn(len(storms))
    for i, params in enumerate(itertools.product(*STORM_GRID.values())):
        keywords = dict(zip(STORM_GRID, params, strict=True))
        keywords.pop("year")
        want = zm.close_burst(zm.gnumach(2005), runs=STORM_RUNS, seed=children[i], **keywords)
        assert storms.distributions[i] == want
        stats = storms.table[i].tolist()[-len(STORM_STATISTICS) :]
        assert repr(stats) == repr(storm_statistics(want))


@pytest.mark.parametrize("batch_size", [1, 3, STORM_RUNS])
def test_storm_batch_size_does_not_change_the_table(storms: zm.SweepResult, batch_size: int) -> None:
    assert same_storms(zm.sweep(zm.close_burst, STORM_GRID, runs=STORM_RUNS, seed=SEED, batch_size=batch_size), storms)


def test_storm_process_pool_gives_the_same_table(storms: zm.SweepResult) -> None:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        result = zm.sweep(zm.close_burst, STORM_GRID, runs=STORM_RUNS, seed=SEED, executor=pool, batch_size=4)
    assert same_storms(result, storms)


def test_storm_dask_gives_the_same_table(storms: zm.SweepResult, dask_client: Any) -> None:
    result = zm.sweep(zm.close_burst, STORM_GRID, runs=STORM_RUNS, seed=SEED, executor=dask_client.get_executor())
    assert same_storms(result, storms)


def test_the_throttle_caps_null_but_the_big_storm_still_panics() -> None:
    grid = {"year": [2005], "processes": [60], "ports_each": [1000], "policy": ["upstream-1997", "debian-throttle"]}
    table = zm.sweep(zm.close_burst, grid, runs=20, seed=3).table
    assert (table["panic_share"] > 0).all()
    assert table["null_threads_max"][1] < min(252, table["null_threads_max"][0])


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ({"year": [2005]}, "close_burst needs 'processes', 'ports_each'"),
        ({"year": [2005], "processes": [2]}, "close_burst needs 'ports_each'"),
        ({"year": [2005], "processes": [0], "ports_each": [5]}, '"processes" must be an integer between 1'),
        ({"year": [2005], "processes": [1], "ports_each": [5], "close": ["quick"]}, '"close" must be one of'),
        ({"year": [2005], "processes": [1], "ports_each": [5], "policy": ["nope"]}, "policy"),
        ({"year": [2005], "processes": [1], "ports_each": [5], "limits": [3]}, '"limits" must be None'),
        ({"year": [2005], "processes": [1], "ports_each": [5], "other": [-1]}, '"other" must be an integer'),
        ({"year": [2005], "processes": [1], "ports_each": [5], "start": ["ssh"]}, "unknown parameter 'start'"),
    ],
)
def test_bad_storm_grids_are_refused_before_any_work(grid: dict[str, Any], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        zm.sweep(zm.close_burst, grid, runs=1, seed=0)
