"""Figure: the fork bomb's count against the time between forks."""

from zonemodel.studies.figures import plot_interval_curve

plot_interval_curve()
