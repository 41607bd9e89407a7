"""Benchmarks, run from the repository's folder as `.venv/bin/python -m benchmarks.NAME`."""
