# Types for the compiled core (see setup.py); queue.py is the source.

cimport cython

from zsim.kernel.core cimport Kernel
from zsim.kernel.msgq cimport MsgQ
from zsim.net_buf cimport NetBuf
from zsim.packet_io.sink cimport PacketSink
from zsim.kernel.thread cimport Thread
from zsim.packet_io.stats cimport LatencyRecorder, QueueStats


@cython.final
cdef class PacketEventQueue:
    cdef public Kernel k
    cdef public object name
    cdef public object size
    cdef public MsgQ msgq
    cdef public QueueStats _stats
    cdef object __weakref__

    @cython.locals(mq=MsgQ, k=Kernel, sink=PacketSink, buf=NetBuf, event=tuple, cur=Thread, before=int,
                   lat=LatencyRecorder)
    cpdef process(self, timeout=*)
