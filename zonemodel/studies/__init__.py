"""Studies built on the experiments: sweeps, calibration, the observed targets, figures, warm-up."""
