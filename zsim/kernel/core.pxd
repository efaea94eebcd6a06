# Types for the compiled core (see setup.py); core.py is the source.

cimport cython
from cpython.ref cimport PyObject

from zsim.kernel.thread cimport RunLevel, Thread
from zsim.kernel.time_units cimport Timeout
from zsim.kernel.wait_q cimport WaitQ


cdef extern from "greenlet.h":
    ctypedef struct PyGreenlet
    void PyGreenlet_Import()
    object PyGreenlet_Switch(PyGreenlet *g, PyObject *args, PyObject *kwargs)


cdef extern from *:
    """
    #include <alloca.h>
    /* Switch to a greenlet's first run with pad bytes of C stack above its own. */
    static CYTHON_UNUSED PyObject *zsim_start_deeper(PyObject *g, Py_ssize_t pad)
    {
        volatile char *p = (volatile char *)alloca(pad > 0 ? pad : 1);
        PyObject *r;

        p[0] = 0;
        r = PyGreenlet_Switch((PyGreenlet *)g, NULL, NULL);
        p[0] = 1;       /* the pad stays in place until the greenlet switches back */
        return r;
    }
    """
    object zsim_start_deeper(object g, Py_ssize_t pad)


cdef inline object _gswitch(object g):
    # greenlet.switch() through greenlet's C API: no method lookup nor argument tuple
    return PyGreenlet_Switch(<PyGreenlet *>g, NULL, NULL)


@cython.final
cdef class _Timeout:
    cdef public bint active
    cdef public object fn
    cdef public object arg
    cdef public long long deadline
    cdef public long long due
    cdef public unsigned long long seq
    cdef public Py_ssize_t index


@cython.final
cdef class Kernel:
    cdef public object board
    cdef public object config
    cdef public object ticks_per_sec
    cdef public object hw_cycles_per_sec
    cdef public object cpu_clock_hz
    cdef public object units_per_sec
    cdef public long long _upt
    cdef public long long _max_tick
    cdef public object _upc
    cdef public object _ucpu
    cdef public object seed
    cdef public object random
    cdef public bint asserts
    cdef public bint spin_validate
    cdef public object console
    cdef public long long _now
    cdef public list _heap
    cdef public unsigned long long _armed
    cdef public unsigned long long _seq
    cdef public dict _rq
    cdef public RunLevel _rq_first
    cdef public Thread _current
    cdef public bint _in_isr
    cdef public list _threads
    cdef public list _static
    cdef public bint _booted
    cdef public list _boot_hooks
    cdef public object _hub
    cdef public object _start_g
    cdef public unsigned long _started
    cdef public object _sleep_fn
    cdef public object _caller
    cdef public object _stop
    cdef public object _stop_at
    cdef public Thread _call_thread
    cdef public long long _idle_units
    cdef public dict _msec
    cdef public object _msec_last
    cdef public Timeout _msec_last_to
    cdef public long long _isr_units
    cdef public object _slice_ticks
    cdef public object _slice_prio
    cdef public long long _c_switch
    cdef public long long _c_msgq_put
    cdef public long long _c_msgq_get
    cdef public long long _c_sem_give
    cdef public long long _c_sem_take
    cdef public long long _c_alloc
    cdef public long long _c_unref
    cdef public long long _c_isr
    cdef public long long _c_timeout
    cdef public double _c_copy_per_byte
    cdef public bint costs_enabled
    cdef public object _tracer
    cdef public bint _trace_sched
    cdef public object trace
    cdef public object bytes_copied
    cdef public list _pools
    cdef public object _sys_work_q
    cdef public object _log_level
    cdef public dict _loggers
    cdef public list objects
    cdef public object link_symbols
    cdef public list faults
    cdef public object faults_total
    cdef public bint record_latency
    cdef object __weakref__

    cpdef _charge(self, units)
    @cython.locals(to=Timeout)
    cpdef ticks_of(self, timeout)
    @cython.locals(to=Timeout)
    cpdef _timepoint(self, timeout, start)
    cpdef _deadline(self, Timeout timeout)
    cpdef _add_timeout(self, deadline, fn, arg)
    cpdef _file(self, _Timeout to)
    @cython.locals(up=_Timeout, j=Py_ssize_t, due=cython.longlong)
    cpdef void _sift_up(self, _Timeout to, Py_ssize_t i) noexcept
    @cython.locals(child=_Timeout, other=_Timeout, j=Py_ssize_t, n=Py_ssize_t, due=cython.longlong)
    cpdef void _sift_down(self, _Timeout to, Py_ssize_t i) noexcept
    @cython.locals(last=_Timeout, i=Py_ssize_t, h=list)
    cpdef _unfile(self, _Timeout to)
    cpdef _cancel_timeout(self, _Timeout to)
    @cython.locals(first=_Timeout)
    cpdef long long _next_due(self)
    cpdef _next_event(self)
    @cython.locals(first=_Timeout)
    cpdef bint _timer_due(self)
    @cython.locals(to=_Timeout, t=Thread)
    cpdef _announce(self)
    @cython.locals(lv=RunLevel)
    cpdef _place(self, Thread t)
    @cython.locals(lv=RunLevel, tail=Thread, prev=RunLevel, nxt=RunLevel)
    cpdef void _ready(self, Thread t) noexcept
    @cython.locals(lv=RunLevel, prv=Thread, nxt=Thread, before=RunLevel, after=RunLevel)
    cpdef void _unready(self, Thread t) noexcept
    @cython.locals(lv=RunLevel)
    cpdef _best(self)
    cpdef _switch_to(self, Thread nxt)
    cpdef _first_run(self, g)
    @cython.locals(nxt=Thread, lv=RunLevel)
    cpdef _swap(self)
    @cython.locals(lv=RunLevel, nxt=cython.longlong)
    cpdef _idle_here(self)
    cpdef _resched(self, bint preempt_ok=*)
    cpdef _halt(self)
    cpdef sleep(self, timeout)
    @cython.locals(timeout=Timeout, cur=Thread)
    cpdef msleep(self, ms)
    @cython.locals(to=_Timeout, lv=RunLevel, now=cython.longlong, expected=cython.longlong,
                   deadline=cython.longlong, due=cython.longlong)
    cpdef _tick_sleep(self, Thread cur, Timeout timeout, long long ticks)
    cpdef _sleep_expired(self, Thread t)
    cpdef consume(self, units)
    cpdef _irq_unlocked(self)
    cpdef _pend(self, WaitQ waitq, Timeout timeout, data=*)
    cpdef _pend_expired(self, Thread t)
    cpdef _unpend(self, Thread t)
    @cython.locals(t=Thread)
    cpdef _wake_first(self, WaitQ waitq, retval, data=*)
    cpdef _wake(self, Thread t, retval, data=*)
    cpdef _check_isr_timeout(self, timeout, what)
