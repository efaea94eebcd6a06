"""net_buf pools and buffers: data helpers, geometry, references, chains, copies, allocation
order, blocking allocation, destroy callbacks, misuse errors and leak reports.

Fidelity notes cite Zephyr's net_buf sources: ``lib/net_buf/buf.c`` and
``lib/net_buf/buf_simple.c`` (``subsys/net/buf.c`` / ``buf_simple.c`` up to v3.7), and the
net_buf section of ``/work/shared/zephyr-reference.md``.
"""

from __future__ import annotations

import os
import sys

import pytest

from zsim import K_FOREVER, K_MSEC, K_NO_WAIT, Kernel
from zsim.errors import ContextError, NetBufError
from zsim.net_buf import NetBufPool, frag_del

SIZE = 16


@pytest.fixture
def k():
    return Kernel(board="native_sim")


@pytest.fixture
def pool(k):
    return NetBufPool(k, "test_pool", 4, SIZE)


def slot(pool, buf):
    """The bytes of the buffer's slot in the pool's storage."""
    return bytes(pool.storage[buf.index * pool.size:(buf.index + 1) * pool.size])


# --------------------------------------------------------------------------- data helpers

# (method suffix, width in bytes, byte order)
INT_HELPERS = [
    (f"{'le' if order == 'little' else 'be'}{bits}", bits // 8, order)
    for bits in (16, 24, 32, 40, 48, 64)
    for order in ("little", "big")
]
PATTERN = 0x0102030405060708


@pytest.mark.parametrize(("tag", "width", "order"), INT_HELPERS)
def test_add_int_layout_and_pull_round_trip(pool, tag, width, order):
    buf = pool.alloc()
    value = PATTERN & ((1 << (8 * width)) - 1)
    assert getattr(buf, f"add_{tag}")(value) is None
    # byte layout is exact: the value's bytes in the named order, nothing else written
    assert bytes(buf.data) == value.to_bytes(width, order)
    assert buf.len == width
    assert slot(pool, buf)[:width] == value.to_bytes(width, order)
    assert getattr(buf, f"pull_{tag}")() == value
    assert buf.len == 0
    assert buf.headroom() == width     # pull moves the data start forward


@pytest.mark.parametrize(("tag", "width", "order"), INT_HELPERS)
def test_push_int_layout_and_remove_round_trip(pool, tag, width, order):
    buf = pool.alloc()
    buf.reserve(SIZE - 1)
    buf.add_u8(0xEE)
    value = PATTERN & ((1 << (8 * width)) - 1)
    assert getattr(buf, f"push_{tag}")(value) is None
    assert bytes(buf.data) == value.to_bytes(width, order) + b"\xee"
    assert buf.headroom() == SIZE - 1 - width
    assert buf.remove_u8() == 0xEE
    assert getattr(buf, f"remove_{tag}")() == value
    assert buf.len == 0


def test_int_helpers_known_byte_orders(pool):
    buf = pool.alloc()
    buf.add_le16(0x1234)
    buf.add_be16(0x1234)
    buf.add_le24(0xA1B2C3)
    buf.add_be24(0xA1B2C3)
    buf.add_le32(0xDEADBEEF)
    assert bytes(buf.data) == (b"\x34\x12" b"\x12\x34" b"\xc3\xb2\xa1" b"\xa1\xb2\xc3"
                               b"\xef\xbe\xad\xde")
    # out-of-range values are truncated to the field, as the C cast to the field type does
    buf.reset()
    buf.add_le16(0x12345)
    buf.add_u8(0x1FF)
    assert bytes(buf.data) == b"\x45\x23\xff"


def test_pull_and_remove_read_from_the_right_end(pool):
    buf = pool.alloc()
    buf.add_mem(bytes(range(1, 11)))
    assert buf.pull_le16() == 0x0201
    assert buf.pull_be16() == 0x0304
    assert buf.remove_le16() == 0x0A09
    assert buf.remove_be16() == 0x0708
    assert bytes(buf.data) == b"\x05\x06"
    assert buf.pull_u8() == 5
    assert buf.remove_u8() == 6
    assert buf.len == 0


def test_add_returns_view_of_new_tail_bytes(pool):
    buf = pool.alloc()
    buf.add_u8(1)
    tail = buf.add(3)
    assert len(tail) == 3 and buf.len == 4
    tail[:] = b"xyz"
    assert bytes(buf.data) == b"\x01xyz"


def test_add_mem_copies_and_counts_bytes(k, pool):
    buf = pool.alloc()
    before = k.bytes_copied
    view = buf.add_mem(b"hello")
    assert bytes(view) == b"hello" and bytes(buf.data) == b"hello"
    assert k.bytes_copied - before == 5
    # add()/add_u8 write in place: nothing counted as copied
    buf.add(2)[:] = b"!!"
    buf.add_u8(0)
    assert k.bytes_copied - before == 5


def test_push_and_push_mem(k, pool):
    buf = pool.alloc()
    buf.reserve(8)
    buf.add_mem(b"body")
    hdr = buf.push(2)
    hdr[:] = b"H2"
    buf.push_u8(0x7E)
    buf.push_mem(b"AB")
    assert bytes(buf.data) == b"AB\x7eH2body"
    assert buf.headroom() == 3
    assert slot(pool, buf)[3:3 + buf.len] == b"AB\x7eH2body"


def test_pull_returns_new_start_pull_mem_returns_removed(pool):
    # buf_simple.c: net_buf_simple_pull returns the new data start, pull_mem the old one
    buf = pool.alloc()
    buf.add_mem(b"abcdef")
    rest = buf.pull(2)
    assert bytes(rest) == b"cdef"
    head = buf.pull_mem(2)
    assert bytes(head) == b"cd"
    assert bytes(buf.data) == b"ef"


def test_remove_mem_returns_removed_tail(pool):
    # buf_simple.c: net_buf_simple_remove_mem returns the start of the removed bytes
    buf = pool.alloc()
    buf.add_mem(b"abcdef")
    gone = buf.remove_mem(2)
    assert bytes(gone) == b"ef"
    assert bytes(buf.data) == b"abcd"
    assert bytes(buf.remove(1)) == b"d"
    assert buf.len == 3


# ------------------------------------------------------------------------------ geometry

def test_headroom_tailroom_reserve_reset(pool):
    buf = pool.alloc()
    assert (buf.headroom(), buf.tailroom(), buf.len, buf.size) == (0, SIZE, 0, SIZE)
    buf.reserve(4)
    assert (buf.headroom(), buf.tailroom()) == (4, SIZE - 4)
    buf.add(5)
    assert (buf.headroom(), buf.tailroom()) == (4, SIZE - 9)
    buf.pull(2)
    assert (buf.headroom(), buf.tailroom()) == (6, SIZE - 9)
    buf.reset()
    assert (buf.headroom(), buf.tailroom(), buf.len) == (0, SIZE, 0)


def test_reserve_on_non_empty_buffer_is_an_error(pool):
    # buf_simple.c: net_buf_simple_reserve asserts buf->len == 0
    buf = pool.alloc()
    buf.add_u8(1)
    with pytest.raises(NetBufError):
        buf.reserve(2)


def test_alloc_resets_geometry_of_reused_buffer(pool):
    buf = pool.alloc()
    buf.reserve(6)
    buf.add_mem(b"xy")
    buf.unref()
    again = pool.alloc()
    assert again is buf
    assert (again.len, again.headroom(), again.tailroom()) == (0, 0, SIZE)


def test_alloc_zeroes_user_data(pool):
    # buf.c net_buf_alloc_len: memset(buf->user_data, 0, buf->user_data_size) on success
    buf = pool.alloc()
    buf.user_data[:] = b"\xaa\xbb\xcc\xdd"
    buf.unref()
    again = pool.alloc()
    assert again is buf
    assert bytes(again.user_data) == bytes(pool.user_data_size)


# ---------------------------------------------------------------------- zero-copy views

def test_data_is_a_view_of_pool_storage(k, pool):
    pool.alloc()
    buf = pool.alloc()          # index 1: its slot starts at SIZE
    buf.reserve(2)
    buf.add_mem(b"abcd")
    before = k.bytes_copied
    view = buf.data
    assert isinstance(view, memoryview)
    assert view.obj is pool.storage
    view[0] = ord("Z")
    assert pool.storage[SIZE + 2] == ord("Z")
    pool.storage[SIZE + 3] = ord("Y")
    assert bytes(buf.data) == b"ZYcd"
    assert k.bytes_copied == before


# ----------------------------------------------------------------------------- refcount

def test_ref_and_unref(pool):
    buf = pool.alloc()
    assert buf.refcount == 1 and pool.avail_count == 3
    assert buf.ref() is buf
    assert buf.refcount == 2
    buf.unref()
    assert buf.refcount == 1 and pool.avail_count == 3
    buf.unref()
    assert buf.refcount == 0 and pool.avail_count == 4


def test_avail_count_tracks_allocations(pool):
    bufs = [pool.alloc() for _ in range(4)]
    assert pool.avail_count == 0
    assert pool.alloc() is None
    for i, b in enumerate(bufs):
        b.unref()
        assert pool.avail_count == i + 1


# ------------------------------------------------------------------------------- chains

def test_frag_add_takes_over_the_reference(pool):
    head, a, b = pool.alloc(), pool.alloc(), pool.alloc()
    head.add_mem(b"hh")
    a.add_mem(b"aaa")
    b.add_mem(b"b")
    head.frag_add(a)
    head.frag_add(b)                    # appended after the last fragment
    assert head.frags is a and a.frags is b and b.frags is None
    assert (a.refcount, b.refcount) == (1, 1)   # no extra reference taken
    assert head.frag_last() is b
    assert head.frags_len() == 6
    assert a.frags_len() == 4
    assert pool.avail_count == 1
    head.unref()                        # frees the whole chain
    assert (head.refcount, a.refcount, b.refcount) == (0, 0, 0)
    assert pool.avail_count == 4


def test_unref_of_head_stops_at_fragment_still_referenced(pool):
    head, frag = pool.alloc(), pool.alloc()
    frag.ref()                          # someone else holds the fragment too
    head.frag_add(frag)
    head.unref()
    assert head.refcount == 0 and frag.refcount == 1
    assert pool.avail_count == 3
    frag.unref()
    assert pool.avail_count == 4


def test_unref_walks_chain_in_order_freeing_each(pool):
    head, mid, tail = pool.alloc(), pool.alloc(), pool.alloc()
    head.frag_add(mid)
    mid.frag_add(tail)
    assert head.frag_last() is tail
    head.unref()
    # freed in chain order onto the LIFO: the last freed (tail) comes back first
    assert [pool.alloc() for _ in range(3)] == [tail, mid, head]


def test_frag_insert_goes_right_after_parent(pool):
    head, old, new1, new2 = (pool.alloc() for _ in range(4))
    head.frag_add(old)
    new1.frag_add(new2)                 # a two-buffer chain inserted as a whole
    head.frag_insert(new1)
    chain = []
    b = head
    while b is not None:
        chain.append(b)
        b = b.frags
    assert chain == [head, new1, new2, old]


def test_frag_del_unlinks_and_unrefs(pool):
    head, a, b = pool.alloc(), pool.alloc(), pool.alloc()
    head.frag_add(a)
    head.frag_add(b)
    nxt = head.frag_del(a)
    assert nxt is b
    assert head.frags is b
    assert a.refcount == 0 and a.frags is None
    assert pool.avail_count == 2
    # module form with no parent: frag heads its chain
    assert frag_del(None, b) is None
    assert b.refcount == 0 and head.frags is b  # the parent is not touched without it
    head.frags = None
    head.unref()
    assert pool.avail_count == 4


def test_frag_del_of_wrong_fragment_is_an_error(pool):
    # buf.c net_buf_frag_del asserts parent->frags == frag
    head, a, b = pool.alloc(), pool.alloc(), pool.alloc()
    head.frag_add(a)
    head.frag_add(b)
    with pytest.raises(NetBufError):
        head.frag_del(b)


# ------------------------------------------------------------------------------- copies

def test_clone_copies_with_same_headroom(k, pool):
    buf = pool.alloc()
    buf.reserve(5)
    buf.add_mem(b"payload")
    before = k.bytes_copied
    c = buf.clone(K_NO_WAIT)
    assert c is not None and c is not buf
    assert c.pool is pool and c.refcount == 1
    assert c.headroom() == 5 and c.len == 7 and bytes(c.data) == b"payload"
    assert k.bytes_copied - before == 7
    c.data[0] = ord("P")                # separate storage
    assert bytes(buf.data) == b"payload"
    assert pool.avail_count == 2


def test_clone_copies_user_data(pool):
    # buf.c net_buf_clone: memcpy(clone->user_data, buf->user_data, user_data_size)
    buf = pool.alloc()
    buf.user_data[:] = b"\x01\x02\x03\x04"
    c = buf.clone()
    assert bytes(c.user_data) == b"\x01\x02\x03\x04"


def test_clone_from_exhausted_pool_returns_none(pool):
    bufs = [pool.alloc() for _ in range(4)]
    assert bufs[0].clone(K_NO_WAIT) is None


def test_linearize_without_dst_returns_bytes(k, pool):
    head, a, b = pool.alloc(), pool.alloc(), pool.alloc()
    head.add_mem(b"012")
    a.add_mem(b"3456")
    b.add_mem(b"789")
    head.frag_add(a)
    head.frag_add(b)
    before = k.bytes_copied
    assert head.linearize() == b"0123456789"
    assert k.bytes_copied - before == 10
    assert head.linearize(offset=4) == b"456789"
    assert head.linearize(offset=3, len=5) == b"34567"
    assert head.linearize(offset=10) == b""


def test_linearize_into_dst(pool):
    # buf.c net_buf_linearize: len = MIN(len, dst_len); skips whole fragments by offset
    head, a = pool.alloc(), pool.alloc()
    head.add_mem(b"abc")
    a.add_mem(b"defg")
    head.frag_add(a)
    dst = bytearray(5)
    assert head.linearize(dst) == 5
    assert dst == b"abcde"
    dst = bytearray(b"........")
    assert head.linearize(dst, offset=2, len=3) == 3
    assert dst == b"cde....."
    dst = bytearray(10)
    assert head.linearize(dst, offset=3) == 4
    assert bytes(dst[:4]) == b"defg"


# ---------------------------------------------------------------------- allocation order

def test_never_used_buffers_come_in_index_order(pool):
    assert [pool.alloc().index for _ in range(4)] == [0, 1, 2, 3]


def test_freed_buffer_reused_before_never_used_one(pool):
    # buf.c net_buf_alloc_len: with uninit buffers left and the pool used before, the free
    # LIFO is tried first (zephyr-reference.md, net_buf)
    a = pool.alloc()
    b = pool.alloc()
    a.unref()
    assert pool.alloc() is a
    b.unref()
    assert pool.alloc() is b
    assert pool.alloc().index == 2
    assert pool.alloc().index == 3


def test_after_all_used_allocation_is_lifo(pool):
    bufs = [pool.alloc() for _ in range(4)]
    for i in (2, 0, 3, 1):
        bufs[i].unref()
    assert [pool.alloc().index for _ in range(4)] == [1, 3, 0, 2]


def test_blocking_alloc_woken_by_free_gets_that_buffer(k, pool):
    held = [pool.alloc() for _ in range(4)]
    log = []

    def waiter():
        t0 = k.uptime_ticks()
        got = pool.alloc(K_MSEC(200))
        log.append(("got", got, k.uptime_ticks() - t0))

    def body():
        k.thread_create(waiter, name="waiter", priority=1)
        log.append("waiter blocked")
        k.msleep(30)
        log.append("freeing")
        held[2].unref()                 # a reschedule point: the waiter runs at once
        log.append("freed")

    k.call(body, priority=5)
    assert log[0] == "waiter blocked" and log[1] == "freeing"
    assert log[2][0] == "got" and log[2][1] is held[2]
    assert log[2][2] == 4               # K_MSEC(30) at 100 ticks/s: 3 ticks + 1
    assert log[3] == "freed"
    assert held[2].refcount == 1
    assert pool.avail_count == 0


def test_free_goes_to_most_urgent_waiter(k, pool):
    # waiters are woken highest priority first, FIFO among equals (zephyr-reference.md,
    # Scheduling; the free list is a k_lifo whose waiters use the wait_q ordering)
    held = [pool.alloc() for _ in range(4)]
    got = []

    def waiter(tag):
        got.append((tag, pool.alloc(K_FOREVER)))

    def body():
        k.thread_create(waiter, "low_first", name="low_first", priority=4)
        k.thread_create(waiter, "high", name="high", priority=2)
        k.thread_create(waiter, "low_second", name="low_second", priority=4)
        held[0].unref()
        held[1].unref()
        held[2].unref()

    k.call(body, priority=6)
    assert got == [("high", held[0]), ("low_first", held[1]), ("low_second", held[2])]


def test_blocking_alloc_times_out_with_none(k, pool):
    for _ in range(4):
        pool.alloc()

    def body():
        t0 = k.uptime_ticks()
        got = pool.alloc(K_MSEC(50))
        return got, k.uptime_ticks() - t0

    got, waited = k.call(body)
    assert got is None
    # K_MSEC(50) = 5 ticks at 100 Hz; a relative wait is queued for ticks + 1
    # (zephyr-reference.md, Time; kernel/timeout.c z_add_timeout)
    assert waited == 6


def test_alloc_with_timeout_outside_thread_refused(pool):
    for _ in range(4):
        pool.alloc()
    assert pool.alloc(K_NO_WAIT) is None
    with pytest.raises(ContextError, match="thread"):
        pool.alloc(K_FOREVER)


def test_alloc_len_on_fixed_pool_gives_full_size(pool):
    # buf.c fixed_data_alloc: *size = pool->alloc->max_alloc_size
    buf = pool.alloc_len(4)
    assert buf.size == SIZE
    assert buf.tailroom() == SIZE


def test_alloc_len_larger_than_pool_is_an_error(pool):
    # buf.c net_buf_alloc_len: __ASSERT_NO_MSG(req_size <= size) after the data alloc
    with pytest.raises(NetBufError):
        pool.alloc_len(SIZE + 1)


# -------------------------------------------------------------------- destroy callback

def test_destroy_callback_hands_buffer_back(k):
    seen = []

    def destroy(buf):
        seen.append((buf.index, buf.refcount))
        buf.destroy()

    p = NetBufPool(k, "cb_pool", 2, 8, destroy=destroy)
    a = p.alloc()
    b = p.alloc()
    a.ref()
    a.unref()
    assert seen == []
    a.unref()
    assert seen == [(0, 0)]
    assert p.avail_count == 1
    assert p.alloc() is a               # back on the free list
    b.unref()
    assert seen == [(0, 0), (1, 0)]


def test_destroy_callback_that_keeps_the_buffer(k):
    kept = []
    p = NetBufPool(k, "keep_pool", 1, 8, destroy=kept.append)
    a = p.alloc()
    a.unref()
    assert kept == [a]
    # buf.c net_buf_unref counts the buffer available before calling pool->destroy
    assert p.avail_count == 1
    assert p.alloc() is None            # but it is not on the free list until destroyed
    kept[0].destroy()
    assert p.alloc() is a


def test_destroy_of_referenced_buffer_is_an_error(pool):
    buf = pool.alloc()
    with pytest.raises(NetBufError):
        buf.destroy()


# ----------------------------------------------------------------------- misuse errors

def _names_buffer(exc_info, buf):
    msg = str(exc_info.value)
    assert f"#{buf.index}" in msg
    assert repr(buf.pool.name) in msg or buf.pool.name in msg


@pytest.mark.parametrize("op", [
    lambda b: b.add(SIZE + 1),
    lambda b: b.add_mem(bytes(SIZE + 1)),
    lambda b: (b.add(SIZE), b.add_u8(1)),
    lambda b: (b.add(SIZE - 1), b.add_le16(1)),
    lambda b: (b.add(SIZE - 7), b.add_be64(1)),
    lambda b: (b.reserve(4), b.add(SIZE - 3)),
], ids=["add", "add_mem", "add_u8", "add_le16", "add_be64", "add_after_reserve"])
def test_add_past_tailroom(pool, op):
    # buf_simple.c: net_buf_simple_add asserts tailroom >= len
    pool.alloc()
    buf = pool.alloc()
    with pytest.raises(NetBufError, match="tailroom") as ei:
        op(buf)
    _names_buffer(ei, buf)


@pytest.mark.parametrize("op", [
    lambda b: b.push(1),
    lambda b: (b.reserve(3), b.push(4)),
    lambda b: (b.reserve(1), b.push_le16(1)),
    lambda b: (b.reserve(2), b.push_mem(b"abc")),
    lambda b: b.push_u8(1),
], ids=["push", "push_after_reserve", "push_le16", "push_mem", "push_u8"])
def test_push_past_headroom(pool, op):
    # buf_simple.c: net_buf_simple_push asserts headroom >= len
    buf = pool.alloc()
    with pytest.raises(NetBufError, match="headroom") as ei:
        op(buf)
    _names_buffer(ei, buf)


@pytest.mark.parametrize("op", [
    lambda b: b.pull(4),
    lambda b: b.pull_mem(4),
    lambda b: b.pull_le32(),
    lambda b: (b.pull(3), b.pull_u8()),
    lambda b: b.remove_mem(4),
    lambda b: b.remove_be32(),
    lambda b: (b.remove(3), b.remove_u8()),
], ids=["pull", "pull_mem", "pull_le32", "pull_u8", "remove_mem", "remove_be32", "remove_u8"])
def test_pull_remove_past_length(pool, op):
    # buf_simple.c: pull/remove assert buf->len >= len
    buf = pool.alloc()
    buf.add_mem(b"abc")
    with pytest.raises(NetBufError) as ei:
        op(buf)
    _names_buffer(ei, buf)


def test_double_free(pool):
    pool.alloc()
    buf = pool.alloc()
    buf.unref()
    with pytest.raises(NetBufError, match="double free") as ei:
        buf.unref()
    _names_buffer(ei, buf)
    assert pool.avail_count == 3        # the bad unref changed nothing


@pytest.mark.parametrize("op", [
    lambda b, o: b.data,
    lambda b, o: b.ref(),
    lambda b, o: b.add(1),
    lambda b, o: b.add_mem(b"x"),
    lambda b, o: b.add_le16(1),
    lambda b, o: b.push(0),
    lambda b, o: b.pull(0),
    lambda b, o: b.pull_u8(),
    lambda b, o: b.remove(0),
    lambda b, o: b.reserve(0),
    lambda b, o: b.reset(),
    lambda b, o: b.clone(),
    lambda b, o: b.linearize(),
    lambda b, o: b.frag_add(o),
    lambda b, o: o.frag_add(b),
    lambda b, o: frag_del(None, b),
], ids=["data", "ref", "add", "add_mem", "add_le16", "push", "pull", "pull_u8", "remove",
        "reserve", "reset", "clone", "linearize", "frag_add", "frag_add_freed_frag",
        "frag_del"])
def test_use_after_free(pool, op):
    pool.alloc()
    other = pool.alloc()
    buf = pool.alloc()
    buf.add_mem(b"abc")
    buf.unref()
    with pytest.raises(NetBufError, match="free") as ei:
        op(buf, other)
    _names_buffer(ei, buf)
    assert other.frags is None


@pytest.mark.parametrize("op", [
    pytest.param(lambda b: b.headroom(), id="headroom"),
    pytest.param(lambda b: b.tailroom(), id="tailroom"),
    pytest.param(lambda b: b.max_len(), id="max_len"),
    pytest.param(lambda b: b.frags_len(), id="frags_len"),
    pytest.param(lambda b: b.frag_last(), id="frag_last"),
    pytest.param(lambda b: bytes(b), id="bytes"),
])
def test_queries_after_free(pool, op):
    # the spec's "any use after free" includes reading a freed buffer's geometry
    buf = pool.alloc()
    buf.reserve(2)
    buf.add_mem(b"abc")
    buf.unref()
    with pytest.raises(NetBufError, match="free"):
        op(buf)


def test_ref_overflow_at_255(pool):
    # buf->ref is a uint8_t: past 255 it would wrap to 0 (free while referenced)
    buf = pool.alloc()
    for _ in range(254):
        buf.ref()
    assert buf.refcount == 255
    with pytest.raises(NetBufError) as ei:
        buf.ref()
    _names_buffer(ei, buf)
    assert buf.refcount == 255


def test_error_is_a_kernel_assertion(pool):
    buf = pool.alloc()
    with pytest.raises(AssertionError, match="ASSERTION FAIL"):
        buf.pull(1)


# --------------------------------------------------------------------------- leak report

def _allocate_here(pool):
    line = sys._getframe().f_lineno + 1
    buf = pool.alloc()
    return buf, line


def _clone_here(buf):
    line = sys._getframe().f_lineno + 1
    c = buf.clone()
    return c, line


def test_leaks_list_held_buffers_with_alloc_site(k, pool):
    leaked, line = _allocate_here(pool)
    freed = pool.alloc()
    freed.unref()
    cloned, cline = _clone_here(leaked)
    leaks = k.leaks()
    assert set(leaks) == {leaked, cloned}
    file, lineno, func = leaked.alloc_site
    assert os.path.samefile(file, __file__)
    assert (lineno, func) == (line, "_allocate_here")
    file, lineno, func = cloned.alloc_site
    assert os.path.samefile(file, __file__)
    assert (lineno, func) == (cline, "_clone_here")
    report = k.leak_report()
    assert len(report) == 2
    assert any(f":{line} in _allocate_here()" in r and "'test_pool'" in r for r in report)
    leaked.unref()
    cloned.unref()
    assert k.leaks() == []


def test_leak_records_allocating_thread(k, pool):
    def firmware():
        _allocate_here(pool)

    k.thread_create(firmware, name="producer")
    k.run()
    (buf,) = k.leaks()
    assert buf.alloc_thread.name == "producer"
    assert buf.alloc_site[2] == "_allocate_here"
    assert "by producer" in k.leak_report()[0]
