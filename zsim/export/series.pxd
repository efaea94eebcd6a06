# Types for the compiled core (see setup.py); series.py is the source.

cimport cython


@cython.final
cdef class BucketSeries:
    cdef public double width
    cdef public Py_ssize_t max_buckets
    cdef public list mins
    cdef public list maxs
    cdef public list lasts
    cdef public object value

    @cython.locals(index=Py_ssize_t)
    cpdef record(self, double us, value)
    cpdef _reach(self, Py_ssize_t index)
    @cython.locals(n=Py_ssize_t, i=Py_ssize_t, half=Py_ssize_t, mins=list, maxs=list,
                   lasts=list)
    cpdef _halve(self)


@cython.final
cdef class Levels:
    cdef public dict series
    cdef public object then

    @cython.locals(s=BucketSeries)
    cpdef change(self, str name, double us, value)
