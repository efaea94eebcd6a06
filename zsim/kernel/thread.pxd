# Types for the compiled core (see setup.py); thread.py is the source.

cimport cython


cdef class RunLevel


@cython.final
cdef class Thread:
    cdef public object kernel
    cdef public object name
    cdef public int prio
    cdef public int base_prio
    cdef public object fn
    cdef public object args
    cdef public object stack_size
    cdef public object options
    cdef public object g
    cdef public object state
    cdef public object waitq
    cdef public object timeout
    cdef public object retval
    cdef public object data
    cdef public object joiners
    cdef public object result
    cdef public object exc
    cdef public int irq_locks
    cdef public long long cpu_units
    cdef public long long slice_start
    cdef public object is_static
    cdef public object delay
    cdef public object service
    cdef public object wake_tick
    cdef public object created_at
    cdef public object harness
    cdef public object is_main
    cdef public RunLevel rq
    cdef public Thread q_prev
    cdef public Thread q_next
    cdef public Thread w_prev
    cdef public Thread w_next
    cdef public object sleep_to
    cdef public object handling


@cython.final
cdef class RunLevel:
    cdef public int prio
    cdef public Thread head
    cdef public Thread tail
    cdef public RunLevel prev
    cdef public RunLevel next
