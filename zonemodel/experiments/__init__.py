"""The experiments: validated public functions that boot a system, run a kernel and summarise its rows."""
