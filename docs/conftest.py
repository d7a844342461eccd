"""Run every ``{doctest}`` block of the MyST pages under pytest, with Sybil.

Sphinx's doctest builder (``nox -s doctest``) runs the same blocks; both use
docs/_doctest_setup.py and the flags ELLIPSIS | NORMALIZE_WHITESPACE, and both
share one namespace per page (Sphinx's "default" group).  Sybil does not see
colon-fenced ``:::{doctest}`` blocks nor ``{testsetup}``/``{testcode}``, so the
docs use neither (tests/test_docs_structure.py checks this).

Skip an example in pytest only with a MyST comment ``% skip: next "reason"``;
reset a page's namespace with ``% clear-namespace`` (Sphinx has no equivalent
and keeps the names, so use it only where that makes no difference).
"""

from __future__ import annotations

import sys
from doctest import ELLIPSIS, NORMALIZE_WHITESPACE
from pathlib import Path
from typing import Any

from sybil import Sybil
from sybil.parsers.myst import ClearNamespaceParser, DocTestDirectiveParser, SkipParser

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# --doctest-modules must not import conf.py (it has side effects), the local Sphinx
# extensions, nor figure scripts: Python files under docs/ are never test modules.
collect_ignore = ["conf.py", "_ext", "_doctest_setup.py", "_build"]
collect_ignore_glob = ["*.py"]

# NumPy print options in force before the current page, restored after it.
_saved_print_options: list[dict[str, Any]] = []


def _setup(namespace: dict[str, Any]) -> None:
    import numpy as np

    _saved_print_options.append(np.get_printoptions())

    import _doctest_setup

    namespace.update({name: getattr(_doctest_setup, name) for name in _doctest_setup.__all__})
    # The docs' print options apply to this page only (see _teardown), so that
    # they do not leak into the unit tests run in the same process.
    np.set_printoptions(**_doctest_setup.PRINT_OPTIONS)


def _teardown(namespace: dict[str, Any]) -> None:
    import numpy as np

    if _saved_print_options:
        np.set_printoptions(**_saved_print_options.pop())


pytest_collect_file = Sybil(
    parsers=[
        DocTestDirectiveParser(optionflags=ELLIPSIS | NORMALIZE_WHITESPACE),
        SkipParser(),
        ClearNamespaceParser(),
    ],
    patterns=["*.md"],
    excludes=["_build/*"],
    setup=_setup,
    teardown=_teardown,
).pytest()
