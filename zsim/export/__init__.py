"""Writers for the outputs of ``zsim run``: trace, Perfetto, plot and topology graph.

Each writer takes the run's trace events (docs/trace-format.md) or its kernel objects and
writes one file atomically (``zsim.export.atomic``).
"""

from .atomic import atomic_write, write_bytes, write_text

__all__ = ["atomic_write", "write_bytes", "write_text"]
