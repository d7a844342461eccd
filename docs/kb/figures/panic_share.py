"""Figure: the share of fast closes that panic against the storm size, with each source of variance switched off."""

from zonemodel.studies.figures import plot_panic_share

plot_panic_share()
