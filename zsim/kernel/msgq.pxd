# Types for the compiled core (see setup.py); msgq.py is the source.

from zsim.kernel.core cimport Kernel
from zsim.kernel.wait_q cimport WaitQ


cdef class MsgQ:
    cdef public Kernel k
    cdef public object name
    cdef public object msg_size
    cdef public Py_ssize_t max_msgs
    cdef public object buf
    cdef public WaitQ wait_q
    cdef public Py_ssize_t high_water
    cdef object __weakref__

    cpdef put(self, msg, timeout=*)
    cpdef get(self, timeout=*)
