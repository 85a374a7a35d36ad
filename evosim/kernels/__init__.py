"""Numba kernels: pure functions over arrays. Imports no other evosim package."""
