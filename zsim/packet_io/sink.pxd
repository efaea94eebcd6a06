# Types for the compiled core (see setup.py); sink.py is the source.

cimport cython

from zsim.kernel.core cimport Kernel
from zsim.kernel.msgq cimport MsgQ
from zsim.packet_io.stats cimport LatencyRecorder, SinkStats


@cython.final
cdef class PacketSink:
    cdef public Kernel k
    cdef public object name
    cdef public object _mode
    cdef public object handler
    cdef public object user_data
    cdef public object _queue
    cdef public MsgQ _msgq
    cdef public SinkStats _stats
    cdef public int kind
    cdef public LatencyRecorder _lat
    cdef object __weakref__
