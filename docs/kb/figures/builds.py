"""Figure: ext2fs's threads, the zone map and the dirty pages over one install of 6000 files (2005 kernel)."""

from zonemodel.studies.disk import plot_build_trace

plot_build_trace()
