"""Local Sphinx extension: tables generated from zonemodel at build time.

Provides the directive ``provenance-table``; in MyST::

    ```{provenance-table} 2005
    ```

It renders ``zonemodel.provenance_table(zonemodel.gnumach(2005))`` as a table
with one row per parameter: parameter, value, kind, reference, note.  The
table is rebuilt on every build, so it cannot drift from the presets.

Each parameter links to its entry in the API reference (the attribute of
``zonemodel.Kernel``: a parameter without one fails the nitpicky build), and
each commit a reference or a note names links to that commit in its
repository (:func:`commit_url`).  Releases and tags (``GNU Mach 1.4 (v1.4,
...)``, ``glibc 2.3``) are not commits and stay plain text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

COLUMNS = ("parameter", "value", "kind", "reference", "note")
WIDTHS = (18, 9, 9, 36, 28)

# Where a commit of each repository is shown: the GNU Mach and Hurd repositories
# on Savannah's cgit, Debian's gnumach packaging on Salsa.  The repository of a
# row is the one its reference names.
COMMIT_URLS = {
    "GNU Hurd": "https://git.savannah.gnu.org/cgit/hurd/hurd.git/commit/?id={commit}",
    "Debian gnumach packaging": "https://salsa.debian.org/hurd-team/gnumach/-/commit/{commit}",
    "GNU Mach": "https://git.savannah.gnu.org/cgit/hurd/gnumach.git/commit/?id={commit}",
}
# An abbreviated commit: 7 to 12 hex digits with a letter among them, or any
# such digits right after "commit " or "packaging " (9219473, 38154426).
COMMIT = re.compile(r"(?<![\w.:-])(?:(?=[0-9a-f]*[a-f])|(?<=commit )|(?<=packaging ))[0-9a-f]{7,12}(?![\w-])")


def repository(reference: str) -> str | None:
    """The repository a provenance reference names (a key of :data:`COMMIT_URLS`), if any.

    >>> repository("kern/zalloc.c:102 (zone_map_size) @ GNU Mach 1.3 4fd7c820 (2002-05-27)")
    'GNU Mach'
    >>> repository("Debian gnumach packaging 9219473 (2005-05-14)")
    'Debian gnumach packaging'
    >>> repository("sysdeps/mach/hurd/fork.c @ glibc 2.3 (Debian GNU/Hurd 2005)") is None
    True
    """
    where = reference.rpartition(" @ ")[2] or reference
    for name in COMMIT_URLS:
        if name in where:
            return name
    return None


def commit_url(repo: str, commit: str) -> str:
    """The address of *commit* in *repo* (a key of :data:`COMMIT_URLS`)."""
    return COMMIT_URLS[repo].format(commit=commit)


def linked_text(text: str, repo: str | None) -> list[nodes.Node]:
    """*text* as nodes, each commit it names a link to that commit in *repo* (plain text without one).

    >>> [n.astext() for n in linked_text("commit 30a90860 (2006-05-08) @ GNU Mach bc85b863", "GNU Mach")]
    ['commit ', '30a90860', ' (2006-05-08) @ GNU Mach ', 'bc85b863']
    """
    if repo is None:
        return [nodes.Text(text)]
    out: list[nodes.Node] = []
    last = 0
    for match in COMMIT.finditer(text):
        if match.start() > last:
            out.append(nodes.Text(text[last : match.start()]))
        out.append(nodes.reference(match[0], match[0], refuri=commit_url(repo, match[0]), classes=["commit-link"]))
        last = match.end()
    if last < len(text):
        out.append(nodes.Text(text[last:]))
    return out


def parameter_link(name: str) -> addnodes.pending_xref:
    """A cross-reference from a parameter's name to its attribute of ``zonemodel.Kernel``."""
    ref = addnodes.pending_xref(
        "",
        refdomain="py",
        reftype="attr",
        reftarget=f"zonemodel.Kernel.{name}",
        refexplicit=True,
        refwarn=True,
    )
    ref["py:module"] = "zonemodel"
    ref["py:class"] = "Kernel"
    ref += nodes.literal(name, name, classes=["xref", "py", "py-attr"])
    return ref


class ProvenanceTable(SphinxDirective):
    """Render the provenance table of one kernel preset."""

    required_arguments = 1  # the preset's year
    optional_arguments = 0
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        import zonemodel

        try:
            year = int(self.arguments[0])
        except ValueError:
            raise self.error(f"provenance-table: the argument must be a year, not {self.arguments[0]!r}") from None
        try:
            rows = zonemodel.provenance_table(zonemodel.gnumach(year))
        except Exception as exc:
            raise self.error(f"provenance-table: zonemodel failed for {year}: {exc!r}") from exc
        # Re-read this page in incremental builds whenever the package's code changes.
        for path in sorted(Path(zonemodel.__file__).parent.rglob("*.py")):
            self.env.note_dependency(str(path))
        if not rows:
            raise self.error(f"provenance-table: preset {year} has no parameters")
        missing = set(COLUMNS) - set(rows[0])
        if missing:
            raise self.error(f"provenance-table: rows lack the keys {sorted(missing)}")

        table = nodes.table(classes=["provenance-table", *self.options.get("class", [])])
        title = nodes.title(text=f"Parameters of the {year} preset and their provenance")
        table += title
        tgroup = nodes.tgroup(cols=len(COLUMNS))
        table += tgroup
        for width in WIDTHS:
            tgroup += nodes.colspec(colwidth=width)
        thead = nodes.thead()
        tgroup += thead
        thead += self._row([[nodes.Text(name)] for name in COLUMNS])
        tbody = nodes.tbody()
        tgroup += tbody
        for row in rows:
            repo = repository(str(row["reference"])) if row["kind"] == "source" else None
            cells: list[list[nodes.Node]] = [
                [parameter_link(str(row["parameter"]))],
                [nodes.Text(str(row["value"]))],
                [nodes.Text(str(row["kind"]))],
                linked_text(str(row["reference"]), repo),
                linked_text(str(row["note"]), repo),
            ]
            tbody += self._row(cells)
        self.add_name(table)
        return [table]

    @staticmethod
    def _row(cells: list[list[nodes.Node]]) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", *cell)
            row += entry
        return row


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("provenance-table", ProvenanceTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
