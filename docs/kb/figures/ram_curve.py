"""Figure: the fork bomb's count against physical memory (built by the docs from the model)."""

from zonemodel.studies.figures import plot_ram_curve

plot_ram_curve()
