"""xoshiro256** random numbers inside kernels, one independent stream per replicate.

Numba JIT-compiled; used by the process and server kernels.  A stream is a
``uint64[4]`` state array seeded by :func:`zonemodel.seeds.replicate_states`
from a :class:`numpy.random.SeedSequence`, so results never depend on
threads, executors or scheduling.  ``tests/reference/rng.py`` has the same
generator written with Python integers.
"""

from __future__ import annotations

import numpy as np

from zonemodel._kernels.jit import kernel

# NOTE: every constant is a uint64 so numba never promotes the arithmetic to float64.
_U5 = np.uint64(5)
_U7 = np.uint64(7)
_U9 = np.uint64(9)
_U11 = np.uint64(11)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U64 = np.uint64(64)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@kernel(inline=True)
def _rotl(x: np.uint64, k: np.uint64) -> np.uint64:
    return (x << k) | (x >> (_U64 - k))


@kernel(inline=True)
def _next_u64(s: np.ndarray) -> np.uint64:
    """Advance the state *s* in place and return the next 64-bit output."""
    result = _rotl(s[1] * _U5, _U7) * _U9
    t = s[1] << _U17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], _U45)
    return result


@kernel(inline=True)
def _uniform(s: np.ndarray) -> float:
    """A double in [0, 1) with 53 random bits."""
    return float(_next_u64(s) >> _U11) * _INV53
