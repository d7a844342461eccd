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

Adding an experiment takes one entry in ``_EXPERIMENTS``: the experiment
function, its batch runner (``run(kernel, *, <keywords>, seed, first,
count) -> rows``, a module-level function so that it pickles by reference),
its summariser (rows -> distribution), a check of its keywords and, unless
its distribution has the fields of :class:`Distribution`, its own statistics
columns and row function.  The grid may set the runner's keywords; their
defaults are the experiment function's.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import itertools
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numba
import numpy as np

from zonemodel.errors import ParameterError
from zonemodel.experiments import forkbomb
from zonemodel.experiments import storms as servers
from zonemodel.experiments.common import check_kernel
from zonemodel.experiments.forkbomb import _check_common, fork_bomb
from zonemodel.model.kernel import _SPECS, YEARS, Kernel, gnumach
from zonemodel.model.policies import policy
from zonemodel.seeds import SeedLike, as_seed_sequence
from zonemodel.studies.progress import Progress
from zonemodel.units import format_size

__all__ = ["SweepResult", "sweep"]


class Distribution(Protocol):
    """What a summariser returns: the distribution of one setting's replicates (e.g. ForkBombRuns)."""

    @property
    def runs(self) -> int:
        """Number of runs."""

    @property
    def min(self) -> int:
        """Smallest count."""

    @property
    def median(self) -> float:
        """Median count."""

    @property
    def mean(self) -> float:
        """Mean count."""

    @property
    def max(self) -> int:
        """Largest count."""

    @property
    def std(self) -> float:
        """Population standard deviation of the count."""

    @property
    def spread(self) -> int:
        """Largest minus smallest count."""

    @property
    def outcomes(self) -> tuple[tuple[str, int], ...]:
        """``(outcome, runs)`` pairs, most frequent first."""

    @property
    def limits(self) -> tuple[tuple[str, int], ...]:
        """``(limit, runs)`` pairs, most frequent first."""

    @property
    def messages(self) -> tuple[tuple[str, int], ...]:
        """``(message, runs)`` pairs, most frequent first."""


def count_statistics(d: Distribution) -> tuple[object, ...]:
    """The :data:`STATISTICS` row of a count distribution such as :class:`zonemodel.ForkBombRuns`."""
    return (
        d.runs,
        d.min,
        d.median,
        d.mean,
        d.max,
        d.std,
        d.spread,
        d.outcomes[0][0],
        d.outcomes[0][1] / d.runs,
        d.limits[0][0],
        d.limits[0][1] / d.runs,
        d.messages[0][0],
    )


@dataclass(frozen=True)
class _Experiment:
    """How :func:`sweep` runs one public experiment."""

    name: str
    run: Callable[..., np.ndarray]
    """Batch runner: ``run(kernel, *, <keywords>, seed, first, count)`` -> one row per replicate."""
    summarise: Callable[[np.ndarray], Any]
    """The distribution of all the rows of one parameter set, in replicate order."""
    check: Callable[..., None]
    """``check(kernel, **keywords)`` raises ParameterError for values the runner would refuse."""
    keywords: Mapping[str, object]
    """Experiment keywords a grid may set, with the experiment's defaults (``inspect.Parameter.empty``: required)."""
    columns: tuple[tuple[str, str], ...]
    """Statistics columns of the table: (name, dtype), ``"U"`` for a string sized to fit."""
    row: Callable[[Any], tuple[object, ...]]
    """The statistics of one distribution, in the order of *columns*."""


def _entry(
    experiment: Callable[..., object],
    run: Callable[..., np.ndarray],
    summariser: Callable[[np.ndarray], Any],
    check: Callable[..., None],
    columns: tuple[tuple[str, str], ...] | None = None,
    row: Callable[[Any], tuple[object, ...]] = count_statistics,
) -> tuple[Callable[..., object], _Experiment]:
    """A registry entry; the keywords are those the runner takes, with the experiment's defaults."""
    signature = inspect.signature(experiment).parameters
    keywords = {
        name: signature.get(name, param).default
        for name, param in inspect.signature(run).parameters.items()
        if param.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("seed", "first", "count")
    }
    name = getattr(experiment, "__name__", repr(experiment))
    return experiment, _Experiment(name, run, summariser, check, keywords, columns or STATISTICS, row)


def _check_fork_bomb(kernel: Kernel, **keywords: Any) -> None:
    check_kernel(kernel)
    get = keywords.get
    _check_common(get("start"), get("user"), get("interval"), get("chain"))
    if "policy" in keywords:
        policy(keywords["policy"])


KERNEL_FIELDS: Final = tuple(f.name for f in dataclasses.fields(Kernel) if not f.name.startswith("_"))
"""Fields of :class:`zonemodel.Kernel` a grid may set."""

_SIZE_FIELDS: Final = frozenset(name for name, spec in _SPECS.items() if spec.kind == "size")
_SWEEP_ARGUMENTS: Final = ("runs", "seed", "executor", "progress", "batch_size")

STATISTICS: Final = (
    ("runs", "i8"),
    ("min", "i8"),
    ("median", "f8"),
    ("mean", "f8"),
    ("max", "i8"),
    ("std", "f8"),
    ("spread", "i8"),
    ("outcome", "U"),
    ("outcome_share", "f8"),
    ("limit", "U"),
    ("limit_share", "f8"),
    ("message", "U"),
)
"""Statistics columns of a count experiment's table (e.g. fork bombs), with their dtype ("U": string)."""


def _check_close_burst(kernel: Kernel, **keywords: Any) -> None:
    check_kernel(kernel)
    servers._check(keywords["processes"], keywords["ports_each"], keywords["close"])
    policy(keywords["policy"])
    servers._check_remedies(keywords["limits"], keywords["other"])
    servers._booted(kernel)


STORM_STATISTICS: Final = (
    ("runs", "i8"),
    ("panic_share", "f8"),
    ("outcome", "U"),
    ("outcome_share", "f8"),
    ("null_threads_min", "i8"),
    ("null_threads_median", "f8"),
    ("null_threads_max", "i8"),
    ("p99_latency_ms", "f8"),
    ("other_completed_share", "f8"),
    ("message", "U"),
)
"""Statistics columns of a close-burst table: the share of runs that panicked, null's peak threads,
the median over runs of the p99 notification latency, the share of runs in which the other user's
opens all succeeded (NaN without ``other``), and the most common outcome and console message."""


def storm_statistics(d: servers.CloseBurstRuns) -> tuple[object, ...]:
    """The :data:`STORM_STATISTICS` row of a :class:`zonemodel.CloseBurstRuns`."""
    threads = np.asarray(d.peak_null_threads)
    return (
        d.runs,
        d.panicked,
        d.outcomes[0][0],
        d.outcomes[0][1] / d.runs,
        int(threads.min()),
        float(np.median(threads)),
        int(threads.max()),
        float(np.median(d.p99_latency_ms)),
        float("nan") if d.other_completed is None else d.other_completed,
        d.messages[0][0],
    )


_EXPERIMENTS: Final[dict[Callable[..., object], _Experiment]] = dict(
    [
        _entry(fork_bomb, forkbomb.run_replicates, forkbomb.summarise, _check_fork_bomb),
        _entry(
            servers.close_burst,
            servers.run_replicates,
            servers.summarise,
            _check_close_burst,
            STORM_STATISTICS,
            storm_statistics,
        ),
    ]
)

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
    one_thread: bool,
) -> np.ndarray:
    """One task: replicates ``first .. first + count - 1`` of one parameter set.

    A module-level function taking only plain picklable values, so that any
    executor can ship it (by reference) to a worker that imports zonemodel;
    the kernels are loaded there from numba's cache.  *kernel* is the
    ``(year, fields)`` recipe of :func:`_recipe`.  With ``one_thread`` the
    kernel's prange loop runs on a single numba thread (the setting is local
    to the calling thread), since the executor's workers already use the cores.
    """
    year, fields = kernel
    rebuilt = gnumach(year, **fields)
    if not one_thread:
        return run(rebuilt, seed=seed, first=first, count=count, **keywords)
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return run(rebuilt, seed=seed, first=first, count=count, **keywords)
    finally:
        numba.set_num_threads(previous)


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
    bombs (:data:`~zonemodel.studies.sweep.STATISTICS`), and those of
    :data:`~zonemodel.studies.sweep.STORM_STATISTICS` for
    close bursts.
    """
    kernels: tuple[Kernel, ...]
    """The Kernel of each parameter set."""
    distributions: tuple[Any, ...]
    """The full distribution of each parameter set (e.g. :class:`zonemodel.ForkBombRuns`)."""

    def __len__(self) -> int:
        return len(self.table)

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
    if name in _SIZE_FIELDS and isinstance(value, int):
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


def _plain(value: object) -> object:
    """NumPy scalars (from a grid given as arrays) as Python scalars."""
    return value.item() if isinstance(value, np.generic) else value


def _parameter_sets(grid: object) -> tuple[list[dict[str, object]], list[str]]:
    """The parameter sets of *grid*, and the parameter names in order of first appearance."""
    if isinstance(grid, Mapping):
        names = list(grid)
        lists = []
        for name, values in grid.items():
            if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
                raise ParameterError(
                    f"grid[{name!r}] must be a list of values, got {values!r}; write [{values!r}] for a single value"
                )
            values = [_plain(v) for v in values]
            if not values:
                raise ParameterError(f"grid[{name!r}] is an empty list; give at least one value")
            lists.append(values)
        if not names:
            raise ParameterError("grid is empty; give a mapping parameter -> list of values, or a list of dicts")
        sets = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*lists)]
    elif isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)):
        if not grid:
            raise ParameterError("grid is an empty list; give at least one parameter set")
        sets, names = [], []
        for i, item in enumerate(grid):
            if not isinstance(item, Mapping):
                raise ParameterError(f"grid[{i}] must be a dict of parameter -> value, got {item!r}")
            sets.append({key: _plain(value) for key, value in item.items()})
            names.extend(key for key in item if key not in names)
    else:
        raise ParameterError(
            f'"grid" must be a mapping parameter -> list of values (all combinations are run) '
            f"or a list of dicts (one parameter set each), got {grid!r}"
        )
    return sets, names


def _check_names(spec: _Experiment, names: Sequence[object]) -> None:
    allowed = ["kernel", "year", *spec.keywords, *(f for f in KERNEL_FIELDS if f != "year")]
    for name in names:
        if not isinstance(name, str):
            raise ParameterError(f"grid: parameter names must be strings, got {name!r}")
        if name in allowed:
            continue
        if name in _SWEEP_ARGUMENTS:
            raise ParameterError(f'grid: "{name}" is an argument of sweep() itself, not a grid parameter')
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParameterError(
            f'grid: unknown parameter {name!r}{hint}; allowed: "kernel" (a zonemodel.Kernel), "year" '
            f"(one of {', '.join(map(str, YEARS))}) with any field of zonemodel.Kernel "
            f"({', '.join(f for f in KERNEL_FIELDS if f != 'year')}), "
            f"and the keywords of {spec.name} ({', '.join(spec.keywords)})"
        )


def _recipe(kernel: Kernel) -> tuple[int, dict[str, Any]]:
    """*kernel* as plain values: ``gnumach(year, **fields)`` rebuilds an equal Kernel in a worker.

    Tasks ship this rather than the Kernel: it is a fraction of the size of a
    pickled Kernel, whose provenance of every field travels with it.
    """
    recipe = kernel.year, {name: getattr(kernel, name) for name in KERNEL_FIELDS if name != "year"}
    if gnumach(recipe[0], **recipe[1]) != kernel:
        raise ParameterError(f'"kernel": {kernel!r} cannot be rebuilt from its fields with zonemodel.gnumach')
    return recipe


@dataclass(frozen=True)
class _Setting:
    kernel: Kernel
    keywords: dict[str, object]
    recipe: tuple[int, dict[str, Any]]


def _resolve(spec: _Experiment, index: int, params: Mapping[str, object]) -> _Setting:
    """The kernel and experiment keywords of one parameter set, checked."""
    try:
        fields: dict[str, Any] = {k: v for k, v in params.items() if k in KERNEL_FIELDS and k != "year"}
        if "kernel" in params:
            base = params["kernel"]
            if "year" in params:
                raise ParameterError('give either "kernel" (a zonemodel.Kernel) or "year", not both')
            if not isinstance(base, Kernel):
                raise ParameterError(f'"kernel" must be a zonemodel.Kernel (see zonemodel.gnumach), got {base!r}')
            kernel = base.replace(**fields) if fields else base
        elif "year" in params:
            year: Any = params["year"]  # gnumach checks it
            kernel = gnumach(year, **fields)
        else:
            raise ParameterError(
                f'each parameter set needs "kernel" (a zonemodel.Kernel) or "year" (one of '
                f"{', '.join(map(str, YEARS))}); this one has neither"
            )
        missing = [k for k, default in spec.keywords.items() if default is inspect.Parameter.empty and k not in params]
        if missing:
            raise ParameterError(f"{spec.name} needs {', '.join(map(repr, missing))}, which this set does not give")
        keywords = {k: params.get(k, default) for k, default in spec.keywords.items()}
        spec.check(kernel, **keywords)
        recipe = _recipe(kernel)
    except ParameterError as exc:
        raise type(exc)(f"grid, parameter set {index} {dict(params)!r}: {exc}") from None
    return _Setting(kernel, keywords, recipe)


def _column_value(name: str, setting: _Setting) -> object:
    if name == "kernel":
        return repr(setting.kernel)
    if name in setting.keywords:
        return setting.keywords[name]
    return getattr(setting.kernel, name)


def _dtype(values: Sequence[object]) -> str:
    """The dtype of a parameter column: bool, int, float (None as NaN, e.g. ``interval``) or str."""

    def number(v: object) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if all(isinstance(v, bool) for v in values):
        return "?"
    if all(isinstance(v, int) and number(v) for v in values):
        return "i8"
    if all(v is None or number(v) for v in values) and any(v is not None for v in values):
        return "f8"
    return f"U{max(1, *(len(str(v)) for v in values))}"


def _default_batch(runs: int, sets: int, parallel: bool) -> int:
    if not parallel:
        return min(runs, _MAX_BATCH)
    parts = -(-_TARGET_TASKS // sets)
    return max(min(runs, _MIN_BATCH), min(_MAX_BATCH, -(-runs // parts)))


def _table(spec: _Experiment, names: Sequence[str], settings: Sequence[_Setting], dists: Sequence[Any]) -> np.ndarray:
    columns: list[list[object]] = [[_plain(_column_value(n, s)) for s in settings] for n in names]
    dtype = [(name, _dtype(column)) for name, column in zip(names, columns, strict=True)]
    for j, (_, kind) in enumerate(dtype):
        if kind == "f8":
            columns[j] = [float("nan") if v is None else v for v in columns[j]]
        elif kind.startswith("U"):
            columns[j] = [str(v) for v in columns[j]]
    stats = [spec.row(d) for d in dists]
    for (name, kind), column in zip(spec.columns, zip(*stats, strict=True), strict=True):
        dtype.append((name, _dtype(column) if kind == "U" else kind))
    rows = [tuple(c[i] for c in columns) + stats[i] for i in range(len(settings))]
    return np.array(rows, dtype=dtype)


# ---------------------------------------------------------------------------- sweep


def sweep(
    experiment: Callable[..., object],
    grid: Mapping[str, Iterable[object]] | Sequence[Mapping[str, object]],
    *,
    runs: int,
    seed: SeedLike,
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
        Replicates per parameter set (an integer >= 1).
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
        None (default) for a bar only when standard error is a terminal.
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
    >>> bool((again.table == result.table).all())
    True

    A close burst under two thread policies (:func:`zonemodel.close_burst`
    needs ``processes`` and ``ports_each``):

    >>> grid = {"year": [2005], "processes": [2], "ports_each": [10_000],
    ...         "policy": ["upstream-1997", "debian-throttle"]}
    >>> storms = zonemodel.sweep(zonemodel.close_burst, grid, runs=10, seed=1)
    >>> for row in storms.table:
    ...     print(f"{row['policy']:16} panics {row['panic_share']:4.0%}, null threads {row['null_threads_median']:g}")
    upstream-1997    panics 100%, null threads 11813
    debian-throttle  panics   0%, null threads 66
    """
    spec = _experiment(experiment)
    runs = _count("runs", runs)
    if batch_size is not None:
        batch_size = _count("batch_size", batch_size)
    if progress is not None and not isinstance(progress, bool):
        raise ParameterError(f'"progress" must be True, False or None, got {progress!r}')
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
            dists[i] = spec.summarise(np.concatenate([blocks[i][f] for f in sorted(blocks[i])]))
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
