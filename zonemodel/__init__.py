"""zonemodel: a mechanistic simulation of GNU Mach's kernel memory and the Hurd around it.

The public API is re-exported here; importing zonemodel compiles nothing
(kernels compile lazily on first use and are cached on disk).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from zonemodel import errors
from zonemodel.experiments.builds import compile_job
from zonemodel.experiments.forkbomb import fork_bomb
from zonemodel.experiments.replay import ZoneMapReport, replay
from zonemodel.experiments.results import (
    BuildResult,
    BuildRuns,
    CloseBurstResult,
    CloseBurstRuns,
    ForkBombResult,
    ForkBombRuns,
    KillResult,
    OpenPortsResult,
    ServerTable,
    ServerUsage,
    ZoneUsage,
)
from zonemodel.experiments.storms import close_burst, open_ports
from zonemodel.experiments.system import System, SystemDown
from zonemodel.model import policies
from zonemodel.model.boot import BootReport, boot, max_bootable_zone_map
from zonemodel.model.kernel import YEARS, Kernel, gnumach, provenance_table
from zonemodel.model.limits import Limits
from zonemodel.studies.sweep import SweepResult, sweep
from zonemodel.studies.warmup import WarmupReport, warmup
from zonemodel.units import format_size, parse_size

try:
    __version__ = version("zonemodel")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "YEARS",
    "BootReport",
    "BuildResult",
    "BuildRuns",
    "CloseBurstResult",
    "CloseBurstRuns",
    "ForkBombResult",
    "ForkBombRuns",
    "Kernel",
    "KillResult",
    "Limits",
    "OpenPortsResult",
    "ServerTable",
    "ServerUsage",
    "SweepResult",
    "System",
    "SystemDown",
    "WarmupReport",
    "ZoneMapReport",
    "ZoneUsage",
    "__version__",
    "boot",
    "close_burst",
    "compile_job",
    "errors",
    "fork_bomb",
    "format_size",
    "gnumach",
    "max_bootable_zone_map",
    "open_ports",
    "parse_size",
    "policies",
    "provenance_table",
    "replay",
    "sweep",
    "warmup",
]
