"""Measured runs (never timed assertions in tests): `python -m benchmarks.run`."""
