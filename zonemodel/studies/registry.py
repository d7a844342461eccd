"""What :func:`zonemodel.sweep` can run: one entry per public experiment, and the statistics of its table.

Adding an experiment takes one entry in ``_EXPERIMENTS``: the experiment
function, its batch runner (``run(kernel, *, <keywords>, seed, first,
count) -> rows``, a module-level function so that it pickles by reference),
its summariser (rows, kernel, keywords -> distribution), a check of its
keywords and, unless its distribution has the fields of
:class:`Distribution`, its own statistics columns and row function.  The
grid may set the runner's keywords; their defaults are the experiment
function's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np

from zonemodel.experiments import forkbomb, storms
from zonemodel.experiments.forkbomb import check_bomb, fork_bomb
from zonemodel.model.kernel import Kernel


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
    summarise: Callable[[np.ndarray, Kernel, Mapping[str, object]], Any]
    """The distribution of all the rows of one parameter set, in replicate order, given its kernel and keywords."""
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
    summariser: Callable[[np.ndarray, Kernel, Mapping[str, object]], Any],
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
    check_bomb(kernel, **keywords)


def _summarise_fork_bomb(rows: np.ndarray, kernel: Kernel, keywords: Mapping[str, object]) -> forkbomb.ForkBombRuns:
    other = keywords.get("other", 0)
    n_other = other if isinstance(other, int) else 0
    limited = keywords.get("limits") is not None or n_other
    mode: forkbomb.Mode = "limited" if limited else ("slow" if keywords.get("interval") is None else "timed")
    return forkbomb.summarise(rows, mode=mode, other=n_other, kernel=kernel)


"""Fields of :class:`zonemodel.Kernel` a grid may set."""

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
    storms.check_storm(kernel, **keywords)


def _summarise_close_burst(rows: np.ndarray, kernel: Kernel, keywords: Mapping[str, object]) -> storms.CloseBurstRuns:
    other = keywords.get("other", 0)
    return storms.summarise(rows, other=other if isinstance(other, int) else 0, kernel=kernel)


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


def storm_statistics(d: storms.CloseBurstRuns) -> tuple[object, ...]:
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
        _entry(fork_bomb, forkbomb.run_replicates, _summarise_fork_bomb, _check_fork_bomb),
        _entry(
            storms.close_burst,
            storms.run_replicates,
            _summarise_close_burst,
            _check_close_burst,
            STORM_STATISTICS,
            storm_statistics,
        ),
    ]
)
