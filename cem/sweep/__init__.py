"""Sweeps that scale and survive: one owner per run (:mod:`cem.sweep.lock`, :mod:`cem.sweep.job`),
a manifest of planned runs, progress, signals, a summary and an exit status, the grid sweeper,
the submitit launchers and the Pareto search (:mod:`cem.sweep.pareto`)."""
