"""``k_msgq``: a bounded queue of messages (kernel/msg_q.c).

Messages are Python objects passed by reference (the C queue copies ``msg_size`` bytes of a
struct, which in packet_io holds pointers only: the payload itself is never copied).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from .. import errno
from .memory import Layout, MemoryEntry
from .objects import check_kernel, split_name
from .time_units import K_NO_WAIT, Timeout
from .wait_q import WaitQ

if TYPE_CHECKING:
    from .core import Kernel


class MsgQ:
    """``MsgQ(k, msg_size, max_msgs)`` or ``MsgQ(k, "name", msg_size, max_msgs)``."""

    __slots__ = ("k", "name", "msg_size", "max_msgs", "buf", "wait_q", "high_water",
                 "__weakref__")

    def __init__(self, k: Kernel, *args: Any, name: str | None = None) -> None:
        args, name = split_name(args, name)
        if len(args) == 1:
            msg_size, max_msgs = 4, args[0]
        elif len(args) == 2:
            msg_size, max_msgs = args
        else:
            raise TypeError("MsgQ(k, [name,] msg_size, max_msgs)")
        if not isinstance(max_msgs, int) or max_msgs < 1:
            raise ValueError(f"MsgQ {name!r}: max_msgs must be a positive int, got {max_msgs!r}")
        self.k = check_kernel(k)
        self.name = name
        self.msg_size = int(msg_size)
        self.max_msgs = max_msgs
        self.buf: deque[Any] = deque()
        self.wait_q = WaitQ(self)   # senders wait when full, receivers when empty
        self.high_water = 0
        k.register(self)

    def put(self, msg: Any, timeout: Timeout = K_NO_WAIT) -> int:
        """``k_msgq_put``: 0; ``-ENOMSG`` full with K_NO_WAIT; ``-EAGAIN`` on timeout."""
        k = self.k
        if k._c_msgq_put:
            k.consume(k._c_msgq_put)
        if k._in_isr:
            k._check_isr_timeout(timeout, "kernel/msg_q.c")
        buf = self.buf
        if len(buf) < self.max_msgs:
            q = self.wait_q
            if q:                       # a receiver is waiting: hand the message over
                k._wake_first(q, 0, msg)
                k._resched()
            else:
                buf.append(msg)
                if len(buf) > self.high_water:
                    self.high_water = len(buf)
            return 0
        if timeout.ticks(k.ticks_per_sec) == 0 and not timeout.is_absolute:
            return -errno.ENOMSG
        return k._pend(self.wait_q, timeout, msg)

    def put_front(self, msg: Any) -> int:
        """``k_msgq_put_front``: put at the head, never waiting; ``-ENOMSG`` when full."""
        k = self.k
        if len(self.buf) >= self.max_msgs:
            return -errno.ENOMSG
        if self.wait_q:
            k._wake_first(self.wait_q, 0, msg)
            k._resched()
        else:
            self.buf.appendleft(msg)
            self.high_water = max(self.high_water, len(self.buf))
        return 0

    def get(self, timeout: Timeout = K_NO_WAIT) -> tuple[int, Any]:
        """``k_msgq_get``: ``(0, msg)``; ``(-ENOMSG, None)`` empty with K_NO_WAIT;
        ``(-EAGAIN, None)`` on timeout."""
        k = self.k
        if k._c_msgq_get:
            k.consume(k._c_msgq_get)
        if k._in_isr:
            k._check_isr_timeout(timeout, "kernel/msg_q.c")
        buf = self.buf
        if buf:
            msg = buf.popleft()
            q = self.wait_q
            if q:                       # a sender is waiting: its message takes the slot
                sender = q.first()
                buf.append(sender.data)
                k._wake(sender, 0, None)
                k._resched()
            return 0, msg
        if timeout.ticks(k.ticks_per_sec) == 0 and not timeout.is_absolute:
            return -errno.ENOMSG, None
        ret = k._pend(self.wait_q, timeout)
        return ret, (k._current.data if ret == 0 else None)

    def peek(self) -> tuple[int, Any]:
        """``k_msgq_peek``: ``(0, msg)`` without removing it, ``(-ENOMSG, None)`` if empty."""
        return (0, self.buf[0]) if self.buf else (-errno.ENOMSG, None)

    def peek_at(self, idx: int) -> tuple[int, Any]:
        """``k_msgq_peek_at``."""
        return (0, self.buf[idx]) if 0 <= idx < len(self.buf) else (-errno.ENOMSG, None)

    def purge(self) -> None:
        """``k_msgq_purge``: drop every message; waiting senders get ``-ENOMSG``."""
        k = self.k
        while self.wait_q:
            k._wake_first(self.wait_q, -errno.ENOMSG)
        self.buf.clear()
        k._resched()

    def num_used_get(self) -> int:
        """``k_msgq_num_used_get``."""
        return len(self.buf)

    def num_free_get(self) -> int:
        """``k_msgq_num_free_get``."""
        return self.max_msgs - len(self.buf)

    def ram_usage(self, lay: Layout) -> list[MemoryEntry]:
        """``K_MSGQ_DEFINE``: the struct and its ring of ``max_msgs * msg_size`` bytes."""
        return [MemoryEntry(self.name or "k_msgq", "k_msgq", lay.msgq
                            + lay.round_up(self.max_msgs * self.msg_size, 4),
                            f"{self.max_msgs} x {self.msg_size} B")]

    def __len__(self) -> int:
        return len(self.buf)

    def __repr__(self) -> str:
        return f"<MsgQ {self.name!r} {len(self.buf)}/{self.max_msgs}>"
