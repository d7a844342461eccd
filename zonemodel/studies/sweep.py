"""Parameter sweeps: one experiment over a grid of settings, on any executor.

:func:`sweep` runs an experiment (:func:`zonemodel.fork_bomb` or
:func:`zonemodel.close_burst`) for every parameter set of a grid, ``runs`` independently seeded replicates each,
and returns a :class:`SweepResult` whose ``table`` has one row per parameter
set.  The work is cut into tasks of one parameter set and a block of its
replicates; tasks run in this process (``executor=None``) or on any
``concurrent.futures.Executor``: a ``ThreadPoolExecutor``, a
``ProcessPoolExecutor`` started with ``spawn`` or ``forkserver``, or
``client.get_executor()`` of a dask.distributed ``Client``
(``pip install 'zonemodel[dask]'``).

Seeds do not depend on how the work is cut or where it runs: parameter set
*i* gets child *i* of ``numpy.random.SeedSequence(seed)`` and its replicate
*r* gets child *r* of that, exactly as ``fork_bomb(kernel_i, runs=runs,
seed=child_i)`` would.  So the table is the same whatever the executor, the
number of workers or ``batch_size``.

What an experiment contributes to a sweep (its batch runner, summariser,
checks and statistics columns) is registered in :mod:`zonemodel.studies.registry`;
the grid's parameter sets and the result table are built by
:mod:`zonemodel.studies.grid`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from zonemodel.errors import ParameterError
from zonemodel.experiments.common import one_thread
from zonemodel.experiments.progress import Progress, check_progress
from zonemodel.model.kernel import SIZE_FIELDS, Kernel, gnumach
from zonemodel.model.records import same
from zonemodel.seeds import SeedLike, as_seed_sequence
from zonemodel.studies.grid import _check_names, _parameter_sets, _resolve, _table
from zonemodel.studies.registry import _EXPERIMENTS, _Experiment
from zonemodel.units import format_size

__all__ = ["SweepResult", "sweep"]


_TARGET_TASKS: Final = 32  # with an executor, split small sweeps into about this many tasks
_MIN_BATCH: Final = 50  # ... but never below this many replicates per task (each task boots a system)
_MAX_BATCH: Final = 1000  # and never above this many (progress and load balancing)


# ---------------------------------------------------------------------------- the task


def _run_batch(
    run: Callable[..., np.ndarray],
    kernel: tuple[int, dict[str, Any]],
    keywords: Mapping[str, object],
    seed: np.random.SeedSequence,
    first: int,
    count: int,
    single: bool,
) -> np.ndarray:
    """One task: replicates ``first .. first + count - 1`` of one parameter set.

    A module-level function taking only plain picklable values, so that any
    executor can ship it (by reference) to a worker that imports zonemodel;
    the kernels are loaded there from numba's cache.  *kernel* is the
    ``(year, fields)`` recipe of :func:`_recipe`.  With *single* the
    replicates run on a single thread (the setting is local
    to the calling thread), since the executor's workers already use the cores.
    """
    year, fields = kernel
    rebuilt = gnumach(year, **fields)
    with one_thread(single):
        return run(rebuilt, seed=seed, first=first, count=count, **keywords)


# ---------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False, repr=False)
class SweepResult:
    """The outcome of :func:`sweep`: one row per parameter set.

    Examples
    --------
    >>> import zonemodel
    >>> grid = {"year": [2005], "zone_map": ["4 MiB"]}
    >>> result = zonemodel.sweep(zonemodel.fork_bomb, grid, runs=3, seed=1, progress=False)
    >>> len(result.table), result.table.dtype.names[:3]
    (1, ('year', 'zone_map', 'runs'))
    """

    experiment: str
    """Name of the experiment, e.g. ``"fork_bomb"``."""
    parameters: tuple[str, ...]
    """Names of the parameter columns, in the order of the grid."""
    runs: int
    """Replicates per parameter set."""
    seed: np.random.SeedSequence
    """The root seed; parameter set *i* used its child *i* (pass it back as ``seed=`` to rerun)."""
    table: np.ndarray
    """A NumPy structured array: the parameter columns, then the statistics.

    Parameter columns hold the value in force for each set: Kernel fields
    as stored in the Kernel (sizes in bytes), ``kernel`` as the Kernel's
    repr, experiment keywords as given (or their default).  The statistics
    are ``runs``, ``min``, ``median``, ``mean``, ``max``, ``std``,
    ``spread`` (of the count), ``outcome`` and ``limit`` (the most common
    ones), ``outcome_share`` and ``limit_share`` (the fraction of runs that
    had them) and ``message`` (the most common console message) for fork
    bombs (:data:`~zonemodel.studies.registry.STATISTICS`), and those of
    :data:`~zonemodel.studies.registry.STORM_STATISTICS` for
    close bursts.
    """
    kernels: tuple[Kernel, ...]
    """The Kernel of each parameter set."""
    distributions: tuple[Any, ...]
    """The full distribution of each parameter set (e.g. :class:`zonemodel.ForkBombRuns`)."""

    def __len__(self) -> int:
        return len(self.table)

    def equals(self, other: object) -> bool:
        """True if *other* is a sweep with the same experiment, grid, runs, seed, table and distributions.

        NaN equals NaN here (``result.table == other.table`` is False wherever a column holds NaN).
        """
        if not isinstance(other, SweepResult):
            return False
        mine, theirs = self.seed, other.seed
        return (
            self.experiment == other.experiment
            and self.parameters == other.parameters
            and self.runs == other.runs
            and same(mine.entropy, theirs.entropy)
            and tuple(mine.spawn_key) == tuple(theirs.spawn_key)
            and same(self.table, other.table)
            and self.kernels == other.kernels
            and same(self.distributions, other.distributions)
        )

    def to_pandas(self) -> Any:
        """The table as a ``pandas.DataFrame`` (needs pandas: ``pip install 'zonemodel[pandas]'``)."""
        try:
            pandas = importlib.import_module("pandas")
        except ImportError:
            raise ImportError(
                "SweepResult.to_pandas() needs pandas, which is not installed; "
                "install it with: pip install 'zonemodel[pandas]' (the table itself is in .table)"
            ) from None
        return pandas.DataFrame({name: self.table[name] for name in self.table.dtype.names or ()})

    def __repr__(self) -> str:
        seed = self.seed
        root = str(seed.entropy) if not seed.spawn_key else f"SeedSequence({seed.entropy}, spawn_key={seed.spawn_key})"
        sets = f"{len(self)} parameter set{'s' if len(self) != 1 else ''}"
        head = f"SweepResult({self.experiment}, {sets} x {self.runs} runs, seed={root})"
        return head + "\n" + _format_table(self.table, exclude=("message",))


def _cell(name: str, value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, float) and value != value:  # NaN: not applicable (no interval, no other user)
        return "-"
    if name.endswith("_share"):
        return f"{100 * value:.0f}%"
    if name in SIZE_FIELDS and isinstance(value, int):
        return format_size(value)
    if name in ("mean", "std"):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _format_table(table: np.ndarray, *, exclude: tuple[str, ...] = (), rows: int = 20) -> str:
    """A plain-text rendering of a structured array (strings left-aligned, numbers right-aligned)."""
    names = [n for n in table.dtype.names or () if n not in exclude]
    shown = list(range(len(table)))
    if len(shown) > rows:
        shown = [*shown[: rows // 2], -1, *shown[-(rows // 2) :]]
    cells = [[_cell(n, table[n][i]) if i >= 0 else "..." for n in names] for i in shown]
    widths = [max([len(n)] + [len(row[j]) for row in cells]) for j, n in enumerate(names)]
    left = [table.dtype[n].kind in "UOb" for n in names]

    def line(values: Sequence[str]) -> str:
        parts = [v.ljust(w) if lft else v.rjust(w) for v, w, lft in zip(values, widths, left, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(names), *(line(row) for row in cells)])


# ---------------------------------------------------------------------------- checks


MAX_SWEEP_RUNS: Final = 1_000_000
"""The most replicates per parameter set of one sweep (its distributions keep every run)."""


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(f'"{name}" must be an integer >= 1, got {value!r}')
    return int(value)


def _experiment(experiment: object) -> _Experiment:
    try:
        return _EXPERIMENTS[experiment]  # type: ignore[index]
    except (KeyError, TypeError):
        known = ", ".join(f"zonemodel.{e.name}" for e in _EXPERIMENTS.values())
        raise ParameterError(f'"experiment" must be one of {known} (the function itself), got {experiment!r}') from None


def _check_executor(executor: object) -> None:
    if executor is None:
        return
    if not isinstance(executor, Executor):
        if type(executor).__module__.split(".")[0] == "distributed" and hasattr(executor, "get_executor"):
            raise ParameterError(
                '"executor": got a dask.distributed Client; pass client.get_executor() '
                "(a concurrent.futures.Executor) instead"
            )
        raise ParameterError(
            '"executor" must be None or a concurrent.futures.Executor (ThreadPoolExecutor, ProcessPoolExecutor, '
            f"dask.distributed's client.get_executor()...), got {executor!r}"
        )
    # concurrent.futures.process is imported only when needed (it costs a few ms of import time).
    pool = sys.modules.get("concurrent.futures.process")
    is_pool = pool is not None and isinstance(executor, pool.ProcessPoolExecutor)
    context = getattr(executor, "_mp_context", None) if is_pool else None
    if context is not None and context.get_start_method() == "fork":
        raise ParameterError(
            '"executor": this ProcessPoolExecutor starts its workers with fork(), which is unsafe once numba\'s '
            "threads have run (the workers abort); create it with "
            'mp_context=multiprocessing.get_context("spawn") or get_context("forkserver")'
        )


def _default_batch(runs: int, sets: int, parallel: bool) -> int:
    if not parallel:
        return min(runs, _MAX_BATCH)
    parts = -(-_TARGET_TASKS // sets)
    return max(min(runs, _MIN_BATCH), min(_MAX_BATCH, -(-runs // parts)))


# ---------------------------------------------------------------------------- sweep


def sweep(
    experiment: Callable[..., object],
    grid: Mapping[str, Iterable[object]] | Sequence[Mapping[str, object]],
    *,
    runs: int,
    seed: SeedLike = None,
    executor: Any = None,
    progress: bool | None = None,
    batch_size: int | None = None,
) -> SweepResult:
    """Run *experiment* for every parameter set of *grid*, *runs* seeded replicates each.

    Parameters
    ----------
    experiment
        The experiment function: :func:`zonemodel.fork_bomb` or
        :func:`zonemodel.close_burst`.
    grid
        Either a mapping parameter -> list of values (every combination is
        run, the last parameter varying fastest) or a list of dicts (one
        parameter set each).  Each set needs ``"kernel"`` (a
        :class:`~zonemodel.Kernel`) or ``"year"`` (a preset year); any field
        of :class:`~zonemodel.Kernel` changes that kernel
        (``gnumach(year, **fields)`` or ``kernel.replace(**fields)``); the
        experiment's keywords take their default when absent (``start``,
        ``chain``, ``user``, ``interval``, ``policy`` for fork bombs;
        ``close``, ``policy``, ``limits``, ``other`` for close bursts, whose
        ``processes`` and ``ports_each`` have no default and must be given).
    runs
        Replicates per parameter set (an integer from 1 to 1 000 000, ``MAX_SWEEP_RUNS``).
    seed
        An int, a :class:`numpy.random.SeedSequence` or None (fresh entropy,
        kept in :attr:`SweepResult.seed`).  Parameter set *i* uses child *i*
        of it, so its row equals ``fork_bomb(kernel_i, runs=runs,
        seed=SeedSequence(seed).spawn(n)[i])``.
    executor
        None to run in this process (each task then uses all of numba's
        threads), or any ``concurrent.futures.Executor``: a
        ``ThreadPoolExecutor``, a ``ProcessPoolExecutor`` whose
        ``mp_context`` is ``spawn`` or ``forkserver`` (``fork`` is refused:
        numba's OpenMP threads do not survive it), or dask.distributed's
        ``client.get_executor()``.  With an executor every task runs on one
        numba thread: the workers provide the parallelism.  Workers must be
        able to import zonemodel; give them a writable ``NUMBA_CACHE_DIR``
        so that they load the compiled kernels instead of compiling them.
        Every task carries its own explicit seed, so dask's default
        ``pure=True`` never merges two different tasks (``pure=False`` works
        as well).
    progress
        True to show a progress bar (needs tqdm, ``pip install
        'zonemodel[progress]'``; without it no bar is shown), False for none,
        None (default) for a bar only when standard error is a terminal, once
        the sweep has run for two seconds.
    batch_size
        Replicates per task.  By default up to 1000 in this process; with an
        executor, small sweeps are cut into about 32 tasks of at least 50
        replicates.  The table does not depend on it.

    Returns
    -------
    SweepResult
        ``table`` holds one row per parameter set, in grid order.

    Raises
    ------
    ParameterError
        For an unknown experiment or grid parameter, a bad value (the message
        names the parameter set), or a bad *runs*, *seed*, *batch_size*,
        *progress* or *executor*.

    Examples
    --------
    >>> import zonemodel
    >>> grid = {"year": [2005], "zone_map": ["4 MiB", "8 MiB", "32 MiB"]}
    >>> result = zonemodel.sweep(zonemodel.fork_bomb, grid, runs=50, seed=1)
    >>> result
    SweepResult(fork_bomb, 3 parameter sets x 50 runs, seed=1)
    year  zone_map  runs  min  median    mean  max   std  spread  outcome  outcome_share  limit       limit_share
    2005     4 MiB    50  418     420  419.44  420  0.70       2  panic             100%  zone map           100%
    2005     8 MiB    50  836     837  836.96  837  0.20       1  panic             100%  zone map           100%
    2005    32 MiB    50    0       0    0.00    0  0.00       0  no boot           100%  kernel_map         100%
    >>> result.table["median"]
    array([420., 837.,   0.])

    The same table on two threads, in tasks of 20 replicates:

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     again = zonemodel.sweep(zonemodel.fork_bomb, grid, runs=50, seed=1, executor=pool, batch_size=20)
    >>> again.equals(result)
    True

    A close burst under two thread policies (:func:`zonemodel.close_burst`
    needs ``processes`` and ``ports_each``):

    >>> grid = {"year": [2005], "processes": [2], "ports_each": [10_000], "nofile": [65536],
    ...         "policy": ["upstream-1997", "debian-throttle"]}
    >>> storms = zonemodel.sweep(zonemodel.close_burst, grid, runs=10, seed=1)
    >>> for row in storms.table:
    ...     print(f"{row['policy']:16} panics {row['panic_share']:4.0%}, null threads {row['null_threads_median']:g}")
    upstream-1997    panics 100%, null threads 11813
    debian-throttle  panics   0%, null threads 66
    """
    spec = _experiment(experiment)
    runs = _count("runs", runs)
    if runs > MAX_SWEEP_RUNS:
        raise ParameterError(
            f'"runs" must be an integer between 1 and {MAX_SWEEP_RUNS:_} per parameter set, got {runs!r}; '
            "to run more, run several sweeps with seeds numpy.random.SeedSequence(seed).spawn(n)[i] "
            "and combine their distributions"
        )
    if batch_size is not None:
        batch_size = _count("batch_size", batch_size)
    progress = check_progress(progress)
    _check_executor(executor)
    root = as_seed_sequence(seed)

    sets, names = _parameter_sets(grid)
    _check_names(spec, names)
    settings = [_resolve(spec, i, params) for i, params in enumerate(sets)]

    # Child i of a fresh copy, so that a SeedSequence that already spawned children is not advanced.
    children = np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key, pool_size=root.pool_size).spawn(
        len(settings)
    )
    size = batch_size or _default_batch(runs, len(settings), executor is not None)
    tasks = [(i, first, min(size, runs - first)) for i in range(len(settings)) for first in range(0, runs, size)]

    blocks: list[dict[int, np.ndarray]] = [{} for _ in settings]
    missing = [runs] * len(settings)
    dists: list[Any] = [None] * len(settings)

    def store(i: int, first: int, rows: np.ndarray, bar: Progress) -> None:
        blocks[i][first] = rows
        missing[i] -= len(rows)
        bar.update(len(rows))
        if missing[i] == 0:  # the set is complete: summarise its rows in replicate order, then drop them
            complete = np.concatenate([blocks[i][f] for f in sorted(blocks[i])])
            dists[i] = spec.summarise(complete, settings[i].kernel, settings[i].keywords)
            blocks[i] = {}

    with Progress(len(settings) * runs, enabled=progress, desc=spec.name) as bar:
        if executor is None:
            for i, first, count in tasks:
                s = settings[i]
                store(i, first, _run_batch(spec.run, s.recipe, s.keywords, children[i], first, count, False), bar)
        else:
            futures: dict[Future[np.ndarray], tuple[int, int]] = {}
            try:
                for i, first, count in tasks:
                    s = settings[i]
                    # Positional arguments only: dask's executor reads keyword arguments as its own options.
                    future = executor.submit(
                        _run_batch, spec.run, s.recipe, s.keywords, children[i], first, count, True
                    )
                    futures[future] = (i, first)
                for future in as_completed(futures):
                    i, first = futures[future]
                    store(i, first, future.result(), bar)
            finally:
                for future in futures:
                    future.cancel()

    done = [d for d in dists if d is not None]
    assert len(done) == len(settings)  # every task stored its rows
    return SweepResult(
        experiment=spec.name,
        parameters=tuple(names),
        runs=runs,
        seed=root,
        table=_table(spec, names, settings, done),
        kernels=tuple(s.kernel for s in settings),
        distributions=tuple(done),
    )
