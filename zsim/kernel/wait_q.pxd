# Types for the compiled core (see setup.py); wait_q.py is the source.

cdef class WaitQ:
    cdef public list _q
    cdef public object owner

    cpdef add(self, thread, seq)
    cpdef remove(self, thread)
    cpdef first(self)
    cpdef pop(self)
    cpdef reprioritise(self, thread, seq)
