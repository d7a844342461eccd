"""Figure: threads and zone use over time during a fast close storm, per thread policy."""

from zonemodel.studies.figures import plot_storms

plot_storms()
