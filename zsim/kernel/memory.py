"""Static RAM of a simulated firmware, checked against the board like a link step.

Each kernel, net_buf and packet_io object reports the bytes its C definition reserves
(``ram_usage``), sized from the struct layouts of the Zephyr v3.7 headers for the board's
pointer size and the configuration (names, stats, spinlock validation). The kernel adds its
own stacks. ``Kernel.memory_report()`` returns the sum; over the board's RAM the kernel
raises ``LinkError`` in the linker's words. Objects whose size the user chooses (net_buf
pools, a topology's queues and stacks) are checked before they are allocated
(:func:`ram_overflow`, :class:`RamOverflowError`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ConfigError, ZsimError

if TYPE_CHECKING:
    from ..config import Config


class LinkError(ZsimError):
    """The firmware's static data does not fit the board (``region 'RAM' overflowed``)."""


class RamOverflowError(LinkError, ConfigError):
    """An object refused before it is allocated: it cannot fit the board's RAM (bad input)."""


def ram_overflow(what: str, need: int, before: int, ram: int, board: str) -> str | None:
    """Why ``what``, needing ``need`` bytes after ``before`` bytes already used, does not
    fit the ``ram`` bytes of ``board``, in the linker's words; None when it fits."""
    over = before + need - ram
    if over <= 0:
        return None
    used = f", {before} bytes used before it" if before else ""
    return (f"{what} needs {need} bytes of RAM{used}: region 'RAM' overflowed by {over} "
            f"bytes ({ram} bytes on {board})")


class Layout:
    """C struct sizes on one ABI: ``sizeof`` of the structs zsim models."""

    def __init__(self, pointer_size: int, config: Config) -> None:
        self.p = pointer_size
        self.config = config
        self.spinlock = pointer_size if config.enabled("SPIN_VALIDATE") else 0
        self.timeout64 = config.enabled("TIMEOUT_64BIT")

    def struct(self, *fields: int | tuple[int, int]) -> int:
        """``sizeof`` a struct of fields given as sizes or ``(size, align)`` pairs. A bare
        size is aligned to itself up to the pointer size (scalars, and members made of
        pointers); 64-bit scalars on 32-bit targets pass ``(8, 8)``. Zero-size members
        take no room."""
        offset, max_align = 0, 1
        for f in fields:
            size, align = f if isinstance(f, tuple) else (f, min(max(f, 1), self.p))
            if size == 0:
                continue
            offset = -(-offset // align) * align + size
            max_align = max(max_align, align)
        return -(-offset // max_align) * max_align

    def round_up(self, n: int, align: int | None = None) -> int:
        a = align or self.p
        return -(-n // a) * a

    # include/zephyr/sys/dlist.h, kernel_structs.h
    @property
    def dlist(self) -> int:
        return 2 * self.p

    @property
    def wait_q(self) -> int:
        return self.dlist

    @property
    def ticks(self) -> tuple[int, int]:
        """``k_ticks_t``: 64-bit with ``CONFIG_TIMEOUT_64BIT``."""
        return (8, 8) if self.timeout64 else (4, 4)

    @property
    def timeout(self) -> int:
        """``struct _timeout``: list node, handler, ``dticks``."""
        return self.struct(self.dlist, self.p, self.ticks)

    @property
    def msgq(self) -> int:
        """``struct k_msgq`` (kernel.h)."""
        p = self.p
        return self.struct(self.wait_q, (self.spinlock, p), p, 4, p, p, p, p, 4, 1)

    @property
    def queue(self) -> int:
        """``struct k_queue`` (k_fifo, k_lifo)."""
        return self.struct(self.dlist, (self.spinlock, self.p), self.wait_q)

    @property
    def sem(self) -> int:
        return self.struct(self.wait_q, 4, 4)

    @property
    def mutex(self) -> int:
        return self.struct(self.wait_q, self.p, 4, 4)

    @property
    def timer(self) -> int:
        p = self.p
        return self.struct(self.timeout, self.wait_q, p, p, self.ticks, 4, p)

    @property
    def thread(self) -> int:
        """``struct k_thread``: an estimate (it depends on the architecture's saved
        context): about 40 words on a 32-bit target."""
        return 40 * self.p

    @property
    def net_buf(self) -> int:
        """``struct net_buf`` without user data (include/zephyr/net/buf.h)."""
        p = self.p
        return self.struct(p, 1, 1, 1, 1, p, 2, 2, p)

    @property
    def net_buf_pool(self) -> int:
        p = self.p
        usage = self.config.enabled("NET_BUF_POOL_USAGE")
        return self.struct(self.queue, (self.spinlock, p), 2, 2, 1,
                           4 if usage else 0, 2 if usage else 0, p if usage else 0, p, p, p)

    def fixed_pool(self, count: int, size: int, user_data_size: int) -> int:
        """RAM of ``NET_BUF_POOL_FIXED_DEFINE``: buffer headers with user data, the data
        array and the pool struct (what ``NetBufPool.ram_usage`` reports)."""
        header = self.round_up(self.net_buf + user_data_size)
        return count * header + self.round_up(count * size) + self.net_buf_pool + 2 * self.p

    def msgq_ring(self, msg_size: int, max_msgs: int) -> int:
        """RAM of ``K_MSGQ_DEFINE``: the struct and its ring of messages."""
        return self.msgq + self.round_up(max_msgs * msg_size, 4)

    def thread_with_stack(self, stack_size: int) -> int:
        """RAM of a thread: its stack (8-byte aligned) and its ``struct k_thread``."""
        return self.round_up(max(stack_size, 0), 8) + self.thread

    @property
    def atomic(self) -> int:
        """``atomic_t`` is a ``long``."""
        return self.p


@dataclass
class MemoryEntry:
    """One object's share of RAM (or of flash when ``region`` says so)."""

    name: str
    kind: str
    bytes: int
    detail: str = ""
    region: str = "RAM"


@dataclass
class MemoryReport:
    """Static memory of the firmware against the board's RAM and flash."""

    board: str
    ram_bytes: int
    flash_bytes: int
    entries: list[MemoryEntry] = field(default_factory=list)

    @property
    def ram_used(self) -> int:
        return sum(e.bytes for e in self.entries if e.region == "RAM")

    @property
    def rom_used(self) -> int:
        return sum(e.bytes for e in self.entries if e.region == "FLASH")

    @property
    def overflow(self) -> int:
        """Bytes over the board's RAM (0 when it fits)."""
        return max(self.ram_used - self.ram_bytes, 0)

    def biggest(self, n: int = 10) -> list[MemoryEntry]:
        return sorted((e for e in self.entries if e.region == "RAM"),
                      key=lambda e: (-e.bytes, e.name))[:n]

    def table(self, n: int = 10) -> str:
        """The biggest users of RAM as a text table."""
        rows = [f"{'object':32} {'kind':18} {'bytes':>9}  detail"]
        for e in self.biggest(n):
            rows.append(f"{e.name[:32]:32} {e.kind[:18]:18} {e.bytes:9d}  {e.detail}")
        rows.append(f"{'total':32} {'':18} {self.ram_used:9d}  of {self.ram_bytes} "
                    f"({self.board})")
        return "\n".join(rows)

    def check(self) -> None:
        """Raise ``LinkError`` when the static RAM does not fit the board."""
        if self.overflow:
            raise LinkError(f"region 'RAM' overflowed by {self.overflow} bytes "
                            f"({self.ram_used} used, {self.ram_bytes} on {self.board})\n"
                            f"{self.table()}")
