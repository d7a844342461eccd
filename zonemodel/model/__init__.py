"""The model: GNU Mach and the Hurd as plain-Python values.

Kernel presets and their provenance, the zones' specifications, the IPC
table sizes, the boot budget of kernel_map, thread policies and resource
limits.  Nothing here imports numba or runs a simulation.
"""
