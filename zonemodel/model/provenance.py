"""Where every number in a preset comes from.

Each parameter of a kernel preset carries one of four kinds of provenance:

* :class:`Source`: read from GNU Mach, Hurd, glibc or Debian sources (file and commit);
* :class:`Document`: stated in a document (the wiki page, a mail, an IRC log);
* :class:`Estimate`: our own estimate or hypothesis, with the reasoning;
* :class:`Fitted`: fitted by :mod:`zonemodel.studies.calibration` to named observations.

A value the user sets with an override gets :class:`Override`.  Sizes of C
structures that were measured by compiling the historical headers are
:class:`Source` entries whose note says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ["Document", "Estimate", "Fitted", "Override", "Provenance", "Source"]

Kind: TypeAlias = Literal["source", "document", "estimate", "fitted", "override"]


@dataclass(frozen=True)
class Source:
    """A value read from source code."""

    file: str
    """Path of the file, with a line where useful (``kern/zalloc.c:102``)."""
    commit: str
    """Repository and commit or release (``GNU Mach 80fee107 (2005-07-12)``)."""
    note: str = ""

    kind: Kind = "source"

    @property
    def reference(self) -> str:
        """One line naming the source."""
        return f"{self.file} @ {self.commit}"


@dataclass(frozen=True)
class Document:
    """A value stated in a document."""

    where: str
    """The document (``zalloc panics r2``, a mail, an IRC log) and its address."""
    note: str = ""

    kind: Kind = "document"

    @property
    def reference(self) -> str:
        """One line naming the document."""
        return self.where


@dataclass(frozen=True)
class Estimate:
    """Our own estimate, with the reasoning behind it."""

    reasoning: str

    kind: Kind = "estimate"
    note: str = ""

    @property
    def reference(self) -> str:
        """The reasoning."""
        return self.reasoning


@dataclass(frozen=True)
class Fitted:
    """A value fitted by code to observations."""

    observations: tuple[str, ...]
    """IDs of the observations the fit used (``("O7", "O12")``)."""
    function: str
    """Dotted name of the function that performs the fit."""
    note: str = ""

    kind: Kind = "fitted"

    @property
    def reference(self) -> str:
        """Which observations, by which function."""
        return f"fitted to {', '.join(self.observations)} by {self.function}"


@dataclass(frozen=True)
class Override:
    """A value set by the user when building a kernel."""

    kind: Kind = "override"
    note: str = ""

    @property
    def reference(self) -> str:
        """Always 'set by the user'."""
        return "set by the user"


Provenance: TypeAlias = Source | Document | Estimate | Fitted | Override
