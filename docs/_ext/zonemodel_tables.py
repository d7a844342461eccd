"""Local Sphinx extension: tables generated from zonemodel at build time.

Provides the directive ``provenance-table``; in MyST::

    ```{provenance-table} 2005
    ```

It renders ``zonemodel.provenance_table(zonemodel.gnumach(2005))`` as a table
with one row per parameter: parameter, value, kind, reference, note.  The
table is rebuilt on every build, so it cannot drift from the presets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

COLUMNS = ("parameter", "value", "kind", "reference", "note")
WIDTHS = (18, 9, 9, 36, 28)


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
        thead += self._row([nodes.Text(name) for name in COLUMNS])
        tbody = nodes.tbody()
        tgroup += tbody
        for row in rows:
            cells: list[nodes.Node] = [nodes.literal(text=str(row["parameter"]))]
            cells += [nodes.Text(str(row[name])) for name in COLUMNS[1:]]
            tbody += self._row(cells)
        self.add_name(table)
        return [table]

    @staticmethod
    def _row(cells: list[nodes.Node]) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", cell)
            row += entry
        return row


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("provenance-table", ProvenanceTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
