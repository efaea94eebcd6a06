"""``k_msgq``: a bounded queue of messages (kernel/msg_q.c).

Messages are Python objects passed by reference (the C queue copies ``msg_size`` bytes of a
struct, which in packet_io holds pointers only: the payload itself is never copied). As in
the C queue, they sit in a ring of ``max_msgs`` slots between a read and a write position.
"""

from __future__ import annotations

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

    __slots__ = ("k", "name", "msg_size", "max_msgs", "_ring", "_read", "used", "wait_q",
                 "high_water", "__weakref__")

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
        self._ring: list[Any] = [None] * max_msgs  # buffer_start .. buffer_end
        self._read = 0                  # read_ptr, as a slot index
        self.used = 0                   # used_msgs
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
        if self.used < self.max_msgs:
            q = self.wait_q
            if q.head is not None:      # a receiver is waiting: hand the message over
                k._wake_first(q, 0, msg)
                k._resched()
            else:
                self._push(msg)
            return 0
        if timeout.ticks(k.ticks_per_sec) == 0 and not timeout.is_absolute:
            return -errno.ENOMSG
        return k._pend(self.wait_q, timeout, msg)

    def _push(self, msg: Any) -> None:
        """Write ``msg`` behind the others (the queue is not full)."""
        n = self.max_msgs
        at = self._read + self.used
        if at >= n:
            at -= n
        self._ring[at] = msg
        self._count_in()

    def _count_in(self) -> None:
        self.used += 1
        if self.used > self.high_water:
            self.high_water = self.used

    def _pop(self) -> Any:
        """Take the oldest message (the queue is not empty)."""
        at = self._read
        msg = self._ring[at]
        self._ring[at] = None
        at += 1
        self._read = 0 if at == self.max_msgs else at
        self.used -= 1
        return msg

    def put_front(self, msg: Any) -> int:
        """``k_msgq_put_front``: put at the head, never waiting; ``-ENOMSG`` when full."""
        k = self.k
        if self.used >= self.max_msgs:
            return -errno.ENOMSG
        if self.wait_q.head is not None:
            k._wake_first(self.wait_q, 0, msg)
            k._resched()
        else:
            at = self._read - 1
            if at < 0:
                at = self.max_msgs - 1
            self._ring[at] = msg
            self._read = at
            self._count_in()
        return 0

    def get(self, timeout: Timeout = K_NO_WAIT) -> tuple[int, Any]:
        """``k_msgq_get``: ``(0, msg)``; ``(-ENOMSG, None)`` empty with K_NO_WAIT;
        ``(-EAGAIN, None)`` on timeout."""
        k = self.k
        if k._c_msgq_get:
            k.consume(k._c_msgq_get)
        if k._in_isr:
            k._check_isr_timeout(timeout, "kernel/msg_q.c")
        if self.used:
            msg = self._pop()
            q = self.wait_q
            if q.head is not None:      # a sender is waiting: its message takes the slot
                sender = q.first()
                self._push(sender.data)
                k._wake(sender, 0, None)
                k._resched()
            return 0, msg
        if timeout.ticks(k.ticks_per_sec) == 0 and not timeout.is_absolute:
            return -errno.ENOMSG, None
        ret = k._pend(self.wait_q, timeout)
        return ret, (k._current.data if ret == 0 else None)

    def peek(self) -> tuple[int, Any]:
        """``k_msgq_peek``: ``(0, msg)`` without removing it, ``(-ENOMSG, None)`` if empty."""
        return (0, self._ring[self._read]) if self.used else (-errno.ENOMSG, None)

    def peek_at(self, idx: int) -> tuple[int, Any]:
        """``k_msgq_peek_at``."""
        if not 0 <= idx < self.used:
            return -errno.ENOMSG, None
        return 0, self._ring[(self._read + idx) % self.max_msgs]

    def purge(self) -> None:
        """``k_msgq_purge``: drop every message; waiting senders get ``-ENOMSG``."""
        k = self.k
        while self.wait_q:
            k._wake_first(self.wait_q, -errno.ENOMSG)
        self._ring = [None] * self.max_msgs
        self._read = self.used = 0
        k._resched()

    def num_used_get(self) -> int:
        """``k_msgq_num_used_get``."""
        return self.used

    def num_free_get(self) -> int:
        """``k_msgq_num_free_get``."""
        return self.max_msgs - self.used

    def ram_usage(self, lay: Layout) -> list[MemoryEntry]:
        """``K_MSGQ_DEFINE``: the struct and its ring of ``max_msgs * msg_size`` bytes."""
        return [MemoryEntry(self.name or "k_msgq", "k_msgq", lay.msgq
                            + lay.round_up(self.max_msgs * self.msg_size, 4),
                            f"{self.max_msgs} x {self.msg_size} B")]

    def messages(self) -> list[Any]:
        """The messages waiting, oldest first."""
        return [self._ring[(self._read + i) % self.max_msgs] for i in range(self.used)]

    def __len__(self) -> int:
        return self.used

    def __repr__(self) -> str:
        return f"<MsgQ {self.name!r} {self.used}/{self.max_msgs}>"
