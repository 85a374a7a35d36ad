"""Headless evolution: runs, metrics, checkpoints, evaluation."""
