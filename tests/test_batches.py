"""Runs in batches (issue 16): the cut changes no result, memory stays flat, the bar advances; first-use notices."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import zonemodel as zm
from zonemodel._kernels import jit
from zonemodel._kernels.jit import one_thread
from zonemodel.errors import ParameterError
from zonemodel.experiments import common, forkbomb, progress, storms

K4 = zm.gnumach(2005, zone_map="4 MiB")
K = zm.gnumach(2005)
ROOT = Path(zm.__file__).parent.parent


@pytest.fixture
def one_run_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of one replicate each (they are sized to run BATCH_SECONDS each)."""
    monkeypatch.setattr(common, "BATCH_SECONDS", 1e-12)


def test_fork_bomb_in_batches_equals_one_batch(one_run_per_batch: None) -> None:
    """fork_bomb(runs=N) cut into batches of one equals the summary of all N rows at once (same seed)."""
    got = zm.fork_bomb(K4, runs=12, seed=3)
    rows = forkbomb.run_replicates(K4, seed=np.random.SeedSequence(3), first=0, count=12)
    want = forkbomb.summarise(rows, kernel=K4)
    assert got.equals(want) and got.runs == 12
    assert len(got.zone_map_used) == 12 and set(got.zone_map_used) == {4 << 20}  # a zone-map panic fills it


def test_limited_and_timed_bombs_in_batches(one_run_per_batch: None) -> None:
    """The batches of limited and timed bombs give the rows of one call too."""
    limited = zm.fork_bomb(K4, limits=zm.Limits(nproc=300), other=20, runs=5, seed=4)
    rows = forkbomb.run_replicates(
        K4, limits=zm.Limits(nproc=300), other=20, seed=np.random.SeedSequence(4), first=0, count=5
    )
    assert limited.equals(forkbomb.summarise(rows, mode="limited", other=20, kernel=K4))
    timed = zm.fork_bomb(K4, interval=1e-3, runs=4, seed=5)
    rows = forkbomb.run_replicates(K4, interval=1e-3, seed=np.random.SeedSequence(5), first=0, count=4)
    assert timed.equals(forkbomb.summarise(rows, mode="timed", kernel=K4))


def test_close_burst_in_batches_equals_one_batch(one_run_per_batch: None) -> None:
    got = zm.close_burst(K, processes=2, ports_each=300, runs=6, seed=6)
    rows = storms.run_replicates(K, processes=2, ports_each=300, seed=np.random.SeedSequence(6), first=0, count=6)
    assert got.equals(storms.summarise(rows, kernel=K))


def test_runs_one_is_run_zero_of_runs_n() -> None:
    """Run 0 of runs=N is the runs=1 result, field for field where both have it (close bursts too)."""
    one = zm.close_burst(K, processes=5, ports_each=1000, seed=7)
    many = zm.close_burst(K, processes=5, ports_each=1000, runs=3, seed=7)
    assert (many.run_outcomes[0], many.run_limits[0], many.opened[0]) == (one.outcome, one.limit, one.opened)
    assert many.peak_null_threads[0] == one.peak_threads["null"]
    assert many.peak_ext2fs_threads[0] == one.peak_threads["ext2fs"]
    assert (many.peak_null_backlog[0], many.peak_ext2fs_backlog[0]) == (
        one.peak_backlog["null"],
        one.peak_backlog["ext2fs"],
    )
    assert (many.p50_latency_ms[0], many.p99_latency_ms[0]) == (one.latency_ms["p50"], one.latency_ms["p99"])
    assert many.zone_map_used[0] == one.zone_map_used
    bomb = zm.fork_bomb(K, seed=7)
    bombs = zm.fork_bomb(K, runs=3, seed=7)
    assert (bombs.values[0], bombs.run_limits[0], bombs.zone_map_used[0]) == (
        bomb.processes,
        bomb.limit,
        bomb.zone_map_used,
    )


def test_close_burst_runs_has_limits_backlogs_median_latency_and_ext2fs() -> None:
    """CloseBurstRuns: limit(s), ext2fs threads, backlogs and the median latency per run, in its frame too."""
    runs = zm.close_burst(K, processes=64, ports_each=1000, runs=4, seed=1)
    assert runs.limit == runs.limits[0][0] == "zone map" and runs.run_limits == ("zone map",) * 4
    for column in (runs.peak_ext2fs_threads, runs.peak_null_backlog, runs.p50_latency_ms, runs.opened):
        assert len(column) == 4
    assert all(p50 <= p99 for p50, p99 in zip(runs.p50_latency_ms, runs.p99_latency_ms, strict=True))
    frame = runs.to_frame()
    assert {"limit", "peak_ext2fs_threads", "peak_null_backlog", "p50_latency_ms", "zone_map_used"} <= set(frame)


def _peak(call: object) -> int:
    tracemalloc.start()
    try:
        call()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_close_burst_memory_does_not_grow_with_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """In batches of 8 runs' latencies, 64 runs of a 10 000-port storm peak no higher than 8 runs do.

    Holding every run's latencies, as close_burst did, would add 56 x 160 KiB (8.5 MiB).
    """
    width = 2 * 2 * 5000 + 1
    monkeypatch.setattr(storms, "BATCH_LATENCY_SLOTS", 8 * width)
    zm.close_burst(K, processes=2, ports_each=5000, nofile=65536, runs=2, seed=1)  # compiled and warm
    with one_thread():  # on two threads the peak depends on whether their replicates' engines overlap
        few = _peak(lambda: zm.close_burst(K, processes=2, ports_each=5000, nofile=65536, runs=8, seed=1))
        many = _peak(lambda: zm.close_burst(K, processes=2, ports_each=5000, nofile=65536, runs=64, seed=1))
    assert many - few < 8 * width * 8, f"peak {many} B for 64 runs, {few} B for 8"


def test_replicate_states_far_into_the_stream_are_the_spawned_children() -> None:
    """replicate_states(seed, n, start) builds child start+i directly: the same states as spawning them all."""
    from zonemodel.seeds import replicate_states

    ss = np.random.SeedSequence(9, spawn_key=(2,))
    spawned = np.random.SeedSequence(9, spawn_key=(2,)).spawn(1005)[1000:]
    want = np.array([c.generate_state(4, np.uint64) for c in spawned])
    assert (replicate_states(ss, 5, start=1000) == want).all()
    assert ss.n_children_spawned == 0


# ---------------------------------------------------------------------------- progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    "call",
    [
        lambda p: zm.fork_bomb(K4, runs=5, seed=1, progress=p),
        lambda p: zm.close_burst(K, processes=1, ports_each=10, runs=5, seed=1, progress=p),
    ],
    ids=["fork_bomb", "close_burst"],
)
def test_progress_bar_on_every_experiment_with_runs(call, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm", reason="tqdm is not installed (zonemodel[progress])")
    call(True)
    err = capsys.readouterr().err
    assert "5/5" in err and ("fork_bomb" in err or "close_burst" in err)
    call(False)
    call(np.bool_(False))
    call(None)  # off a terminal: nothing
    assert capsys.readouterr().err == ""
    with pytest.raises(ParameterError, match=r'"progress" must be True, False or None, got \'yes\''):
        call("yes")


def test_progress_by_default_in_a_terminal_for_long_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """progress=None in a terminal: no bar for a call quicker than DELAY seconds, a bar for a longer one."""
    pytest.importorskip("tqdm", reason="tqdm is not installed (zonemodel[progress])")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    zm.fork_bomb(K4, runs=5, seed=1)
    assert "fork_bomb" not in terminal.getvalue()  # a fraction of a second
    monkeypatch.setattr(progress, "DELAY", 0.0)  # as if the call had lasted DELAY seconds
    zm.fork_bomb(K4, runs=5, seed=1)
    assert "fork_bomb" in terminal.getvalue() and "5/5" in terminal.getvalue()


# ---------------------------------------------------------------------------- first compile, cache location

SCRIPT = """
import zonemodel as zm
k = zm.gnumach(2005)
zm.replay(k, [("tasks", 1)])
zm.replay(k, [("tasks", 2)])
print("done")
"""


def _run(env: dict[str, str], script: str = SCRIPT) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-c", script], env=full, capture_output=True, text=True, timeout=300)


NOTICE = "zonemodel: compiling zonemodel kernels for first use, about "


def test_first_compile_notice_once_per_process_and_not_from_the_cache(tmp_path: Path) -> None:
    """A fresh cache: one notice for two calls; the next process loads the kernel and prints nothing."""
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first = _run(env)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count(NOTICE) == 1, first.stderr
    assert "s; later calls load them from the cache" in first.stderr
    second = _run(env)
    assert second.returncode == 0 and second.stdout.strip() == "done"
    assert NOTICE not in second.stderr, second.stderr


def test_first_compile_notice_without_a_cache(tmp_path: Path) -> None:
    off = _run({"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "ZONEMODEL_NUMBA_CACHE": "0"})
    assert off.returncode == 0, off.stderr
    assert off.stderr.count(NOTICE) == 1 and "every process compiles them" in off.stderr


def test_will_compile_follows_the_cache(tmp_path: Path) -> None:
    """will_compile is True before the first call with an empty cache, False with a cache or in memory."""
    script = (
        "from zonemodel._kernels.jit import will_compile\n"
        "from zonemodel._kernels.zalloc import _replay\n"
        "import zonemodel as zm\n"
        "before = will_compile(_replay)\n"
        "zm.replay(zm.gnumach(2005), [('tasks', 1)])\n"
        "print(before, will_compile(_replay))\n"
    )
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    assert _run(env, script).stdout.split() == ["True", "False"]
    assert _run(env, script).stdout.split() == ["False", "False"]


def test_an_unwritable_numba_cache_dir_is_named(tmp_path: Path) -> None:
    """NUMBA_CACHE_DIR that cannot be written: one warning that names it, says so, and says where kernels go."""
    blocker = tmp_path / "a file"
    blocker.write_text("")
    got = _run({"NUMBA_CACHE_DIR": str(blocker / "cache")}, "import zonemodel")
    assert got.returncode == 0, got.stderr
    assert got.stderr.count("CacheWarning") == 1, got.stderr
    assert f"NUMBA_CACHE_DIR='{blocker / 'cache'}' is read-only or cannot be written (Not a directory)" in got.stderr
    assert "numba caches them in " in got.stderr and "instead" in got.stderr


def test_a_read_only_cache_dir_and_nowhere_else_to_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A read-only NUMBA_CACHE_DIR with no other location: the warning says it is read-only, and that every
    process compiles the kernels (root can write anywhere, so the read-only directory is simulated)."""

    def read_only(*args: object, **kwargs: object) -> object:
        raise OSError(30, "Read-only file system")

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(jit.tempfile, "TemporaryFile", read_only)
    monkeypatch.setattr(jit, "_warned", False)
    monkeypatch.setattr(jit, "_warned_dir", False)
    assert jit.cache_dir_problem() == "Read-only file system"
    with pytest.warns(jit.CacheWarning, match=r"is read-only or cannot be written \(Read-only file system\)") as w:
        jit._no_cache(RuntimeError("cannot cache function '_replay': no locator available"))
    assert len(w) == 1 and "compiled again in every process" in str(w[0].message)
