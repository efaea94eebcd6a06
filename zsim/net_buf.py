# cython: binding=True
"""``net_buf``: fixed pools of reference-counted buffers (lib/net_buf/buf.c, buf_simple.c).

Each pool owns one ``bytearray`` holding every buffer's data; ``buf.data`` is a view of it,
never a copy. Misuse that Zephyr catches with ``__ASSERT`` is always an error here, naming the
buffer and its pool. Bytes copied by ``add_mem``, ``push_mem``, ``clone`` and ``linearize``
are counted in ``Kernel.bytes_copied`` so that zero-copy paths can be checked.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import CodeType
from typing import TYPE_CHECKING

from .errors import NetBufError
from .kernel.memory import Layout, MemoryEntry, RamOverflowError, ram_overflow
from .kernel.time_units import K_NO_WAIT, Timeout
from .kernel.wait_q import WaitQ

if TYPE_CHECKING:
    from .kernel.core import Kernel
    from .kernel.thread import Thread

__all__ = ["NetBufPool", "NetBuf", "frag_del"]

try:
    import cython
except ImportError:             # no Cython: the sources run as they are
    from . import _nocython as cython

_SRC = "lib/net_buf/buf_simple.c"
_getframe = sys._getframe
# Frames up to the allocating code. Compiled functions (see setup.py) have no frames: there
# the caller's is the current one, read through the C API (net_buf.pxd).
_CALLER = 1                             # from alloc
_CALLER2 = 2                            # from _alloc, called by alloc, alloc_len or clone


def _mark_site(buf: NetBuf, depth: int) -> None:
    """Record where ``buf`` is being allocated: the code and instruction offset ``depth``
    frames up from the pool method (compiled, the running Python frame)."""
    if cython.compiled:
        buf._site_code = zsim_frame_code()  # noqa: F821 - .pxd
        buf._site_at = zsim_frame_lasti()  # noqa: F821 - .pxd
    else:
        f = _getframe(depth + 1)
        buf._site_code = f.f_code
        buf._site_at = f.f_lasti


class NetBufPool:
    """``NET_BUF_POOL_FIXED_DEFINE``: ``count`` buffers of ``size`` data bytes each."""

    __slots__ = ("k", "name", "count", "size", "user_data_size", "destroy", "storage", "_mv",
                 "bufs", "_free_head", "_uninit", "wait_q", "_avail", "min_avail", "alloc_total",
                 "alloc_failures", "_zero_ud", "__weakref__")

    def __init__(self, k: Kernel, name: str, count: int, size: int, user_data_size: int = 4,
                 destroy: Callable[[NetBuf], None] | None = None) -> None:
        from .kernel.core import Kernel
        if not isinstance(k, Kernel):
            raise TypeError(f"NetBufPool: first argument must be the Kernel, got {k!r}")
        for what, v in (("count", count), ("size", size), ("user_data_size", user_data_size)):
            if not isinstance(v, int) or v < 0 or (what == "count" and v < 1):
                raise ValueError(f"NetBufPool {name!r}: {what} must be a "
                                 f"{'positive' if what == 'count' else 'non-negative'} int, "
                                 f"got {v!r}")
        if count > 0xFFFF:
            raise ValueError(f"NetBufPool {name!r}: count {count} exceeds the uint16_t "
                             "buf_count of struct net_buf_pool")
        # Refused before its storage is allocated: the pools must fit the board's RAM.
        lay = Layout(k.board.pointer_size, k.config)
        before = sum(lay.fixed_pool(p.count, p.size, p.user_data_size) for p in k._pools)
        why = ram_overflow(f"NetBufPool {name!r} ({count} x {size} B)",
                           lay.fixed_pool(count, size, user_data_size), before,
                           k.board.ram_kib * 1024, k.board.identifier)
        if why is not None:
            raise RamOverflowError(why)
        self.k = k
        self.name = name
        self.count = count
        self.size = size
        self.user_data_size = user_data_size
        self.destroy = destroy
        self.storage = bytearray(count * size)
        self._zero_ud = bytes(user_data_size)
        self._mv = memoryview(self.storage)
        self.bufs = [NetBuf(self, i) for i in range(count)]
        # The pool's free k_lifo: freed buffers linked through NetBuf._next_free, newest first
        self._free_head: NetBuf | None = None
        self._uninit = count                # buffers never handed out yet
        self.wait_q = WaitQ(self)
        self._avail = count
        self.min_avail = count
        self.alloc_total = 0
        self.alloc_failures = 0
        k._pools.append(self)
        k.register(self)

    @property
    def avail_count(self) -> int:
        """Buffers not currently allocated."""
        return self._avail

    def alloc(self, timeout: Timeout = K_NO_WAIT) -> NetBuf | None:
        """``net_buf_alloc``: a buffer with one reference, or None (NULL) on timeout."""
        buf = self._free_head
        k = self.k
        if buf is None or k._c_alloc:
            return self._alloc(self.size, timeout)
        # _alloc's common case inlined: reuse the most recently freed buffer.
        self._free_head = buf._next_free
        buf._next_free = None
        buf._ref = 1
        buf.flags = 0
        buf.frags = None
        buf.size = self.size
        if buf.user_data != self._zero_ud:
            buf.user_data[:] = self._zero_ud   # net_buf_alloc_len clears the user data
        buf.len = 0
        buf._head = buf._base
        avail = self._avail - 1
        self._avail = avail
        if avail < self.min_avail:
            self.min_avail = avail
        buf.gen = self.alloc_total = self.alloc_total + 1
        _mark_site(buf, _CALLER)
        buf.alloc_thread = k._current
        buf.alloc_time = k._now
        if k._tracer is not None:
            k._tracer("alloc", self, buf)
        return buf

    def alloc_len(self, size: int, timeout: Timeout = K_NO_WAIT) -> NetBuf | None:
        """``net_buf_alloc_len``: a fixed pool gives its whole data size for any non-zero
        request (and asserts the request fits); 0 gives a buffer without data."""
        if size > self.size:
            raise NetBufError("req_size <= size", "lib/net_buf/buf.c",
                              f"net_buf_alloc_len of {size} bytes from pool {self.name!r}, "
                              f"whose buffers hold {self.size}")
        return self._alloc(self.size if size else 0, timeout)

    def _alloc(self, size: int, timeout: Timeout) -> NetBuf | None:
        # Allocation order of net_buf_alloc_len: while some buffers were never used, a freed
        # one is reused first (LIFO), else the next unused one in index order; after that
        # only the LIFO, waiting up to the timeout.
        if self.k._c_alloc:
            self.k.consume(self.k._c_alloc)
        buf = self._free_head
        if buf is not None and (not self._uninit or self._uninit < self.count):
            self._free_head = buf._next_free
            buf._next_free = None
        elif self._uninit:
            buf = self.bufs[self.count - self._uninit]
            self._uninit -= 1
        else:
            k = self.k
            if k._in_isr:
                k._check_isr_timeout(timeout, "lib/net_buf/buf.c")
            if k._sys_work_q is not None and k._current is k._sys_work_q.thread:
                # v3.7 discards the timeout in the system work queue: it may not block
                # (lib/net_buf/buf.c, net_buf_alloc_len; removed again in v4.1).
                timeout = K_NO_WAIT
            if timeout.ticks(k.ticks_per_sec) == 0 and not timeout.is_absolute:
                self.alloc_failures += 1
                return None
            if k._current is None or k._in_isr:
                k._thread_only(f"net_buf_alloc from pool {self.name!r} with a timeout")
            if k._pend(self.wait_q, timeout) != 0:
                self.alloc_failures += 1
                return None
            buf = k._current.data
        buf._ref = 1
        buf.flags = 0
        buf.frags = None
        buf.size = size
        if buf.user_data != self._zero_ud:
            buf.user_data[:] = self._zero_ud   # net_buf_alloc_len clears the user data
        buf.len = 0
        buf._head = buf._base
        self._avail -= 1
        if self._avail < self.min_avail:
            self.min_avail = self._avail
        self.alloc_total += 1
        buf.gen = self.alloc_total
        _mark_site(buf, _CALLER2)  # the call site, formatted only when asked for
        buf.alloc_thread = self.k._current
        buf.alloc_time = self.k._now
        if self.k._tracer is not None:
            self.k._tracer("alloc", self, buf)
        return buf

    def _release(self, buf: NetBuf) -> None:
        self._avail += 1
        if self.k._tracer is not None:
            self.k._tracer("free", self, buf)
        if self.destroy is not None:
            self.destroy(buf)
        else:
            self._put_free(buf)

    def _put_free(self, buf: NetBuf) -> None:
        """``net_buf_destroy``: back onto the free LIFO, or straight to a waiting allocator.

        Like any put to a ``k_lifo`` it is a reschedule point."""
        k = self.k
        if self.wait_q:
            k._wake_first(self.wait_q, 0, buf)
        else:
            buf._next_free = self._free_head
            self._free_head = buf
        k._resched()

    def outstanding(self) -> list[NetBuf]:
        """Buffers currently holding references (leaks, at the end of a run)."""
        return [b for b in self.bufs if b._ref]

    def ram_usage(self, lay: Layout) -> list[MemoryEntry]:
        """``NET_BUF_POOL_FIXED_DEFINE``: buffer headers with user data, the data array,
        and the pool struct (include/zephyr/net/buf.h)."""
        header = lay.round_up(lay.net_buf + self.user_data_size)
        data = lay.round_up(self.count * self.size)
        return [MemoryEntry(self.name, "net_buf_pool",
                            self.count * header + data + lay.net_buf_pool + 2 * lay.p,
                            f"{self.count} x ({self.size} B data + {header} B header)")]

    def __repr__(self) -> str:
        return (f"<NetBufPool {self.name!r} {self._avail}/{self.count} free, "
                f"{self.size} B each>")


def _int_ops(bits: int, order: str) -> tuple[Callable[..., object], ...]:
    """``add/push/pull/remove`` of a ``bits``-bit integer in ``order`` (net/buf.h's
    ``net_buf_add_le16`` and its kin), as methods of NetBuf."""
    n = bits // 8
    mask = (1 << bits) - 1
    tag = f"{'le' if order == 'little' else 'be'}{bits}"
    add_op, push_op = f"net_buf_add_{tag}", f"net_buf_push_{tag}"
    pull_op, remove_op = f"net_buf_pull_{tag}", f"net_buf_remove_{tag}"

    def add(self: NetBuf, value: int) -> None:
        start = self._tail(n, add_op)
        self.pool.storage[start:start + n] = (value & mask).to_bytes(n, order)

    def push(self: NetBuf, value: int) -> None:
        start = self._push(n, push_op)
        self.pool.storage[start:start + n] = (value & mask).to_bytes(n, order)

    def pull(self: NetBuf) -> int:
        start = self._pull(n, pull_op)
        return int.from_bytes(self.pool.storage[start:start + n], order)

    def remove(self: NetBuf) -> int:
        start = self._remove(n, remove_op)
        return int.from_bytes(self.pool.storage[start:start + n], order)

    ops = []
    for verb, fn, what in (("add", add, "append"), ("push", push, "prepend"),
                           ("pull", pull, "take from the start"),
                           ("remove", remove, "take from the end")):
        fn.__name__ = f"{verb}_{tag}"
        fn.__qualname__ = f"NetBuf.{verb}_{tag}"
        fn.__doc__ = f"``net_buf_{verb}_{tag}``: {what} a {bits}-bit {order}-endian integer."
        ops.append(fn)
    return tuple(ops)


class NetBuf:
    """``struct net_buf``: data is ``pool.storage[_head:_head+len]`` within its slot."""

    __slots__ = ("pool", "index", "_ref", "_base", "_head", "len", "size", "frags",
                 "_next_free", "user_data", "flags", "_site_code", "_site_at", "alloc_thread",
                 "alloc_time", "gen")

    def __init__(self, pool: NetBufPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self._ref = 0
        self._base = index * pool.size
        self._head = self._base
        self.len = 0
        self.size = pool.size
        self.frags: NetBuf | None = None
        self._next_free: NetBuf | None = None    # the next one in the pool's free LIFO
        self.user_data = bytearray(pool.user_data_size)
        self.flags = 0
        self._site_code: CodeType | None = None     # where it was last allocated
        self._site_at = 0                           # (code object, instruction offset)
        self.alloc_thread: Thread | None = None
        self.alloc_time = 0
        self.gen = 0                    # which allocation of this buffer (pool-wide count)

    @property
    def alloc_site(self) -> tuple[str, int, str] | None:
        """Where the buffer was last allocated: (file, line, function), or None."""
        code = self._site_code
        if code is None:
            return None
        line = code.co_firstlineno
        for start, end, ln in code.co_lines():
            if start <= self._site_at < end and ln is not None:
                line = ln
                break
        return code.co_filename, line, code.co_name

    # ------------------------------------------------------------ errors
    def _fail(self, expr: str, detail: str, where: str = _SRC) -> NetBufError:
        return NetBufError(expr, where, f"{self._label()}: {detail}")

    def _label(self) -> str:
        return f"net_buf #{self.index} of pool {self.pool.name!r}"

    def _alive(self, op: str) -> None:
        if not self._ref:
            raise self._fail("buf->ref", f"{op} on a freed buffer (use after free)",
                             "lib/net_buf/buf.c")

    # ------------------------------------------------------------ refcount
    @property
    def refcount(self) -> int:
        """The reference count (``buf->ref``, 8 bits)."""
        return self._ref

    def ref(self) -> NetBuf:
        """``net_buf_ref``: one more reference; returns the buffer."""
        if not self._ref:
            raise self._fail("buf->ref", "net_buf_ref on a freed buffer (use after free)",
                             "lib/net_buf/buf.c")
        if self._ref == 255:
            raise self._fail("buf->ref < UINT8_MAX", "reference count overflows its 8 bits",
                             "lib/net_buf/buf.c")
        self._ref += 1
        return self

    def unref(self) -> None:
        """``net_buf_unref``: drop a reference; at zero free it and continue down the chain."""
        k = self.pool.k
        if k._c_unref:
            k.consume(k._c_unref)
        ref = self._ref
        if ref > 1:                     # others still hold it: the common case
            self._ref = ref - 1
            return
        buf: NetBuf | None = self
        while buf is not None:
            ref = buf._ref
            if ref > 1:
                buf._ref = ref - 1
                return
            if not ref:
                raise buf._fail("buf->ref", "net_buf_unref of a buffer already freed "
                                "(double free)", "lib/net_buf/buf.c")
            buf._ref = 0
            frags = buf.frags
            buf.frags = None
            pool = buf.pool
            if pool.destroy is None and pool.wait_q.head is None:
                # _release and _put_free inlined: back onto the free LIFO; the reschedule
                # point only matters when another thread than the current one is first.
                pool._avail += 1
                if k._tracer is not None:
                    k._tracer("free", pool, buf)
                buf._next_free = pool._free_head
                pool._free_head = buf
                lv = k._rq_first
                if lv is None or lv.head is not k._current:
                    k._resched()
            else:
                pool._release(buf)
            buf = frags

    def destroy(self) -> None:
        """``net_buf_destroy``: hand a freed buffer back to its pool (from a destroy
        callback)."""
        if self._ref:
            raise self._fail("buf->ref == 0", "net_buf_destroy of a buffer still referenced",
                             "lib/net_buf/buf.c")
        self.pool._put_free(self)

    # ------------------------------------------------------------ geometry
    @property
    def data(self) -> memoryview:
        """The current bytes: a writable view of the pool's storage, never a copy."""
        if not self._ref:
            self._alive("data")         # raises: use after free
        return self.pool._mv[self._head:self._head + self.len]

    def headroom(self) -> int:
        """``net_buf_headroom``."""
        self._alive("net_buf_headroom")
        return self._head - self._base

    def tailroom(self) -> int:
        """``net_buf_tailroom``."""
        self._alive("net_buf_tailroom")
        return self.size - (self._head - self._base) - self.len

    def max_len(self) -> int:
        """``net_buf_max_len``: room from the data start to the end."""
        self._alive("net_buf_max_len")
        return self.size - (self._head - self._base)

    def reserve(self, reserve: int) -> None:
        """``net_buf_reserve``: headroom on an empty buffer."""
        self._alive("net_buf_reserve")
        if self.len:
            raise self._fail("buf->len == 0U", f"reserve({reserve}) on a buffer holding "
                             f"{self.len} bytes")
        if reserve > self.size or reserve < 0:
            raise self._fail("buf->size >= reserve", f"reserve({reserve}) beyond size "
                             f"{self.size}")
        self._head = self._base + reserve

    def reset(self) -> None:
        """``net_buf_reset``: empty, no headroom."""
        self._alive("net_buf_reset")
        if self.frags is not None:
            raise self._fail("buf->frags == NULL", "reset of a buffer with fragments",
                             "lib/net_buf/buf.c")
        self.len = 0
        self._head = self._base

    @property
    def trace_id(self) -> str:
        """``pool#index@allocation``: names one allocation of this buffer in traces."""
        return f"{self.pool.name}#{self.index}@{self.gen}"

    def __len__(self) -> int:
        return self.len

    def __bytes__(self) -> bytes:
        return bytes(self.data)

    def __repr__(self) -> str:
        return (f"<NetBuf #{self.index} pool={self.pool.name!r} ref={self._ref} "
                f"len={self.len} size={self.size}>")

    # ------------------------------------------------------------ add (tail)
    def _tail(self, n: int, op: str) -> int:
        if not self._ref:
            self._alive(op)
        if n < 0 or self.size - (self._head - self._base) - self.len < n:
            raise self._fail("net_buf_simple_tailroom(buf) >= len",
                             f"{op} of {n} bytes exceeds the tailroom of "
                             f"{self.tailroom()} (len {self.len}, size {self.size})")
        start = self._head + self.len
        self.len += n
        return start

    def add(self, n: int) -> memoryview:
        """``net_buf_add``: extend the data by ``n`` bytes; returns a view of them."""
        start = self._tail(n, "net_buf_add")
        return self.pool._mv[start:start + n]

    def add_mem(self, mem: bytes | bytearray | memoryview) -> memoryview:
        """``net_buf_add_mem``: copy ``mem`` to the end of the data."""
        n = len(mem)
        start = self._tail(n, "net_buf_add_mem")
        self.pool.storage[start:start + n] = mem
        self.pool.k.bytes_copied += n
        if self.pool.k._c_copy_per_byte:
            self.pool.k.charge_copy(n)
        return self.pool._mv[start:start + n]

    def add_u8(self, value: int) -> None:
        """``net_buf_add_u8``."""
        self.pool.storage[self._tail(1, "net_buf_add_u8")] = value & 0xFF

    # ------------------------------------------------------------ push (head)
    def _push(self, n: int, op: str) -> int:
        if not self._ref:
            self._alive(op)
        if n < 0 or self._head - self._base < n:
            raise self._fail("net_buf_simple_headroom(buf) >= len",
                             f"{op} of {n} bytes exceeds the headroom of {self.headroom()}")
        self._head -= n
        self.len += n
        return self._head

    def push(self, n: int) -> memoryview:
        """``net_buf_push``: prepend ``n`` bytes; returns a view of the new start."""
        start = self._push(n, "net_buf_push")
        return self.pool._mv[start:start + n]

    def push_mem(self, mem: bytes | bytearray | memoryview) -> memoryview:
        """``net_buf_push_mem``: copy ``mem`` in front of the data."""
        n = len(mem)
        start = self._push(n, "net_buf_push_mem")
        self.pool.storage[start:start + n] = mem
        self.pool.k.bytes_copied += n
        if self.pool.k._c_copy_per_byte:
            self.pool.k.charge_copy(n)
        return self.pool._mv[start:start + n]

    def push_u8(self, value: int) -> None:
        """``net_buf_push_u8``."""
        self.pool.storage[self._push(1, "net_buf_push_u8")] = value & 0xFF

    # ------------------------------------------------------------ pull (head)
    def _pull(self, n: int, op: str) -> int:
        if not self._ref:
            self._alive(op)
        if n < 0 or self.len < n:
            raise self._fail("buf->len >= len", f"{op} of {n} bytes from {self.len}")
        start = self._head
        self._head += n
        self.len -= n
        return start

    def pull(self, n: int) -> memoryview:
        """``net_buf_pull``: drop ``n`` bytes from the start; returns the new data view."""
        self._pull(n, "net_buf_pull")
        return self.pool._mv[self._head:self._head + self.len]

    def pull_mem(self, n: int) -> memoryview:
        """``net_buf_pull_mem``: drop ``n`` bytes from the start; returns a view of them."""
        start = self._pull(n, "net_buf_pull_mem")
        return self.pool._mv[start:start + n]

    def pull_u8(self) -> int:
        """``net_buf_pull_u8``."""
        return self.pool.storage[self._pull(1, "net_buf_pull_u8")]

    # ------------------------------------------------------------ remove (tail)
    def _remove(self, n: int, op: str) -> int:
        if not self._ref:
            self._alive(op)
        if n < 0 or self.len < n:
            raise self._fail("buf->len >= len", f"{op} of {n} bytes from {self.len}")
        self.len -= n
        return self._head + self.len

    def remove_mem(self, n: int) -> memoryview:
        """``net_buf_remove_mem``: drop ``n`` bytes from the end; returns a view of them."""
        start = self._remove(n, "net_buf_remove_mem")
        return self.pool._mv[start:start + n]

    remove = remove_mem

    def remove_u8(self) -> int:
        """``net_buf_remove_u8``."""
        return self.pool.storage[self._remove(1, "net_buf_remove_u8")]

    # ------------------------------------------------------------ integers
    add_le16, push_le16, pull_le16, remove_le16 = _int_ops(16, "little")
    add_be16, push_be16, pull_be16, remove_be16 = _int_ops(16, "big")
    add_le24, push_le24, pull_le24, remove_le24 = _int_ops(24, "little")
    add_be24, push_be24, pull_be24, remove_be24 = _int_ops(24, "big")
    add_le32, push_le32, pull_le32, remove_le32 = _int_ops(32, "little")
    add_be32, push_be32, pull_be32, remove_be32 = _int_ops(32, "big")
    add_le40, push_le40, pull_le40, remove_le40 = _int_ops(40, "little")
    add_be40, push_be40, pull_be40, remove_be40 = _int_ops(40, "big")
    add_le48, push_le48, pull_le48, remove_le48 = _int_ops(48, "little")
    add_be48, push_be48, pull_be48, remove_be48 = _int_ops(48, "big")
    add_le64, push_le64, pull_le64, remove_le64 = _int_ops(64, "little")
    add_be64, push_be64, pull_be64, remove_be64 = _int_ops(64, "big")

    # ------------------------------------------------------------ copies
    def clone(self, timeout: Timeout = K_NO_WAIT) -> NetBuf | None:
        """``net_buf_clone``: a new buffer from the same pool holding a copy of the data
        (fixed pools cannot share data), with the same headroom; None on timeout."""
        self._alive("net_buf_clone")
        c = self.pool._alloc(self.size, timeout)
        if c is None:
            return None
        c._head = c._base + (self._head - self._base)
        c.add_mem(self.pool._mv[self._head:self._head + self.len])
        c.user_data[:] = self.user_data
        return c

    def linearize(self, dst: bytearray | memoryview | None = None, offset: int = 0,
                  len: int | None = None) -> int | bytes:  # noqa: A002 - C parameter name
        """``net_buf_linearize``: copy ``len`` bytes of the chain from ``offset`` into
        ``dst`` and return the count; without ``dst`` return the bytes."""
        self._alive("net_buf_linearize")
        want = self.frags_len() - offset if len is None else len
        if dst is not None:
            want = min(want, memoryview(dst).nbytes)
        out = bytearray()
        frag: NetBuf | None = self
        while frag is not None and offset >= frag.len:
            offset -= frag.len
            frag = frag.frags
        while frag is not None and want > 0:
            chunk = min(want, frag.len - offset)
            out += frag.pool._mv[frag._head + offset:frag._head + offset + chunk]
            want -= chunk
            offset = 0
            frag = frag.frags
        self.pool.k.bytes_copied += out.__len__()
        self.pool.k.charge_copy(out.__len__())
        if dst is None:
            return bytes(out)
        memoryview(dst)[:out.__len__()] = out
        return out.__len__()

    # ------------------------------------------------------------ chains
    def frag_last(self) -> NetBuf:
        """``net_buf_frag_last``."""
        if not self._ref:
            self._alive("net_buf_frag_last")
        buf = self
        while buf.frags is not None:
            buf = buf.frags
        return buf

    def frags_len(self) -> int:
        """``net_buf_frags_len``: bytes in this buffer and the fragments after it."""
        if not self._ref:
            self._alive("net_buf_frags_len")
        total = 0
        buf: NetBuf | None = self
        while buf is not None:
            total += buf.len
            buf = buf.frags
        return total

    def frag_add(self, frag: NetBuf) -> None:
        """``net_buf_frag_add``: append ``frag`` (and its chain) at the end of this chain,
        taking over the caller's reference to it."""
        if not self._ref:
            self._alive("net_buf_frag_add")
        if not frag._ref:
            frag._alive("net_buf_frag_add (fragment)")
        self.frag_last().frags = frag

    def frag_insert(self, frag: NetBuf) -> None:
        """``net_buf_frag_insert``: insert ``frag``'s chain right after this buffer."""
        self._alive("net_buf_frag_insert")
        frag._alive("net_buf_frag_insert (fragment)")
        if self.frags is not None:
            frag.frag_last().frags = self.frags
        self.frags = frag

    def frag_del(self, frag: NetBuf) -> NetBuf | None:
        """``net_buf_frag_del(self, frag)``: unlink the fragment after this buffer and unref
        it; returns the fragment that followed it."""
        return frag_del(self, frag)


def frag_del(parent: NetBuf | None, frag: NetBuf) -> NetBuf | None:
    """``net_buf_frag_del``: ``parent`` may be None when ``frag`` heads its chain."""
    if parent is not None and parent.frags is not frag:
        raise parent._fail("parent->frags == frag", f"frag_del of {frag._label()} which "
                           "is not the next fragment", "lib/net_buf/buf.c")
    frag._alive("net_buf_frag_del")
    nxt = frag.frags
    if parent is not None:
        parent.frags = nxt
    frag.frags = None
    frag.unref()
    return nxt
