"""Shared plumbing of kernel objects: the owning kernel, a name, optional C-order args."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Kernel


def split_name(args: tuple[Any, ...], name: str | None) -> tuple[tuple[Any, ...], str | None]:
    """Accept ``Obj(k, "name", ...)`` as well as ``Obj(k, ..., name="name")``."""
    if args and isinstance(args[0], str):
        if name is not None:
            raise TypeError("name given twice")
        return args[1:], args[0]
    return args, name


def check_kernel(k: Kernel) -> Kernel:
    from .core import Kernel
    if not isinstance(k, Kernel):
        raise TypeError(f"first argument must be the Kernel, got {k!r}")
    return k
