"""Reference of ``zonemodel._kernels.rng``: xoshiro256** with Python integers."""

from __future__ import annotations

import math

_MASK = (1 << 64) - 1


class Xoshiro:
    """xoshiro256** (Blackman and Vigna), the generator of zonemodel._kernels.rng."""

    def __init__(self, state: object) -> None:
        self.s = [int(v) for v in state]  # type: ignore[attr-defined]

    @staticmethod
    def _rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & _MASK

    def next(self) -> int:
        s = self.s
        result = (self._rotl((s[1] * 5) & _MASK, 7) * 9) & _MASK
        t = (s[1] << 17) & _MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self) -> float:
        """A double in [0, 1) from the top 53 bits."""
        return (self.next() >> 11) * 2.0**-53

    def exp(self, mean: float) -> float:
        """An exponential variate of the given mean (inversion of one uniform)."""
        return -mean * math.log(1.0 - self.uniform())
