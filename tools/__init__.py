"""Maintainer tools, run from the repository's folder as `.venv/bin/python -m tools.NAME`.

The README's "Maintaining" section says when to run each.
"""
