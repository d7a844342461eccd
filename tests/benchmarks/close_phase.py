"""The benchmark's own kernel: the closing phase of a close burst, alone.

The experiments run a burst's event loop inside ``_burst_run``, after the
opens; benchmark (e) times the loop by itself, from a state set up once.
Defined here, not in zonemodel, so that every kernel of the package is one
that a public experiment reaches (``tests/test_startup.py``).
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels.engine import _serve
from zonemodel._kernels.jit import kernel
from zonemodel._kernels.layout import EF_NOW, Machine, ServerModel
from zonemodel._kernels.storms import _burst_engine


@kernel(entry=True)
def close_phase(
    m: Machine, srv: ServerModel, state: np.ndarray, closes_of: np.ndarray, gap: float, kill: bool,
    lat: np.ndarray, trace: np.ndarray,
) -> tuple[int, float, int]:  # fmt: skip
    """Client *c* closes its ``closes_of[c]`` ports and the servers serve; return (status, end time, events)."""
    eng = _burst_engine(srv, state, closes_of, gap, kill, lat, trace)
    status, events = _serve(m, eng, srv, state, np.inf, None)
    return status, eng.ef[EF_NOW], events
