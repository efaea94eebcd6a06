"""Subcommands of the ``zsim`` command line, one module each."""
