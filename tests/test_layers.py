"""Imports run down the layers of zonemodel, never up or sideways, and never into another layer's private names.

The rules, one row per layer (a module's layer is its folder; the modules at the top of the package are the
utilities, ``zonemodel/__init__.py`` is the public face):

==============  ==============================================  ============================================
layer           may import from zonemodel                       may import from outside
==============  ==============================================  ============================================
utilities       utilities                                       the standard library, numpy
model           model, utilities                                anything but numba
_kernels        _kernels                                        the standard library, numpy, numba
experiments     experiments, model, _kernels, utilities         anything
studies         studies, experiments, model, utilities          anything but numba (``studies/warmup.py`` may)
root            every layer (public names only)                 anything
==============  ==============================================  ============================================

Private names: a name starting with ``_`` (dunders aside), or a module starting with ``_``, belongs to its layer.
Another layer may neither import it nor reach it as ``module._name`` through a module it imported. One exception:
the kernels are private by design (``_kernels``, and ``_bomb_many`` inside it), and experiments, the only layer
that calls them, import them (``from zonemodel._kernels.forkbomb import _bomb_many``).

Every import counts: at the top, inside a function, under ``TYPE_CHECKING``, and ``importlib.import_module`` of a
literal name.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import zonemodel

PACKAGE = Path(zonemodel.__file__).parent
ROOT = PACKAGE.parent

# layer -> the zonemodel layers it may import (its own included).
MAY_IMPORT: dict[str, set[str]] = {
    "utilities": {"utilities"},
    "model": {"model", "utilities"},
    "_kernels": {"_kernels"},
    "experiments": {"experiments", "model", "_kernels", "utilities"},
    "studies": {"studies", "experiments", "model", "utilities"},
    "root": {"root", "utilities", "model", "_kernels", "experiments", "studies"},
}
# layer -> the only outside packages it may import besides the standard library (layers not listed: any).
OUTSIDE_ONLY: dict[str, set[str]] = {
    "utilities": {"numpy"},
    "_kernels": {"numpy", "numba"},
}
# layer -> outside packages it must not import, and the files excused.
OUTSIDE_NEVER: dict[str, tuple[set[str], set[str]]] = {
    "model": ({"numba"}, set()),
    "studies": ({"numba"}, {"zonemodel/studies/warmup.py"}),
}
PACKAGES = {"model", "_kernels", "experiments", "studies"}


def layer_of_module(name: str) -> str | None:
    """The layer of a zonemodel module name, or None for an outside module."""
    parts = name.split(".")
    if parts[0] != "zonemodel":
        return None
    if len(parts) == 1:
        return "root"
    if parts[1] in PACKAGES:
        return parts[1]
    return "utilities"


def layer_of_file(rel: str) -> str:
    """The layer of a file given as ``zonemodel/...py``."""
    parts = rel.split("/")
    if parts == ["zonemodel", "__init__.py"]:
        return "root"
    if len(parts) == 2:
        return "utilities"
    return parts[1]


def module_name(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    """Whether a zonemodel dotted name is a module (a file or a package) of the real tree."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def resolve(node: ast.ImportFrom, here: str, is_package: bool) -> str:
    """The absolute module of a (possibly relative) ``from ... import``."""
    if not node.level:
        return node.module or ""
    base = here.split(".") if is_package else here.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(tree: ast.AST, here: str, is_package: bool) -> Iterator[tuple[int, str, str, str | None]]:
    """``(line, text, module, name)`` for each imported module, and name imported from it (None for a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, f"import {alias.name}", alias.name, None
        elif isinstance(node, ast.ImportFrom):
            module = resolve(node, here, is_package)
            text = f"from {'.' * node.level}{node.module or ''} import {', '.join(a.name for a in node.names)}"
            for alias in node.names:
                if layer_of_module(module) and is_module(f"{module}.{alias.name}"):
                    yield node.lineno, text, f"{module}.{alias.name}", None
                else:
                    yield node.lineno, text, module, alias.name
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, ast.unparse(node), node.args[0].value, None


def module_aliases(tree: ast.AST, here: str, is_package: bool) -> dict[str, str]:
    """Local names bound to zonemodel modules: ``{"servers": "zonemodel.experiments.storms", ...}``."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if layer_of_module(alias.name):
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            module = resolve(node, here, is_package)
            for alias in node.names:
                if layer_of_module(module) and is_module(f"{module}.{alias.name}"):
                    bound[alias.asname or alias.name] = f"{module}.{alias.name}"
    return bound


def private_attributes(tree: ast.AST, aliases: dict[str, str]) -> Iterator[tuple[int, str, str, str]]:
    """``(line, text, module, name)`` for each ``module._name`` reached through an imported zonemodel module."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain = [node.attr]
        value = node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if not isinstance(value, ast.Name) or value.id not in aliases:
            continue
        chain.reverse()
        module = aliases[value.id]
        while len(chain) > 1 and is_module(f"{module}.{chain[0]}"):  # walk down the submodules
            module = f"{module}.{chain.pop(0)}"
        if len(chain) == 1 and is_private(chain[0]):  # the outer attributes of a.b._c.d are left to the inner one
            yield node.lineno, ast.unparse(node), module, chain[0]


def violations(rel: str, source: str) -> list[str]:
    """Every import of the file *rel* (``zonemodel/...py``) holding *source* that breaks a rule, one line each."""
    layer = layer_of_file(rel)
    here = module_name(rel)
    is_package = rel.endswith("__init__.py")
    tree = ast.parse(source, filename=rel)
    found = []

    def private_in(module: str, name: str | None) -> list[str]:
        if layer == "experiments" and layer_of_module(module) == "_kernels":
            return []  # the one layer that calls the kernels
        parts = module.split(".")[1:] + ([name] if name else [])
        return [p for p in parts if is_private(p)]

    for line, text, module, name in imports(tree, here, is_package):
        where = f"{rel}:{line} {text}"
        target = layer_of_module(module)
        if target is None:
            top = module.split(".")[0]
            if top in sys.stdlib_module_names:
                continue
            only = OUTSIDE_ONLY.get(layer)
            never, excused = OUTSIDE_NEVER.get(layer, (set(), set()))
            if (only is not None and top not in only) or (top in never and rel not in excused):
                found.append(f"{where}  [{layer} must not import {top}]")
            continue
        if target not in MAY_IMPORT[layer]:
            found.append(f"{where}  [{layer} must not import {target} ({module})]")
        if target != layer:
            for private in private_in(module, name):
                found.append(f"{where}  [private name {private} of {target}]")
    for line, text, module, name in private_attributes(tree, module_aliases(tree, here, is_package)):
        target = layer_of_module(f"{module}.{name}" if is_module(f"{module}.{name}") else module)
        if target != layer and not (layer == "experiments" and target == "_kernels"):
            found.append(f"{rel}:{line} {text}  [private name {name} of {target}]")
    return found


def sources() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), path.read_text()


def test_imports_run_down_the_layers() -> None:
    found = [v for rel, source in sources() for v in violations(rel, source)]
    assert not found, "imports against the layers:\n" + "\n".join(found)


def test_model_never_imports_numba() -> None:
    """Neither model/ nor anything it imports from zonemodel pulls in numba."""
    graph: dict[str, tuple[str, set[str]]] = {}  # module -> (file, modules it imports)
    for rel, source in sources():
        here, is_package = module_name(rel), rel.endswith("__init__.py")
        graph[here] = (rel, {m for _, _, m, _ in imports(ast.parse(source), here, is_package)})
    found = []
    for start in (m for m in graph if layer_of_module(m) == "model"):
        path = {start: [start]}
        todo = [start]
        while todo:
            module = todo.pop()
            for target in sorted(graph[module][1]):
                if target.split(".")[0] == "numba":
                    found.append(" -> ".join([*path[module], target]))
                elif target in graph and target not in path:
                    path[target] = [*path[module], target]
                    todo.append(target)
    assert not found, "model/ reaches numba:\n" + "\n".join(found)


def test_the_checker_catches_what_it_should() -> None:
    """Each rule fires on a synthetic module, so that the walk above cannot pass by seeing nothing."""
    up = violations("zonemodel/model/fake.py", "from zonemodel.studies import sweep\n")
    assert up == [
        "zonemodel/model/fake.py:1 from zonemodel.studies import sweep  [model must not import studies "
        "(zonemodel.studies.sweep)]"
    ]
    assert violations("zonemodel/model/fake.py", "def f():\n    import zonemodel.experiments.forkbomb\n")
    assert violations("zonemodel/_kernels/fake.py", "from zonemodel.model.zones import zone_specs\n")
    assert violations("zonemodel/_kernels/fake.py", "from ..errors import ParameterError\n")
    assert violations("zonemodel/units.py", "from zonemodel.model.kernel import Kernel\n")
    assert violations("zonemodel/studies/fake.py", "from zonemodel._kernels import jit\n")
    assert violations("zonemodel/studies/fake.py", "import zonemodel as zm\n")
    private = violations("zonemodel/studies/fake.py", "from zonemodel.experiments.storms import _check\n")
    assert private == [
        "zonemodel/studies/fake.py:1 from zonemodel.experiments.storms import _check  "
        "[private name _check of experiments]"
    ]
    assert violations("zonemodel/studies/fake.py", "from zonemodel.experiments import storms\nstorms._check(1)\n")
    dotted = violations(
        "zonemodel/studies/fake.py", "import zonemodel.model.kernel\nzonemodel.model.kernel._SPECS.items()\n"
    )
    assert dotted == ["zonemodel/studies/fake.py:2 zonemodel.model.kernel._SPECS  [private name _SPECS of model]"]
    assert violations("zonemodel/__init__.py", "from zonemodel.model.kernel import _SPECS\n")
    assert violations("zonemodel/model/fake.py", "import numba\n")
    assert violations("zonemodel/studies/fake.py", "from numba import prange\n")
    assert violations("zonemodel/_kernels/fake.py", "import scipy\n")
    assert violations("zonemodel/seeds.py", "import importlib\nimportlib.import_module('numba')\n")
    # What the rules allow.
    allowed = (
        ("zonemodel/experiments/fake.py", "from zonemodel._kernels import forkbomb as _fb\n_fb._bomb_many()\n"),
        ("zonemodel/experiments/fake.py", "from zonemodel._kernels.forkbomb import _bomb_many\n"),
        ("zonemodel/experiments/fake.py", "from zonemodel.experiments.storms import _arrays\n"),
        (
            "zonemodel/experiments/fake.py",
            "import zonemodel._kernels.engine\nzonemodel._kernels.engine._burst_many()\n",
        ),
        ("zonemodel/_kernels/fake.py", "from zonemodel._kernels.rng import _uniform\nimport numba\nimport math\n"),
        ("zonemodel/_kernels/fake.py", "from . import layout as L\nfrom .zalloc import _zalloc\n"),
        ("zonemodel/studies/warmup.py", "from numba.core.dispatcher import Dispatcher\n"),
        ("zonemodel/studies/fake.py", "from zonemodel import errors\nfrom zonemodel.model import kernel\n"),
        ("zonemodel/__init__.py", "from zonemodel.studies.sweep import sweep\nfrom zonemodel import __name__\n"),
        ("zonemodel/model/fake.py", "import numpy as np\nfrom zonemodel.model.kernel import _SPECS\n"),
    )
    for rel, source in allowed:
        assert violations(rel, source) == [], (rel, source)
