# Types for the compiled core (see setup.py); time_units.py is the source.

cimport cython


@cython.final
cdef class Timeout:
    cdef public int kind
    cdef public object num
    cdef public object per_sec
    cdef public object _tps
    cdef public object _ticks

    cpdef ticks(self, tps)
