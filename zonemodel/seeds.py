"""Seeds: one :class:`numpy.random.SeedSequence` per experiment, one stream per replicate.

Every experiment takes ``seed=`` (an ``int``, a ``SeedSequence`` or ``None``
for fresh entropy).  Replicate *i* always gets child *i* of that sequence, so
running 1000 replicates at once or in batches of 10, on one thread or many,
gives the same numbers.
"""

from __future__ import annotations

import numpy as np

from zonemodel.errors import ParameterError

__all__ = ["SeedLike", "as_seed_sequence", "replicate_states"]

SeedLike = int | np.random.SeedSequence | None


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Normalise *seed* into a SeedSequence (``None`` draws fresh entropy, recorded in the result)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f'"seed" must be a non-negative int, a numpy SeedSequence or None, got {seed!r}')
    return np.random.SeedSequence(int(seed))


def replicate_states(seed: SeedLike, runs: int, start: int = 0) -> np.ndarray:
    """xoshiro256** states for replicates ``start .. start + runs - 1`` of *seed*.

    Returns a C-contiguous ``uint64`` array of shape ``(runs, 4)``.

    Examples
    --------
    >>> replicate_states(7, 3).shape
    (3, 4)
    >>> (replicate_states(7, 3)[1:] == replicate_states(7, 2, start=1)).all()
    np.True_
    """
    ss = as_seed_sequence(seed)
    # Child i of ss, as ss.spawn() would make it, built directly: the caller's sequence is not advanced,
    # and replicates far into the stream cost no more than the first ones (batches stay linear in runs).
    entropy, key, pool = ss.entropy, tuple(ss.spawn_key), ss.pool_size
    states = np.empty((runs, 4), dtype=np.uint64)
    for i in range(runs):
        child = np.random.SeedSequence(entropy, spawn_key=(*key, start + i), pool_size=pool)
        state = child.generate_state(4, np.uint64)
        if not state.any():  # xoshiro must not start from all zeros
            state[0] = 1
        states[i] = state
    return states
