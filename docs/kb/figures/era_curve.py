"""Figure: the console fork bomb's count on each preset against RAM."""

from zonemodel.studies.figures import plot_era_curve

plot_era_curve()
