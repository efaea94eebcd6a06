# Types for the compiled core (see setup.py); msgq.py is the source.

cimport cython

from zsim.kernel.core cimport Kernel
from zsim.kernel.wait_q cimport WaitQ


@cython.final
cdef class MsgQ:
    cdef public Kernel k
    cdef public object name
    cdef public object msg_size
    cdef public Py_ssize_t max_msgs
    cdef public list _ring
    cdef public Py_ssize_t _read
    cdef public Py_ssize_t used
    cdef public WaitQ wait_q
    cdef public Py_ssize_t high_water
    cdef object __weakref__

    @cython.locals(n=Py_ssize_t, at=Py_ssize_t)
    cpdef _push(self, msg)
    @cython.locals(at=Py_ssize_t)
    cpdef _pop(self)
    cdef inline _count_in(self)
    cpdef put(self, msg, timeout=*)
    cpdef get(self, timeout=*)
