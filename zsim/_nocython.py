"""Stands in for the ``cython`` module when Cython is not installed: the sources run as
plain Python (``compiled`` is False)."""

compiled = False
