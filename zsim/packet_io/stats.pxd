# Types for the compiled core (see setup.py); stats.py is the source.

cdef class SourceStats:
    cdef public unsigned long long send_count
    cdef public unsigned long long queued_total


cdef class SinkStats:
    cdef public unsigned long long handled_count
    cdef public unsigned long long dropped_count


cdef class QueueStats:
    cdef public unsigned long long processed_count
