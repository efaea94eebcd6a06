# Types for the compiled core (see setup.py); source.py is the source.

cimport cython

from zsim.packet_io.stats cimport LatencyRecorder

from zsim.kernel.core cimport Kernel
from zsim.kernel.msgq cimport MsgQ
from zsim.kernel.thread cimport Thread
from zsim.net_buf cimport NetBuf
from zsim.packet_io.sink cimport PacketSink
from zsim.packet_io.stats cimport SourceStats


@cython.final
cdef class PacketSource:
    cdef public Kernel k
    cdef public object name
    cdef public list conns
    cdef public list sinks
    cdef public SourceStats _stats
    cdef public object _lock_owner
    cdef object __weakref__

    @cython.locals(k=Kernel, cur=Thread, sink=PacketSink, mq=MsgQ, buf=NetBuf, ref=int,
                   kind=int, before=int, delivered=Py_ssize_t, start=cython.longlong,
                   lat=LatencyRecorder)
    cpdef send(self, buf, timeout=*)
    @cython.locals(buf=NetBuf)
    cpdef send_consume(self, buf, timeout=*)
