"""Atomic file writes: a temporary file in the target's directory, then ``os.replace``.

Every temporary file being written is registered, so that an exit forced by a second
signal can remove them all (``discard_all``): an output is written whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_LIVE: set[str] = set()          # temporary files being written now


class AtomicFile:
    """A file written under a temporary name beside ``path``: ``commit()`` renames it into
    place, ``discard()`` removes it and leaves ``path`` as it was. Streams a large output
    (a trace) without holding it in memory."""

    def __init__(self, path: str | os.PathLike, mode: str = "w") -> None:
        if mode not in ("w", "wb"):
            raise ValueError(f"atomic file mode must be 'w' or 'wb', not {mode!r}")
        self.path = Path(path)
        directory = self.path.parent if str(self.path.parent) else Path(".")
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                        dir=directory)
        _LIVE.add(self.tmp)
        kwargs = {"encoding": "utf-8", "newline": "\n"} if mode == "w" else {}
        try:
            self.file: IO = os.fdopen(fd, mode, **kwargs)
        except BaseException:
            os.close(fd)
            self.discard()
            raise
        self.done = False

    def sync(self) -> None:
        """Write what is buffered and wait until the disk has it (``commit`` does it too;
        done earlier, the wait overlaps other work)."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        """Finish the file and put it in place of ``path``."""
        if self.done:
            return
        self.sync()                     # quick after an earlier sync(): nothing new to write
        try:
            self.file.close()
            os.chmod(self.tmp, 0o666 & ~_umask())
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise
        self.done = True
        _LIVE.discard(self.tmp)

    def discard(self) -> None:
        """Remove the temporary file; ``path`` is untouched."""
        self.done = True
        with contextlib.suppress(OSError, ValueError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)
        _LIVE.discard(self.tmp)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``, on an
    exception it is removed and ``path`` is left as it was."""
    f = AtomicFile(path, mode)
    try:
        yield f.file
    except BaseException:
        f.discard()
        raise
    f.commit()


def discard_all() -> None:
    """Remove every temporary file being written (before a forced exit)."""
    for tmp in list(_LIVE):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _LIVE.discard(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w") as f:
        f.write(text)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as f:
        f.write(data)
