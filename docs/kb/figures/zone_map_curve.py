"""Figure: the fork bomb's count against zone map size (built by the docs from the model)."""

from zonemodel.studies.figures import plot_zone_map_curve

plot_zone_map_curve()
