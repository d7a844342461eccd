"""zonemodel: a mechanistic simulation of GNU Mach's kernel memory and the Hurd around it.

The public API is re-exported here; importing zonemodel compiles nothing
(kernels compile lazily on first use and are cached on disk).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from zonemodel import errors, policies
from zonemodel.boot import BootReport, boot, max_bootable_zone_map
from zonemodel.forkbomb import ForkBombResult, ForkBombRuns, fork_bomb
from zonemodel.limits import Limits
from zonemodel.presets import YEARS, Kernel, gnumach, provenance_table
from zonemodel.results import ZoneUsage
from zonemodel.servers import CloseBurstResult, CloseBurstRuns, OpenPortsResult, close_burst, open_ports
from zonemodel.sweep import SweepResult, sweep
from zonemodel.system import System, SystemDown
from zonemodel.units import format_size, parse_size
from zonemodel.warmup import WarmupReport, warmup
from zonemodel.zonemap import ZoneMapReport, replay

try:
    __version__ = version("zonemodel")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "YEARS",
    "BootReport",
    "CloseBurstResult",
    "CloseBurstRuns",
    "ForkBombResult",
    "ForkBombRuns",
    "Kernel",
    "Limits",
    "OpenPortsResult",
    "SweepResult",
    "System",
    "SystemDown",
    "WarmupReport",
    "ZoneMapReport",
    "ZoneUsage",
    "__version__",
    "boot",
    "close_burst",
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
