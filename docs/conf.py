"""Sphinx configuration for the zonemodel site (MyST Markdown, pydata-sphinx-theme).

Build with ``python3 -m nox -s docs`` (HTML, nitpicky, warnings are errors) or
``python3 -m nox -s doctest`` (runs every ``{doctest}`` block).  No network is
needed: intersphinx and linkcheck are deliberately not used.
"""

from __future__ import annotations

import doctest
import importlib.metadata
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from packaging.version import Version

HERE = Path(__file__).resolve().parent
# _doctest_setup.py lives here; local extensions live in _ext/.
sys.path[:0] = [str(HERE), str(HERE / "_ext")]

# sphinx-autodoc-typehints 3.6 calls a Sphinx API deprecated for Sphinx 10; the
# Python warning is noise in every build log (it is not a Sphinx warning, -W ignores it).
warnings.filterwarnings("ignore", message=r".*_RstSnippetParser\.set_application.*", module="sphinx_autodoc_typehints")

# -- Project ------------------------------------------------------------------
project = "zonemodel"
author = "the zonemodel contributors"
copyright = "2026, the zonemodel contributors"
release = importlib.metadata.version("zonemodel")
version = ".".join(release.split(".")[:2])

# -- General ------------------------------------------------------------------
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    # after napoleon, so that it sees the converted docstrings
    "sphinx_autodoc_typehints",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "matplotlib.sphinxext.plot_directive",
    # local, in _ext/
    "zonemodel_tables",
    "claims",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]

# docs/_ext/claims.py: the pages whose observations must each have a {claim}.
claims_expected = {"kb/zalloc-panics": [f"O{n}" for n in range(1, 22)]}

# Cross-references must resolve: a broken one fails the build (-n -W).
nitpicky = True
nitpick_ignore_regex = [
    # No intersphinx (the build runs offline), so types documented elsewhere
    # (NumPy, numba, the standard library) cannot resolve; they render unlinked.
    ("py:class", r"(numpy|np|numba|matplotlib)\..*"),
    ("py:class", r"(collections\.abc|types)\..*"),
    ("py:class", r"mappingproxy"),  # how a MappingProxyType value is named
    ("py:(class|data)", r"typing\..*"),  # e.g. typing.Literal
    ("py:data", r"Ellipsis"),  # the "..." of tuple[int, ...]
]

# -- autodoc / napoleon / typehints ---------------------------------------------
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
always_document_param_types = True
typehints_document_rtype = True
typehints_defaults = "comma"

# -- doctest ------------------------------------------------------------------
# The same setup module and flags are used by Sybil (docs/conftest.py), so that
# `nox -s doctest` and `nox -s tests` judge every example alike.
doctest_global_setup = "from _doctest_setup import *"
doctest_default_flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Docstring examples are run by pytest --doctest-modules, with their module's globals.
doctest_test_doctest_blocks = ""

# -- plots --------------------------------------------------------------------
# In MyST, use the plot directive inside {eval-rst} with a path relative to docs/.
plot_basedir = str(HERE)
plot_html_show_formats = False
plot_html_show_source_link = False
plot_formats = [("png", 120)]

# -- HTML ---------------------------------------------------------------------
# The switcher marks this build as "dev" unless it is a release build;
# on Read the Docs the "latest" build (the default branch) is "dev" as well, and
# so is the GitHub Pages build of the default branch (.github/workflows/pages.yml).
_is_dev = (
    Version(release).is_prerelease
    or os.environ.get("READTHEDOCS_VERSION", "") == "latest"
    or os.environ.get("ZONEMODEL_DOCS_VERSION", "") == "dev"
)
# The theme resolves a relative json_url against the page's URL less the page's
# path: right for every link Sphinx writes (".../tutorial/index.html"), wrong for
# a directory URL (".../tutorial/" fetches tutorial/_static/switcher.json, a 404
# and a console error).  A hosted build knows its own address and uses it.
_site_url = os.environ.get("READTHEDOCS_CANONICAL_URL") or os.environ.get("ZONEMODEL_SITE_URL", "")
_switcher_url = f"{_site_url.rstrip('/')}/_static/switcher.json" if _site_url else "_static/switcher.json"
html_theme = "pydata_sphinx_theme"
html_title = f"zonemodel {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_start": ["navbar-logo", "version-switcher"],
    "switcher": {
        # Relative to the site root in local builds, so that it works offline and
        # on any host; absolute in hosted builds (see _switcher_url above).  Once
        # there are releases, point every version at the newest copy instead, so
        # that old versions list new releases too.
        "json_url": _switcher_url,
        "version_match": "dev" if _is_dev else version,
    },
    # The build runs offline: do not try to read the switcher at build time.
    "check_switcher": False,
    "show_version_warning_banner": False,
    "navigation_with_keys": False,
    "secondary_sidebar_items": {
        "**": ["page-toc", "sourcelink"],
        # Wide generated tables: give them the whole width.
        "reference/parameters": [],
    },
}
html_context = {"default_mode": "auto"}
html_show_sourcelink = True


# -- Local setup --------------------------------------------------------------
def _napoleon_except_attributes(app: Any) -> None:
    """Keep napoleon away from attribute, property and data docstrings.

    napoleon reads the first line of such a docstring as ``type: description``,
    so ``"TASK_MAX: soft maximum of the tasks zone"`` would render with the type
    ``TASK_MAX`` (and fail -n as a broken reference).  Here those docstrings are
    one-line prose and their types come from the annotations, so napoleon is
    only needed for functions, classes and modules.
    """
    from sphinx.ext.napoleon import _process_docstring

    for listener in list(app.events.listeners["autodoc-process-docstring"]):
        if listener.handler is _process_docstring:
            app.disconnect(listener.id)

    def process(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
        if what not in {"attribute", "property", "data"}:
            _process_docstring(app, what, name, obj, options, lines)

    # Before sphinx_autodoc_typehints (priority 500), as napoleon itself would be.
    app.connect("autodoc-process-docstring", process, priority=499)


def setup(app: Any) -> None:
    _napoleon_except_attributes(app)
