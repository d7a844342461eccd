"""Results you can take away: to_dict(), to_frame(), equals() with NaN, the summaries and what made a result."""

from __future__ import annotations

import builtins
import json
import math
from dataclasses import replace

import numpy as np
import pytest

import zonemodel as zm
from zonemodel.model.records import same

K4 = zm.gnumach(2005, zone_map="4 MiB")


def test_fork_bomb_result_to_dict_is_plain_and_json():
    """A single fork bomb's to_dict() is plain Python (zones as dicts) and survives json."""
    r = zm.fork_bomb(K4, seed=1)
    d = r.to_dict()
    assert d["processes"] == r.processes and d["limit"] == "zone map"
    assert d["zones"][0] == {"name": "tasks", **{k: v for k, v in d["zones"][0].items() if k != "name"}}
    assert isinstance(d["zones"][0], dict)
    assert d["kernel"] == repr(K4) and d["seed"] == {"entropy": 1, "spawn_key": []}
    assert json.loads(json.dumps(d)) == d


def test_fork_bomb_result_records_kernel_and_seed_outside_repr_and_equality():
    """kernel and seed are recorded, but neither the repr nor == nor equals() looks at them."""
    r = zm.fork_bomb(K4, seed=1)
    assert r.kernel is K4 and isinstance(r.seed, np.random.SeedSequence) and r.seed.entropy == 1
    assert repr(r) == (
        "ForkBombResult(processes=419, outcome='panic', limit='zone map', "
        "message='panic: zalloc: zone ipc ports exhausted')"
    )
    other = replace(r, seed=np.random.SeedSequence(2), kernel=None)
    assert r == other and r.equals(other)
    assert zm.fork_bomb(K4, seed=r.seed).equals(r)


def test_fork_bomb_runs_summaries_and_per_run_rows():
    """ForkBombRuns has limit/outcome/message (the most common) and one frame row per run, matching values."""
    runs = zm.fork_bomb(K4, runs=6, seed=1)
    assert runs.limit == runs.limits[0][0] == "zone map"
    assert runs.outcome == runs.outcomes[0][0] == "panic"
    assert runs.message == runs.messages[0][0]
    frame = runs.to_frame()
    assert list(frame.columns) == ["run", "processes", "outcome", "limit", "message", "zone_map_used"]
    assert tuple(frame["processes"]) == runs.values and len(frame) == 6
    assert frame.attrs["kernel"] == repr(K4)
    assert runs.to_dict()["run_limits"] == list(runs.run_limits)
    assert zm.fork_bomb(K4, seed=1).processes == runs.values[0]


def test_close_burst_runs_frame_and_equals():
    """CloseBurstRuns: a row per run; equals() is True for a rerun with the same seed."""
    k = zm.gnumach(2005)
    a = zm.close_burst(k, processes=1, ports_each=50, runs=3, seed=1)
    b = zm.close_burst(k, processes=1, ports_each=50, runs=3, seed=1)
    assert a.equals(b) and a.outcome == "survived" and a.message == ""
    frame = a.to_frame()
    assert list(frame["peak_null_threads"]) == list(a.peak_null_threads)
    assert list(frame["outcome"]) == ["survived"] * 3


def test_close_burst_result_frame_has_a_row_per_zone():
    """A single close burst's frame has one row per zone; its scalars are in attrs."""
    r = zm.close_burst(zm.gnumach(2005), processes=1, ports_each=50, seed=1)
    frame = r.to_frame()
    assert list(frame["name"]) == [z.name for z in r.zones]
    assert frame.attrs["opened"] == 50
    assert r.equals(zm.close_burst(zm.gnumach(2005), processes=1, ports_each=50, seed=1))


def test_open_ports_replay_and_boot_take_away():
    """OpenPortsResult, ZoneMapReport and BootReport have to_dict, to_frame and equals too."""
    o = zm.open_ports(zm.gnumach(2005), processes=1, ports_each=10)
    assert o.to_frame().to_dict("records") == [{"instance": 0, "opened": 10}]
    assert o.to_dict()["per_instance"] == [10]
    rep = zm.replay(zm.gnumach(2005), [("tasks", 10)])
    assert rep.to_dict()["zones"][0]["in_use"] == 10 and rep.kernel == zm.gnumach(2005)
    assert rep.to_frame()["name"].iloc[0] == "tasks"
    boot = zm.boot(zm.gnumach(2005))
    assert boot.to_frame()["bytes"].sum() + boot.kernel_map_free == boot.kernel_map
    assert boot.equals(zm.boot(zm.gnumach(2005))) and not boot.equals(zm.boot(zm.gnumach(2005, zone_map="32 MiB")))


def test_equals_treats_nan_as_equal():
    """equals() holds where == fails because a field holds NaN."""
    r = zm.close_burst(zm.gnumach(2005), processes=1, ports_each=50, seed=1)
    with_nan = replace(r, latency_ms={**r.latency_ms, "p99": math.nan})
    again = replace(r, latency_ms={**r.latency_ms, "p99": float("nan")})
    assert with_nan != again  # the dataclass ==: NaN != NaN
    assert with_nan.equals(again)
    assert not with_nan.equals(r)
    assert same(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
    assert not r.equals("not a result")


def test_sweep_equals_with_nan_in_the_table():
    """SweepResult.equals compares tables NaN-equal, which (a.table == b.table).all() does not."""
    grid = {"year": [2005], "zone_map": ["4 MiB"]}
    a = zm.sweep(zm.fork_bomb, grid, runs=3, seed=1, progress=False)
    b = zm.sweep(zm.fork_bomb, grid, runs=3, seed=1, progress=False)
    assert a.equals(b)
    table = a.table.copy()
    table["mean"] = np.nan
    with_nan = replace(a, table=table)
    assert not bool((with_nan.table == replace(with_nan).table).all())
    assert with_nan.equals(replace(with_nan)) and not with_nan.equals(a)
    assert not a.equals(zm.sweep(zm.fork_bomb, grid, runs=3, seed=2, progress=False))


def test_to_frame_without_pandas_names_the_extra(monkeypatch):
    """Without pandas, to_frame() raises an ImportError that says pip install 'zonemodel[pandas]'."""
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    import importlib
    import sys

    monkeypatch.delitem(sys.modules, "pandas", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: no_pandas(name))
    with pytest.raises(ImportError, match=r"pip install 'zonemodel\[pandas\]'"):
        zm.boot(zm.gnumach(2005)).to_frame()
