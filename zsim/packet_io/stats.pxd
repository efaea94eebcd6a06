# Types for the compiled core (see setup.py); stats.py is the source.

cimport cython


@cython.final
cdef class SourceStats:
    cdef public unsigned long long send_count
    cdef public unsigned long long queued_total


@cython.final
cdef class SinkStats:
    cdef public unsigned long long handled_count
    cdef public unsigned long long dropped_count


@cython.final
cdef class QueueStats:
    cdef public unsigned long long processed_count


@cython.final
cdef class LatencyRecorder:
    cdef public dict counts
    cdef public Py_ssize_t limit
    cdef public object hist
    cdef public unsigned long long count
    cdef public long long max

    @cython.locals(counts=dict)
    cpdef record(self, long long value)
