# Types for the compiled core (see setup.py); wait_q.py is the source.

cimport cython

from zsim.kernel.thread cimport Thread


@cython.final
cdef class WaitQ:
    cdef public Thread head
    cdef public Thread tail
    cdef public Py_ssize_t count
    cdef public object owner

    @cython.locals(after=Thread, nxt=Thread, prio=int)
    cpdef add(self, Thread thread)
    @cython.locals(prv=Thread, nxt=Thread)
    cpdef remove(self, Thread thread)
    cpdef first(self)
    @cython.locals(thread=Thread, nxt=Thread)
    cpdef pop(self)
    cpdef reprioritise(self, Thread thread)
