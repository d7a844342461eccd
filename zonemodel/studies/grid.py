"""The grid of a sweep: its parameter sets, each resolved to a kernel and keywords, and the result table."""

from __future__ import annotations

import difflib
import inspect
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zonemodel.errors import ParameterError
from zonemodel.model.kernel import FIELD_NAMES, YEARS, Kernel, gnumach
from zonemodel.studies.registry import _SWEEP_ARGUMENTS, _Experiment


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
    allowed = ["kernel", "year", *spec.keywords, *(f for f in FIELD_NAMES if f != "year")]
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
            f"({', '.join(f for f in FIELD_NAMES if f != 'year')}), "
            f"and the keywords of {spec.name} ({', '.join(spec.keywords)})"
        )


def _recipe(kernel: Kernel) -> tuple[int, dict[str, Any]]:
    """*kernel* as plain values: ``gnumach(year, **fields)`` rebuilds an equal Kernel in a worker.

    Tasks ship this rather than the Kernel: it is a fraction of the size of a
    pickled Kernel, whose provenance of every field travels with it.
    """
    recipe = kernel.year, {name: getattr(kernel, name) for name in FIELD_NAMES if name != "year"}
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
        fields: dict[str, Any] = {k: v for k, v in params.items() if k in FIELD_NAMES and k != "year"}
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
