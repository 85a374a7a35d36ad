"""Benchmarks: the engine against a plain NumPy baseline, scaling, parallelism."""
