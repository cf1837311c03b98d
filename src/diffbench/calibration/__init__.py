"""Calibration of level-4/5 targets: per distinct baseline, an Optuna search of the knowledge base's space for
the largest speedup within the quality bound; the configuration found becomes the tasks' reference code."""
