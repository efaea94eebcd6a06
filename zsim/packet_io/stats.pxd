# Types for the compiled core (see setup.py); stats.py is the source.

cdef class SourceStats:
    cdef public object send_count
    cdef public object queued_total


cdef class SinkStats:
    cdef public object handled_count
    cdef public object dropped_count


cdef class QueueStats:
    cdef public object processed_count
