"""Exceptions raised by the simulator."""

from __future__ import annotations


class ZsimError(Exception):
    """Base class of every error zsim raises on purpose."""


class KernelAssertionError(ZsimError, AssertionError):
    """A Zephyr ``__ASSERT`` that fails in the simulated firmware.

    The message follows Zephyr's ``ASSERTION FAIL [expr] @ file:line`` form, naming the
    Zephyr source the check comes from, followed by the kernel's own explanation.
    """

    def __init__(self, expr: str, where: str, detail: str = "") -> None:
        self.expr = expr
        self.where = where
        self.detail = detail
        msg = f"ASSERTION FAIL [{expr}] @ {where}"
        if detail:
            msg += f"\n\t{detail}"
        super().__init__(msg)


class ContextError(KernelAssertionError):
    """A kernel call made from a context that may not make it (ISR, no thread)."""


class NetBufError(KernelAssertionError):
    """Misuse of a net_buf: overflow, underflow, double free, use after free."""


class DeadlockError(ZsimError):
    """``Kernel.call`` can never return: its thread is blocked and nothing can wake it."""


class ConfigError(ZsimError, ValueError):
    """A bad Kconfig mapping or ``prj.conf`` file (names file, line and expectation)."""


class BoardError(ZsimError, ValueError):
    """An unknown board or a malformed board profile."""


class RunStopped(BaseException):
    """A run stopped from outside the simulation (a signal, a wall-clock limit) where the
    simulated code did not give the kernel a chance to stop it cooperatively; not an error
    of the model. A BaseException so that model code catching ``Exception`` cannot swallow
    it."""
