"""Private numba kernels: the simulation's inner loops over NumPy arrays.

Only :mod:`zonemodel.experiments` calls them.  Each module imports numba,
NumPy and other modules of this package (the data layout lives in
:mod:`zonemodel._kernels.layout`), nothing else of zonemodel.  Every kernel
has a plain-Python reference of the same semantics in ``tests/reference/``.
"""
