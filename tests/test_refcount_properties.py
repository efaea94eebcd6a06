"""Property tests: packet_io never loses or double-frees a net_buf reference.

Random programs of allocations, extra references, releases, sends (copying and consuming),
and queue processing run against a small topology with immediate sinks, queued sinks on
shallow queues (so full queues and drops happen often), a sink that keeps the buffers it is
given, and a sink that chains a header in front of the packet and forwards it.

Alongside the simulator a plain reference-count model is kept, following the seed's reference
implementation. After every step the model's counts must match ``buf.refcount`` and the pool's
free count; each send must return the number of sinks the model delivered to. At the end the
queues are drained and every reference the program still owns is released: the pool must be
full again, and no release may ever trip the simulator's double-free check.
"""

from __future__ import annotations

from collections import Counter, deque

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zsim import K_NO_WAIT, Kernel, errno
from zsim.net_buf import NetBufPool
from zsim.packet_io import PacketEventQueue, PacketSink, PacketSource, connect

CONFIG = {"PACKET_IO_STATS": True, "ASSERT": True}
POOL_COUNT = 6
BUF_SIZE = 32
QUEUE_SIZES = {"qa": 2, "qb": 3, "qf": 2}

# sink name: (kind, queue name or None)
SINKS = {
    "a_rec": ("record", None),
    "b_fwd": ("forward", None),
    "c_rec": ("record", "qa"),
    "d_keep": ("keep", "qb"),
    "e_rec": ("record", "qa"),
    "f_rec": ("record", "qf"),
}
# Declared out of name order on purpose: delivery follows the sorted connection symbols.
WIRING = {
    "src_x": ["d_keep", "a_rec", "c_rec"],
    "src_y": ["e_rec", "c_rec", "b_fwd"],
    "src_fwd": ["f_rec"],
}
SENDERS = ["src_x", "src_y"]
MAX_INDEX = 15  # drawn indices are reduced modulo the number of owned references


class Topology:
    """A fresh kernel with the objects under test and the references the program owns."""

    def __init__(self):
        self.k = Kernel(board="native_sim", config=CONFIG)
        self.pool = NetBufPool(self.k, "prop_pool", POOL_COUNT, BUF_SIZE)
        self.queues = {n: PacketEventQueue(self.k, n, size=s) for n, s in QUEUE_SIZES.items()}
        self.sources = {name: PacketSource(self.k, name) for name in WIRING}
        self.held = []  # one entry per reference the program owns
        self.headers = []  # what each forwarder run allocated (None if the pool was empty)
        self.forward_results = []  # what each forwarder's send_consume returned
        handlers = {"record": self.record, "forward": self.forward, "keep": self.keep}
        self.sinks = {}
        for name, (kind, queue) in SINKS.items():
            queue_obj = self.queues[queue] if queue else None
            self.sinks[name] = PacketSink(self.k, name, handlers[kind], queue=queue_obj)
        for src, sinks in WIRING.items():
            for sink in sinks:
                connect(self.sources[src], self.sinks[sink])

    # handlers only borrow the buffer they are given
    def record(self, sink, buf):
        bytes(buf.data)  # touch the data: a freed buffer would be caught here

    def keep(self, sink, buf):
        self.held.append(buf.ref())

    def forward(self, sink, buf):
        header = self.pool.alloc(K_NO_WAIT)
        self.headers.append(header)
        if header is None:
            return
        header.add_u8(0xA5)
        header.frag_add(buf.ref())
        self.forward_results.append(self.sources["src_fwd"].send_consume(header, K_NO_WAIT))


class Model:
    """Reference counts as the seed's implementation would leave them."""

    def __init__(self, topo):
        self.topo = topo
        self.refs = {}  # id(buf) -> expected count
        self.objs = {}  # id(buf) -> buf
        self.chain = {}  # id(header) -> the buffer the header holds a reference on
        self.queues = {name: deque() for name in QUEUE_SIZES}
        self.handled = Counter()
        self.dropped = Counter()
        self.headers = iter(())
        self.forward_results = []

    @property
    def free(self):
        return POOL_COUNT - len(self.refs)

    def allocated(self, buf):
        assert id(buf) not in self.refs, "pool handed out a buffer that is still referenced"
        self.refs[id(buf)] = 1
        self.objs[id(buf)] = buf

    def ref(self, buf):
        self.refs[id(buf)] += 1

    def unref(self, buf):
        while buf is not None:
            key = id(buf)
            self.refs[key] -= 1
            if self.refs[key] > 0:
                return
            del self.refs[key]
            del self.objs[key]
            buf = self.chain.pop(key, None)

    def send(self, src, buf):
        delivered = 0
        for name in sorted(WIRING[src]):
            kind, queue = SINKS[name]
            self.ref(buf)
            if queue is None:
                self.handled[name] += 1
                if kind == "forward":
                    self.forward(buf)
                self.unref(buf)
                delivered += 1
            elif len(self.queues[queue]) < QUEUE_SIZES[queue]:
                self.queues[queue].append((name, buf))
                delivered += 1
            else:
                self.unref(buf)
                self.dropped[name] += 1
        return delivered

    def forward(self, buf):
        header = next(self.headers)
        assert (header is not None) == (self.free > 0), "forwarder allocation disagrees"
        if header is None:
            return
        self.allocated(header)
        self.ref(buf)
        self.chain[id(header)] = buf
        self.forward_results.append(self.send("src_fwd", header))
        self.unref(header)

    def process(self, queue):
        if not self.queues[queue]:
            return -errno.EAGAIN
        name, buf = self.queues[queue].popleft()
        self.handled[name] += 1
        if SINKS[name][0] == "keep":
            self.ref(buf)
        self.unref(buf)
        return 0

    def check(self):
        topo = self.topo
        for key, count in self.refs.items():
            assert self.objs[key].refcount == count
        assert topo.pool.avail_count == self.free
        assert topo.forward_results == self.forward_results
        owned = Counter(id(buf) for buf in topo.held)
        for key, n in owned.items():
            assert self.refs.get(key, 0) >= n, "the program owns more references than exist"


def run_program(topo, model, ops):
    held = topo.held
    for op in ops:
        kind = op[0]
        first_header = len(topo.headers)
        if kind == "alloc":
            buf = topo.pool.alloc(K_NO_WAIT)
            assert (buf is None) == (model.free == 0)
            if buf is not None:
                model.allocated(buf)
                held.append(buf)
        elif kind in ("ref", "unref", "send", "send_consume") and not held:
            continue
        elif kind == "ref":
            buf = held[op[1] % len(held)]
            assert buf.ref() is buf
            model.ref(buf)
            held.append(buf)
        elif kind == "unref":
            buf = held.pop(op[1] % len(held))
            buf.unref()
            model.unref(buf)
        elif kind == "send":
            buf = held[op[1] % len(held)]
            before = buf.refcount
            ret = topo.sources[op[2]].send(buf, K_NO_WAIT)
            model.headers = iter(topo.headers[first_header:])
            assert ret == model.send(op[2], buf)
            # the caller's reference is untouched: only references the send left behind
            # (queued events) come on top of what was there before
            assert buf.refcount >= before
        elif kind == "send_consume":
            buf = held.pop(op[1] % len(held))
            ret = topo.sources[op[2]].send_consume(buf, K_NO_WAIT)
            model.headers = iter(topo.headers[first_header:])
            assert ret == model.send(op[2], buf)
            model.unref(buf)
        elif kind == "process":
            pending = model.queues[op[1]]
            kept = bool(pending) and SINKS[pending[0][0]][0] == "keep"
            held_before = len(held)
            ret = topo.queues[op[1]].process(K_NO_WAIT)
            assert ret == model.process(op[1])
            assert len(held) - held_before == (1 if kept else 0)
        model.check()


def drain_and_release(topo, model):
    for name, queue in topo.queues.items():
        while True:
            ret = queue.process(K_NO_WAIT)
            assert ret == model.process(name)
            if ret != 0:
                break
            model.check()
    assert all(not q for q in model.queues.values())
    while topo.held:
        buf = topo.held.pop()
        buf.unref()
        model.unref(buf)
    model.check()
    assert model.refs == {}
    assert topo.pool.avail_count == POOL_COUNT


def check_stats(topo, model):
    for name, sink in topo.sinks.items():
        assert sink.stats.handled_count == model.handled[name], name
        assert sink.stats.dropped_count == model.dropped[name], name


index = st.integers(min_value=0, max_value=MAX_INDEX)
alloc_op = st.tuples(st.just("alloc"))
send_op = st.tuples(st.sampled_from(["send", "send_consume"]), index, st.sampled_from(SENDERS))
process_op = st.tuples(st.just("process"), st.sampled_from(sorted(QUEUE_SIZES)))
# repeated branches weight the draw towards allocating and sending, so queues fill up
operation = st.one_of(
    alloc_op,
    alloc_op,
    send_op,
    send_op,
    send_op,
    process_op,
    process_op,
    st.tuples(st.just("ref"), index),
    st.tuples(st.just("unref"), index),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operation, max_size=60))
def test_every_reference_comes_back(ops):
    """Any mix of allocs, refs, unrefs, sends and processing leaves the pool full at the end."""
    topo = Topology()
    model = Model(topo)

    def body():
        run_program(topo, model, ops)
        drain_and_release(topo, model)
        check_stats(topo, model)

    topo.k.call(body)
    assert topo.pool.avail_count == POOL_COUNT


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sends=st.lists(st.tuples(st.sampled_from(SENDERS), st.booleans()), min_size=1, max_size=30),
    drain_every=st.integers(min_value=1, max_value=8),
)
def test_fresh_buffer_per_send_never_leaks(sends, drain_every):
    """Allocate, send (copying or consuming) and drop, draining queues now and then."""
    topo = Topology()
    model = Model(topo)

    def body():
        for n, (src, consume) in enumerate(sends, start=1):
            first_header = len(topo.headers)
            buf = topo.pool.alloc(K_NO_WAIT)
            assert (buf is None) == (model.free == 0)
            if buf is not None:
                model.allocated(buf)
                buf.add_le32(n)
                if consume:
                    ret = topo.sources[src].send_consume(buf, K_NO_WAIT)
                else:
                    ret = topo.sources[src].send(buf, K_NO_WAIT)
                    assert buf.refcount >= 1
                model.headers = iter(topo.headers[first_header:])
                assert ret == model.send(src, buf)
                if not consume:
                    buf.unref()
                model.unref(buf)
                model.check()
            if n % drain_every == 0:
                for name, queue in topo.queues.items():
                    while queue.process(K_NO_WAIT) == 0:
                        assert model.process(name) == 0
                    assert model.process(name) == -errno.EAGAIN
                model.check()
        drain_and_release(topo, model)
        check_stats(topo, model)

    topo.k.call(body)
